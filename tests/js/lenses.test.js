"use strict";
// The lenses (templates/js/lenses.js): the suspect labels' table, its CSV (guarded as the selection's) and a click
// on a suspect; the tooltip's line for a point's label agreement.
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadPage } = require("./page.js");
const { python, skip } = require("./cases.js");

const LABELS = {
  column: "kind", k: 4, agreement: 0.7, labels: ["cat", "=dog"],
  suspects: [2, 0], own: [1, 0], share: [0.75, 0.5], total: 2, classes: [], confused: [],
};

function labelPage(meta = {}) {
  const columns = python.names.lenses;  // the label lens's columns, as Python names them
  return loadPage({
    meta: { n: 4, label: 0, fields: [{ name: "name", key: "f_name" }], lenses: { labels: LABELS, notes: [] }, ...meta },
    data: {
      row: Int32Array.of(10, 11, 12, 13), f_name: ["a", "b", "c", "d"], x_pca: new Float32Array(4),
      y_pca: new Float32Array(4), [columns.agree]: Float32Array.of(0.25, 1, 0, NaN),
      [columns.agree_to]: Int8Array.of(1, -1, 0, -1),
    },
    elements: { "ep-labels-table": {}, "ep-labels-note": {}, "ep-labels-csv": {}, "ep-labels-select": {}, "ep-neighbours": {} },
  });
}

const cells = (row) => row.children.map((td) => td.text());

test("the suspects' table lists them worst first: row, name, label, the neighbours' label and share", () => {
  const page = labelPage();
  page.ready();
  const [thead, tbody] = page.elements["ep-labels-table"].children;
  assert.deepEqual(cells(thead.children[0]), ["row", "name", "kind", "neighbours' label", "their share", "agreement"]);
  assert.deepEqual(tbody.children.map(cells), [["12", "c", "=dog", "cat", "75%", "0%"], ["10", "a", "cat", "=dog", "50%", "25%"]]);
  assert.equal(page.elements["ep-labels-csv"].disabled, false);
});

test("a click on a suspect selects it; the button selects them all", () => {
  const page = labelPage();
  page.ready();
  const tbody = page.elements["ep-labels-table"].children[1];
  tbody.children[0].fire("click");
  assert.deepEqual(Array.from(page.models.points.selected.indices), [2]);
  page.elements["ep-labels-select"].fire("click");
  assert.deepEqual(Array.from(page.models.points.selected.indices), [0, 2]);
});

test("the suspects' CSV holds every suspect, its text guarded as Python guards it", { skip }, () => {
  const page = labelPage({ csv: { formula: python.csv.formula, number: python.csv.number } });
  page.ready();
  assert.equal(page.ep.suspectsCsv(),
    "row,name,kind,neighbours' label,their share,agreement\r\n12,c,'=dog,cat,75%,0%\r\n10,a,cat,'=dog,50%,25%\r\n");
});

test("the tooltip says how many of a point's neighbours carry its label, and which most carry when not its own", () => {
  const page = labelPage();
  page.ready();
  const said = (i) => {
    const rows = [];
    page.ep.emit("tip", { i, data: page.models.points.data, add: (k, v) => rows.push([k, v]) });
    return rows;
  };
  assert.deepEqual(said(0), [["label agreement", '1 of its 4 neighbours carry its label; most carry "=dog"']]);
  assert.deepEqual(said(1), [["label agreement", "4 of its 4 neighbours carry its label"]]);
  assert.deepEqual(said(3), [], "a row without a label has no agreement");
});

test("the map trust colours each map by its own column, and the tooltip says each map's", () => {
  const column = (algo) => python.names.maps[algo].trust;  // each map's trust column, as Python names it
  const trust = { key: column("pca"), keys: { pca: column("pca"), umap: column("umap") } };
  const colors = [
    { name: "kind", kind: "categorical", key: "cat", factors: ["a"], palette: ["#a00000"], fact: "" },
    { name: "map trust", kind: "continuous", low: 0, high: 1, fact: "", ...trust },
  ];
  const page = loadPage({
    meta: {
      n: 2, colors, lenses: {
        labels: null, notes: [], trust: { pca: { k: 10, mean: 0.5, name: "PCA" }, umap: { k: 10, mean: 0.7, name: "UMAP" } },
      },
    },
    data: {
      row: Int32Array.of(0, 1), x_pca: new Float32Array(2), y_pca: new Float32Array(2), x_umap: new Float32Array(2),
      y_umap: new Float32Array(2), cat: Int8Array.of(0, 0), [column("pca")]: Float32Array.of(0.3, 0.7),
      [column("umap")]: Float32Array.of(1, 0.4),
    },
    maps: [{ algo: "pca" }, { algo: "umap" }],
  });
  page.ready({ items: [[{ renderers: [{ visible: true }] }], []], mappers: [{ palette: ["#a00000"] }, { palette: ["#000", "#fff"] }] });
  page.ep.setColor(1);
  const fields = page.figures.map((f) => f.renderers.find((r) => r.name === page.ep.mapOf(f).points).glyph.fill_color.field);
  assert.deepEqual(fields, [column("pca"), column("umap")]);
  const rows = [];
  page.ep.emit("tip", { i: 1, data: page.models.points.data, add: (k, v) => rows.push([k, v]) });
  assert.deepEqual(rows, [
    ["map trust · PCA", "7 of its 10 neighbours are near it on the map"],
    ["map trust · UMAP", "4 of its 10 neighbours are near it on the map"],
  ]);
});

test("a map without its own trust (the gear's) is coloured by a column of its own, and hover and images pass it", () => {
  const gear = python.gear_map, column = (algo) => python.names.maps[algo].trust;
  const trust = { key: column("pca"), keys: { pca: column("pca"), [gear]: column(gear) } };
  const colors = [{ name: "map trust", kind: "continuous", low: 0, high: 1, fact: "", ...trust }];
  const page = loadPage({
    meta: {
      n: 2, colors, lenses: {
        labels: null, notes: [], trust: { pca: { k: 10, mean: 0.5, name: "PCA" } },
        images: { in_view: 3, px: [16, 96], room: 0.9 },
      },
    },
    data: {
      row: Int32Array.of(0, 1), x_pca: new Float32Array(2), y_pca: new Float32Array(2),
      [python.names.maps[gear].x]: Float32Array.of(NaN, NaN), [python.names.maps[gear].y]: Float32Array.of(NaN, NaN),
      [column("pca")]: Float32Array.of(0.3, 0.7), [column(gear)]: Float32Array.of(NaN, NaN),
    },
    maps: [{ algo: "pca" }, { algo: gear }],
    elements: { "ep-images": { checked: true }, "ep-images-note": {} },
  });
  page.ready({ items: [[]], mappers: [{ palette: ["#000", "#fff"] }] });
  page.ep.setColor(0);
  const fields = page.figures.map((f) => f.renderers.find((r) => r.name === page.ep.mapOf(f).points).glyph.fill_color.field);
  assert.deepEqual(fields, [column("pca"), column(gear)]);
  const rows = [];
  page.ep.emit("tip", { i: 0, data: page.models.points.data, add: (k, v) => rows.push([k, v]) });
  assert.deepEqual(rows, [["map trust", "3 of its 10 neighbours are near it on the map"]]);
  page.flush();
  assert.equal(page.ep.imageAt(page.figures[1], 0, 0), -1);
});

const PNG_3x2 = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAFUlEQVR4nGM8wcXFwMDAwMDAxAADABByAOAp6i43AAAAAElFTkSuQmCC";
const JPEG_5x4 = "data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAAEAAUDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAf/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABgf/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCXADS2v//Z";

// Four points on a 400 × 400 px map of 0..10 × 0..10; the third has no image, the fourth a JPEG; at most 3 in view.
function imagePage() {
  const names = python.names.maps.pca;
  const page = loadPage({
    meta: {
      n: 4, images: { key: "img", words: null },
      lenses: { labels: null, trust: {}, notes: [], images: { in_view: 3, px: [16, 96], room: 0.9 } },
    },
    data: {
      row: Int32Array.of(0, 1, 2, 3), x_pca: Float32Array.of(1, 2, 3, 9), y_pca: Float32Array.of(1, 2, 3, 9),
      img: [PNG_3x2, PNG_3x2, "", JPEG_5x4],
    },
    maps: [{ algo: "pca", x: [0, 10], y: [0, 10], width: 400, height: 400 }],
    models: { [names.images]: { data: {} } },
    elements: { "ep-images": { checked: true }, "ep-images-note": {} },
  });
  page.ready();
  return { page, source: page.models[names.images], view: (x, y) => {
    const fig = page.figures[0];
    [fig.x_range.start, fig.x_range.end, fig.y_range.start, fig.y_range.end] = [...x, ...y];
    page.changed(fig.x_range);
  } };
}

test("an image's size is read from its PNG or JPEG header; anything else is drawn square", { skip }, () => {
  const { page } = imagePage();
  assert.deepEqual(Array.from(page.ep.imageSize(PNG_3x2)), [3, 2]);
  assert.deepEqual(Array.from(page.ep.imageSize(JPEG_5x4)), [5, 4]);
  assert.equal(page.ep.imageSize("data:image/png;base64,!!"), null);
});

test("a view of more points than it shows images of draws none and says to zoom in", { skip }, () => {
  const { page, source } = imagePage();
  assert.deepEqual(Object.keys(source.data), [], "four points in view, over three: no image");
  assert.equal(page.elements["ep-images-note"].style.visibility, "visible", "the note says to zoom in");
  assert.equal(page.document.documentElement.dataset.epImages, "0");
});

test("zoomed in, each shown point's image is drawn at its place, sized to the room, with its own aspect", { skip }, () => {
  const { page, source, view } = imagePage();
  view([0, 5], [0, 5]);  // points 0, 1, 2: two images (the third has none)
  assert.deepEqual(Array.from(source.data.url), [PNG_3x2, PNG_3x2]);
  assert.deepEqual(Array.from(source.data.x), [1, 2]);
  // 0.9 × √(400 · 400 / 2) = 254 px, at most 96: 96 px wide, 64 high; 80 px a unit
  assert.deepEqual(Array.from(source.data.w), [1.2, 1.2]);
  assert.deepEqual(Array.from(source.data.h), [0.8, 0.8]);
  assert.equal(page.elements["ep-images-note"].style.visibility, "hidden");
  const fig = page.figures[0];
  assert.equal(page.ep.imageAt(fig, 1.55, 1.35), 0, "inside the first image, off its point");
  assert.equal(page.ep.imageAt(fig, 2.5, 2.3), 1, "where both overlap, the one drawn last");
  assert.equal(page.ep.imageAt(fig, 4, 4), -1);
  page.models.points.selected.indices = [1];
  page.changed(page.models.points.selected);
  assert.deepEqual(Array.from(source.data.alpha), [0.25, 1], "a selection dims the images of the rows outside it");
  view([8, 10], [8, 10]);
  assert.deepEqual(Array.from(source.data.w), [96 / 200 * 1], "the JPEG: 5 × 4, 96 px wide at 200 px a unit");
  page.elements["ep-images"].checked = false;
  page.elements["ep-images"].fire("change");
  page.flush();
  assert.deepEqual(Array.from(source.data.url), [], "the switch off: no image");
  assert.equal(page.ep.imageAt(fig, 9, 9), -1);
});
