// Autocomplete on the procedure search box: the names of the best matches as the citizen types, from
// /thu-tuc/goi-y (a small JSON list). Without this script the box and its search work the same.
(function () {
  "use strict";
  var boxes = document.querySelectorAll("input[data-goi-y]");
  Array.prototype.forEach.call(boxes, function (box) {
    var list = document.getElementById(box.getAttribute("list"));
    if (!list) return;
    var timer = null;
    var last = "";
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = box.value.trim();
        if (q.length < 2 || q === last) return;
        last = q;
        fetch("/thu-tuc/goi-y?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            while (list.firstChild) list.removeChild(list.firstChild);
            items.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.ten;
              option.label = item.ma;
              list.appendChild(option);
            });
          })
          .catch(function () { /* suggestions are a help, never a requirement */ });
      }, 150);
    });
  });
})();
