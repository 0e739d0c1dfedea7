"use strict";
// Search (templates/js/search.js): the rows whose label or any hover field contains the text, whatever its case,
// get a ring, and the page says how many match and how many more are in hidden classes.
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadPage } = require("./page.js");

// Six rows: a word-coded field (its codes index its word list), a text field with a missing value, a number.
function searchPage() {
  const page = loadPage({
    meta: {
      n: 6,
      label: 0,
      fields: [
        { name: "animal", key: "cat", words: ["Cat", "dog", "Catfish"] },
        { name: "note", key: "f_note" },
        { name: "weight", key: "f_weight" },
      ],
      colors: [{ name: "animal", kind: "categorical", key: "cat", factors: ["Cat", "dog", "Catfish"], palette: ["#a00000", "#00a000", "#0000a0"] }],
    },
    data: {
      row: Int32Array.of(10, 11, 12, 13, 14, 15),
      x_pca: new Float32Array(6), y_pca: new Float32Array(6),
      cat: Int8Array.of(0, 1, 2, 1, 0, 1),
      f_note: ["likes fish", null, "", "DOG PARK", "the cat sat", "x"],
      f_weight: [4.5, 12, 112, 3, null, 30],
    },
    elements: { "ep-search": { value: "" }, "ep-search-count": {} },
  });
  page.ready({ items: [[0, 1, 2].map(() => ({ renderers: [{ visible: true }] }))] });
  return page;
}

const rows = (hit) => Array.from(hit).flatMap((h, i) => (h ? [i] : []));

test("a row matches when its label or any field contains the text, in any case", () => {
  const ep = searchPage().ep;
  assert.deepEqual(rows(ep.searchRows("cat")), [0, 2, 4]);  // "Cat", "Catfish", "the cat sat"
  assert.deepEqual(rows(ep.searchRows("dog")), [1, 3, 5]);  // the word "dog" (rows 1, 3, 5) and "DOG PARK"
  assert.deepEqual(rows(ep.searchRows("fish")), [0, 2]);
  assert.deepEqual(rows(ep.searchRows("12")), [1, 2], "numbers are searched as they are shown");
  assert.deepEqual(rows(ep.searchRows("null")), [], "a missing value is no text");
  assert.deepEqual(rows(ep.searchRows("")), []);
});

test("typing rings the matches and counts them; those in hidden classes are counted apart", () => {
  const page = searchPage(), input = page.elements["ep-search"], out = page.elements["ep-search-count"];
  input.value = "  CAT ";
  input.fire("input");
  assert.equal(out.text(), "", "the search waits for the typing to pause");
  page.flush();
  assert.deepEqual(Array.from(page.models.search_hits.indices), [0, 2, 4]);
  assert.equal(out.text(), "3 of 6 rows match");
  assert.equal(out.dataset.count, "3");
  page.ep.state.items[0][2].renderers[0].visible = false;  // "Catfish" switched off in the legend
  page.ep.legendChanged();
  assert.deepEqual(Array.from(page.models.search_hits.indices), [0, 4]);
  assert.equal(out.text(), "2 of 6 rows match (1 more in hidden classes)");
  input.value = "";
  input.fire("keydown", { key: "Enter" });
  assert.deepEqual(Array.from(page.models.search_hits.indices), []);
  assert.equal(out.text(), "");
  assert.equal(out.dataset.count, undefined);
});

test("a row's label and title are its label field's text", () => {
  const ep = searchPage().ep;
  assert.equal(ep.label(2), "Catfish");
  assert.equal(ep.title(2), "row 12 · Catfish");
  assert.equal(ep.fieldValue(1, 1), "", "a missing value shows as nothing");
  assert.equal(ep.fieldValue(2, 2), "112");
});
