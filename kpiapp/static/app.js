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

// The weight total under a scorecard's weight column, kept up to date while weights are typed
// (the services check it again on save). Sums in hundredths so 33.33 + 33.33 + 33.34 is 100.
function updateWeightsTotal(form) {
  var shown = form.querySelector("[data-weights-total]");
  if (!shown) { return; }
  var cents = 0, valid = true;
  form.querySelectorAll("input[data-weight]").forEach(function (input) {
    var text = input.value.trim();
    if (text === "") { return; }
    var value = Number(text);
    if (!isFinite(value)) { valid = false; return; }
    cents += Math.round(value * 100);
  });
  var ok = valid && cents === 10000;
  shown.querySelector("output").textContent = valid ? String(cents / 100) : "?";
  shown.classList.toggle("ok", ok);
  shown.classList.toggle("field-error", !ok);
  shown.querySelector(".ok-mark").hidden = !ok;
  shown.querySelector(".off-mark").hidden = ok;
}
document.addEventListener("input", function (event) {
  if (event.target.matches && event.target.matches("input[data-weight]") && event.target.form) {
    updateWeightsTotal(event.target.form);
  }
});

// The header menu: opened on wide screens where the browser cannot show a closed <details>'
// content by CSS alone; one section dropdown open at a time; a click elsewhere closes it.
// A window resized across 600 px (a phone turned, a desktop window narrowed) gets the menu as a
// page loaded at its new width has it: opened wide; folded behind "Menu" narrow (the wide load's
// open menu stood unfolded on a phone); no section left open (a phone's hung over the page).
var WIDE_MENU = window.matchMedia("(min-width: 600px)");
function fitMenu() {
  var menu = document.querySelector(".site-menu");
  if (!menu) { return; }
  menu.open = WIDE_MENU.matches;
  menu.querySelectorAll("details.dropdown[open]").forEach(function (group) { group.open = false; });
}
document.addEventListener("DOMContentLoaded", fitMenu);
WIDE_MENU.addEventListener("change", fitMenu);
document.addEventListener("click", function (event) {
  document.querySelectorAll(".site-header details.dropdown[open]").forEach(function (group) {
    if (!group.contains(event.target)) {
      group.open = false;
    }
  });
});
