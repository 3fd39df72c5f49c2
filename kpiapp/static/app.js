// Progressive enhancement only: every page works without this file.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});

// A per-load marker: a test (or a curious person) can tell an htmx swap from a full reload.
// Set on DOMContentLoaded, after htmx (whose listener was registered first) has processed the
// page: deferred scripts that come later (the chart libraries) would otherwise leave a gap in
// which the marker says "ready" while a click still submits the form without htmx.
document.addEventListener("DOMContentLoaded", function () {
  document.documentElement.setAttribute("data-page-load",
    Date.now().toString(36) + Math.random().toString(36).slice(2));
});

// Validation errors (422) and "changed by someone else" (409) come back as fragments meant
// to be shown in place; htmx leaves error statuses unswapped unless told otherwise.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status === 422 || status === 409) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// The header menu: opened on wide screens where the browser cannot show a closed <details>'
// content by CSS alone; one section dropdown open at a time; a click elsewhere closes it.
document.addEventListener("DOMContentLoaded", function () {
  var menu = document.querySelector(".site-menu");
  if (menu && window.matchMedia("(min-width: 600px)").matches) {
    menu.open = true;
  }
});
document.addEventListener("click", function (event) {
  document.querySelectorAll(".site-header details.dropdown[open]").forEach(function (group) {
    if (!group.contains(event.target)) {
      group.open = false;
    }
  });
});
