// embproj report script. Every file in templates/js extends window.embproj; page.py inlines them in order
// (core, tooltip, colour, search, selection, neighbours, zoom, lod). Rules for all of them: a value from the table is
// only ever set as text (textContent, never innerHTML); an image only as a data:image URI embproj itself encoded;
// nothing is fetched: the data is in the page (the Bokeh document and the #ep-data JSON).
window.embproj = (function () {
  "use strict";
  const ep = { state: { ready: false, items: [], mappers: [], figures: [] } };
  const hooks = {};

  // The BokehJS half of embproj.render.models.CodeColorMapper: integer code k → palette[k]. It must be
  // registered before the document is deserialized, which is why this file runs in <head>, after BokehJS.
  (function registerCodeColorMapper() {
    if (!window.Bokeh || !Bokeh.Models || Bokeh.Models.get("embproj.CodeColorMapper")) return;
    const Base = Bokeh.Models.get("CategoricalColorMapper");
    class CodeColorMapper extends Base {
      _v_compute(data, values, palette, { nan_color }) {
        const n = palette.length, of = this.factor_of, m = of.length;
        for (let i = 0; i < data.length; i++) {
          const k = m ? (data[i] >= 0 && data[i] < m ? of[data[i]] : -1) : data[i];
          values[i] = k >= 0 && k < n ? palette[k] : nan_color;
        }
      }
    }
    CodeColorMapper.define(({ Int, List }) => ({ factor_of: [List(Int), []] }));
    CodeColorMapper.__name__ = "CodeColorMapper";
    CodeColorMapper.__module__ = "embproj";
    Bokeh.Models.register(CodeColorMapper);
  })();

  let meta = null;
  ep.meta = function () {
    if (meta === null) meta = JSON.parse(document.getElementById("ep-data").textContent);
    return meta;
  };
  ep.doc = () => Bokeh.documents[0];
  ep.model = (name) => ep.doc().get_model_by_name(name);
  // What the models and columns the page drives are named, as embproj/render/names.py declares them: the shared
  // ones (ep.names()), and each map's own (ep.map(algo), ep.mapOf(fig): its figure, scatter, rings, "x" and "y").
  ep.names = () => ep.meta().names;
  ep.map = (algo) => ep.names().maps[algo];
  ep.mapOf = (fig) => Object.values(ep.names().maps).find((m) => m.figure === fig.name);
  ep.points = () => ep.model(ep.names().points);
  // The column colour choice c colours map `algo` by: its own when the choice has one per map (its trust).
  ep.colourKey = (c, algo) => (c.keys && c.keys[algo]) || c.key;

  // A column of "points" as the page reads it. An integer column sent by its content (meta.packed, from
  // embproj/render/packed.py: a range, differences, or offsets from its least value) is rebuilt once, exactly:
  // every value is an integer within 2^53, which a float64 holds and String() prints as its digits.
  const unpacked = {};
  ep.column = function (key) {
    const spec = (ep.meta().packed || {})[key];
    if (!spec) return ep.points().data[key];
    if (!unpacked[key]) unpacked[key] = unpack(spec, ep.points().data[key], ep.meta().n);
    return unpacked[key];
  };
  function unpack(spec, sent, n) {
    const out = new Float64Array(n);
    if (spec.step !== undefined) {
      for (let i = 0; i < n; i++) out[i] = spec.start + i * spec.step;
    } else if (spec.delta) {
      let v = spec.start;
      for (let i = 0; i < n; i++) out[i] = v += sent[i];
    } else {
      for (let i = 0; i < n; i++) out[i] = spec.start + sent[i];
    }
    return out;
  }

  // Each point's class (its legend entry) under categorical colour choice c: the codes of its column, or, for a
  // choice that reads another's codes through factor_of (the clusters': render/encode.py), those looked up once.
  const classes = {};
  ep.classCodes = function (c) {
    const codes = ep.points().data[c.key];
    if (!c.factor_of) return codes;
    if (!classes[c.mapper]) {
      const out = new Int16Array(codes.length), m = c.factor_of.length;
      for (let i = 0; i < codes.length; i++) out[i] = codes[i] >= 0 && codes[i] < m ? c.factor_of[codes[i]] : -1;
      classes[c.mapper] = out;
    }
    return classes[c.mapper];
  };

  // A hover field's value for point i, as text: dictionary-encoded columns hold codes into their word list, a
  // float column its digits (ep.decimal).
  ep.fieldValue = function (j, i) {
    const f = ep.meta().fields[j], col = ep.column(f.key);
    if (f.decimal) return ep.decimal(col[i], ep.points().data[f.decimal.exponent][i], f.decimal);
    const v = f.words ? f.words[col[i]] : col[i];
    return v === undefined || v === null ? "" : String(v);
  };
  // The "%g" text (spec.precision significant digits) of a float sent as its significand (trailing zeros
  // dropped) and the exponent of its first digit, exactly as embproj/render/packed.py's decimal_text writes it;
  // a significand of 0 is spec.specials[exponent] ("0", "-0", "NaN", …).
  ep.decimal = function (significand, exponent, spec) {
    if (significand === 0) return spec.specials[exponent];
    const digits = String(Math.abs(significand)), e = exponent;
    let text;
    if (e < -4 || e >= spec.precision) {
      const power = String(Math.abs(e)).padStart(2, "0");
      text = digits[0] + (digits.length > 1 ? "." + digits.slice(1) : "") + "e" + (e < 0 ? "-" : "+") + power;
    } else if (e >= 0) {
      const whole = digits.padEnd(e + 1, "0");
      text = whole.slice(0, e + 1) + (digits.length > e + 1 ? "." + digits.slice(e + 1) : "");
    } else {
      text = "0." + "0".repeat(-e - 1) + digits;
    }
    return (significand < 0 ? "-" : "") + text;
  };
  ep.label = function (i) {
    const m = ep.meta();
    return m.label >= 0 ? ep.fieldValue(m.label, i) : "row " + ep.column(ep.names().row)[i];
  };
  ep.title = function (i) {
    const row = ep.column(ep.names().row)[i];
    return ep.meta().label >= 0 ? `row ${row} · ${ep.label(i)}` : `row ${row}`;
  };
  ep.image = function (i, data) {
    const img = ep.meta().images, d = data || ep.points().data;
    if (!img || !d[img.key]) return "";
    return img.words ? img.words[d[img.key][i]] : d[img.key][i];
  };

  // Which points are drawn: null for all, else one boolean per point (the legend hides classes through the
  // BooleanFilter ep.names().shown).
  ep.shownMask = () => ep.model(ep.names().shown).booleans || null;
  ep.isShown = function (i) {
    const b = ep.shownMask();
    return !b || !!b[i];
  };

  ep.el = function (tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  };
  ep.count = (n) => Number(n).toLocaleString("en-US");

  ep.on = function (name, fn) { (hooks[name] = hooks[name] || []).push(fn); };
  ep.emit = function (name, arg) { for (const fn of hooks[name] || []) fn(arg); };

  // The Bokeh document's "document_ready" callback: the models the page drives, then each part's start-up.
  ep.ready = function (items, mappers, figures) {
    Object.assign(ep.state, { items: items, mappers: mappers, figures: figures });
    ep.state.ready = true;
    ep.emit("ready");
    document.documentElement.dataset.epReady = "1";
  };

  // The scatter of each map (not the rings drawn over it).
  ep.mainRenderers = () =>
    ep.state.figures.map((fig) => fig.renderers.find((r) => r.name === ep.mapOf(fig).points));

  // The point whose image on the map is under data position (x, y) of map `fig`, or -1 (js/lenses.js draws them).
  ep.imageAt = () => -1;

  // Nearest shown point to data position (x, y) on one map, in screen distance, among `candidates` (an
  // iterable of indices) or all points; -1 when none is within `radius` pixels (no limit when omitted).
  ep.nearest = function (x, y, fig, xcol, ycol, candidates, radius) {
    const d = ep.points().data, xs = d[xcol], ys = d[ycol];
    const kx = (fig.inner_width || 1) / ((fig.x_range.end - fig.x_range.start) || 1);
    const ky = (fig.inner_height || 1) / ((fig.y_range.end - fig.y_range.start) || 1);
    if (!candidates && radius !== undefined && ep.indexNearest) {  // the grid index (js/lod.js), when built
      const found = ep.indexNearest(x, y, fig, ep.mapOf(fig).algo, radius);
      if (found !== -2) return found;
    }
    const limit = radius === undefined ? Infinity : radius * radius, shown = ep.shownMask();
    let best = -1, bestD = Infinity;
    const visit = (i) => {
      const dx = (xs[i] - x) * kx, dy = (ys[i] - y) * ky, dd = dx * dx + dy * dy;
      if (dd < bestD && dd <= limit && (!shown || shown[i])) { bestD = dd; best = i; }
    };
    if (candidates) for (const i of candidates) visit(i);
    else for (let i = 0; i < xs.length; i++) visit(i);
    return best;
  };

  return ep;
})();
