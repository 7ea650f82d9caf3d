// Small behaviours shared by every page. No inline handlers anywhere, so a strict
// Content-Security-Policy (script-src 'self') stays possible.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
