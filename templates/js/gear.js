// The gear: a panel that maps the page's sample again (embproj/render/gear.py) with the algorithm, parameters and
// columns the reader chooses, in a Web Worker started from a Blob URL of the worker's text in the page (so it works
// from file:// and an email attachment; nothing is fetched). The new map shows beside the report's own, in the
// same source of points, so hover, selection, search, rings and colour work on it as on them; its header says what
// it was computed on and the `embproj project` command that maps the whole table so.
(function (ep) {
  "use strict";
  const PARAMS = {  // the inputs each algorithm reads: [name, label, kind, min, max, step]
    pca: [],
    umap: [["n_neighbors", "n_neighbors", "int", 2, 200, 1], ["min_dist", "min_dist", "float", 0, 1, 0.05],
      ["metric", "metric", "metric"], ["seed", "seed", "int", 0, 4294967295, 1]],
    tsne: [["perplexity", "perplexity", "float", 1, 1000, 1], ["learning_rate", "learning rate", "auto", 0, 1e6, 1],
      ["iterations", "iterations", "int", 10, 5000, 10], ["metric", "metric", "metric"],
      ["seed", "seed", "int", 0, 4294967295, 1]],
  };
  let worker = null, panel = null, started = 0;

  const gear = () => ep.meta().gear;
  const byId = (id) => document.getElementById(id);

  // The points the sample's rows are, in order (the JSON sends them as runs: start, length, …).
  ep.gearRows = function () {
    const runs = gear().rows, out = [];
    for (let r = 0; r < runs.length; r += 2) for (let i = 0; i < runs[r + 1]; i++) out.push(runs[r] + i);
    return out;
  };

  function input(name, label, kind, min, max, step) {
    const g = gear(), value = g.defaults[name], wrap = ep.el("label", label + " ");
    let field;
    if (kind === "metric") {
      field = ep.el("select");
      for (const m of g.metrics) field.appendChild(ep.el("option", m));
      field.value = value;
    } else {
      field = ep.el("input");
      field.type = "number";
      Object.assign(field, { min: String(min), max: String(max), step: String(step) });
      if (kind === "auto") field.placeholder = "auto";
      field.value = value === null || value === undefined ? "" : String(value);
    }
    field.id = "ep-gear-" + name.replace(/_/g, "-");
    field.dataset.param = name;
    wrap.appendChild(field);
    wrap.dataset.kind = kind;
    return wrap;
  }

  function columnsBox() {
    const names = gear().columns, box = ep.el("div", undefined, "ep-gear-columns");
    box.id = "ep-gear-columns";
    names.forEach((name, j) => {
      const label = ep.el("label"), tick = ep.el("input");
      tick.type = "checkbox";
      tick.checked = true;
      tick.value = String(j);
      label.append(tick, ep.el("span", name));
      box.appendChild(label);
    });
    return box;
  }

  function build() {
    const g = gear();
    panel = byId("ep-gear-panel");
    const about = ep.el("div", `Map ${ep.count(g.n)} rows again in this page (${g.about}), off the page's thread: ` +
      "nothing leaves the page.", "ep-muted");
    const fields = ep.el("fieldset"), algo = ep.el("select");
    algo.id = "ep-gear-algo";
    for (const [key, name] of Object.entries(g.algos)) {
      const o = ep.el("option", name);
      o.value = key;
      algo.appendChild(o);
    }
    algo.value = g.algo;
    const algoLabel = ep.el("label", "algorithm ");
    algoLabel.appendChild(algo);
    fields.appendChild(algoLabel);
    const seen = {};
    for (const [key, list] of Object.entries(PARAMS)) {
      for (const p of list) {
        if (!seen[p[0]]) seen[p[0]] = fields.appendChild(input(...p));
        seen[p[0]].dataset["for" + key] = "1";
      }
    }
    panel.append(about, fields);
    if (g.columns.length) {  // folded: a table of many columns would push the maps down
      const fold = ep.el("details"), summary = ep.el("summary", "");
      const bar = ep.el("div"), all = ep.el("button", "all"), none = ep.el("button", "none"), box = columnsBox();
      all.type = none.type = "button";
      const count = () => {
        const ticks = box.querySelectorAll("input"), kept = Array.from(ticks).filter((t) => t.checked).length;
        summary.textContent = `the embedding's columns: ${kept} of ${ticks.length}`;
      };
      const set = (on) => { for (const t of box.querySelectorAll("input")) t.checked = on; count(); };
      all.addEventListener("click", () => set(true));
      none.addEventListener("click", () => set(false));
      box.addEventListener("change", count);
      bar.append(all, " ", none);
      fold.append(summary, bar, box);
      fold.id = "ep-gear-fold";
      panel.append(fold);
      count();
    }
    const run = ep.el("div", undefined, "ep-gear-run"), go = ep.el("button", "re-project"), stop = ep.el("button", "cancel");
    go.id = "ep-gear-run";
    stop.id = "ep-gear-cancel";
    go.type = stop.type = "button";
    stop.disabled = true;
    const bar = ep.el("progress"), status = ep.el("span", "", "ep-muted");
    bar.id = "ep-gear-progress";
    bar.max = 1;
    bar.value = 0;
    status.id = "ep-gear-status";
    status.setAttribute("aria-live", "polite");
    run.append(go, stop, bar, status);
    const result = ep.el("div", undefined, "ep-gear-result");
    result.id = "ep-gear-result";
    panel.append(run, result);
    algo.addEventListener("change", showParams);
    go.addEventListener("click", start);
    stop.addEventListener("click", () => finish("cancelled", "cancelled"));
    showParams();
  }

  function showParams() {
    const algo = byId("ep-gear-algo").value;
    for (const label of panel.querySelectorAll("fieldset label[data-kind]")) label.hidden = !label.dataset["for" + algo];
  }

  // The settings as the worker takes them, or a reason they cannot run.
  function settings() {
    const g = gear(), algo = byId("ep-gear-algo").value, params = Object.assign({}, g.defaults);
    for (const [name, label, kind, min, max] of PARAMS[algo]) {
      const field = panel.querySelector(`[data-param="${name}"]`), text = field.value.trim();
      if (kind === "metric") { params[name] = text; continue; }
      if (kind === "auto" && text === "") { params[name] = null; continue; }
      const v = Number(text);
      if (text === "" || !Number.isFinite(v) || v < min || v > max || (kind === "int" && !Number.isInteger(v))) {
        return { error: `${label} must be ${kind === "int" ? "a whole number" : "a number"} from ${min} to ${max}` };
      }
      params[name] = v;
    }
    if (algo === "umap" && params.n_neighbors >= g.n) return { error: `n_neighbors must be below the ${g.n} rows` };
    let columns = null;
    if (g.columns.length) {
      const ticks = Array.from(panel.querySelectorAll("#ep-gear-columns input"));
      const kept = ticks.filter((t) => t.checked).map((t) => Number(t.value));
      if (kept.length < 2) return { error: "keep at least 2 columns" };
      if (kept.length < ticks.length) columns = kept;
    }
    return { algo: algo, params: params, seed: params.seed, columns: columns };
  }

  function setBusy(busy) {
    byId("ep-gear-run").disabled = busy;
    byId("ep-gear-cancel").disabled = !busy;
  }

  function start() {
    const s = settings(), status = byId("ep-gear-status");
    if (s.error) { status.textContent = s.error; panel.dataset.state = "invalid"; return; }
    if (worker) worker.terminate();
    const text = byId("ep-gear-worker").textContent;
    const url = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
    worker = new Worker(url);
    worker.onmessage = (event) => { URL.revokeObjectURL(url); receive(event.data, s); };
    worker.onerror = (event) => { URL.revokeObjectURL(url); finish("error", "failed: " + (event.message || "the worker stopped")); };
    const g = gear();
    worker.postMessage({ sample: byId("ep-gear-sample").textContent, code: g.code, columns: s.columns, algo: s.algo,
      params: s.params, seed: s.seed, maxDims: g.max_dims, trustK: trustK() });
    started = performance.now();
    panel.dataset.state = "running";
    delete panel.dataset.done;
    byId("ep-gear-progress").value = 0;
    status.textContent = "starting…";
    setBusy(true);
  }

  function finish(state, text) {
    if (worker) { worker.terminate(); worker = null; }
    panel.dataset.state = state;
    byId("ep-gear-status").textContent = text;
    setBusy(false);
  }

  function receive(m, s) {
    if (m.type === "progress") {
      const bar = byId("ep-gear-progress");
      bar.max = m.total || 1;
      bar.value = m.done;
      panel.dataset.done = String(m.done);
      byId("ep-gear-status").textContent = `${m.what} ${ep.count(m.done)} of ${ep.count(m.total)}`;
    } else if (m.type === "error") {
      finish("error", "failed: " + m.message);
    } else if (m.type === "done") {
      const seconds = (performance.now() - started) / 1000;
      panel.dataset.computed = String(performance.now());  // the run's end, before the map is drawn
      header(m, s);
      byId("ep-gear-status").textContent = "drawing the map…";
      setTimeout(() => {  // the panel's new text laid out in one task, Bokeh's new points in the next
        show(m, s);
        finish("done", `done in ${seconds.toFixed(1)} s`);
      }, 0);
    }
  }

  // The report's maps' trust k (the lenses, render/lenses.py): the new map's trust is measured as deep; 0 (none
  // measured) when the page has no trust lens.
  function trustK() {
    const lens = ep.meta().lenses, g = gear();
    const maps = Object.entries((lens && lens.trust) || {}).filter(([key]) => key !== g.map);
    return maps.length && ep.map(g.map).trust in ep.points().data ? maps[0][1].k : 0;
  }

  // The new map's trust per point as the lenses show it (a colour, a hover line): its column at the sample's rows.
  function showTrust(m, rows, n, update) {
    if (!m.trust) return;
    const g = gear(), column = new Float32Array(n).fill(NaN);
    rows.forEach((i, k) => { column[i] = m.trust[k]; });
    update[ep.map(g.map).trust] = column;
    const mean = Math.round(meanOf(m.trust) * 1e4) / 1e4;
    ep.meta().lenses.trust[g.map] = { k: m.trustK, mean: mean, name: "this page's map", recall: null, measured_on: null };
  }

  function meanOf(values) {
    let sum = 0;
    for (const v of values) sum += v;
    return sum / Math.max(1, values.length);
  }

  // The gear's map: the sample's rows at the new coordinates, the others off it (NaN).
  function show(m, s) {
    const g = gear(), names = ep.map(g.map), n = ep.meta().n, rows = ep.gearRows(), src = ep.points();
    const xs = new Float32Array(n).fill(NaN), ys = new Float32Array(n).fill(NaN);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    rows.forEach((i, k) => {
      const x = m.xy[2 * k], y = m.xy[2 * k + 1];
      xs[i] = x; ys[i] = y;
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    });
    const update = { [names.x]: xs, [names.y]: ys };
    showTrust(m, rows, n, update);
    src.data = Object.assign({}, src.data, update);
    const fig = ep.state.figures.find((f) => f.name === names.figure);
    const px = (x1 - x0) * 0.04 || 1, py = (y1 - y0) * 0.04 || 1;
    Object.assign(fig.x_range, { start: x0 - px, end: x1 + px });
    Object.assign(fig.y_range, { start: y0 - py, end: y1 + py });
    fig.title.text = `${g.algos[s.algo]}, computed in this page on ${ep.count(m.rows)} rows`;
    fig.visible = true;
    ep.emit("remapped", fig);
  }

  function describe(m, s) {
    const p = s.params, g = gear();
    const words = {
      pca: [],
      umap: [`n_neighbors ${p.n_neighbors}`, `min_dist ${p.min_dist}`, p.metric, `seed ${p.seed}`],
      tsne: [`perplexity ${p.perplexity}`, `learning rate ${p.learning_rate === null ? "auto" : p.learning_rate}`,
        `${p.iterations} iterations`, p.metric, `seed ${p.seed}`],
    }[s.algo];
    const cols = s.columns ? `${s.columns.length} of the ${g.columns.length} columns` : g.about;
    const reduced = m.reducedTo ? `, pre-reduced to ${m.reducedTo} dimensions by PCA` : "";
    const variance = m.variance !== null ? `, ${(m.variance * 100).toFixed(1)}% of the variance` : "";
    const trusted = m.trust ? `; map trust ${meanOf(m.trust).toFixed(2)} (of each row's ${m.trustK} nearest, the ` +
      "share kept on the map)" : "";
    return `computed in this page on ${ep.count(m.rows)} rows with ${g.algos[s.algo]}` +
      (words.length ? ` (${words.join(", ")})` : "") + ` on ${cols}${reduced}${variance}${trusted}`;
  }

  function quote(word) {
    return /^[\w@%+=:,./-]+$/.test(word) ? word : "'" + word.replace(/'/g, "'\"'\"'") + "'";
  }

  // `embproj project` for the whole table with these settings (null for a table given to the Python API).
  ep.gearCommand = function (s) {
    const g = gear();
    if (!g.command) return null;
    const words = [s.columns ? g.command[s.algo].chosen : g.command[s.algo].all];
    for (const [name] of PARAMS[s.algo]) {
      const v = s.params[name];
      if (name !== "seed" && v !== g.cli_defaults[name] && v !== null) words.push(g.flags[name], quote(String(v)));
    }
    words.push(g.flags.seed, String(s.seed));
    if (s.columns) words.push(g.flags.columns, quote(s.columns.map((j) => g.columns[j]).join(",")));
    return words.join(" ");
  };

  function header(m, s) {
    const out = byId("ep-gear-result"), command = ep.gearCommand(s), close = ep.el("button", "hide this map");
    close.type = "button";
    close.addEventListener("click", hide);
    out.replaceChildren(ep.el("strong", describe(m, s)), " ", close);
    if (command) {
      out.append(ep.el("div", "the same map of the whole table:", "ep-muted"), ep.el("span", command, "ep-command"));
    }
  }

  function hide() {
    const fig = ep.state.figures.find((f) => f.name === ep.map(gear().map).figure);
    fig.visible = false;
    byId("ep-gear-result").replaceChildren();
  }

  ep.on("ready", function () {
    const button = byId("ep-gear");
    if (!gear() || !button) return;
    build();
    button.disabled = false;
    button.addEventListener("click", () => {
      panel.hidden = !panel.hidden;
      button.setAttribute("aria-expanded", String(!panel.hidden));
    });
  });
})(window.embproj);
