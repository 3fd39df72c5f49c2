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
  var LABEL_SHARE = 0.4;  // of a chart's box, the most an axis's labels take
  var FIT_STEPS = 4;
  var LEGEND_ENTRY = 200;  // px: a legend's symbol and its label (Vega's labelLimit is 160)
  var ONE_ROW_LEGEND = 720;  // px: a box at least this wide keeps the spec's legend in one row
  var RESIZE_WAIT = 200;  // ms without a resize event before the charts are drawn again

  function draw(root) {
    root.querySelectorAll("figure[data-chart]:not([data-chart-drawn])").forEach(function (figure) {
      figure.setAttribute("data-chart-drawn", "");
      var spec = JSON.parse(figure.querySelector("script[data-chart-spec]").textContent);
      var view = figure.querySelector(".chart-view"), box = view.clientWidth;
      // a sparkline has no text: it stays a small line; a box not laid out (hidden) has no width
      var small = figure.classList.contains("sparkline") || !box;
      figure.setAttribute("data-chart-box", box);
      window.vegaEmbed(view, small ? spec : forBox(spec, box), OPTIONS)
        .then(function (result) {
          figure.chartEmbed = result;
          return small ? null : fit(result.view, view, shownWidth(view, box), FIT_STEPS);
        })
        .then(function () { figure.querySelector(".chart-data").classList.add("visually-hidden"); })
        .catch(function (error) { figure.removeAttribute("data-chart-drawn"); console.error(error); });
    });
  }

  // The SVG follows its box up to its max-width (app.css), its viewBox keeping the drawing's
  // size: a chart drawn wider than that shrank whole (its 11 px labels 6 px on a 390 px phone),
  // one drawn narrower grew (17-24 px at 1366 px, where 48 rem is 960 px). The plot is widened or
  // narrowed by the difference until the whole chart is drawn as wide as it is shown, at most 1 px
  // narrower, its text at its own size. The drawn width is the chart's bounds (autosize "pad"),
  // captions right of a bar included; they move with the plot's width, so it takes a few steps
  // (Vega-Lite's autosize "fit" takes one and left them past the edge). The spec (kpiapp.charts)
  // is the PDF's too: only the view on this page changes.
  function fit(chart, view, shown, steps) {
    var svg = view.querySelector("svg");
    if (!svg || steps === 0) { return null; }
    var change = Math.ceil(parseFloat(svg.getAttribute("width")) - shown);  // > 0: too wide
    if (!isFinite(change) || change === 0 || chart.width() - change < 40) { return null; }
    return chart.width(chart.width() - change).runAsync()
      .then(function () { return fit(chart, view, shown, steps - 1); });
  }

  // The width a chart's SVG is shown at: its box, or the SVG's max-width where that is less
  function shownWidth(view, box) {
    var svg = view.querySelector("svg"), most = svg ? parseFloat(getComputedStyle(svg).maxWidth) : NaN;
    return isFinite(most) ? Math.min(box, most) : box;
  }

  // A copy of the spec for a box `box` px wide. A long item name ("Listing optimisation / Listing
  // 优化") ends in "…" rather than leave the bars no room (the full names are in the data table);
  // a legend below a narrow chart takes as many columns as fit (in one row, the store dashboard's
  // five rates made the chart 836 px wide, whatever its plot's width)
  function forBox(spec, box) {
    var copy = JSON.parse(JSON.stringify(spec)), limit = Math.round(box * LABEL_SHARE);
    if (box < ONE_ROW_LEGEND) {
      copy.config = copy.config || {};
      copy.config.legend = Object.assign({}, copy.config.legend, { columns: Math.max(1, Math.floor(box / LEGEND_ENTRY)) });
    }
    (copy.layer || [copy]).forEach(function (layer) {
      Object.keys(layer.encoding || {}).forEach(function (channel) {
        var axis = layer.encoding[channel].axis;
        if (axis && axis.labelLimit > limit) { axis.labelLimit = limit; }
      });
    });
    return copy;
  }

  // A window resized (a phone turned, a desktop window narrowed) changes a chart's box: a chart
  // drawn for another width is drawn again for its box, as on the first load. Sparklines keep
  // their drawing (no text to keep readable).
  function redrawResized() {
    document.querySelectorAll("figure[data-chart][data-chart-drawn]:not(.sparkline)").forEach(function (figure) {
      var view = figure.querySelector(".chart-view");
      if (!figure.chartEmbed || view.clientWidth === Number(figure.getAttribute("data-chart-box"))) { return; }
      figure.chartEmbed.finalize();
      figure.chartEmbed = null;
      view.replaceChildren();
      figure.removeAttribute("data-chart-drawn");
    });
    draw(document);
  }

  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(redrawResized, RESIZE_WAIT);
  });

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:load", function (event) { draw(event.target); });
})();
