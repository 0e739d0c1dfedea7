// Level of detail (embproj/render/lod.py declares the numbers, in the page's JSON as "lod"). Every report gets a
// grid index of each map's points, so a click finds its point among every row without scanning them all. Above
// the threshold the maps draw a density image of every shown point (per cell: the mean colour of its points'
// classes, more opaque where there are more, so overlapping classes mix in any order) and at most `drawn`
// points one by one, chosen in the view per cell and class (a cell's classes each keep points, a sparse cell keeps
// all of its points); when the view holds fewer than that, every point in it is drawn and the image is hidden.
// Hover, click, search rings and box or lasso selection then work on every row through the index.
(function (ep) {
  "use strict";
  const indexes = {};  // algo → { G, x0, y0, sx, sy, start, order }
  let timer = 0, active = null;  // the map last panned or zoomed: it chooses the drawn points

  const cfg = () => ep.meta().lod;
  const algoOf = (fig) => fig.name.slice(4);

  // A counting sort of the points by cell of a G × G grid over the map's fixed extent.
  function buildIndex(fig, G) {
    const algo = algoOf(fig), d = ep.points().data, xs = d["x_" + algo], ys = d["y_" + algo], n = xs.length;
    const x0 = fig.x_range.start, y0 = fig.y_range.start;
    const sx = G / ((fig.x_range.end - x0) || 1), sy = G / ((fig.y_range.end - y0) || 1);
    const cell = new Int32Array(n), start = new Int32Array(G * G + 1);
    for (let i = 0; i < n; i++) {
      const cx = Math.floor((xs[i] - x0) * sx), cy = Math.floor((ys[i] - y0) * sy);
      if (!(cx >= 0 && cy >= 0 && cx < G && cy < G)) { cell[i] = -1; continue; }  // NaN, or off the extent
      cell[i] = cy * G + cx;
      start[cell[i] + 1]++;
    }
    for (let c = 0; c < G * G; c++) start[c + 1] += start[c];
    const fill = start.slice(0, G * G), order = new Int32Array(start[G * G]);
    for (let i = 0; i < n; i++) if (cell[i] >= 0) order[fill[cell[i]]++] = i;
    indexes[algo] = { G, x0, y0, sx, sy, start, order };
  }

  // Calls fn(i) for every point in the index cells that meet the data rectangle [xa, xb] × [ya, yb].
  function eachNear(algo, xa, xb, ya, yb, fn) {
    const ix = indexes[algo], G = ix.G, clamp = (v) => Math.min(G - 1, Math.max(0, Math.floor(v)));
    const ca = clamp((xa - ix.x0) * ix.sx), cb = clamp((xb - ix.x0) * ix.sx);
    const ra = clamp((ya - ix.y0) * ix.sy), rb = clamp((yb - ix.y0) * ix.sy);
    for (let r = ra; r <= rb; r++) {
      for (let k = ix.start[r * G + ca], end = ix.start[r * G + cb + 1]; k < end; k++) fn(ix.order[k]);
    }
  }

  // The nearest shown point to data (x, y) within `radius` pixels on map `fig`, or -1.
  ep.indexNearest = function (x, y, fig, algo, radius) {
    if (!indexes[algo]) return -2;  // no index (yet): the caller scans
    const d = ep.points().data, xs = d["x_" + algo], ys = d["y_" + algo], shown = ep.shownMask();
    const kx = (fig.inner_width || 1) / ((fig.x_range.end - fig.x_range.start) || 1);
    const ky = (fig.inner_height || 1) / ((fig.y_range.end - fig.y_range.start) || 1);
    let best = -1, bestD = radius * radius;
    eachNear(algo, x - radius / kx, x + radius / kx, y - radius / ky, y + radius / ky, (i) => {
      const dx = (xs[i] - x) * kx, dy = (ys[i] - y) * ky, dd = dx * dx + dy * dy;
      if ((dd < bestD || (dd === bestD && i < best)) && (!shown || shown[i])) { bestD = dd; best = i; }
    });
    return best;
  };

  // A point's fixed pseudo-random number in [0, 1): which points of a crowded cell are drawn, whatever the order
  // of the rows in the file.
  function priority(i) {
    let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
  }

  function inView(fig, x, y) {
    return x >= fig.x_range.start && x <= fig.x_range.end && y >= fig.y_range.start && y <= fig.y_range.end;
  }

  function colourChoice() { return ep.meta().colors[ep.state.color || 0] || null; }

  // The points to draw for map `fig`'s view: all shown points in it when they are few, else per (cell, class)
  // at most `cap` of them (the largest cap that keeps the total within `drawn`), on a coarser grid when even one
  // point per cell and class would be too many.
  ep.chooseDrawn = function (fig) {
    const c = cfg(), algo = algoOf(fig), d = ep.points().data, xs = d["x_" + algo], ys = d["y_" + algo];
    const shown = ep.shownMask(), choice = colourChoice(), n = xs.length;
    const codes = choice && choice.kind === "categorical" ? d[choice.key] : null;
    const K = codes ? choice.factors.length : 1, key = new Int32Array(n);
    const x0 = fig.x_range.start, y0 = fig.y_range.start;
    const keysAt = (T) => {
      const sx = T / ((fig.x_range.end - x0) || 1), sy = T / ((fig.y_range.end - y0) || 1);
      const counts = new Int32Array(T * T * K);
      let total = 0, occupied = 0;
      for (let i = 0; i < n; i++) {
        key[i] = -1;
        if ((shown && !shown[i]) || !inView(fig, xs[i], ys[i])) continue;
        const cx = Math.min(T - 1, Math.floor((xs[i] - x0) * sx)), cy = Math.min(T - 1, Math.floor((ys[i] - y0) * sy));
        key[i] = (cy * T + cx) * K + (codes ? Math.max(0, Math.min(K - 1, codes[i])) : 0);
        if (counts[key[i]]++ === 0) occupied++;
        total++;
      }
      return { counts, total, occupied };
    };
    let T = c.thin_cells, k = keysAt(T);
    const out = [];
    if (k.total <= c.drawn) {
      for (let i = 0; i < n; i++) if (key[i] >= 0) out.push(i);
      return { indices: out, all: true };
    }
    while (k.occupied > c.drawn && T > 1) { T = Math.max(1, T >> 1); k = keysAt(T); }
    const kept = (cap) => { let s = 0; for (const m of k.counts) s += Math.min(m, cap); return s; };
    let cap = 1, hi = c.drawn;
    while (cap < hi) { const mid = (cap + hi + 1) >> 1; if (kept(mid) <= c.drawn) cap = mid; else hi = mid - 1; }
    const score = new Map();  // below 1: drawn; a cell's points by their fixed pseudo-random number
    for (let i = 0; i < n; i++) {
      if (key[i] < 0) continue;
      const s = (priority(i) * k.counts[key[i]]) / cap;
      if (s < 1) { out.push(i); score.set(i, s); }
    }
    if (out.length > c.drawn) {  // chance kept a few too many: drop the highest scores
      out.sort((a, b) => score.get(a) - score.get(b));
      out.length = c.drawn;
      out.sort((a, b) => a - b);
    }
    return { indices: out, all: false };
  };

  function hexRGB(hex) {
    const v = parseInt(String(hex).slice(1, 7), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }

  // The density image of map `fig`'s view: a bins × bins' grid (the longer side `bins` cells) of RGBA pixels.
  ep.densityImage = function (fig) {
    const c = cfg(), algo = algoOf(fig), d = ep.points().data, xs = d["x_" + algo], ys = d["y_" + algo];
    const shown = ep.shownMask(), choice = colourChoice(), n = xs.length;
    const w = fig.inner_width || 1, h = fig.inner_height || 1;
    const nx = w >= h ? c.bins : Math.max(1, Math.round(c.bins * w / h));
    const ny = w >= h ? Math.max(1, Math.round(c.bins * h / w)) : c.bins;
    const x0 = fig.x_range.start, y0 = fig.y_range.start;
    const sx = nx / ((fig.x_range.end - x0) || 1), sy = ny / ((fig.y_range.end - y0) || 1);
    const count = new Float32Array(nx * ny), r = new Float32Array(nx * ny), g = new Float32Array(nx * ny);
    const b = new Float32Array(nx * ny);
    let colourOf;
    if (!choice) {
      const one = hexRGB("#1f77b4");
      colourOf = () => one;
    } else if (choice.kind === "categorical") {
      const rgb = choice.palette.map(hexRGB), none = hexRGB("#bbbbbb"), codes = d[choice.key];
      colourOf = (i) => rgb[codes[i]] || none;
    } else {
      const pal = ep.state.mappers[ep.state.color].palette.map(hexRGB), vals = d[choice.key];
      const low = choice.low, span = (choice.high - choice.low) || 1, none = hexRGB("#bbbbbb");
      colourOf = (i) => Number.isFinite(vals[i])
        ? pal[Math.max(0, Math.min(pal.length - 1, Math.floor((vals[i] - low) / span * pal.length)))] : none;
    }
    for (let i = 0; i < n; i++) {
      if (shown && !shown[i]) continue;
      const cx = Math.floor((xs[i] - x0) * sx), cy = Math.floor((ys[i] - y0) * sy);
      if (!(cx >= 0 && cy >= 0 && cx < nx && cy < ny)) continue;
      const at = cy * nx + cx, rgb = colourOf(i);
      count[at]++; r[at] += rgb[0]; g[at] += rgb[1]; b[at] += rgb[2];
    }
    let most = 0;
    for (const m of count) if (m > most) most = m;
    const pixels = new Uint32Array(nx * ny), [a0, a1] = c.alpha, scale = 1 / Math.log1p(most || 1);
    for (let at = 0; at < nx * ny; at++) {
      const m = count[at];
      if (!m) continue;
      const a = Math.round(255 * (a0 + (a1 - a0) * Math.log1p(m) * scale));
      pixels[at] = ((a << 24) | (Math.round(b[at] / m) << 16) | (Math.round(g[at] / m) << 8) | Math.round(r[at] / m)) >>> 0;
    }
    const { ndarray } = Bokeh.require("core/util/ndarray");
    return {
      image: [ndarray(pixels, { dtype: "uint32", shape: [ny, nx] })],
      x: [x0], y: [y0], dw: [nx / sx], dh: [ny / sy],
    };
  };

  function copyRows(indices, keys) {
    const d = ep.points().data, out = { idx: Int32Array.from(indices) };
    for (const k of keys) {
      const col = d[k], Type = col.constructor === Array ? Float32Array : col.constructor, v = new Type(indices.length);
      for (let j = 0; j < indices.length; j++) v[j] = col[indices[j]];
      out[k] = v;
    }
    return out;
  }

  const coordinateKeys = () => ep.meta().algos.flatMap((a) => ["x_" + a.algo, "y_" + a.algo]);

  // The drawn points' selection follows the selection of every row ("points").
  function syncSelection() {
    const drawn = ep.model("drawn"), chosen = new Set(ep.points().selected.indices), idx = drawn.data.idx, on = [];
    for (let j = 0; j < idx.length; j++) if (chosen.has(idx[j])) on.push(j);
    drawn.selected.indices = on;
  }

  // A ring layer shows the marked rows that are in the view of the active map, at most `drawn` of them.
  function fillMarks(name) {
    const filter = ep.model(name), fig = active, algo = algoOf(fig), d = ep.points().data, shown = ep.shownMask();
    const xs = d["x_" + algo], ys = d["y_" + algo], out = [];
    for (const i of filter.indices) {
      if (out.length >= cfg().drawn) break;
      if ((!shown || shown[i] || name === "nn_origin") && inView(fig, xs[i], ys[i])) out.push(i);
    }
    ep.model("drawn_" + name).data = copyRows(out, coordinateKeys());
  }

  function update() {
    timer = 0;
    const fig = active, choice = ep.meta().colors.map((c) => c.key);
    const chosen = ep.chooseDrawn(fig);
    ep.model("drawn").data = copyRows(chosen.indices, [...coordinateKeys(), ...choice]);
    syncSelection();
    for (const f of ep.state.figures) {
      const renderer = f.renderers.find((r) => r.name === "density_" + algoOf(f));
      if (!chosen.all) ep.model("density_image_" + algoOf(f)).data = ep.densityImage(f);
      renderer.visible = !chosen.all;
    }
    for (const name of ["search_hits", "nn_hits", "nn_origin"]) fillMarks(name);
    document.documentElement.dataset.epDrawn = String(chosen.indices.length);
  }

  function schedule(fig, wait) {
    active = fig;
    clearTimeout(timer);
    timer = setTimeout(update, wait);
  }

  ep.lodHover = function (event, fig, algo) {
    if (!ep.state.ready) return;
    ep.showTip(event ? ep.indexNearest(event.x, event.y, fig, algo, cfg().hover_px) : -1);
  };

  function inPolygon(px, py, x, y) {
    let inside = false;
    for (let a = 0, b = px.length - 1; a < px.length; b = a++) {
      if ((py[a] > y) !== (py[b] > y) && x < ((px[b] - px[a]) * (y - py[a])) / (py[b] - py[a]) + px[a]) inside = !inside;
    }
    return inside;
  }

  // Box or lasso selection on every row (the drawn ones follow): the rows inside the final geometry.
  ep.lodSelect = function (event, algo) {
    const g = event.geometry;
    if (!event.final || !g || (g.type !== "rect" && g.type !== "poly")) return;
    const d = ep.points().data, xs = d["x_" + algo], ys = d["y_" + algo], out = [];
    const px = g.type === "poly" ? Array.from(g.x) : [Math.min(g.x0, g.x1), Math.max(g.x0, g.x1)];
    const py = g.type === "poly" ? Array.from(g.y) : [Math.min(g.y0, g.y1), Math.max(g.y0, g.y1)];
    const [xa, xb, ya, yb] = [Math.min(...px), Math.max(...px), Math.min(...py), Math.max(...py)];
    eachNear(algo, xa, xb, ya, yb, (i) => {
      const x = xs[i], y = ys[i];
      if (x < xa || x > xb || y < ya || y > yb) return;
      if (g.type === "rect" || inPolygon(px, py, x, y)) out.push(i);
    });
    out.sort((a, b) => a - b);
    ep.points().selected.indices = out;
  };

  ep.on("ready", function () {
    const c = cfg();
    for (const fig of ep.state.figures) buildIndex(fig, c ? c.index_cells : 64);
    if (!c) return;
    active = ep.state.figures[0];
    for (const fig of ep.state.figures) {
      for (const range of [fig.x_range, fig.y_range]) range.connect(range.change, () => schedule(fig, 150));
    }
    for (const name of ["search_hits", "nn_hits", "nn_origin"]) {
      const filter = ep.model(name);
      filter.connect(filter.change, () => fillMarks(name));
    }
    const selected = ep.points().selected;
    selected.connect(selected.change, syncSelection);
    ep.on("shown", () => schedule(active, 0));
    update();
  });
})(window.embproj);
