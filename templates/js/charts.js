// Charts of other columns, linked to the maps. Each point carries its bar in every chart (points.data["chart<j>"],
// -1 for a missing value), so counting a selection is one pass. Selecting on a map (box, lasso, a cluster row)
// draws the selection's bars over the whole's in every chart. Clicking a bar, or brushing a range of bars, filters
// the maps: the rows in the chosen bars (in every chart that has a choice: a cross-filter) become the maps'
// selection, so the selection table and its CSV follow; selecting on a map again clears the charts' choices.
(function (ep) {
  "use strict";
  // BokehJS runs a CustomJS callback after the change that fired it, not inside it, so no flag set around a
  // change can tell the callbacks where it came from: instead each side remembers what it last set. `chosen`:
  // per chart, the Set of chosen bars, or null; `filtered`: the rows the charts last made the maps' selection.
  let pending = false, filtered = null;
  const chosen = [];

  const charts = () => ep.meta().charts || [];
  const bars = (j) => ep.model(charts()[j].source);
  const same = (a, b) => a.length === b.length && a.every((v, k) => v === b[k]);

  // A chart's bar selection changed (a click or a brush): the maps select the rows every choice admits. A change
  // to what `chosen` already holds (the charts' choices cleared by a selection on a map) does nothing.
  ep.chartBrushed = function (j) {
    if (!ep.state.ready) return;
    const picked = Array.from(bars(j).selected.indices).sort((a, b) => a - b);
    const before = chosen[j] ? Array.from(chosen[j]).sort((a, b) => a - b) : [];
    if (same(picked, before)) return;
    chosen[j] = picked.length ? new Set(picked) : null;
    ep.filterByCharts();
  };

  // Each point's bar in chart c: its column, or, for a chart of the column the page colours by, the colour's
  // codes through c.from.bars (each class's bar), looked up once (render/charts.py).
  const looked = {};
  function barCodes(c) {
    if (!c.from) return ep.points().data[c.key];
    if (!looked[c.key]) {
      const codes = ep.points().data[c.from.key], bars = c.from.bars, out = new Int8Array(codes.length);
      for (let i = 0; i < codes.length; i++) out[i] = codes[i] >= 0 && codes[i] < bars.length ? bars[codes[i]] : -1;
      looked[c.key] = out;
    }
    return looked[c.key];
  }

  // The rows whose bar is chosen in every chart with a choice (none: no chart has one).
  ep.chartRows = function () {
    const active = [];
    charts().forEach((c, j) => { if (chosen[j]) active.push([barCodes(c), chosen[j]]); });
    if (!active.length) return [];
    const rows = [], n = ep.meta().n;
    for (let i = 0; i < n; i++) {
      let ok = true;
      for (const [codes, set] of active) if (!set.has(codes[i])) { ok = false; break; }
      if (ok) rows.push(i);
    }
    return rows;
  };

  ep.filterByCharts = function () {
    filtered = ep.chartRows();
    ep.points().selected.indices = filtered;
  };

  // A selection made on a map (box, lasso, a cluster row, Clear) drops the charts' choices.
  function clearChoices() {
    charts().forEach((c, j) => {
      chosen[j] = null;
      if (bars(j).selected.indices.length) bars(j).selected.indices = [];
    });
  }

  // The selection's count in each bar of chart j.
  ep.selectionCounts = function (j, rows) {
    const c = charts()[j], codes = barCodes(c), counts = new Array(c.counts.length).fill(0);
    for (const i of rows) if (codes[i] >= 0) counts[codes[i]]++;
    return counts;
  };

  function redraw() {
    pending = false;
    const rows = ep.selectedRows();
    charts().forEach((c, j) => {
      const source = bars(j);
      source.data = Object.assign({}, source.data, { sel: ep.selectionCounts(j, rows) });
    });
  }

  function schedule() {
    if (pending || !ep.state.ready) return;
    pending = true;
    requestAnimationFrame(redraw);
  }

  // The maps' selection changed: from the charts' choices, or from a map (which clears those choices).
  ep.chartsFollow = function () {
    if (!ep.state.ready) return;
    const now = ep.points().selected.indices;
    if (filtered === null || !same(Array.from(now), filtered)) {
      filtered = null;
      clearChoices();
    }
    schedule();
  };

  ep.on("shown", schedule);  // a class hidden from the legend leaves the selection's bars too
  ep.on("ready", function () {
    if (charts().length) redraw();
  });
})(window.embproj);
