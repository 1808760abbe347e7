// On a phone the main navigation folds into a "Menu" button that opens and closes it; on a wider screen it is
// always shown. Without this script the navigation is simply shown everywhere.
(function () {
  "use strict";
  var button = document.getElementById("mo-menu");
  var nav = document.getElementById("dieu-huong");
  if (!button || !nav) return;
  var narrow = window.matchMedia("(max-width: 600px)");
  function apply() {
    var open = button.getAttribute("aria-expanded") === "true";
    button.hidden = !narrow.matches;
    nav.hidden = narrow.matches && !open;
  }
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    apply();
  });
  narrow.addEventListener("change", apply);
  apply();
})();
