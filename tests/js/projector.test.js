"use strict";
// The page's projector (templates/js/worker/projector.js, run after the vendored umap-js as the page's worker runs
// it) against numpy's answers from tests/test_page_js.py: the sample decoded as encoded, PCA's axes and variances,
// each row's nearest rows; and the maps: the same message gives the same map, another seed another.
const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const { python, skip } = require("./cases");

const ROOT = path.resolve(__dirname, "..", "..");

function projector() {
  const scope = { TextEncoder, Blob, DecompressionStream, Response, Math, Float64Array, Float32Array, Int32Array };
  scope.self = scope;
  vm.createContext(scope);
  for (const file of ["templates/vendor/umap-js.min.js", "templates/js/worker/projector.js"]) {
    vm.runInContext(fs.readFileSync(path.join(ROOT, file), "utf8"), scope, { filename: file });
  }
  return scope.embprojProjector;
}

const P = projector();
const gear = python && python.gear;

function message(algo, params, seed) {
  return { sample: gear.text, code: gear.code, columns: null, algo: algo, params: params, seed: seed, maxDims: 50 };
}

async function map(algo, params, seed) {
  const seen = [];
  const done = await P.project(message(algo, params, seed), (m) => seen.push(m));
  return { xy: Array.from(done.xy), done: done, progress: seen.filter((m) => m.type === "progress") };
}

// The share of each row's 5 nearest on the map that share its class.
function sameClass(xy, classes) {
  const n = classes.length;
  let same = 0;
  for (let i = 0; i < n; i++) {
    const d = [];
    for (let j = 0; j < n; j++) if (j !== i) d.push([(xy[2 * i] - xy[2 * j]) ** 2 + (xy[2 * i + 1] - xy[2 * j + 1]) ** 2, j]);
    d.sort((a, b) => a[0] - b[0]);
    for (const [, j] of d.slice(0, 5)) same += classes[j] === classes[i] ? 1 : 0;
  }
  return same / (5 * n);
}

test("the sample decodes to the rows Python encoded, within half a code step", { skip }, async () => {
  const s = await P.decodeSample(gear.text, gear.code, null);
  assert.strictEqual(s.n, gear.X.length);
  assert.strictEqual(s.d, gear.X[0].length);
  for (let i = 0; i < s.n; i++) {
    for (let j = 0; j < s.d; j++) assert.ok(Math.abs(s.X[i * s.d + j] - gear.X[i][j]) <= gear.code.step[j] / 2 + 1e-9);
  }
  const two = await P.decodeSample(gear.text, gear.code, [3, 0]);
  assert.strictEqual(two.d, 2);
  assert.deepStrictEqual([two.X[0], two.X[1], two.X[2]], [s.X[3], s.X[0], s.X[s.d + 3]]);  // row by row
});

test("PCA by power iteration finds numpy's axes and variances", { skip }, () => {
  const n = gear.X.length, d = gear.X[0].length, X = Float64Array.from(gear.X.flat());
  const fit = P.pca(X, n, d, 3, P.generator(0), null);
  gear.axes.forEach((axis, c) => {
    let dot = 0;
    for (let r = 0; r < d; r++) dot += axis[r] * fit.axes[r * 3 + c];
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-8, `axis ${c}: |cos| ${Math.abs(dot)}`);
    assert.ok(Math.abs(fit.values[c] - gear.values[c]) < 1e-8 * gear.values[0], `variance ${c}`);
  });
});

test("each row's nearest rows are numpy's, by either metric", { skip }, () => {
  const n = gear.X.length, d = gear.X[0].length, X = Float64Array.from(gear.X.flat());
  for (const metric of ["euclidean", "cosine"]) {
    const near = P.neighbours(X, n, d, 6, metric, null);
    for (let i = 0; i < n; i++) {
      assert.deepStrictEqual(Array.from(near.indices.subarray(i * 6, i * 6 + 6)).sort((a, b) => a - b),
        gear[metric][i].slice().sort((a, b) => a - b), `${metric}, row ${i}`);
    }
  }
});

test("UMAP: the same message gives the same map, another seed another, and the classes stay apart", { skip }, async () => {
  const params = { n_neighbors: 8, min_dist: 0.1, metric: "euclidean" };
  const one = await map("umap", params, 1), again = await map("umap", params, 1), other = await map("umap", params, 2);
  assert.deepStrictEqual(one.xy, again.xy);
  assert.notDeepStrictEqual(one.xy, other.xy);
  assert.ok(one.xy.every(Number.isFinite));
  assert.ok(sameClass(one.xy, gear.classes) > 0.95);
  assert.ok(one.progress.some((m) => m.what === "epochs" && m.done === m.total));
});

test("t-SNE: the same message gives the same map, and the classes stay apart", { skip }, async () => {
  const params = { perplexity: 20, learning_rate: null, iterations: 100, early_exaggeration: 12, metric: "euclidean" };
  const one = await map("tsne", params, 0), again = await map("tsne", params, 0);
  assert.deepStrictEqual(one.xy, again.xy);
  assert.ok(one.xy.every(Number.isFinite));
  assert.ok(sameClass(one.xy, gear.classes) > 0.95);
  assert.strictEqual(one.progress.at(-1).done, 250 + 100);
});

test("PCA's map is the rows on the top two axes", { skip }, async () => {
  const one = await map("pca", {}, 0), X = gear.X, axis = gear.axes[0];
  const mean = X[0].map((_, j) => X.reduce((s, row) => s + row[j], 0) / X.length);
  const first = X.map((row) => row.reduce((s, v, j) => s + (v - mean[j]) * axis[j], 0));
  const sign = Math.sign(first[0] * one.xy[0]);
  first.forEach((v, i) => assert.ok(Math.abs(sign * v - one.xy[2 * i]) < 1e-2 * Math.abs(gear.values[0]) ** 0.5));
  assert.ok(one.done.variance > 0.5 && one.done.variance <= 1);
});

test("map trust: a map that keeps every row's neighbours gets 1, a shuffled one little, and the run returns it", { skip }, async () => {
  const n = 300, random = P.generator(5), X = new Float64Array(2 * n);
  for (let i = 0; i < 2 * n; i++) X[i] = random();
  const same = P.trust(X, n, 2, Float32Array.from(X), 10, "euclidean");
  assert.strictEqual(same.k, 10);
  assert.ok(same.trust.every((v) => v === 1));
  const shuffled = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) { const j = (i * 7919) % n; shuffled[2 * i] = X[2 * j]; shuffled[2 * i + 1] = X[2 * j + 1]; }
  const mean = P.trust(X, n, 2, shuffled, 10, "euclidean").trust.reduce((s, v) => s + v, 0) / n;
  assert.ok(mean < 0.2, String(mean));
  const done = await P.project(Object.assign(message("pca", {}, 0), { trustK: 10 }), () => {});
  assert.strictEqual(done.trustK, 10);
  assert.strictEqual(done.trust.length, done.rows);
  assert.ok(done.trust.every((v) => v >= 0 && v <= 1));
  assert.strictEqual((await map("pca", {}, 0)).done.trust, null, "no trust asked, none measured");
});
