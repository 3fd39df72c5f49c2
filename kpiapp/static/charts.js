// Draws every <figure data-chart> with vega-embed from the Vega-Lite spec in its JSON block
// (templates/_macros/charts.html). The data table stays for screen readers; once the chart is
// drawn it is only hidden from view. Without this file the table is the chart.
(function () {
  var OPTIONS = {
    ast: true,            // vega-embed's expression interpreter, not new Function: the CSP has no unsafe-eval
    actions: false,       // no export menu (it would link to an outside editor)
    defaultStyle: false,  // no injected <style>: the CSP has no unsafe-inline
    tooltip: false,       // vega-tooltip would inject a <style> too
    renderer: "svg",
  };

  function draw(root) {
    root.querySelectorAll("figure[data-chart]:not([data-chart-drawn])").forEach(function (figure) {
      figure.setAttribute("data-chart-drawn", "");
      var spec = JSON.parse(figure.querySelector("script[data-chart-spec]").textContent);
      window.vegaEmbed(figure.querySelector(".chart-view"), spec, OPTIONS)
        .then(function () { figure.querySelector(".chart-data").classList.add("visually-hidden"); })
        .catch(function (error) { figure.removeAttribute("data-chart-drawn"); console.error(error); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:load", function (event) { draw(event.target); });
})();
