"use strict";
// The large map's level of detail (templates/js/lod.js): which points the page hands Bokeh to draw one by one for
// a view, the density image under them, and hover, click and selection answered through the grid index.
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadPage, random } = require("./page.js");

const PALETTE = ["#ff0000", "#00ff00", "#0000ff"];
const LOD = { threshold: 0, drawn: 2000, thin_cells: 16, index_cells: 64, bins: 32, hover_px: 6, alpha: [0.25, 0.9] };

// Class 0: 6,000 points crowded in a blob; class 1: 1,000 spread over the map; class 2: 12 points in a corner.
function crowded(seed = 1) {
  const rnd = random(seed), xs = [], ys = [], cat = [];
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const add = (x, y, k) => { xs.push(x); ys.push(y); cat.push(k); };
  for (let i = 0; i < 6000; i++) add(0.3 + 0.05 * normal(), 0.3 + 0.05 * normal(), 0);
  for (let i = 0; i < 1000; i++) add(rnd(), rnd(), 1);
  for (let i = 0; i < 12; i++) add(0.9 + 0.01 * rnd(), 0.9 + 0.01 * rnd(), 2);
  return { xs, ys, cat };
}

function lodPage({ xs, ys, cat }, lod = LOD) {
  const n = xs.length;
  const page = loadPage({
    meta: {
      lod,
      colors: [{ name: "class", kind: "categorical", key: "cat", factors: ["a", "b", "c"], palette: PALETTE }],
    },
    data: {
      row: Int32Array.from({ length: n }, (_, i) => i), x_pca: Float32Array.from(xs), y_pca: Float32Array.from(ys),
      cat: Int8Array.from(cat),
    },
    maps: [{ algo: "pca", x: [0, 1], y: [0, 1], width: 400, height: 400 }],
  });
  page.ready({ items: [PALETTE.map(() => ({ renderers: [{ visible: true }] }))], mappers: [{ palette: PALETTE }] });
  return page;
}

const drawn = (page) => Array.from(page.models.drawn.data.idx);
const imageShown = (page) => page.figures[0].renderers.find((r) => r.name === "lod_density_pca").visible;
const inside = (page, [xa, xb], [ya, yb]) => {
  const xs = page.column("x_pca"), ys = page.column("y_pca"), out = [];
  for (let i = 0; i < xs.length; i++) if (xs[i] >= xa && xs[i] <= xb && ys[i] >= ya && ys[i] <= yb) out.push(i);
  return out;
};

test("a crowded view draws at most `drawn` points: every class, all of a sparse cell's, the crowd thinned", () => {
  const data = crowded(), page = lodPage(data), idx = drawn(page);
  assert.ok(idx.length <= LOD.drawn && idx.length > LOD.drawn / 2, `${idx.length} drawn`);
  assert.deepEqual(idx, [...idx].sort((a, b) => a - b));
  assert.equal(new Set(idx).size, idx.length);
  const byClass = [0, 0, 0];
  for (const i of idx) byClass[data.cat[i]]++;
  assert.ok(byClass[0] > 0 && byClass[0] < 6000, `the crowd: ${byClass[0]} of 6,000`);
  assert.equal(byClass[1], 1000, "the spread class keeps every point: its cells are sparse");
  assert.equal(byClass[2], 12, "the small class keeps every point");
  // what is drawn is those rows' coordinates and colours
  const d = page.models.drawn.data;
  assert.deepEqual(Array.from(d.x_pca), idx.map((i) => page.column("x_pca")[i]));
  assert.deepEqual(Array.from(d.cat), idx.map((i) => data.cat[i]));
  assert.equal(page.document.documentElement.dataset.epDrawn, String(idx.length));
  assert.equal(imageShown(page), true, "the density image shows every point under the drawn ones");
});

test("the same rows draw the same points", () => {
  assert.deepEqual(drawn(lodPage(crowded())), drawn(lodPage(crowded())));
});

test("when even one point per cell and class is too many, the cells grow", () => {
  const data = crowded(), lod = { ...LOD, drawn: 100, thin_cells: 48 };
  const idx = drawn(lodPage(data, lod));
  assert.ok(idx.length <= 100 && idx.length > 20, `${idx.length} drawn`);
  assert.deepEqual(new Set(idx.map((i) => data.cat[i])), new Set([0, 1, 2]));
});

test("zoomed into fewer points than `drawn`, every point in the view is drawn and the image hides", () => {
  const page = lodPage(crowded()), fig = page.figures[0];
  Object.assign(fig.x_range, { start: 0.6, end: 1 });
  Object.assign(fig.y_range, { start: 0.6, end: 1 });
  page.changed(fig.x_range);
  assert.deepEqual(drawn(page), inside(page, [0.6, 1], [0.6, 1]));
  assert.equal(imageShown(page), false);
  Object.assign(fig.x_range, { start: 0, end: 1 });
  Object.assign(fig.y_range, { start: 0, end: 1 });
  page.changed(fig.y_range);
  assert.ok(drawn(page).length <= LOD.drawn);
  assert.equal(imageShown(page), true);
});

test("a class hidden from the legend is neither drawn nor in the image", () => {
  const data = crowded(), page = lodPage(data);
  page.ep.state.items[0][0].renderers[0].visible = false;  // a click on class a's legend entry
  page.ep.legendChanged();
  page.flush();
  const idx = drawn(page);
  assert.deepEqual(idx, inside(page, [0, 1], [0, 1]).filter((i) => data.cat[i] !== 0), "the rest fit: all drawn");
  assert.equal(imageShown(page), false);
  page.ep.state.items[0][1].renderers[0].visible = false;  // and class b's: class c's 12 points are left
  page.ep.state.items[0][0].renderers[0].visible = true;
  page.ep.legendChanged();
  page.flush();
  assert.equal(imageShown(page), true);
  assert.ok(drawn(page).every((i) => data.cat[i] !== 1));
  const pixels = Array.from(page.models.density_image_pca.data.image[0].array).filter((p) => p !== 0);
  assert.ok(pixels.length > 0 && pixels.every((p) => ((p >>> 8) & 255) === 0), "no green in the image");
});

test("the density image: each class's colour where its points are, more opaque where more, clear elsewhere", () => {
  const xs = [], ys = [], cat = [];
  for (let i = 0; i < 300; i++) { xs.push(0.1 + (i % 10) * 0.001); ys.push(0.1); cat.push(0); }  // red, crowded
  for (let i = 0; i < 3; i++) { xs.push(0.9); ys.push(0.9); cat.push(2); }  // blue, three points
  const page = lodPage({ xs, ys, cat }, { ...LOD, drawn: 10 });
  const { image, x, y, dw, dh } = page.models.density_image_pca.data, { array, shape } = image[0];
  assert.deepEqual(Array.from(shape), [32, 32]);
  assert.deepEqual([x[0], y[0], dw[0], dh[0]], [0, 0, 1, 1]);
  const rgba = (col, row) => { const p = array[row * 32 + col]; return [p & 255, (p >>> 8) & 255, (p >>> 16) & 255, p >>> 24]; };
  const red = rgba(3, 3), blue = rgba(28, 28);  // the cells of (0.1, 0.1) and (0.9, 0.9)
  assert.deepEqual(red, [255, 0, 0, Math.round(255 * 0.9)], "the densest cell: the most opaque");
  assert.deepEqual(blue.slice(0, 3), [0, 0, 255]);
  assert.ok(blue[3] >= Math.round(255 * 0.25) && blue[3] < red[3]);
  assert.equal(Array.from(array).filter((p) => p !== 0).length, 2, "every other cell is clear");
});

test("hover and click find through the index the point a scan of every row finds", () => {
  const page = lodPage(crowded()), ep = page.ep, fig = page.figures[0], all = inside(page, [0, 1], [0, 1]);
  const rnd = random(9);
  for (let q = 0; q < 200; q++) {
    const x = rnd(), y = rnd(), radius = 1 + 20 * rnd();
    const scanned = ep.nearest(x, y, fig, "x_pca", "y_pca", all, radius);
    assert.equal(ep.indexNearest(x, y, fig, "pca", radius), scanned, `at (${x}, ${y}) within ${radius} px`);
    assert.equal(ep.nearest(x, y, fig, "x_pca", "y_pca", undefined, radius), scanned);
  }
});

test("box and lasso select every row inside, and the drawn points' selection follows", () => {
  const page = lodPage(crowded()), ep = page.ep;
  ep.lodSelect({ final: true, geometry: { type: "rect", x0: 0.5, x1: 0.2, y0: 0.25, y1: 0.4 } }, "pca");
  const selected = Array.from(page.models.points.selected.indices);
  assert.deepEqual(selected, inside(page, [0.2, 0.5], [0.25, 0.4]));
  page.changed(page.models.points.selected);
  const idx = drawn(page), chosen = new Set(selected);
  assert.deepEqual(Array.from(page.models.drawn.selected.indices), idx.flatMap((i, j) => (chosen.has(i) ? [j] : [])));
  // a triangle: below the diagonal from (0, 0) to (1, 1)
  ep.lodSelect({ final: true, geometry: { type: "poly", x: [0, 1, 1], y: [0, 0, 1] } }, "pca");
  const xs = page.column("x_pca"), ys = page.column("y_pca");
  const below = inside(page, [0, 1], [0, 1]).filter((i) => ys[i] < xs[i]);
  assert.deepEqual(Array.from(page.models.points.selected.indices), below);
  ep.lodSelect({ final: false, geometry: { type: "rect", x0: 0, x1: 1, y0: 0, y1: 1 } }, "pca");
  assert.deepEqual(Array.from(page.models.points.selected.indices), below, "only the final geometry selects");
});

test("search rings mark the hits in the view, and hide when none is there", () => {
  const page = lodPage(crowded()), fig = page.figures[0], hits = page.models.search_hits;
  const ring = fig.renderers.find((r) => r.name === "search_pca");
  hits.indices = [5, 6500, 7005, 7011];  // of classes a, b, c and c
  page.changed(hits);
  assert.deepEqual(Array.from(page.models.drawn_search_hits.data.idx), [5, 6500, 7005, 7011]);
  assert.equal(ring.visible, true);
  Object.assign(fig.x_range, { start: 0.85, end: 1 });
  Object.assign(fig.y_range, { start: 0.85, end: 1 });
  page.changed(fig.x_range);
  const there = new Set(inside(page, [0.85, 1], [0.85, 1]));
  assert.deepEqual(Array.from(page.models.drawn_search_hits.data.idx), [5, 6500, 7005, 7011].filter((i) => there.has(i)));
  assert.ok(there.has(7005) && !there.has(5));
  hits.indices = [5];
  page.changed(hits);
  assert.deepEqual(Array.from(page.models.drawn_search_hits.data.idx), []);
  assert.equal(ring.visible, false, "an empty ring layer is hidden");
});
