// The commune list of an address follows its province: when a province is chosen, the suggestions of the
// commune field become that province's communes, wards and special zones. Without this script the list holds
// the communes of the province the page was sent with, and the server checks the name either way.
(function () {
  "use strict";
  var selects = document.querySelectorAll("select[data-communes]");
  if (!selects.length) return;
  var data = null;
  function load() {
    if (!data) {
      data = fetch("/static/xa-phuong.json").then(function (r) { return r.json(); }).catch(function () { return {}; });
    }
    return data;
  }
  selects.forEach(function (select) {
    var list = document.getElementById(select.getAttribute("data-communes"));
    if (!list) return;
    select.addEventListener("change", function () {
      load().then(function (all) {
        var names = all[select.value] || [];
        list.textContent = "";
        names.forEach(function (name) {
          var option = document.createElement("option");
          option.value = name;
          list.appendChild(option);
        });
      });
    });
  });
})();
