// A page that comes back with an error summary puts the focus on it, so a screen reader reads the problems first
// and a keyboard user starts from the links to each field. Without this script the summary is still at the top.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
})();
