// Progressive enhancement only: every page works without this file.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});

// A per-load marker: a test (or a curious person) can tell an htmx swap from a full reload.
document.documentElement.setAttribute("data-page-load", Date.now().toString(36) + Math.random().toString(36).slice(2));

// Validation errors (422) and "changed by someone else" (409) come back as fragments meant
// to be shown in place; htmx leaves error statuses unswapped unless told otherwise.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status === 422 || status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
