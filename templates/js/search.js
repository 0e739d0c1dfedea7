// Search: the rows whose label or any hover field contains the text (case-insensitive) get a ring on every
// map, and the page says how many match. A column sent as codes is searched once per word, not once per row.
(function (ep) {
  "use strict";
  let timer = 0;

  // 1 for each row that matches `needle` (already lower-case), else 0.
  ep.searchRows = function (needle) {
    const m = ep.meta(), hit = new Uint8Array(m.n);
    if (!needle) return hit;
    const has = (v) => v !== undefined && v !== null && String(v).toLowerCase().includes(needle);
    for (const [j, f] of m.fields.entries()) {
      const col = ep.column(f.key);
      if (f.decimal) {  // its text written once a row
        for (let i = 0; i < m.n; i++) if (!hit[i] && has(ep.fieldValue(j, i))) hit[i] = 1;
      } else if (f.words) {
        const words = f.words.map(has);
        for (let i = 0; i < m.n; i++) if (words[col[i]]) hit[i] = 1;
      } else {
        for (let i = 0; i < m.n; i++) if (!hit[i] && has(col[i])) hit[i] = 1;
      }
    }
    return hit;
  };

  function run() {
    const input = document.getElementById("ep-search"), out = document.getElementById("ep-search-count");
    if (!input || !ep.state.ready) return;
    const needle = input.value.trim().toLowerCase(), filter = ep.model(ep.names().marks.search.filter);
    if (!needle) {
      if (filter.indices.length) filter.indices = [];  // (every change repaints the maps)
      out.textContent = "";
      delete out.dataset.count;
      return;
    }
    const hit = ep.searchRows(needle), shown = ep.shownMask(), found = [];
    let hidden = 0;
    for (let i = 0; i < hit.length; i++) {
      if (!hit[i]) continue;
      if (!shown || shown[i]) found.push(i);
      else hidden++;
    }
    filter.indices = found;
    const n = ep.meta().n;
    let text = `${ep.count(found.length)} of ${ep.count(n)} ${n === 1 ? "row matches" : "rows match"}`;
    if (hidden) text += ` (${ep.count(hidden)} more in hidden classes)`;
    out.textContent = text;
    out.dataset.count = String(found.length);
  }
  ep.search = run;

  ep.on("shown", run);
  ep.on("ready", function () {
    const input = document.getElementById("ep-search");
    if (!input) return;
    input.disabled = false;
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 120); });
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") { clearTimeout(timer); run(); } });
    run();
  });
})(window.embproj);
