// The estimate's total as the consultant types: the sum of the cost fields the page names, in the page's language.
// The server computes the same total again when the form is sent; this only saves the consultant the sum.
(function () {
  "use strict";
  function start() {
    var box = document.querySelector("[data-estimate-fields]");
    var output = document.getElementById("estimate-total");
    if (!box || !output) {
      return;
    }
    var names = box.getAttribute("data-estimate-fields").split(" ");
    var format = new Intl.NumberFormat(document.documentElement.lang || "ru", {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    function update() {
      var total = 0;
      names.forEach(function (name) {
        var input = document.getElementById(name);
        var value = input ? parseFloat(String(input.value).replace(",", ".")) : NaN;
        if (isFinite(value)) {
          total += Math.round(value * 100) / 100;
        }
      });
      output.textContent = format.format(total);
    }
    names.forEach(function (name) {
      var input = document.getElementById(name);
      if (input) {
        input.addEventListener("input", update);
      }
    });
    update();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
