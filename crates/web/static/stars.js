// Stars without a reload: the same form, sent by fetch; the answer replaces the score and is announced. Without
// JavaScript (or when fetch fails) the form posts as usual.
(function () {
  var form = document.getElementById('form-danh-gia');
  if (!form || !window.fetch) return;
  var score = document.getElementById('diem-danh-gia');
  var problem = document.getElementById('loi-danh-gia');
  form.addEventListener('submit', function (event) {
    var data = new URLSearchParams(new FormData(form));
    if (!data.get('sao')) return;
    event.preventDefault();
    fetch(form.action, {
      method: 'POST',
      headers: { 'Accept': 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body: data.toString(),
      credentials: 'same-origin'
    }).then(function (response) {
      return response.json();
    }).then(function (answer) {
      score.textContent = answer.label + '. ' + answer.message;
      problem.hidden = answer.ok;
      if (!answer.ok) problem.textContent = answer.message;
    }).catch(function () {
      form.submit();
    });
  });
})();
