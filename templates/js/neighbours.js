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
  let table = null, decoding = null, failed = "";  // Int32Array n × k once decoded; the promise meanwhile

  function base85(text, alphabet) {
    const digit = new Uint8Array(128);
    for (let d = 0; d < alphabet.length; d++) digit[alphabet.charCodeAt(d)] = d;
    const rest = text.length % 5, out = new Uint8Array(Math.floor(text.length / 5) * 4 + Math.max(0, rest - 1));
    for (let at = 0, o = 0; at < text.length; at += 5) {
      let v = 0;  // a partial last group is padded with the highest digit, as base64.b85decode does
      for (let j = 0; j < 5; j++) v = v * 85 + (at + j < text.length ? digit[text.charCodeAt(at + j)] : 84);
      for (let b = 3; b >= 0 && o < out.length; b--) out[o++] = Math.floor(v / 2 ** (8 * b)) & 255;
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
    const n = xs.length, top = (1 << c.bits) - 1, code = new Uint32Array(n);
    const cell = (v, low) => { const t = (v - low) * c.scale; return t >= 0 ? Math.min(Math.floor(t), top) : 0; };
    const spread = (v) => {
      v = (v | (v << 8)) & 0x00ff00ff; v = (v | (v << 4)) & 0x0f0f0f0f; v = (v | (v << 2)) & 0x33333333;
      return (v | (v << 1)) & 0x55555555;
    };
    for (let i = 0; i < n; i++) code[i] = (spread(cell(xs[i], c.x0)) | (spread(cell(ys[i], c.y0)) << 1)) >>> 0;
    let order = new Int32Array(n), next = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (const shift of [0, 16]) {
      const start = new Int32Array(65537);
      for (let i = 0; i < n; i++) start[((code[i] >>> shift) & 0xffff) + 1]++;
      for (let b = 0; b < 65536; b++) start[b + 1] += start[b];
      for (let i = 0; i < n; i++) { const r = order[i]; next[start[(code[r] >>> shift) & 0xffff]++] = r; }
      [order, next] = [next, order];
    }
    return order;
  }

  function numbers(body, at, count, planes) {
    const v = new Uint32Array(count);
    for (let b = 0; b < planes; b++, at += count) for (let i = 0; i < count; i++) v[i] |= body[at + i] << (8 * b);
    return v;
  }

  // Row p of the order lists: the earlier rows that listed p whose bit is 1, then its other neighbours, the first
  // as a zigzag difference from p and the rest as gaps less one.
  function decodeTable(body, c, n, k) {
    const fb = (c.flags + 7) >> 3, firsts = numbers(body, fb, c.firsts, c.first_planes);
    const gaps = numbers(body, fb + c.firsts * c.first_planes, c.gaps, c.gap_planes);
    const near = new Int32Array(n * k), head = new Int32Array(n).fill(-1), tail = new Int32Array(n);
    const asker = new Int32Array(c.flags), link = new Int32Array(c.flags);
    let used = 0, f = 0, a = 0, g = 0;
    for (let p = 0, row = 0; p < n; p++, row += k) {
      let m = 0;
      for (let e = head[p]; e >= 0; e = link[e], f++) if ((body[f >> 3] >> (7 - (f & 7))) & 1) near[row + m++] = asker[e];
      if (m < k) {
        let s = p + ((firsts[a] >>> 1) ^ -(firsts[a] & 1));
        a++;
        near[row + m++] = s;
        while (m < k) { s += gaps[g++] + 1; near[row + m++] = s; }
      }
      for (let j = row; j < row + k; j++) {
        const s = near[j];
        if (s <= p) continue;
        asker[used] = p; link[used] = -1;
        if (head[s] < 0) head[s] = used; else link[tail[s]] = used;
        tail[s] = used++;
      }
    }
    if (f !== c.flags || a !== c.firsts || g !== c.gaps) throw new Error("the neighbour table does not add up");
    return near;
  }

  async function decode() {
    const info = ep.meta().neighbours, c = info.code, k = info.k, d = ep.points().data;
    const text = document.getElementById("ep-neighbour-table").textContent.trim();
    const body = await inflate(base85(text, c.alphabet));
    const order = zOrder(d["x_" + c.algo], d["y_" + c.algo], c), n = order.length;
    const near = decodeTable(body, c, n, k), out = new Int32Array(n * k);
    for (let p = 0; p < n; p++) {
      const row = order[p] * k;
      for (let j = 0; j < k; j++) out[row + j] = order[near[p * k + j]];
      out.subarray(row, row + k).sort();
    }
    return out;
  }

  // A promise of the whole table (Int32Array, n × k, each row's neighbours by row), decoded once.
  ep.neighbourTable = function () {
    if (!decoding) {
      decoding = decode().then((t) => (table = t), (e) => { failed = String(e); throw e; });
    }
    return decoding;
  };

  // Point i's neighbours: an array; null when the report has none; undefined until the table is decoded.
  ep.neighboursOf = function (i) {
    const info = ep.meta().neighbours;
    if (!info || failed) return null;
    if (!table) return undefined;
    return Array.from(table.subarray(i * info.k, (i + 1) * info.k));
  };

  ep.clearNeighbours = function () {
    ep.model("nn_hits").indices = [];
    ep.model("nn_origin").indices = [];
    const out = document.getElementById("ep-neighbours");
    if (!out) return;
    out.replaceChildren(ep.el("span", out.dataset.hint || ""));
    delete out.dataset.index;
    delete out.dataset.kept;
  };

  ep.showNeighbours = function (i) {
    const m = ep.meta(), d = ep.points().data, out = document.getElementById("ep-neighbours");
    const near = ep.neighboursOf(i);
    ep.model("nn_origin").indices = [i];
    ep.model("nn_hits").indices = near || [];
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
      const why = failed ? `the neighbour table could not be read here (${failed})` : m.neighbours_note;
      out.appendChild(ep.el("span", ` · ${why || "this report has no neighbour table"}`));
      return;
    }
    const k = near.length, kept = [];
    out.appendChild(ep.el("span", ` · of its ${k} nearest neighbours in the original space (ringed), ` +
      `how many are also among its ${k} nearest on the map: `));
    m.algos.forEach((a, n) => {
      const onMap = mapNeighbours(i, k, d["x_" + a.algo], d["y_" + a.algo]);
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
    const i = ep.nearest(event.x, event.y, fig, xcol, ycol, undefined, RADIUS);
    if (i < 0) ep.clearNeighbours();
    else ep.showNeighbours(i);
  };

  ep.on("ready", function () {
    const out = document.getElementById("ep-neighbours");
    if (out) out.dataset.hint = out.textContent;
  });
})(window.embproj);
