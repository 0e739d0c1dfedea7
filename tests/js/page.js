"use strict";
// A report page without a browser, for the page scripts' unit tests (`node --test tests/js/`; pytest runs them in
// tests/test_page_js.py). The scripts of templates/js run, in the order embproj/render/page.py inlines them, in a
// fresh V8 context per page, against stand-ins for the little of the browser and of BokehJS that they touch:
// elements by id, models by name (plain objects whose properties the scripts read and set, as they do BokehJS's),
// figures with ranges and renderers, and timers that run when the test says so (`flush`). A test then reads what
// the page handed Bokeh or wrote into its elements.
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const { python, skip: WITHOUT_PYTHON } = require("./cases");

const ROOT = path.resolve(__dirname, "..", "..");

// page.py's SCRIPTS, read from page.py itself so that the order is declared once.
function scriptNames() {
  const source = fs.readFileSync(path.join(ROOT, "embproj", "render", "page.py"), "utf8");
  const tuple = /^SCRIPTS = \(([^)]*)\)/m.exec(source);
  if (!tuple) throw new Error("no SCRIPTS tuple in embproj/render/page.py");
  return [...tuple[1].matchAll(/"([\w-]+\.js)"/g)].map((m) => m[1]);
}

const SCRIPTS = scriptNames().map((name) => {
  const file = path.join(ROOT, "templates", "js", name);
  return new vm.Script(fs.readFileSync(file, "utf8"), { filename: file });
});

// An element: what the scripts set (text, dataset, hidden, children) is kept; text() reads it as a user would.
function element(props) {
  const node = {
    textContent: "", dataset: {}, style: {}, hidden: false, disabled: false, value: "", className: "", title: "",
    children: [], listeners: {}, ...props,
  };
  node.appendChild = (child) => { node.children.push(child); return child; };
  node.append = (...children) => { node.children.push(...children); };
  node.replaceChildren = (...children) => { node.children = children; };
  node.remove = () => {};
  node.click = () => {};
  node.addEventListener = (type, fn) => { (node.listeners[type] = node.listeners[type] || []).push(fn); };
  node.fire = (type, event) => { for (const fn of node.listeners[type] || []) fn(event || {}); };
  node.text = () => (node.children.length ? node.children.map((c) => c.text()).join("") : String(node.textContent));
  return node;
}

// A BokehJS model: its properties, and its `change` signal's listeners (fired by page.changed(model)).
function model(props) {
  const m = { change: "change", listeners: [], ...props };
  m.connect = (signal, fn) => { m.listeners.push(fn); };
  return m;
}

// A map: a Bokeh figure with the renderers the scripts look up by name (`names`: the map's, from Python).
function figure({ x = [0, 1], y = [0, 1], width = 400, height = 400 }, names) {
  const renderers = [names.points, names.density, ...Object.values(names.rings), names.label_glyphs];
  return model({
    name: names.figure,
    type: "Figure",
    x_range: model({ start: x[0], end: x[1] }),
    y_range: model({ start: y[0], end: y[1] }),
    inner_width: width,
    inner_height: height,
    renderers: renderers.map((name) => ({ name, visible: true, glyph: { fill_color: null } })),
    toolbar: { tools: [] },
  });
}

/**
 * A fresh page. `meta`: the page's JSON (#ep-data; n, algos and the empty lists filled in when missing); `data`:
 * the "points" columns; `maps`: [{algo, x: [start, end], y: [start, end], width, height}]; `models`: more models
 * by name; `elements`: more elements by id (their properties); `charWidth`: a label's measured width a character.
 */
function loadPage({ meta = {}, data = {}, maps = [{ algo: "pca" }], models = {}, elements = {}, charWidth = 7 } = {}) {
  if (!python) throw new Error(WITHOUT_PYTHON);  // the names the page finds its models by are Python's
  const algos = maps.map((m) => ({ algo: m.algo, name: m.algo.toUpperCase() }));
  const names = { ...python.names, maps: Object.fromEntries(maps.map((m) => [m.algo, python.names.maps[m.algo]])) };
  const n = meta.n !== undefined ? meta.n : (data["x_" + maps[0].algo] || []).length;
  const fullMeta = {
    n, algos, fields: [], label: -1, colors: [], images: null, neighbours: null, clusters: null, charts: [],
    lod: null, csv: { formula: "^$", number: "^$" }, zoom: { armed: "", idle: "" }, names, ...meta,
  };

  // Timers run when the test says: in order of when they are due, however long they would wait.
  let clock = 0, serial = 0;
  const timers = new Map();
  const setTimeout = (fn, wait) => { timers.set(++serial, { fn, due: clock + (Number(wait) || 0) }); return serial; };
  const clearTimeout = (id) => { timers.delete(id); };

  const els = { "ep-data": element({ textContent: JSON.stringify(fullMeta) }) };
  for (const [id, props] of Object.entries(elements)) els[id] = element(props);
  const documentElement = element();
  const document = {
    documentElement,
    getElementById: (id) => els[id] || null,
    querySelector: (selector) => els[selector] || null,  // `elements` may name one by its selector
    addEventListener: () => {},
    createElement: (tag) => {
      const node = element({ tagName: tag.toUpperCase() });
      if (tag === "canvas") node.getContext = () => ({ font: "", measureText: (t) => ({ width: t.length * charWidth }) });
      return node;
    },
    body: element(),
  };

  const byName = {};
  const figures = maps.map((m) => figure(m, names.maps[m.algo]));
  const registered = {};
  const Bokeh = {
    documents: [{ get_model_by_name: (name) => byName[name] || null }],
    require: (name) => {
      if (name !== "core/util/ndarray") throw new Error("no stand-in for " + name);
      return { ndarray: (array, { dtype, shape }) => ({ array, dtype, shape }) };
    },
    // core.js registers embproj.CodeColorMapper as a subclass of Bokeh's CategoricalColorMapper
    Models: {
      get: (name) => (name === "CategoricalColorMapper" ? class CategoricalColorMapper { static define() {} } : registered[name] || null),
      register: (cls) => { registered["embproj." + cls.__name__] = cls; },
    },
  };

  const sandbox = {
    document, Bokeh, setTimeout, clearTimeout, console, performance, TextEncoder, Blob, Response, atob,
    DecompressionStream, URL, innerWidth: 1200, innerHeight: 800,
    requestAnimationFrame: (fn) => setTimeout(fn, 16),
  };
  sandbox.window = sandbox;
  const context = vm.createContext(sandbox);

  // Arrays and objects handed to the page are made in its own realm, as the page's would be (typed arrays stay
  // typed arrays; null in a numeric column is NaN, as JSON cannot carry NaN).
  const adopt = vm.runInContext(`(function adopt(v) {
    if (ArrayBuffer.isView(v)) return new globalThis[v.constructor.name](v);
    if (Array.isArray(v)) return Array.from(v, adopt);
    if (v && typeof v === "object") { const o = {}; for (const k of Object.keys(v)) o[k] = adopt(v[k]); return o; }
    return v;
  })`, context);

  byName[names.points] = model({ data: adopt(data), selected: model({ indices: [] }) });
  byName[names.shown] = model({ booleans: null });
  for (const mark of Object.values(names.marks)) {
    byName[mark.filter] = model({ indices: [] });
    byName[mark.drawn] = model({ data: {} });
  }
  byName[names.drawn] = model({ data: {}, selected: model({ indices: [] }) });
  for (const m of Object.values(names.maps)) byName[m.density_image] = model({ data: {} });
  byName[names.legend] = model({ items: [], visible: true });
  byName[names.colorbar] = model({ visible: false, color_mapper: null, title: "" });
  for (const [name, props] of Object.entries(models)) byName[name] = model(adopt(props));

  for (const script of SCRIPTS) script.runInContext(context);
  const ep = sandbox.embproj;

  const page = {
    ep, meta: fullMeta, models: byName, figures, elements: els, document, registered, adopt,
    /** The maps' column in the page's realm. */
    column: (key) => byName[names.points].data[key],
    /** Runs every timer and animation frame due, and those they start, until none is left. */
    flush() {
      for (let runs = 0; timers.size; runs++) {
        if (runs > 100000) throw new Error("the page keeps setting timers");
        let next = null;
        for (const [id, t] of timers) if (!next || t.due < next[1].due) next = [id, t];
        timers.delete(next[0]);
        clock = Math.max(clock, next[1].due);
        next[1].fn();
      }
    },
    /** `promise`'s value once the page's timers and the runtime's own work (inflating) have let it settle. */
    async settle(promise) {
      let done = false;
      promise.then(() => { done = true; }, () => { done = true; });
      for (let rounds = 0; !done; rounds++) {
        if (rounds > 10000) throw new Error("the promise never settled");
        page.flush();
        await new Promise((go) => setImmediate(go));
      }
      page.flush();
      return promise;
    },
    /** The Bokeh document's "document_ready": ep.ready(items, mappers, figures), then the timers it set. */
    ready({ items = [], mappers = [] } = {}) {
      ep.ready(adopt(items), adopt(mappers), figures);
      page.flush();
    },
    /** A change of the model's properties, as BokehJS signals it to what connected to it. */
    changed(m) {
      for (const fn of m.listeners) fn();
      page.flush();
    },
  };
  return page;
}

// A deterministic stream of numbers in [0, 1) (mulberry32), for tests' data.
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

module.exports = { loadPage, random, SCRIPTS: scriptNames(), ROOT };
