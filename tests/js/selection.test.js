"use strict";
// The selection's table and CSV (templates/js/selection.js), and the charts' cross-filter (templates/js/charts.js):
// a CSV cell is guarded as embproj/text/safe.py guards it (Python's answers, from tests/test_page_js.py) and
// quoted as RFC 4180 says; the rows in the chosen bars of every chart become the maps' selection.
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadPage } = require("./page.js");
const { python, skip } = require("./cases.js");

// One CSV field back to its text.
function unquote(cell) {
  if (!cell.startsWith('"')) return cell;
  assert.ok(cell.endsWith('"') && cell.length >= 2, cell);
  const inner = cell.slice(1, -1);
  assert.doesNotMatch(inner.replace(/""/g, ""), /"/, "a quote inside a quoted cell is doubled");
  return inner.replace(/""/g, '"');
}

test("a CSV cell is guarded as Python guards it, and quoted only when it must be", { skip }, () => {
  const { formula, number, cells } = python.csv;
  const ep = loadPage({ meta: { csv: { formula, number } } }).ep;
  for (const [text, guarded] of cells) {
    const cell = ep.csvCell(text);
    assert.equal(unquote(cell), guarded, JSON.stringify(text));
    assert.equal(cell.startsWith('"'), /[",\r\n]/.test(guarded) || guarded !== guarded.trim(), JSON.stringify(text));
  }
  assert.equal(ep.csvCell(null), "");
  assert.equal(ep.csvCell(-1.5), "-1.5");
});

test("the selection's CSV: a header, then every selected shown row in order, coordinates at 7 digits", () => {
  const page = loadPage({
    meta: { n: 4, label: 0, fields: [{ name: "name", key: "f_name" }] },
    data: {
      row: Int32Array.of(7, 8, 9, 10), f_name: ["a", "b, c", "d", null],
      x_pca: Float32Array.of(0.1, 1 / 3, NaN, 2), y_pca: Float32Array.of(1e-8, -2, 3, 4),
    },
  });
  page.ready();
  page.models.points.selected.indices = [3, 1, 2];
  page.models.shown.booleans = [true, true, false, true];  // row 2 is in a class the legend hides
  assert.deepEqual(Array.from(page.ep.selectedRows()), [1, 3]);
  assert.equal(page.ep.selectionCsv(), 'row,name,pca_x,pca_y\r\n8,"b, c",0.3333333,-2\r\n10,,2,4\r\n');
});

function chartPage() {
  const page = loadPage({
    meta: {
      n: 6,
      charts: [
        // the bars of the column the page colours by: read from the colour's codes (render/charts.py)
        { key: "chart0", source: "chart_bars_0", counts: [3, 3], from: { key: "cat", bars: [1, 0, 1, 0] } },
        { key: "chart1", source: "chart_bars_1", counts: [2, 2, 1] },
      ],
    },
    data: {
      row: Int32Array.of(0, 1, 2, 3, 4, 5), x_pca: new Float32Array(6), y_pca: new Float32Array(6),
      cat: Int8Array.of(1, 3, 1, 0, 2, 0), chart1: Int8Array.of(0, 1, 2, 0, 1, -1),  // chart0's bars: 0, 0, 0, 1, 1, 1
    },
    models: {
      chart_bars_0: { data: { sel: [0, 0] }, selected: { indices: [] } },
      chart_bars_1: { data: { sel: [0, 0, 0] }, selected: { indices: [] } },
    },
  });
  page.ready();
  return page;
}

test("bars chosen in two charts select the rows both admit; the charts count the selection", () => {
  const page = chartPage(), ep = page.ep, selected = page.models.points.selected;
  page.models.chart_bars_0.selected.indices = [1];
  ep.chartBrushed(0);
  assert.deepEqual(Array.from(selected.indices), [3, 4, 5]);
  page.models.chart_bars_1.selected.indices = [0, 1];
  ep.chartBrushed(1);
  assert.deepEqual(Array.from(selected.indices), [3, 4]);
  ep.chartsFollow();  // (Bokeh calls it on the selection's change)
  page.flush();
  assert.deepEqual(Array.from(page.models.chart_bars_0.data.sel), [0, 2]);
  assert.deepEqual(Array.from(page.models.chart_bars_1.data.sel), [1, 1, 0], "a missing value is in no bar");
  assert.deepEqual(Array.from(page.models.chart_bars_0.selected.indices), [1], "the charts keep their choices");
});

test("a selection made on a map drops the charts' choices", () => {
  const page = chartPage(), ep = page.ep;
  page.models.chart_bars_0.selected.indices = [0];
  ep.chartBrushed(0);
  page.models.points.selected.indices = [5];  // a box drawn on the map
  ep.chartsFollow();
  page.flush();
  assert.deepEqual(Array.from(page.models.chart_bars_0.selected.indices), []);
  assert.deepEqual(Array.from(page.models.chart_bars_0.data.sel), [0, 1]);
  assert.deepEqual(Array.from(ep.chartRows()), []);
});
