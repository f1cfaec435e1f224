// A plain form (no htmx) that is submitted shows it is working and ignores every later
// submit until the next page, so a second press sends nothing twice. htmx's own requests are
// marked by htmx itself (.htmx-request, hx-disabled-elt). Without this script the forms work
// as they are.
(function () {
  "use strict";

  function isHtmx(form) {
    return form.hasAttribute("hx-post") || form.hasAttribute("hx-get");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.method !== "post" || isHtmx(form)) return;
    if (form.dataset.busy) {
      event.preventDefault();
      return;
    }
    if (event.defaultPrevented) return;
    form.dataset.busy = "true";
    form.setAttribute("aria-busy", "true");
    if (event.submitter) event.submitter.classList.add("is-busy");
    // Only after the browser has read the form: a disabled button's name and value are not sent.
    setTimeout(function () {
      form.querySelectorAll("button, input[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
    });
  });

  // Back on a page from the browser's history cache: its forms may be used again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      delete form.dataset.busy;
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button, input[type=submit]").forEach(function (button) {
        button.disabled = false;
        button.classList.remove("is-busy");
      });
    });
  });
})();
