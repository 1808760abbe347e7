// Idle-session warning: 60 seconds before the server ends an idle session, show a dialog with a countdown.
// "Bấm vào đây" keeps the session alive; at zero the page logs out and says why. The server enforces the
// timeout regardless; this only warns. Works with several tabs: the server says how much time is left.
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var dialog = document.getElementById("canh-bao-phien");
  var counter = document.getElementById("dem-nguoc");
  var keep = document.getElementById("duy-tri-phien");
  if (!idle || !dialog || !counter || !keep) return;
  var WARN = 60;
  var check = null;
  var tick = null;

  function schedule(seconds) {
    clearTimeout(check);
    check = setTimeout(ask, Math.max(1, seconds) * 1000);
  }

  function ask() {
    fetch("/phien/trang-thai", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { logged_in: false }; })
      .then(function (s) {
        if (!s.logged_in) { return expire(); }
        if (s.seconds_left > WARN + 5) { hide(); schedule(s.seconds_left - WARN); } else { show(s.seconds_left); }
      })
      .catch(function () { schedule(15); });
  }

  function show(left) {
    dialog.hidden = false;
    keep.focus();
    var remaining = Math.max(0, Math.floor(left));
    counter.textContent = String(remaining);
    clearInterval(tick);
    tick = setInterval(function () {
      remaining -= 1;
      counter.textContent = String(Math.max(0, remaining));
      if (remaining <= 0) { clearInterval(tick); expire(); }
    }, 1000);
  }

  function hide() {
    clearInterval(tick);
    dialog.hidden = true;
  }

  function expire() {
    hide();
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/dang-xuat";
    var reason = document.createElement("input");
    reason.type = "hidden";
    reason.name = "ly_do";
    reason.value = "het-han";
    form.appendChild(reason);
    // logging in again brings the citizen back to this page (the browser may still hold what was typed)
    var back = document.createElement("input");
    back.type = "hidden";
    back.name = "tiep";
    back.value = window.location.pathname + window.location.search;
    form.appendChild(back);
    body.appendChild(form);
    form.submit();
  }

  keep.addEventListener("click", function () {
    fetch("/phien/gia-han", { method: "POST", credentials: "same-origin" })
      .then(function (r) { if (r.ok) { hide(); schedule(idle - WARN); } else { expire(); } })
      .catch(function () { schedule(5); });
  });

  schedule(idle - WARN);
})();
