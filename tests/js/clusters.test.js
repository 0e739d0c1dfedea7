"use strict";
// Cluster labels (templates/js/clusters.js): biggest cluster first, a label shows only where its box, as drawn,
// meets no bigger cluster's shown label and lies inside the map; zooming in reveals the smaller ones. Also the
// cluster table and a click on its row.
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadPage, random } = require("./page.js");

const FONT = { font: "bold 13px helvetica", padding: 3 };  // render/clusters.py's label_settings()
const CHAR = 7;  // the stand-in canvas measures a character this wide

// Labels biggest first: grid × grid close together from (0.41, 0.41) on, 0.01 apart, then `scattered` at random.
function labelled({ grid = 5, scattered = 40, seed = 3 } = {}) {
  const rnd = random(seed), x = [], y = [], text = [];
  for (let r = 0; r < grid; r++) for (let c = 0; c < grid; c++) { x.push(0.41 + 0.01 * c); y.push(0.41 + 0.01 * r); text.push(`near ${r}-${c}`); }
  for (let k = 0; k < scattered; k++) { x.push(rnd()); y.push(rnd()); text.push("x".repeat(3 + Math.floor(10 * rnd()))); }
  return { x, y, text };
}

function labelPage(labels, { width = 400, height = 300 } = {}) {
  const page = loadPage({
    meta: { n: 0, label_font: FONT },
    data: { row: new Int32Array(0), x_pca: new Float32Array(0), y_pca: new Float32Array(0) },
    maps: [{ algo: "pca", x: [0, 1], y: [0, 1], width, height }],
    models: { cluster_labels_pca: { data: labels }, cluster_labels_shown_pca: { indices: [] } },
    charWidth: CHAR,
  });
  page.ready();
  return page;
}

// Each label's box as clusters.js should draw it: centred on its cluster's position, in the frame's pixels.
function expectedBox(page, labels, k) {
  const fig = page.figures[0], xr = fig.x_range, yr = fig.y_range, pad = FONT.padding + 1;
  const sx = ((labels.x[k] - xr.start) / (xr.end - xr.start)) * fig.inner_width;
  const sy = ((yr.end - labels.y[k]) / (yr.end - yr.start)) * fig.inner_height;
  const w = labels.text[k].length * CHAR + 2 * pad, h = 13 + 2 * pad;
  return [sx - w / 2, sy - h / 2, sx + w / 2, sy + h / 2];
}

const overlap = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
const within = (page, box) => box[0] >= 0 && box[1] >= 0 && box[2] <= page.figures[0].inner_width && box[3] <= page.figures[0].inner_height;

// What every placement must hold: shown labels sit on their clusters, inside the map, overlapping none; a label
// inside the map is hidden only for a bigger cluster's shown label.
function checkPlacement(page, labels) {
  const shown = Array.from(page.models.cluster_labels_shown_pca.indices);
  const boxes = Array.from(page.ep.labelBoxes.pca, (b) => ({ k: b.k, box: Array.from(b.box) }));  // (the page's realm)
  assert.deepEqual(boxes.map((b) => b.k), shown);
  assert.deepEqual(shown, [...shown].sort((a, b) => a - b));
  for (const { k, box } of boxes) {
    assert.deepEqual(box.map((v) => +v.toFixed(6)), expectedBox(page, labels, k).map((v) => +v.toFixed(6)));
    assert.ok(within(page, box), `label ${k} inside the map`);
  }
  for (let a = 0; a < boxes.length; a++) {
    for (let b = a + 1; b < boxes.length; b++) assert.ok(!overlap(boxes[a].box, boxes[b].box), `labels ${boxes[a].k} and ${boxes[b].k} overlap`);
  }
  const on = new Set(shown);
  for (let k = 0; k < labels.x.length; k++) {
    const box = expectedBox(page, labels, k);
    if (on.has(k) || !within(page, box)) continue;
    assert.ok(boxes.some((b) => b.k < k && overlap(b.box, box)), `label ${k} hidden with nothing bigger in its way`);
  }
  return shown;
}

test("labels show biggest first, on their clusters, inside the map, never overlapping", () => {
  const labels = labelled(), page = labelPage(labels);
  const shown = checkPlacement(page, labels);
  assert.equal(shown[0], 0, "the biggest cluster's label shows");
  assert.ok(shown.length > 5 && shown.length < labels.x.length);
  assert.equal(shown.filter((k) => k < 25).length, 1, "the 25 close clusters: only the biggest's label fits");
});

test("zooming in reveals the smaller clusters' labels; zooming out hides them again", () => {
  const labels = labelled(), page = labelPage(labels), fig = page.figures[0];
  Object.assign(fig.x_range, { start: 0.4, end: 0.46 });
  Object.assign(fig.y_range, { start: 0.4, end: 0.46 });
  page.ep.placeLabels();  // (Bokeh calls it on every change of a range or of the map's size)
  page.flush();
  const near = checkPlacement(page, labels).filter((k) => k < 25);
  assert.deepEqual(near, Array.from({ length: 25 }, (_, k) => k), "all 25 fit once they are far apart on screen");
  Object.assign(fig.x_range, { start: 0, end: 1 });
  Object.assign(fig.y_range, { start: 0, end: 1 });
  page.ep.placeLabels();
  page.flush();
  assert.equal(checkPlacement(page, labels).filter((k) => k < 25).length, 1);
});

test("a label that would stick out of the map, or a map not laid out yet, shows nothing", () => {
  const labels = { x: [0.001, 0.5, 0.999], y: [0.5, 0.5, 0.5], text: ["left edge", "middle", "right edge"] };
  const page = labelPage(labels);
  assert.deepEqual(checkPlacement(page, labels), [1]);
  Object.assign(page.figures[0], { inner_width: 0, inner_height: 0 });  // a map in a hidden tab
  page.ep.placeLabels();
  page.flush();
  assert.deepEqual(Array.from(page.models.cluster_labels_shown_pca.indices), []);
});

test("the cluster table lists every cluster and the noise; a click on a row selects its points", () => {
  const page = loadPage({
    meta: {
      n: 6,
      clusters: { key: "cluster_id", column: "cluster", labels: ["alpha", "beta"], sizes: [3, 2], purity: [0.5, null], noise: 1 },
      colors: [{ name: "cluster", kind: "categorical", key: "cat", factors: ["alpha", "beta", "noise"], palette: ["#111111", "#222222", "#333333"] }],
    },
    data: { row: Int32Array.of(0, 1, 2, 3, 4, 5), x_pca: new Float32Array(6), y_pca: new Float32Array(6), cluster_id: Int8Array.of(0, 1, 0, 2, 1, 0) },
    elements: { "ep-cluster-table": {} },
  });
  page.ready();
  const table = page.elements["ep-cluster-table"], rows = table.children[1].children;
  assert.deepEqual(table.children[0].children[0].children.map((th) => th.text()), ["cluster", "points", "purity"]);
  assert.deepEqual(rows.map((tr) => tr.children.map((td) => td.text())), [["alpha", "3", "50%"], ["beta", "2", ""], ["noise", "1", ""]]);
  assert.equal(rows[0].children[0].children[0].style.background, "#111111", "the swatch has the cluster's colour");
  rows[1].fire("click");
  assert.deepEqual(Array.from(page.models.points.selected.indices), [1, 4]);
  rows[2].fire("keydown", { key: "Enter", preventDefault: () => {} });
  assert.deepEqual(Array.from(page.models.points.selected.indices), [3]);
});
