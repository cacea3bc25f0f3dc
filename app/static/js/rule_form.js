// Rule form: show only the help and the fields of the chosen kind of rule (elements with
// data-kinds). Without this script every kind's fields and help stay visible, and the server
// ignores the fields the chosen kind does not use.
(function () {
  "use strict";
  document.querySelectorAll("form.rule-form").forEach(function (form) {
    var select = form.querySelector("select[name=kind]");
    if (!select) { return; }
    var parts = Array.prototype.slice.call(form.querySelectorAll("[data-kinds]"));
    function show() {
      parts.forEach(function (el) {
        el.hidden = el.getAttribute("data-kinds").split(" ").indexOf(select.value) < 0;
      });
    }
    select.addEventListener("change", show);
    show();
  });
})();
