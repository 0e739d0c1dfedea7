"use strict";
// Integer columns sent by their content (embproj/render/packed.py; js/core.js's ep.column): the page rebuilds
// each exactly, so its hover, table, CSV and search show the text Python shows (Python's cases, from
// tests/test_page_js.py).
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadPage } = require("./page.js");
const { python, skip } = require("./cases.js");

const ARRAYS = {
  int8: Int8Array, int16: Int16Array, int32: Int32Array, uint8: Uint8Array, uint16: Uint16Array,
  uint32: Uint32Array, float64: Float64Array,
};

function packedPage(c) {
  const n = c.text.length, data = { x_pca: new Float32Array(n), y_pca: new Float32Array(n) };
  if (c.sent) data.f0 = ARRAYS[c.sent.dtype].from(c.sent.values);
  return loadPage({
    meta: { n, packed: { f0: c.spec, row: { start: 0, step: 1 } }, fields: [{ name: "id", key: "f0", words: null }] },
    data,
  });
}

test("each packed column shows the values Python shows", { skip }, () => {
  for (const c of python.packed) {
    const ep = packedPage(c).ep, shown = c.text.map((_, i) => ep.fieldValue(0, i));
    assert.deepEqual(shown, c.text, c.name);
    assert.equal(ep.title(c.text.length - 1), `row ${c.text.length - 1}`, c.name);
  }
});

test("search finds a packed value by its digits", { skip }, () => {
  const c = python.packed.find((p) => p.name === "sorted ids with gaps");
  const ep = packedPage(c).ep, needle = c.text[17].slice(-4);
  const hit = ep.searchRows(needle), wanted = c.text.map((t) => (t.includes(needle) ? 1 : 0));
  assert.deepEqual(Array.from(hit), wanted);
  assert.equal(hit[17], 1);
});

function decimalPage(c) {
  const n = c.text.length, exponents = c.dtype === "int8" ? Int8Array : Int16Array;
  const decimal = { exponent: "f0_e", specials: c.specials, precision: c.precision };
  return loadPage({
    meta: { n, packed: { row: { start: 0, step: 1 } }, fields: [{ name: "score", key: "f0", words: null, decimal }] },
    data: { x_pca: new Float32Array(n), y_pca: new Float32Array(n), f0: Int32Array.from(c.significands),
      f0_e: exponents.from(c.exponents) },
  });
}

test("a float column sent as its digits shows the text Python shows", { skip }, () => {
  const c = python.decimals, ep = decimalPage(c).ep;
  assert.deepEqual(c.text.map((_, i) => ep.fieldValue(0, i)), c.text);
});

test("search finds a float sent as its digits by its text", { skip }, () => {
  const c = python.decimals, ep = decimalPage(c).ep;
  for (const needle of ["e-0", "0.000", "nan", "-", "e+1"]) {
    const wanted = c.text.map((t) => (t.toLowerCase().includes(needle) ? 1 : 0));
    assert.deepEqual(Array.from(ep.searchRows(needle)), wanted, needle);
  }
});
