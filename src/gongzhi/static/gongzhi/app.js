// Small behaviours shared by every page. No inline handlers anywhere, so a strict
// Content-Security-Policy (script-src 'self') stays possible.
// data-confirm on a form, or on the button that submits it: ask first.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.dataset && button.dataset.confirm) ||
    (form.dataset && form.dataset.confirm);
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Fields that matter only for some choices of other fields:
//   <select name="figure" data-show-when="source=computed;rule_kind=linear,thresholds">
// shows the field (its label) only while every named field has one of the values listed,
// and disables it otherwise, so that what is hidden is not sent. Without JavaScript every
// field shows and the server checks them all the same.
function applyShowWhen(form) {
  form.querySelectorAll("[data-show-when]").forEach(function (control) {
    var show = control.dataset.showWhen.split(";").every(function (clause) {
      var parts = clause.split("=");
      var other = form.elements[parts[0]];
      return Boolean(other) && !other.disabled && parts[1].split(",").indexOf(other.value) !== -1;
    });
    (control.closest("label") || control).hidden = !show;
    control.disabled = !show;
  });
}

document.addEventListener("change", function (event) {
  var form = event.target.form;
  if (form && form.querySelector("[data-show-when]")) {
    applyShowWhen(form);
  }
});

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form").forEach(function (form) {
    if (form.querySelector("[data-show-when]")) {
      applyShowWhen(form);
    }
  });
});
