// Neighbours: a click on a point rings its k nearest neighbours in the original space (found by embproj when the
// report was made, exact or approximate as the header says, sent in a compact code decoded on the first click) on
// every map, and says how many of them are also among its k nearest on each map, i.e. whether the map keeps its
// true neighbours together.
(function (ep) {
  "use strict";
  const RADIUS = 12;  // pixels: a click farther than this from every point clears the neighbours

  // The k points nearest to point i on one map (data coordinates; ties by index), as a Set.
  function mapNeighbours(i, k, xs, ys) {
    const best = [];  // [distance², index], sorted, at most k
    const x = xs[i], y = ys[i];
    for (let j = 0; j < xs.length; j++) {
      if (j === i) continue;
      const dx = xs[j] - x, dy = ys[j] - y, d = dx * dx + dy * dy;
      if (best.length === k && d >= best[k - 1][0]) continue;
      let at = best.length;
      while (at > 0 && best[at - 1][0] > d) at--;
      best.splice(at, 0, [d, j]);
      if (best.length > k) best.pop();
    }
    return new Set(best.map((b) => b[1]));
  }

  // -- the table, decoded on the first click (its code: embproj/render/neighbours.py) ---------------------------
  // A report has one table ("before": its only one); a comparison two, BEFORE's and AFTER's. Each, once decoded:
  // {near, order, position}; its promise meanwhile; why it failed.
  const TABLES = {
    before: { info: () => ep.meta().neighbours, element: "ep-neighbour-table" },
    after: { info: () => (ep.meta().compare || {}).neighbours_after, element: "ep-neighbour-table-after" },
  };
  const state = { before: { table: null, decoding: null, failed: "" }, after: { table: null, decoding: null, failed: "" } };

  function base85(text, alphabet) {
    const digit = new Uint8Array(128), chars = new TextEncoder().encode(text);  // ASCII: a byte a character
    for (let d = 0; d < alphabet.length; d++) digit[alphabet.charCodeAt(d)] = d;
    const rest = chars.length % 5, full = chars.length - rest;
    const out = new Uint8Array((full / 5) * 4 + Math.max(0, rest - 1));
    let o = 0;
    for (let at = 0; at < full; at += 5, o += 4) {  // a Uint8Array keeps the low 8 bits of what it is given
      const v = (((digit[chars[at]] * 85 + digit[chars[at + 1]]) * 85 + digit[chars[at + 2]]) * 85 +
        digit[chars[at + 3]]) * 85 + digit[chars[at + 4]];
      out[o] = v >>> 24; out[o + 1] = v >>> 16; out[o + 2] = v >>> 8; out[o + 3] = v;
    }
    if (rest) {  // a partial last group is padded with the highest digit, as base64.b85decode does
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

  // The rows along the Z-order curve of map c.algo, ties in row order: the cells and a stable sort (two passes
  // of 16 bits), computed as Python does (float64 arithmetic on the float32 coordinates).
  function zOrder(xs, ys, c) {
    const n = xs.length, top = (1 << c.bits) - 1, scale = c.scale, x0 = c.x0, y0 = c.y0;
    const low = new Int32Array(n), high = new Int32Array(n);  // the code's two 16-bit halves
    const spread = new Int32Array(256);  // a byte's bits at the even positions of 16
    for (let b = 0; b < 256; b++) for (let j = 0; j < 8; j++) spread[b] |= ((b >> j) & 1) << (2 * j);
    for (let i = 0; i < n; i++) {
      const tx = (xs[i] - x0) * scale, ty = (ys[i] - y0) * scale;
      const cx = tx >= 0 ? Math.min(Math.floor(tx), top) : 0, cy = ty >= 0 ? Math.min(Math.floor(ty), top) : 0;
      low[i] = spread[cx & 255] | (spread[cy & 255] << 1);
      high[i] = spread[cx >> 8] | (spread[cy >> 8] << 1);
    }
    const order = new Int32Array(n), next = new Int32Array(n), start = new Int32Array(65537);
    for (let i = 0; i < n; i++) start[low[i] + 1]++;
    for (let b = 0; b < 65536; b++) start[b + 1] += start[b];
    for (let i = 0; i < n; i++) next[start[low[i]]++] = i;
    start.fill(0);
    for (let i = 0; i < n; i++) start[high[i] + 1]++;
    for (let b = 0; b < 65536; b++) start[b + 1] += start[b];
    for (let j = 0; j < n; j++) { const r = next[j]; order[start[high[r]]++] = r; }
    return order;
  }

  // The rows of `order` grouped by their codes (≥ 0, a column of "points"), each group in `order`'s order: a
  // stable counting sort, as Python's (the encoder groups rows by the first colour's classes when that is smaller).
  function byGroup(order, codes) {
    let most = 0;
    for (let i = 0; i < codes.length; i++) if (codes[i] > most) most = codes[i];
    const start = new Int32Array(most + 2), out = new Int32Array(order.length);
    for (let i = 0; i < codes.length; i++) start[codes[i] + 1]++;
    for (let g = 0; g <= most; g++) start[g + 1] += start[g];
    for (const r of order) out[start[codes[r]]++] = r;
    return out;
  }

  // The i-th of `count` numbers sent as `planes` byte planes from body[at] on (the low bytes first).
  function number(body, at, count, planes, i) {
    let v = body[at + i];
    for (let b = 1; b < planes; b++) v |= body[at + b * count + i] << (8 * b);
    return v >>> 0;
  }

  const SLICE_MS = 40;  // the decoding gives the page back its thread between slices of about this long
  const pause = () => new Promise((go) => setTimeout(go, 0));

  // Row p of the order lists: the earlier rows that listed p whose bit is 1 (a bit each, the latest row first),
  // then its other neighbours, the first as a zigzag difference from p and the rest as gaps less one.
  async function decodeTable(body, c, n, k) {
    const fb = (c.flags + 7) >> 3;
    const t = {
      body: body, n: n, k: k, fb: fb, fp: c.first_planes, nf: c.firsts, ga: fb + c.firsts * c.first_planes,
      gp: c.gap_planes, ng: c.gaps, near: new Int32Array(n * k), head: new Int32Array(n).fill(-1),
      asks: new Int32Array(2 * c.flags),  // each row's askers, the latest first: (asker, next) pairs
      p: 0, used: 0, f: 0, a: 0, g: 0,
    };
    while (t.p < n) {
      decodeRows(t, performance.now() + SLICE_MS);
      if (t.p < n) await pause();
    }
    if (t.f !== c.flags || t.a !== c.firsts || t.g !== c.gaps) throw new Error("the neighbour table does not add up");
    return t.near;
  }

  function decodeRows(t, until) {
    const { body, n, k, fb, fp, nf, ga, gp, ng, near, head, asks } = t;
    let { p, used, f, a, g } = t;
    for (; p < n; p++) {
      if ((p & 1023) === 0 && performance.now() > until) break;
      const row = p * k;
      let m = 0;
      for (let e = head[p]; e >= 0; e = asks[e + 1], f++) if ((body[f >> 3] >> (7 - (f & 7))) & 1) near[row + m++] = asks[e];
      if (m < k) {
        const z = number(body, fb, nf, fp, a++);
        let s = p + ((z >>> 1) ^ -(z & 1));
        near[row + m++] = s;
        while (m < k) { s += number(body, ga, ng, gp, g++) + 1; near[row + m++] = s; }
      }
      for (let j = row; j < row + k; j++) {
        const s = near[j];
        if (s <= p) continue;
        asks[used] = p; asks[used + 1] = head[s];
        head[s] = used;
        used += 2;
      }
    }
    Object.assign(t, { p: p, used: used, f: f, a: a, g: g });
  }

  async function decode(name) {
    const info = TABLES[name].info(), c = info.code, k = info.k, d = ep.points().data;
    const text = document.getElementById(TABLES[name].element).textContent.trim();
    const raw = base85(text, c.alphabet);
    await pause();
    const body = await inflate(raw), z = zOrder(d[ep.map(c.algo).x], d[ep.map(c.algo).y], c), n = z.length;
    const order = c.group ? byGroup(z, d[c.group]) : z;
    await pause();
    const near = await decodeTable(body, c, n, k), position = new Int32Array(n);
    for (let p = 0; p < n; p++) position[order[p]] = p;
    return { near: near, order: order, position: position };
  }

  // A promise that table `name` ("before", the default, or a comparison's "after") is decoded (once).
  ep.neighbourTable = function (name = "before") {
    const s = state[name];
    if (!s.decoding) {
      s.decoding = decode(name).then((t) => (s.table = t), (e) => { s.failed = String(e); throw e; });
    }
    return s.decoding;
  };

  // Why table `name` could not be read here ("" when it could).
  ep.neighbourFailure = (name = "before") => state[name].failed;

  // Point i's neighbours in table `name`: an array; null when the report has none; undefined until it is decoded.
  ep.neighboursOf = function (i, name = "before") {
    const info = TABLES[name].info(), s = state[name];
    if (!info || s.failed) return null;
    if (!s.table) return undefined;
    const k = info.k, at = s.table.position[i] * k, out = [];
    for (let j = at; j < at + k; j++) out.push(s.table.order[s.table.near[j]]);
    return out.sort((a, b) => a - b);
  };

  ep.clearNeighbours = function () {
    for (const [mark, names] of Object.entries(ep.names().marks)) {  // a click's: all but the search's
      if (mark !== "search") ep.model(names.filter).indices = [];
    }
    const out = document.getElementById("ep-neighbours");
    if (!out) return;
    out.replaceChildren(ep.el("span", out.dataset.hint || ""));
    delete out.dataset.index;
    delete out.dataset.kept;
  };

  ep.showNeighbours = function (i) {
    if (ep.meta().compare) { ep.showChange(i); return; }  // before and after: js/compare.js
    const m = ep.meta(), d = ep.points().data, out = document.getElementById("ep-neighbours");
    const near = ep.neighboursOf(i), marks = ep.names().marks;
    ep.model(marks.clicked.filter).indices = [i];
    ep.model(marks.neighbours.filter).indices = near || [];
    out.replaceChildren();
    out.dataset.index = String(i);
    delete out.dataset.kept;
    out.appendChild(ep.el("strong", ep.title(i, d)));
    if (near === undefined) {  // the first click: the table is decoded, then this point's neighbours shown
      out.appendChild(ep.el("span", " · finding its neighbours…"));
      const again = () => { if (out.dataset.index === String(i)) ep.showNeighbours(i); };
      ep.neighbourTable().then(again, again);
      return;
    }
    if (!near) {
      const failed = ep.neighbourFailure();
      const why = failed ? `the neighbour table could not be read here (${failed})` : m.neighbours_note;
      out.appendChild(ep.el("span", ` · ${why || "this report has no neighbour table"}`));
      return;
    }
    const k = near.length, kept = [];
    out.appendChild(ep.el("span", ` · of its ${k} nearest neighbours in the original space (ringed), ` +
      `how many are also among its ${k} nearest on the map: `));
    m.algos.forEach((a, n) => {
      const onMap = mapNeighbours(i, k, d[ep.map(a.algo).x], d[ep.map(a.algo).y]);
      kept.push(near.filter((j) => onMap.has(j)).length);
      out.appendChild(ep.el("span", `${n ? " · " : ""}${a.name} ${kept[n]} of ${k}`, "ep-kept"));
    });
    out.dataset.kept = kept.join(",");
    const list = ep.el("ol", undefined, "ep-neighbour-list");
    for (const j of near) {
      const li = ep.el("li", ep.title(j, d));
      li.dataset.index = String(j);
      list.appendChild(li);
    }
    out.appendChild(list);
  };

  ep.tap = function (event, fig, xcol, ycol) {
    if (!ep.state.ready) return;
    const over = ep.imageAt(fig, event.x, event.y);  // an image on the map (js/lenses.js)
    const i = over >= 0 ? over : ep.nearest(event.x, event.y, fig, xcol, ycol, undefined, RADIUS);
    if (i < 0) ep.clearNeighbours();
    else ep.showNeighbours(i);
  };

  ep.on("ready", function () {
    const out = document.getElementById("ep-neighbours");
    if (out) out.dataset.hint = out.textContent;
  });
})(window.embproj);
