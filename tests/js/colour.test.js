"use strict";
// Colour (templates/js/core.js's CodeColorMapper, templates/js/colour.js): a point's code k is palette[k]; the
// colour menu switches every map, the legend or the colour bar, and the header; a legend entry switched off hides
// its class's points through the "shown" filter.
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadPage } = require("./page.js");

const COLORS = [
  { name: "kind", kind: "categorical", key: "cat", factors: ["a", "b", "c"], palette: ["#a00000", "#00a000", "#0000a0"], fact: "kind: 3 classes" },
  { name: "size", kind: "continuous", key: "val1", low: 0, high: 10, fact: "size: low to high" },
];

function colourPage() {
  const page = loadPage({
    meta: { n: 5, colors: COLORS },
    data: {
      row: Int32Array.of(0, 1, 2, 3, 4), x_pca: new Float32Array(5), y_pca: new Float32Array(5),
      x_umap: new Float32Array(5), y_umap: new Float32Array(5),
      cat: Int8Array.of(0, 1, 2, 1, 0), val1: Float32Array.of(0, 2.5, NaN, 7.5, 10),
    },
    maps: [{ algo: "pca" }, { algo: "umap" }],
    elements: { "ep-color": { value: "0" }, "ep-hidden": {}, "#ep-colour-fact dd": { textContent: "kind: 3 classes" } },
  });
  const items = [COLORS[0].factors.map(() => ({ renderers: [{ visible: true }] })), []];
  page.ready({ items, mappers: [{ palette: COLORS[0].palette, name: "color_0" }, { palette: ["#000000", "#ffffff"], name: "color_1" }] });
  return page;
}

test("the code colour mapper: code k is palette[k], any other code the missing colour", () => {
  const page = loadPage(), Mapper = page.registered["embproj.CodeColorMapper"];
  assert.ok(Mapper, "core.js registers embproj.CodeColorMapper with BokehJS");
  const values = new Array(6), mapper = Object.assign(new Mapper(), { factor_of: [] });  // BokehJS's default
  mapper._v_compute([0, 2, 1, -1, 3, 0.5], values, ["#a", "#b", "#c"], { nan_color: "#grey" });
  assert.deepEqual(values, ["#a", "#c", "#b", "#grey", "#grey", undefined]);
});

test("a mapper of another column's codes takes code k to palette[factor_of[k]]", () => {
  const page = loadPage(), Mapper = page.registered["embproj.CodeColorMapper"];
  const values = new Array(6), mapper = Object.assign(new Mapper(), { factor_of: [2, 0, 0, -1] });
  mapper._v_compute([0, 1, 2, 3, 4, -1], values, ["#a", "#b", "#c"], { nan_color: "#grey" });
  assert.deepEqual(values, ["#c", "#a", "#a", "#grey", "#grey", "#grey"]);
});

test("a legend entry switched off hides its class's points, and says so", () => {
  const page = colourPage(), ep = page.ep, note = page.elements["ep-hidden"];
  const legend = ep.state.items[0];
  legend[1].renderers[0].visible = false;
  ep.legendChanged();
  assert.deepEqual(Array.from(ep.hiddenClasses()), [1]);
  assert.deepEqual(Array.from(page.models.shown.booleans), [true, false, true, false, true]);
  assert.equal(ep.isShown(1), false);
  assert.equal(note.text(), "hidden: b");
  legend[2].renderers[0].visible = false;
  ep.legendChanged();
  assert.deepEqual(Array.from(page.models.shown.booleans), [true, false, false, false, true]);
  assert.equal(note.text(), "hidden: b, c");
  legend[1].renderers[0].visible = legend[2].renderers[0].visible = true;
  ep.legendChanged();
  assert.equal(page.models.shown.booleans, null, "every point shown: no mask");
  assert.equal(note.text(), "");
});

test("the colour menu switches every map, the legend for the colour bar, and shows every class again", () => {
  const page = colourPage(), ep = page.ep, select = page.elements["ep-color"];
  ep.state.items[0][0].renderers[0].visible = false;
  ep.legendChanged();
  select.value = "1";
  select.fire("change");
  assert.equal(ep.state.color, 1);
  for (const fig of page.figures) {
    const fill = fig.renderers.find((r) => r.name === ep.mapOf(fig).points).glyph.fill_color;
    assert.equal(fill.field, "val1");
    assert.equal(fill.transform, ep.state.mappers[1]);
  }
  assert.equal(page.models.legend.visible, false);
  assert.equal(page.models.colorbar.visible, true);
  assert.equal(page.models.colorbar.title, "size");
  assert.equal(page.models.colorbar.color_mapper, ep.state.mappers[1]);
  assert.equal(page.elements["#ep-colour-fact dd"].text(), "size: low to high", "the header says what the map shows");
  assert.equal(ep.state.items[0][0].renderers[0].visible, true, "the classes hidden before show again");
  assert.equal(page.models.shown.booleans, null);
  ep.setColor(0);
  assert.equal(select.value, "0");
  assert.equal(page.models.legend.visible, true);
  assert.equal(page.models.legend.items, ep.state.items[0]);
  assert.equal(page.models.colorbar.visible, false);
  ep.setColor(7);  // no such choice: nothing changes
  assert.equal(ep.state.color, 0);
});

test("a colour read through another column's codes (the clusters') hides the points of its switched-off class", () => {
  const cluster = { ...COLORS[0], name: "cluster", key: "cluster_id", mapper: "color_0", factor_of: [2, 0, 1, 0] };
  const page = loadPage({
    meta: { n: 5, colors: [cluster] },
    data: { row: Int32Array.of(0, 1, 2, 3, 4), x_pca: new Float32Array(5), y_pca: new Float32Array(5),
      cluster_id: Int8Array.of(0, 1, 2, 3, 0) },
    maps: [{ algo: "pca" }],
    elements: { "ep-color": { value: "0" }, "ep-hidden": {} },
  });
  page.ready({ items: [cluster.factors.map(() => ({ renderers: [{ visible: true }] }))], mappers: [{ name: "color_0" }] });
  assert.deepEqual(Array.from(page.ep.classCodes(cluster)), [2, 0, 1, 0, 2]);
  page.ep.state.items[0][0].renderers[0].visible = false;  // class "a": clusters 1 and 3
  page.ep.legendChanged();
  assert.deepEqual(Array.from(page.models.shown.booleans), [true, false, true, false, true]);
  assert.equal(page.elements["ep-hidden"].textContent, "hidden: a");
});
