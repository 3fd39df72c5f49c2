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
  // px at a 16 px root font, times textScale() on the page (as the chart's text is):
  var LEGEND_LABEL = 160;  // a legend label's most (Vega's default labelLimit)
  var LEGEND_ENTRY = 200;  // a legend's symbol and its label
  var LABEL_GAP = 4;  // between two axis labels, or one of them is left out (Vega's default is 0)
  var RESIZE_WAIT = 200;  // ms without a resize event before the charts are drawn again

  function draw(root) {
    var scale = textScale();  // the root font's, read once for every chart drawn now
    root.querySelectorAll("figure[data-chart]:not([data-chart-drawn])").forEach(function (figure) {
      figure.setAttribute("data-chart-drawn", "");
      var spec = JSON.parse(figure.querySelector("script[data-chart-spec]").textContent);
      var view = figure.querySelector(".chart-view"), box = view.clientWidth;
      // a sparkline has no text: it stays a small line; a box not laid out (hidden) has no width
      var small = figure.classList.contains("sparkline") || !box;
      figure.setAttribute("data-chart-box", box);
      figure.setAttribute("data-chart-scale", scale);
      var shown = small ? box : shownWidth(view, box);
      window.vegaEmbed(view, small ? spec : forBox(spec, shown, scale), OPTIONS)
        .then(function (result) {
          figure.chartEmbed = result;
          return small ? null : fit(result.view, view, shown, FIT_STEPS);
        })
        .then(function () { figure.querySelector(".chart-data").classList.add("visually-hidden"); })
        .catch(function (error) { figure.removeAttribute("data-chart-drawn"); console.error(error); });
    });
  }

  // The SVG follows its box up to its max-width (app.css), its viewBox keeping the drawing's
  // size: a chart drawn wider than that shrank whole (its 11 px labels 6 px on a 390 px phone),
  // one drawn narrower grew (17-24 px at 1366 px, where 48 rem is 960 px). The plot is widened or
  // narrowed by the difference until the whole chart is drawn as wide as it is shown, at most 1 px
  // narrower, its text at the size forBox gave it (the spec's times textScale). The drawn width is
  // the chart's bounds (autosize "pad"), captions right of a bar included; they move with the
  // plot's width, so it takes a few steps (Vega-Lite's autosize "fit" takes one and left them past
  // the edge). The spec (kpiapp.charts) is the PDF's too: only the view on this page changes.
  function fit(chart, view, shown, steps) {
    var svg = view.querySelector("svg");
    if (!svg || steps === 0) { return null; }
    var change = Math.ceil(parseFloat(svg.getAttribute("width")) - shown);  // > 0: too wide
    if (!isFinite(change) || change === 0 || chart.width() - change < 40) { return null; }
    return chart.width(chart.width() - change).runAsync()
      .then(function () { return fit(chart, view, shown, steps - 1); });
  }

  // The width a chart's SVG is shown at: its box, or the SVG's max-width (app.css) where that is
  // less, read off an empty SVG put in the box for the moment (the chart's is not drawn yet)
  function shownWidth(view, box) {
    var probe = view.appendChild(document.createElementNS("http://www.w3.org/2000/svg", "svg"));
    var most = parseFloat(getComputedStyle(probe).maxWidth);
    probe.remove();
    return isFinite(most) ? Math.min(box, most) : box;
  }

  // The page's root font over the browser's 16 px. pico's root font grows with the window (16 px
  // on a phone, 20 px at 1366 px); the spec's 11 px text is drawn 11 px times this, so a chart's
  // text keeps its proportion to the page's (as if the spec were in rem)
  function textScale() {
    return parseFloat(getComputedStyle(document.documentElement).fontSize) / 16 || 1;
  }

  // A copy of the spec for a chart shown `shown` px wide, its text sizes, label limits and legend
  // entries times `scale` (textScale). A long item name ("Listing optimisation / Listing 优化")
  // ends in "…" rather than leave the bars no room (the full names are in the data table); a
  // legend below the plot takes as many columns as fit (in one row, the store dashboard's five
  // rates made the chart 836 px wide at 11 px, 1,030 px at 13.75, whatever its plot's width); one
  // right of it keeps its one column. The pace chart's days ("10-01", "10-05") touched at 13.75 px:
  // where labels may be thinned (a time or number axis) they keep a gap
  function forBox(spec, shown, scale) {
    var copy = JSON.parse(JSON.stringify(spec)), share = Math.round(shown * LABEL_SHARE);
    var columns = Math.max(1, Math.floor(shown / (LEGEND_ENTRY * scale)));
    copy.config = copy.config || {};
    scaleText(copy, scale);
    copy.config.legend = Object.assign({}, copy.config.legend, { labelLimit: LEGEND_LABEL * scale });
    copy.config.axis = Object.assign({ labelSeparation: LABEL_GAP * scale }, copy.config.axis);
    (copy.layer || [copy]).forEach(function (layer) {
      Object.keys(layer.encoding || {}).forEach(function (channel) {
        var axis = layer.encoding[channel].axis, legend = layer.encoding[channel].legend;
        if (axis && axis.labelLimit) { axis.labelLimit = Math.min(axis.labelLimit * scale, share); }
        if (legend && /^(top|bottom)$/.test(legend.orient)) { legend.columns = columns; }
      });
    });
    return copy;
  }

  // Every font size the spec sets (its config's axis, legend, text, title..., a mark's own) times
  // `scale`, in place
  function scaleText(copy, scale) {
    var marks = (copy.layer || [copy]).map(function (layer) { return layer.mark; });
    Object.values(copy.config).concat(marks).forEach(function (part) {
      if (!part || typeof part !== "object") { return; }
      Object.keys(part).forEach(function (key) {
        if (/fontSize$/i.test(key) && typeof part[key] === "number") { part[key] *= scale; }
      });
    });
  }

  // A window resized (a phone turned, a desktop window narrowed) changes a chart's box and maybe
  // the root font: a chart drawn for another width or text size is drawn again, as on the first
  // load. Sparklines keep their drawing (no text to keep readable).
  function redrawResized() {
    var scale = textScale();
    document.querySelectorAll("figure[data-chart][data-chart-drawn]:not(.sparkline)").forEach(function (figure) {
      var view = figure.querySelector(".chart-view");
      var same = view.clientWidth === Number(figure.getAttribute("data-chart-box"))
        && scale === Number(figure.getAttribute("data-chart-scale"));
      if (!figure.chartEmbed || same) { return; }
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
