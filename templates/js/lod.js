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
  const algoOf = (fig) => ep.mapOf(fig).algo;
  const xy = (algo) => { const d = ep.points().data, m = ep.map(algo); return [d[m.x], d[m.y]]; };

  // A counting sort of the points by cell of a G × G grid over the map's fixed extent.
  function buildIndex(fig, G) {
    const algo = algoOf(fig), [xs, ys] = xy(algo), n = xs.length;
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
    const [xs, ys] = xy(algo), shown = ep.shownMask();
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

  const STEP = 0x3fff;  // points between two looks at the clock (see run)

  // visit(i) for every shown point in map `fig`'s view, found through the grid index; a generator that yields
  // now and then, so that the work is cut into short tasks.
  function* eachInView(fig, visit) {
    const algo = algoOf(fig), ix = indexes[algo], G = ix.G, shown = ep.shownMask();
    const [xs, ys] = xy(algo);
    const xa = fig.x_range.start, xb = fig.x_range.end, ya = fig.y_range.start, yb = fig.y_range.end;
    const clamp = (v) => Math.min(G - 1, Math.max(0, Math.floor(v)));
    const ca = clamp((xa - ix.x0) * ix.sx), cb = clamp((xb - ix.x0) * ix.sx);
    const ra = clamp((ya - ix.y0) * ix.sy), rb = clamp((yb - ix.y0) * ix.sy);
    let steps = 0;
    for (let r = ra; r <= rb; r++) {
      for (let k = ix.start[r * G + ca], end = ix.start[r * G + cb + 1]; k < end; k++) {
        const i = ix.order[k], x = xs[i], y = ys[i];
        if (x >= xa && x <= xb && y >= ya && y <= yb && (!shown || shown[i])) visit(i);
        if ((++steps & STEP) === 0) yield;
      }
    }
  }

  function hexRGB(hex) {
    const v = parseInt(String(hex).slice(1, 7), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }

  // The density image of map `fig`'s view, point by point (add), then as RGBA pixels (image): a grid whose longer
  // side has `bins` cells; a cell's colour is the mean colour of its points, its opacity grows with their number.
  function density(fig) {
    const c = cfg(), d = ep.points().data, [xs, ys] = xy(algoOf(fig));
    const choice = colourChoice(), w = fig.inner_width || 1, h = fig.inner_height || 1;
    const nx = w >= h ? c.bins : Math.max(1, Math.round((c.bins * w) / h));
    const ny = w >= h ? Math.max(1, Math.round((c.bins * h) / w)) : c.bins;
    const x0 = fig.x_range.start, y0 = fig.y_range.start;
    const sx = nx / ((fig.x_range.end - x0) || 1), sy = ny / ((fig.y_range.end - y0) || 1);
    const count = new Float32Array(nx * ny), r = new Float32Array(nx * ny), g = new Float32Array(nx * ny);
    const b = new Float32Array(nx * ny), none = hexRGB("#bbbbbb");
    let colourOf;
    if (!choice) {
      const one = hexRGB("#1f77b4");
      colourOf = () => one;
    } else if (choice.kind === "categorical") {
      const rgb = choice.palette.map(hexRGB), codes = ep.classCodes(choice);
      colourOf = (i) => rgb[codes[i]] || none;
    } else {
      const pal = ep.state.mappers[ep.state.color].palette.map(hexRGB), vals = d[ep.colourKey(choice, algoOf(fig))];
      const low = choice.low, span = (choice.high - choice.low) || 1;
      colourOf = (i) => Number.isFinite(vals[i])
        ? pal[Math.max(0, Math.min(pal.length - 1, Math.floor(((vals[i] - low) / span) * pal.length)))] : none;
    }
    return {
      add(i) {
        const at = Math.min(ny - 1, Math.floor((ys[i] - y0) * sy)) * nx + Math.min(nx - 1, Math.floor((xs[i] - x0) * sx));
        const rgb = colourOf(i);
        count[at]++; r[at] += rgb[0]; g[at] += rgb[1]; b[at] += rgb[2];
      },
      image() {
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
        return { image: [ndarray(pixels, { dtype: "uint32", shape: [ny, nx] })], x: [x0], y: [y0], dw: [nx / sx], dh: [ny / sy] };
      },
    };
  }

  // The points to draw for map `fig`'s view (each point in it also goes to `dens`): all shown points in it when
  // they are few, else per (cell, class) at most `cap` of them, the largest cap that keeps the total within
  // `drawn`, on a coarser grid when even one point per cell and class would be too many. A crowded cell's points
  // are chosen by a fixed pseudo-random number per point, whatever the order of the rows in the file.
  function* chooseDrawn(fig, dens) {
    const c = cfg(), [xs, ys] = xy(algoOf(fig));
    const choice = colourChoice(), codes = choice && choice.kind === "categorical" ? ep.classCodes(choice) : null;
    const K = codes ? choice.factors.length : 1, x0 = fig.x_range.start, y0 = fig.y_range.start;
    const T = c.thin_cells;
    const sx = T / ((fig.x_range.end - x0) || 1), sy = T / ((fig.y_range.end - y0) || 1);
    const found = [], cells = [];  // the view's points, and each one's cell (column, row) on the T grid
    yield* eachInView(fig, (i) => {
      found.push(i);
      const cx = Math.min(T - 1, Math.floor((xs[i] - x0) * sx)), cy = Math.min(T - 1, Math.floor((ys[i] - y0) * sy));
      cells.push((cy << 16) | cx);
      dens.add(i);
    });
    if (found.length <= c.drawn) return { indices: found.sort((a, b) => a - b), all: true };
    const klass = (i) => (codes ? Math.max(0, Math.min(K - 1, codes[i])) : 0);
    const keyOf = (j, shift) => {
      const dim = T >> shift, cx = Math.min(dim - 1, (cells[j] & 0xffff) >> shift);
      return (Math.min(dim - 1, (cells[j] >>> 16) >> shift) * dim + cx) * K;
    };
    let shift = 0, counts;
    for (;;) {  // one point per occupied cell and class must fit, or the cells double in size
      counts = new Int32Array((T >> shift) * (T >> shift) * K);
      let occupied = 0;
      for (let j = 0; j < found.length; j++) if (counts[keyOf(j, shift) + klass(found[j])]++ === 0) occupied++;
      if (occupied <= c.drawn || T >> shift <= 1) break;
      shift++;
      yield;
    }
    const kept = (cap) => { let s = 0; for (const m of counts) s += Math.min(m, cap); return s; };
    let cap = 1, hi = c.drawn;
    while (cap < hi) { const mid = (cap + hi + 1) >> 1; if (kept(mid) <= c.drawn) cap = mid; else hi = mid - 1; }
    const out = [], score = [];
    for (let j = 0; j < found.length; j++) {
      const i = found[j], s = (priority(i) * counts[keyOf(j, shift) + klass(i)]) / cap;
      if (s < 1) { out.push(i); score.push(s); }
    }
    let indices = out;
    if (out.length > c.drawn) {  // chance kept a few too many: drop the highest scores
      const byScore = out.map((i, j) => j).sort((a, b) => score[a] - score[b]).slice(0, c.drawn);
      indices = byScore.map((j) => out[j]);
    }
    return { indices: indices.sort((a, b) => a - b), all: false };
  }

  function copyRows(indices, keys) {
    const d = ep.points().data, out = { [ep.names().index]: Int32Array.from(indices) };
    for (const k of keys) {
      const col = d[k], Type = col.constructor === Array ? Float32Array : col.constructor, v = new Type(indices.length);
      for (let j = 0; j < indices.length; j++) v[j] = col[indices[j]];
      out[k] = v;
    }
    return out;
  }

  const coordinateKeys = () => Object.values(ep.names().maps).flatMap((m) => [m.x, m.y]);  // (the gear's too)

  // The drawn points' selection follows the selection of every row ("points").
  function syncSelection() {
    const drawn = ep.model(ep.names().drawn), chosen = new Uint8Array(ep.meta().n), on = [];
    const idx = drawn.data[ep.names().index];
    for (const i of ep.points().selected.indices) chosen[i] = 1;
    for (let j = 0; j < idx.length; j++) if (chosen[idx[j]]) on.push(j);
    drawn.selected.indices = on;
  }

  // A ring layer shows the rows `mark` marks (search, neighbours, clicked; a comparison's new and gone too) that
  // are in the view of the active map, at most `drawn` of them.
  function fillMarks(mark) {
    const names = ep.names().marks[mark], filter = ep.model(names.filter), fig = active, shown = ep.shownMask();
    const [xs, ys] = xy(algoOf(fig)), out = [];
    for (const i of filter.indices) {
      if (out.length >= cfg().drawn) break;
      if ((!shown || shown[i] || mark === "clicked") && inView(fig, xs[i], ys[i])) out.push(i);
    }
    ep.model(names.drawn).data = copyRows(out, coordinateKeys());
    for (const f of ep.state.figures) {  // an empty ring layer still costs a copy of the WebGL canvas a repaint
      const ring = f.renderers.find((r) => r.name === ep.mapOf(f).rings[mark]);
      if (ring.visible !== out.length > 0) ring.visible = out.length > 0;
    }
  }

  // The catch-up after a pan, a zoom, a colour or a legend change: every map's density image and the drawn
  // points of the map last moved, computed in tasks of about SLICE_MS each (a newer change drops an unfinished
  // one), then handed to Bokeh at once.
  function* catchUp() {
    const colourKeys = ep.meta().colors.flatMap((c) => [c.key, ...Object.values(c.keys || {})]);
    const fig = active, keys = [...coordinateKeys(), ...new Set(colourKeys)];
    const images = ep.state.figures.map(density);
    const chosen = yield* chooseDrawn(fig, images[ep.state.figures.indexOf(fig)]);
    for (const [j, f] of ep.state.figures.entries()) if (f !== fig) yield* eachInView(f, images[j].add);
    ep.model(ep.names().drawn).data = copyRows(chosen.indices, keys);
    syncSelection();
    for (const [j, f] of ep.state.figures.entries()) {
      if (!chosen.all) ep.model(ep.mapOf(f).density_image).data = images[j].image();
      f.renderers.find((r) => r.name === ep.mapOf(f).density).visible = !chosen.all;
    }
    for (const mark of Object.keys(ep.names().marks)) fillMarks(mark);
    document.documentElement.dataset.epDrawn = String(chosen.indices.length);
  }

  const SLICE_MS = 40;
  let job = null;

  function run(it) {
    if (job !== it) return;  // a newer change started its own
    const until = performance.now() + SLICE_MS;
    while (performance.now() < until) if (it.next().done) { job = null; return; }
    setTimeout(() => run(it), 0);
  }

  function update() {
    timer = 0;
    job = catchUp();
    run(job);
  }

  function schedule(fig, wait) {
    active = fig;
    clearTimeout(timer);
    timer = setTimeout(update, wait);
  }

  ep.lodHover = function (event, fig, algo) {
    if (!ep.state.ready) return;
    const over = event ? ep.imageAt(fig, event.x, event.y) : -1;  // an image on the map (js/lenses.js)
    ep.showTip(over >= 0 ? over : event ? ep.indexNearest(event.x, event.y, fig, algo, cfg().hover_px) : -1);
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
    const [xs, ys] = xy(algo), out = [];
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

  // The shown points in map `fig`'s view, in the index's order, or null once they are more than `most`: the scan
  // stops there, so a crowded view costs about as little as a sparse one (js/lenses.js's images on the map).
  ep.pointsInView = function (fig, most) {
    const algo = algoOf(fig), ix = indexes[algo];
    if (!ix) return null;
    const [xs, ys] = xy(algo), shown = ep.shownMask(), G = ix.G, out = [];
    const xa = fig.x_range.start, xb = fig.x_range.end, ya = fig.y_range.start, yb = fig.y_range.end;
    const clamp = (v) => Math.min(G - 1, Math.max(0, Math.floor(v)));
    const ca = clamp((xa - ix.x0) * ix.sx), cb = clamp((xb - ix.x0) * ix.sx);
    const ra = clamp((ya - ix.y0) * ix.sy), rb = clamp((yb - ix.y0) * ix.sy);
    for (let r = ra; r <= rb; r++) {
      for (let k = ix.start[r * G + ca], end = ix.start[r * G + cb + 1]; k < end; k++) {
        const i = ix.order[k], x = xs[i], y = ys[i];
        if (!(x >= xa && x <= xb && y >= ya && y <= yb) || (shown && !shown[i])) continue;
        if (out.length === most) return null;
        out.push(i);
      }
    }
    return out;
  };

  ep.on("ready", function () {
    const c = cfg();
    for (const fig of ep.state.figures) buildIndex(fig, c ? c.index_cells : 64);
    if (!c) return;
    active = ep.state.figures[0];
    for (const fig of ep.state.figures) {
      for (const range of [fig.x_range, fig.y_range]) range.connect(range.change, () => schedule(fig, 150));
    }
    for (const [mark, names] of Object.entries(ep.names().marks)) {
      const filter = ep.model(names.filter);
      filter.connect(filter.change, () => fillMarks(mark));
    }
    const selected = ep.points().selected;
    selected.connect(selected.change, syncSelection);
    ep.on("shown", () => schedule(active, 0));
    update();
  });
  ep.on("remapped", function (fig) {  // a map given new coordinates (js/gear.js): its index anew, and its points
    buildIndex(fig, cfg() ? cfg().index_cells : 64);
    if (cfg()) schedule(fig, 0);
  });
})(window.embproj);
