// The page's projector (the gear, js/gear.js): a Web Worker that maps the report's in-page sample again with
// PCA, UMAP or t-SNE, off the page's thread. The page starts it from a Blob URL of its own text (this file after
// the vendored umap-js, templates/vendor/), so it works from file:// and needs no server; it fetches nothing.
//
// Message in: { sample, code, columns, algo, params, seed, maxDims, trustK }; out: { type: "progress", done, total,
// what }, then { type: "done", xy (Float32Array, x and y of each row), rows, dims, variance, trust, trustK } or
// { type: "error", message }. `trust`: each row's map trust (a Float32Array, or null when trustK is 0).
// Every random number comes from `generator(seed)`: the same message gives the same map.
(function (scope) {
  "use strict";

  // mulberry32: a small, fast, seedable generator of numbers in [0, 1).
  function generator(seed) {
    let a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function gaussian(random) {  // Box–Muller
    let u = 0;
    while (u === 0) u = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }

  // -- the sample, as embproj/render/gear.py sends it: base85 text of deflated byte planes of 16-bit codes ----------

  function base85(text, alphabet) {
    const digit = new Uint8Array(128), chars = new TextEncoder().encode(text);
    for (let d = 0; d < alphabet.length; d++) digit[alphabet.charCodeAt(d)] = d;
    const rest = chars.length % 5, full = chars.length - rest;
    const out = new Uint8Array((full / 5) * 4 + Math.max(0, rest - 1));
    let o = 0;
    for (let at = 0; at < full; at += 5, o += 4) {
      const v = (((digit[chars[at]] * 85 + digit[chars[at + 1]]) * 85 + digit[chars[at + 2]]) * 85 +
        digit[chars[at + 3]]) * 85 + digit[chars[at + 4]];
      out[o] = v >>> 24; out[o + 1] = v >>> 16; out[o + 2] = v >>> 8; out[o + 3] = v;
    }
    if (rest) {
      let v = 0;
      for (let j = 0; j < 5; j++) v = v * 85 + (j < rest ? digit[chars[full + j]] : 84);
      for (let b = 0; b < rest - 1; b++) out[o++] = v >>> (24 - 8 * b);
    }
    return out;
  }

  async function inflate(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // The n × d matrix (row-major, float64) of the columns `columns` (all when null); sent column by column.
  async function decodeSample(text, code, columns) {
    const n = code.rows, d = code.dims, body = await inflate(base85(text, code.alphabet)), planes = code.planes;
    if (body.length !== n * d * planes) throw new Error("the in-page sample does not add up");
    const keep = columns || Array.from({ length: d }, (_, j) => j), w = keep.length, X = new Float64Array(n * w);
    keep.forEach((j, c) => {
      const low = code.low[j], step = code.step[j];
      for (let i = 0; i < n; i++) {
        let q = 0;
        for (let b = 0; b < planes; b++) q |= body[b * n * d + j * n + i] << (8 * b);
        X[i * w + c] = low + q * step;
      }
    });
    return { X: X, n: n, d: w };
  }

  // -- PCA by power iteration: block (subspace) iteration on the covariance, then Rayleigh–Ritz ------------------

  function covariance(X, n, d) {
    const mean = new Float64Array(d), C = new Float64Array(d * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += X[i * d + j] / n;
    const row = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) row[j] = X[i * d + j] - mean[j];
      for (let a = 0; a < d; a++) {
        const ra = row[a];
        if (ra === 0) continue;
        for (let b = a; b < d; b++) C[a * d + b] += ra * row[b];
      }
    }
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) C[b * d + a] = C[a * d + b] /= Math.max(1, n - 1);
    return { mean: mean, C: C };
  }

  // Gram–Schmidt on the k columns of Q (d × k, row-major), in place; a column that vanishes becomes a unit vector.
  function orthonormalise(Q, d, k) {
    for (let c = 0; c < k; c++) {
      for (let p = 0; p < c; p++) {
        let dot = 0;
        for (let r = 0; r < d; r++) dot += Q[r * k + c] * Q[r * k + p];
        for (let r = 0; r < d; r++) Q[r * k + c] -= dot * Q[r * k + p];
      }
      let norm = 0;
      for (let r = 0; r < d; r++) norm += Q[r * k + c] * Q[r * k + c];
      norm = Math.sqrt(norm);
      if (norm < 1e-300) { for (let r = 0; r < d; r++) Q[r * k + c] = r === c % d ? 1 : 0; continue; }
      for (let r = 0; r < d; r++) Q[r * k + c] /= norm;
    }
  }

  // Eigenvalues and eigenvectors of the symmetric k × k matrix A (cyclic Jacobi rotations), largest first.
  function jacobi(A, k) {
    const V = new Float64Array(k * k);
    for (let i = 0; i < k; i++) V[i * k + i] = 1;
    for (let sweep = 0; sweep < 100; sweep++) {
      let off = 0;
      for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += A[p * k + q] * A[p * k + q];
      if (off < 1e-30) break;
      for (let p = 0; p < k; p++) {
        for (let q = p + 1; q < k; q++) {
          const apq = A[p * k + q];
          if (Math.abs(apq) < 1e-300) continue;
          const theta = (A[q * k + q] - A[p * k + p]) / (2 * apq);
          const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          const c = 1 / Math.sqrt(t * t + 1), s = t * c;
          for (let r = 0; r < k; r++) {
            const arp = A[r * k + p], arq = A[r * k + q];
            A[r * k + p] = c * arp - s * arq; A[r * k + q] = s * arp + c * arq;
          }
          for (let r = 0; r < k; r++) {
            const apr = A[p * k + r], aqr = A[q * k + r];
            A[p * k + r] = c * apr - s * aqr; A[q * k + r] = s * apr + c * aqr;
          }
          for (let r = 0; r < k; r++) {
            const vrp = V[r * k + p], vrq = V[r * k + q];
            V[r * k + p] = c * vrp - s * vrq; V[r * k + q] = s * vrp + c * vrq;
          }
        }
      }
    }
    const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => A[b * k + b] - A[a * k + a] || a - b);
    return { values: order.map((i) => A[i * k + i]), vectors: V, order: order };
  }

  // The top k principal axes of X (n × d): { mean, axes (d × k, row-major), values, total } — C·Q repeated
  // until the subspace settles, then the axes within it from the small k × k problem. Each axis's largest
  // loading is made positive, as embproj/vectors/matrix.py's pre-reduction does.
  function pca(X, n, d, k, random, progress) {
    const { mean, C } = covariance(X, n, d);
    let total = 0;
    for (let j = 0; j < d; j++) total += C[j * d + j];
    k = Math.min(k, d);
    let Q = new Float64Array(d * k);
    for (let i = 0; i < d * k; i++) Q[i] = gaussian(random);
    orthonormalise(Q, d, k);
    let before = -1;
    const ITERATIONS = 1000;
    for (let it = 0; it < ITERATIONS; it++) {
      const Z = new Float64Array(d * k);
      for (let r = 0; r < d; r++) {
        for (let s = 0; s < d; s++) {
          const c = C[r * d + s];
          if (c === 0) continue;
          for (let col = 0; col < k; col++) Z[r * k + col] += c * Q[s * k + col];
        }
      }
      let trace = 0;  // the Rayleigh quotients' sum: stops growing once the subspace has settled
      for (let i = 0; i < d * k; i++) trace += Z[i] * Q[i];
      orthonormalise(Z, d, k);
      Q = Z;
      if (progress && it % 20 === 0) progress(it, ITERATIONS, "PCA");
      if (Math.abs(trace - before) <= 1e-12 * Math.max(1e-300, Math.abs(trace))) break;
      before = trace;
    }
    const small = new Float64Array(k * k);  // Qᵀ C Q
    for (let a = 0; a < k; a++) {
      for (let b = a; b < k; b++) {
        let sum = 0;
        for (let r = 0; r < d; r++) {
          let cq = 0;
          for (let s = 0; s < d; s++) cq += C[r * d + s] * Q[s * k + b];
          sum += Q[r * k + a] * cq;
        }
        small[a * k + b] = small[b * k + a] = sum;
      }
    }
    const eig = jacobi(small, k), axes = new Float64Array(d * k);
    eig.order.forEach((e, col) => {
      let big = 0;
      for (let r = 0; r < d; r++) {
        let v = 0;
        for (let m = 0; m < k; m++) v += Q[r * k + m] * eig.vectors[m * k + e];
        axes[r * k + col] = v;
        if (Math.abs(v) > Math.abs(big)) big = v;
      }
      if (big < 0) for (let r = 0; r < d; r++) axes[r * k + col] = -axes[r * k + col];
    });
    return { mean: mean, axes: axes, values: eig.values, total: total, k: k };
  }

  function projectOn(X, n, d, fit) {
    const k = fit.k, Y = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < d; r++) {
        const v = X[i * d + r] - fit.mean[r];
        if (v === 0) continue;
        for (let c = 0; c < k; c++) Y[i * k + c] += v * fit.axes[r * k + c];
      }
    }
    return Y;
  }

  // -- nearest neighbours, exact: each row's k nearest (itself first, at distance 0) -----------------------------

  function neighbours(X, n, d, k, metric, progress) {
    let V = X;
    if (metric === "cosine") {  // unit rows: cosine distance = 1 − dot
      V = new Float64Array(X);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += V[i * d + j] * V[i * d + j];
        s = Math.sqrt(s) || 1;
        for (let j = 0; j < d; j++) V[i * d + j] /= s;
      }
    }
    const indices = new Int32Array(n * k), distances = new Float64Array(n * k);
    const bestD = new Float64Array(k), bestI = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let j = 0; j < n; j++) {
        let dist = 0;
        if (metric === "cosine") {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += V[i * d + c] * V[j * d + c];
          dist = Math.max(0, 1 - dot);
        } else {
          for (let c = 0; c < d; c++) { const t = V[i * d + c] - V[j * d + c]; dist += t * t; }
          dist = Math.sqrt(dist);
        }
        if (j === i) dist = -1;  // itself first, whatever a duplicate row's distance
        if (m === k && dist >= bestD[k - 1]) continue;
        let at = m < k ? m++ : k - 1;
        while (at > 0 && bestD[at - 1] > dist) { bestD[at] = bestD[at - 1]; bestI[at] = bestI[at - 1]; at--; }
        bestD[at] = dist; bestI[at] = j;
      }
      for (let c = 0; c < k; c++) { indices[i * k + c] = bestI[c]; distances[i * k + c] = Math.max(0, bestD[c]); }
      if (progress && i % 200 === 0) progress(i, n, "neighbours");
    }
    return { indices: indices, distances: distances };
  }

  // -- UMAP: umap-js, on these neighbours and this generator ------------------------------------------------------

  function umap(X, n, d, p, random, progress) {
    const k = Math.min(p.n_neighbors, n - 1);
    const near = neighbours(X, n, d, k, p.metric, progress);
    const rows = (flat) => Array.from({ length: n }, (_, i) => Array.from(flat.subarray(i * k, (i + 1) * k)));
    // (the bundle defines UMAP, the module: its class is UMAP.UMAP)
    const model = new scope.UMAP.UMAP({ nComponents: 2, nNeighbors: k, minDist: p.min_dist, random: random });
    model.setPrecomputedKNN(rows(near.indices), rows(near.distances));
    const vectors = Array.from({ length: n }, (_, i) => Array.from(X.subarray(i * d, (i + 1) * d)));
    const epochs = model.initializeFit(vectors);
    for (let e = 0; e < epochs; e++) {
      model.step();
      if (e % 5 === 0) progress(e, epochs, "epochs");
    }
    progress(epochs, epochs, "epochs");
    const Y = model.getEmbedding(), xy = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) { xy[2 * i] = Y[i][0]; xy[2 * i + 1] = Y[i][1]; }
    return xy;
  }

  // -- t-SNE: Barnes–Hut, as openTSNE does it by default (and TensorBoard's projector) ----------------------------
  // Affinities from each row's 3 × perplexity nearest neighbours; PCA start scaled to a standard deviation of 1e-4
  // and jittered by the seed; early exaggeration, then the plain phase; momentum 0.8, gains, a step at most 5 long;
  // learning rate n / exaggeration unless given (openTSNE's "auto").

  function affinities(X, n, d, perplexity, metric, progress) {
    const k = Math.min(n - 1, Math.floor(3 * perplexity)) + 1;
    const near = neighbours(X, n, d, k, metric, progress), target = Math.log(perplexity);
    const rowsP = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      const at = i * k;
      let beta = 1, low = -Infinity, high = Infinity;
      for (let tries = 0; tries < 100; tries++) {
        let sum = 0, weighted = 0;
        for (let c = 1; c < k; c++) {
          const dd = near.distances[at + c] * near.distances[at + c], w = Math.exp(-dd * beta);
          rowsP[at + c] = w; sum += w; weighted += dd * w;
        }
        const entropy = sum > 0 ? Math.log(sum) + (beta * weighted) / sum : 0;
        if (Math.abs(entropy - target) < 1e-5) break;
        if (entropy > target) { low = beta; beta = high === Infinity ? beta * 2 : (beta + high) / 2; }
        else { high = beta; beta = low === -Infinity ? beta / 2 : (beta + low) / 2; }
      }
      let sum = 0;
      for (let c = 1; c < k; c++) sum += rowsP[at + c];
      for (let c = 1; c < k; c++) rowsP[at + c] = sum > 0 ? rowsP[at + c] / sum : 1 / (k - 1);
    }
    // P = (P_j|i + P_i|j) / 2n, as a sparse matrix by rows (CSR)
    const pairs = new Map();
    for (let i = 0; i < n; i++) {
      for (let c = 1; c < k; c++) {
        const j = near.indices[i * k + c], v = rowsP[i * k + c] / (2 * n);
        for (const key of [i * n + j, j * n + i]) pairs.set(key, (pairs.get(key) || 0) + v);
      }
    }
    const keys = Array.from(pairs.keys()).sort((a, b) => a - b);
    const start = new Int32Array(n + 1), cols = new Int32Array(keys.length), vals = new Float64Array(keys.length);
    keys.forEach((key, e) => {
      const i = Math.floor(key / n);
      start[i + 1]++;
      cols[e] = key - i * n;
      vals[e] = pairs.get(key);
    });
    for (let i = 0; i < n; i++) start[i + 1] += start[i];
    return { start: start, cols: cols, vals: vals };
  }

  // A quadtree of the points Y (x, y interleaved) with each cell's point count and centre of mass.
  function quadtree(Y, n) {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, Y[2 * i]); x1 = Math.max(x1, Y[2 * i]);
      y0 = Math.min(y0, Y[2 * i + 1]); y1 = Math.max(y1, Y[2 * i + 1]);
    }
    const t = {
      cx: [(x0 + x1) / 2], cy: [(y0 + y1) / 2], half: [Math.max(x1 - x0, y1 - y0) / 2 + 1e-9],
      count: [0], mx: [0], my: [0], child: [-1], first: [-1], depth: [0], next: new Int32Array(n).fill(-1),
    };
    const MAX_DEPTH = 40;  // rows at one place (duplicates) share a leaf instead of splitting it for ever
    const add = (cx, cy, half, depth) => {
      t.cx.push(cx); t.cy.push(cy); t.half.push(half); t.count.push(0); t.mx.push(0); t.my.push(0);
      t.child.push(-1); t.first.push(-1); t.depth.push(depth);
      return t.cx.length - 1;
    };
    const quadrant = (node, x, y) => (x >= t.cx[node] ? 1 : 0) + (y >= t.cy[node] ? 2 : 0);
    for (let i = 0; i < n; i++) {
      const x = Y[2 * i], y = Y[2 * i + 1];
      let node = 0;
      for (;;) {
        t.mx[node] = (t.mx[node] * t.count[node] + x) / (t.count[node] + 1);
        t.my[node] = (t.my[node] * t.count[node] + y) / (t.count[node] + 1);
        t.count[node]++;
        if (t.child[node] >= 0) { node = t.child[node] + quadrant(node, x, y); continue; }
        if (t.first[node] < 0 || t.depth[node] >= MAX_DEPTH) {
          t.next[i] = t.first[node]; t.first[node] = i;
          break;
        }
        const h = t.half[node] / 2, base = t.cx.length;  // split: the leaf's points move down a level
        for (let q = 0; q < 4; q++) {
          add(t.cx[node] + (q & 1 ? h : -h), t.cy[node] + (q & 2 ? h : -h), h, t.depth[node] + 1);
        }
        t.child[node] = base;
        for (let j = t.first[node]; j >= 0;) {
          const after = t.next[j], c = base + quadrant(node, Y[2 * j], Y[2 * j + 1]);
          t.mx[c] = (t.mx[c] * t.count[c] + Y[2 * j]) / (t.count[c] + 1);
          t.my[c] = (t.my[c] * t.count[c] + Y[2 * j + 1]) / (t.count[c] + 1);
          t.count[c]++;
          t.next[j] = t.first[c]; t.first[c] = j;
          j = after;
        }
        t.first[node] = -1;
        node = base + quadrant(node, x, y);
      }
    }
    return t;
  }

  const THETA = 0.5;

  // The t-SNE gradient at Y (openTSNE's convention: no factor 4) into `grad`.
  function gradient(Y, n, P, exaggeration, grad) {
    const t = quadtree(Y, n), rep = new Float64Array(2 * n), stack = [];
    let Z = 0;
    for (let i = 0; i < n; i++) {
      const xi = Y[2 * i], yi = Y[2 * i + 1];
      stack.push(0);
      while (stack.length) {
        const node = stack.pop();
        if (!t.count[node]) continue;
        const dx = xi - t.mx[node], dy = yi - t.my[node], dd = dx * dx + dy * dy, size = 2 * t.half[node];
        if (t.child[node] < 0) {
          for (let j = t.first[node]; j >= 0; j = t.next[j]) {
            if (j === i) continue;
            const ex = xi - Y[2 * j], ey = yi - Y[2 * j + 1], q = 1 / (1 + ex * ex + ey * ey);
            Z += q; rep[2 * i] += q * q * ex; rep[2 * i + 1] += q * q * ey;
          }
        } else if (size * size < THETA * THETA * dd) {
          const q = 1 / (1 + dd), m = t.count[node];
          Z += m * q; rep[2 * i] += m * q * q * dx; rep[2 * i + 1] += m * q * q * dy;
        } else {
          for (let c = 0; c < 4; c++) stack.push(t.child[node] + c);
        }
      }
    }
    for (let i = 0; i < n; i++) {
      let ax = 0, ay = 0;
      for (let e = P.start[i]; e < P.start[i + 1]; e++) {
        const j = P.cols[e], ex = Y[2 * i] - Y[2 * j], ey = Y[2 * i + 1] - Y[2 * j + 1];
        const w = P.vals[e] / (1 + ex * ex + ey * ey);
        ax += w * ex; ay += w * ey;
      }
      grad[2 * i] = exaggeration * ax - rep[2 * i] / Z;
      grad[2 * i + 1] = exaggeration * ay - rep[2 * i + 1] / Z;
    }
  }

  const EARLY_ITERATIONS = 250;  // openTSNE's early_exaggeration_iter
  const MOMENTUM = 0.8, MAX_STEP = 5, MIN_GAIN = 0.01;

  function tsne(X, n, d, p, random, progress) {
    const perplexity = Math.max(1, Math.min(p.perplexity, (n - 1) / 3));
    const P = affinities(X, n, d, perplexity, p.metric, progress);
    const start = projectOn(X, n, d, pca(X, n, d, 2, random, null));
    let sd = 0;
    for (let i = 0; i < n; i++) sd += start[2 * i] * start[2 * i];
    sd = Math.sqrt(sd / n) || 1;
    const Y = new Float64Array(2 * n);
    for (let i = 0; i < 2 * n; i++) Y[i] = (start[i] / sd) * 1e-4 + gaussian(random) * 1e-6;
    const grad = new Float64Array(2 * n), update = new Float64Array(2 * n), gains = new Float64Array(2 * n).fill(1);
    const total = EARLY_ITERATIONS + p.iterations;
    for (let it = 0; it < total; it++) {
      const exaggeration = it < EARLY_ITERATIONS ? p.early_exaggeration : 1;
      const rate = p.learning_rate || n / exaggeration;
      if (it === EARLY_ITERATIONS) update.fill(0);
      gradient(Y, n, P, exaggeration, grad);
      for (let i = 0; i < n; i++) {
        let sx = 0, sy = 0;
        for (let c = 0; c < 2; c++) {
          const at = 2 * i + c, g = grad[at];
          gains[at] = Math.max(MIN_GAIN, (update[at] * g < 0) ? gains[at] + 0.2 : gains[at] * 0.8);
          update[at] = MOMENTUM * update[at] - rate * gains[at] * g;
          if (c) sy = update[at]; else sx = update[at];
        }
        const norm = Math.sqrt(sx * sx + sy * sy);
        if (norm > MAX_STEP) { update[2 * i] *= MAX_STEP / norm; update[2 * i + 1] *= MAX_STEP / norm; }
        Y[2 * i] += update[2 * i]; Y[2 * i + 1] += update[2 * i + 1];
      }
      if (it % 10 === 0) progress(it, total, "iterations");
    }
    progress(total, total, "iterations");
    return Float32Array.from(Y);
  }

  // -- the message ---------------------------------------------------------------------------------------------

  // -- map trust: the share of each row's k nearest in the space the map was made from that are among its k nearest
  // on the map (the report's lens, structure/lenses.py, here over the sample's rows); the distance on the map is
  // euclidean, in the vectors' space the map's metric. Exact, n² × dims: ~0.2 s for 2,000 rows of 50 dims.

  function trust(X, n, d, xy, k, metric) {
    k = Math.min(k, n - 1);
    const out = new Float32Array(n);
    if (k < 1) return { trust: out.fill(NaN), k: 0 };
    const near = neighbours(X, n, d, k + 1, metric).indices;  // itself first
    const onMap = neighbours(Float64Array.from(xy), n, 2, k + 1, "euclidean").indices;
    const seen = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      for (let c = 1; c <= k; c++) seen[onMap[i * (k + 1) + c]] = i;
      let kept = 0;
      for (let c = 1; c <= k; c++) if (seen[near[i * (k + 1) + c]] === i) kept++;
      out[i] = kept / k;
    }
    return { trust: out, k: k };
  }

  // The matrix the maps see: the chosen columns, pre-reduced by PCA to maxDims for UMAP and t-SNE when wider.
  function prepared(sample, algo, maxDims, random, progress) {
    if (algo === "pca" || sample.d <= maxDims) return sample;
    const fit = pca(sample.X, sample.n, sample.d, maxDims, random, progress);
    return { X: projectOn(sample.X, sample.n, sample.d, fit), n: sample.n, d: fit.k, from: sample.d };
  }

  async function project(msg, post) {
    const random = generator(msg.seed), started = Date.now();
    let last = 0;
    const progress = (done, total, what) => {
      const now = Date.now();
      if (done === total || now - last >= 50) { last = now; post({ type: "progress", done: done, total: total, what: what }); }
    };
    const sample = await decodeSample(msg.sample, msg.code, msg.columns);
    const input = prepared(sample, msg.algo, msg.maxDims, random, progress), n = input.n;
    let xy, variance = null;
    if (msg.algo === "pca") {
      const fit = pca(input.X, n, input.d, 2, random, progress);
      xy = Float32Array.from(projectOn(input.X, n, input.d, fit));
      variance = fit.total > 0 ? (fit.values[0] + fit.values[1]) / fit.total : 1;
      progress(1, 1, "PCA");
    } else if (msg.algo === "umap") {
      xy = umap(input.X, n, input.d, msg.params, random, progress);
    } else {
      xy = tsne(input.X, n, input.d, msg.params, random, progress);
    }
    const metric = msg.algo === "pca" ? "euclidean" : msg.params.metric;
    const trusted = msg.trustK > 0 ? trust(input.X, n, input.d, xy, msg.trustK, metric) : { trust: null, k: 0 };
    return { type: "done", xy: xy, rows: n, dims: sample.d, reducedTo: input.from ? input.d : null,
      variance: variance, seconds: (Date.now() - started) / 1000, trust: trusted.trust, trustK: trusted.k };
  }

  scope.embprojProjector = { generator: generator, decodeSample: decodeSample, pca: pca, projectOn: projectOn,
    neighbours: neighbours, affinities: affinities, umap: umap, tsne: tsne, prepared: prepared, project: project,
    trust: trust };

  if (typeof scope.postMessage === "function" && typeof scope.document === "undefined") {
    scope.onmessage = function (event) {
      project(event.data, (m) => scope.postMessage(m)).then(
        (done) => scope.postMessage(done, done.trust ? [done.xy.buffer, done.trust.buffer] : [done.xy.buffer]),
        (e) => scope.postMessage({ type: "error", message: String((e && e.message) || e) }),
      );
    };
  }
})(self);
