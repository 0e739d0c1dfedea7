"use strict";
// The neighbour table as the page decodes it on the first click (templates/js/neighbours.js): every table that
// embproj/render/neighbours.py encoded comes back as the graph it was given and as tests/reportdata.py decodes
// it; the neighbours panel says what it found, and a table that cannot be read is said so, not thrown.
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadPage } = require("./page.js");
const { python, skip } = require("./cases.js");

function pageOf(c, more = {}) {
  const n = c.x.length;
  return loadPage({
    meta: { n, neighbours: { k: c.k, code: c.code, metric: "euclidean", exact: true, recall: null }, ...more.meta },
    data: {
      row: Int32Array.from({ length: n }, (_, i) => i),
      x_pca: Float32Array.from(c.x, (v) => (v === null ? NaN : v)),
      y_pca: Float32Array.from(c.y, (v) => (v === null ? NaN : v)),
      ...(c.group ? { [c.code.group]: Int8Array.from(c.group) } : {}),
    },
    elements: { "ep-neighbour-table": { textContent: c.text }, "ep-neighbours": { textContent: "click a point" } },
  });
}

const CASES = python ? python.neighbours : [{ name: "each of Python's tables" }];

for (const c of CASES) {
  test(`${c.name}: the page decodes the encoder's graph`, { skip }, async () => {
    const page = pageOf(c), ep = page.ep;
    assert.equal(ep.neighboursOf(0), undefined, "not decoded before the first click");
    await page.settle(ep.neighbourTable());
    const got = c.x.map((_, i) => Array.from(ep.neighboursOf(i)));
    assert.deepEqual(got, c.truth);
    if (c.python) assert.deepEqual(got, c.python);
    if (c.group) assert.ok(c.code.group, "a table the classes number more tightly is sent grouped by them");
  });
}

test("a click shows the point's neighbours once the table is decoded, and how many the map keeps", { skip }, async () => {
  const c = python.neighbours.find((t) => t.name.startsWith("the map's own"));
  const page = pageOf(c), ep = page.ep, out = page.elements["ep-neighbours"];
  page.ready();
  ep.showNeighbours(3);
  assert.match(out.text(), /finding its neighbours/);
  await page.settle(ep.neighbourTable());
  assert.deepEqual(Array.from(page.models.nn_hits.indices), c.truth[3]);
  assert.deepEqual(Array.from(page.models.nn_origin.indices), [3]);
  // the graph is the map's own nearest neighbours, so the map keeps all k of them
  assert.equal(out.dataset.kept, String(c.k));
  assert.match(out.text(), new RegExp(`PCA ${c.k} of ${c.k}`));
  const listed = out.children.find((e) => e.tagName === "OL").children.map((li) => Number(li.dataset.index));
  assert.deepEqual(listed, c.truth[3]);
  ep.clearNeighbours();
  assert.equal(out.text(), "click a point");
  assert.deepEqual(Array.from(page.models.nn_hits.indices), []);
});

test("a table that cannot be read says so in the panel", async () => {
  const code = { alphabet: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;,=>?@^_`{|}~",
    algo: "pca", bits: 16, x0: 0, y0: 0, scale: 1, flags: 0, firsts: 2, gaps: 0, first_planes: 1, gap_planes: 1 };
  const page = pageOf({ x: [0, 1], y: [0, 1], k: 1, code, text: "notadeflatestream" });
  page.ready();
  page.ep.showNeighbours(0);
  await assert.rejects(page.settle(page.ep.neighbourTable()));
  assert.equal(page.ep.neighboursOf(0), null);
  assert.match(page.elements["ep-neighbours"].text(), /the neighbour table could not be read here/);
});

test("a report without a table says why", () => {
  const page = loadPage({
    meta: { n: 2, neighbours: null, neighbours_note: "no neighbour table above 1,000,000 rows" },
    data: { row: Int32Array.of(0, 1), x_pca: Float32Array.of(0, 1), y_pca: Float32Array.of(0, 1) },
    elements: { "ep-neighbours": {} },
  });
  page.ready();
  assert.equal(page.ep.neighboursOf(1), null);
  page.ep.showNeighbours(1);
  assert.match(page.elements["ep-neighbours"].text(), /row 1 · no neighbour table above 1,000,000 rows/);
});
