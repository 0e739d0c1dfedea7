// A comparison (embproj compare): the two maps share one "points" source, so hover, selection, search and the
// legend already act on both. This file adds what only a comparison has: a click shows the point's neighbours
// before and after (from the two neighbour tables: which are in both, new in AFTER, gone from BEFORE, each with
// its own ring on both maps), and the movers table (the rows that changed most: sortable, saved as CSV, a click
// selects the row on both maps). Each row's change is the points' column ep.names().change
// (embproj/comparison/change.py).
(function (ep) {
  "use strict";
  let sort = { column: 0, descending: true };  // the movers table's order: by change, most first

  const info = () => ep.meta().compare;
  const change = (i) => ep.points().data[ep.names().change][i];
  const mark = (name) => ep.model(ep.names().marks[name].filter);  // a mark's filter: the rows it rings
  const row = (i) => ep.column(ep.names().row)[i];
  const shown = (v) => (Number.isFinite(v) ? v.toFixed(3) : "");

  function list(label, rows, cls, d) {
    const box = ep.el("div", undefined, "ep-change-list " + cls);
    box.dataset.list = label;
    box.dataset.rows = rows.join(",");
    box.appendChild(ep.el("span", `${label} (${rows.length}): `));
    const items = ep.el("ol", undefined, "ep-neighbour-list");
    for (const j of rows) {
      const li = ep.el("li", ep.title(j, d));
      li.dataset.index = String(j);
      items.appendChild(li);
    }
    box.appendChild(items);
    return box;
  }

  // Point i's neighbours before and after, in the panel and as rings on both maps.
  ep.showChange = function (i) {
    const d = ep.points().data, out = document.getElementById("ep-neighbours");
    const before = ep.neighboursOf(i, "before"), after = ep.neighboursOf(i, "after");
    mark("clicked").indices = [i];
    for (const name of ["neighbours", "new", "gone"]) mark(name).indices = [];
    out.replaceChildren(ep.el("strong", ep.title(i, d)));
    out.dataset.index = String(i);
    for (const key of ["kept", "new", "gone"]) delete out.dataset[key];
    if (before === undefined || after === undefined) {  // the first click: both tables decoded, then shown
      out.appendChild(ep.el("span", " · finding its neighbours…"));
      const again = () => { if (out.dataset.index === String(i)) ep.showChange(i); };
      Promise.allSettled([ep.neighbourTable("before"), ep.neighbourTable("after")]).then(again);
      return;
    }
    if (!before || !after) {
      const failed = ep.neighbourFailure("before") || ep.neighbourFailure("after");
      const why = failed ? `a neighbour table could not be read here (${failed})` : ep.meta().neighbours_note;
      out.appendChild(ep.el("span", ` · change ${shown(change(i))} · ${why || "this report has no neighbour tables"}`));
      return;
    }
    const was = new Set(before), now = new Set(after);
    const kept = before.filter((j) => now.has(j)), gone = before.filter((j) => !now.has(j));
    const fresh = after.filter((j) => !was.has(j));
    mark("neighbours").indices = kept;
    mark("new").indices = fresh;
    mark("gone").indices = gone;
    Object.assign(out.dataset, { kept: String(kept.length), new: String(fresh.length), gone: String(gone.length) });
    out.appendChild(ep.el("span", ` · change ${shown(change(i))}: of its ${before.length} nearest neighbours ` +
      `before and ${after.length} after, ${kept.length} in both, ${fresh.length} new in AFTER, ` +
      `${gone.length} gone from BEFORE`));
    out.append(list("in both", kept, "", d), list("new", fresh, "ep-new", d), list("gone", gone, "ep-gone", d));
  };

  // -- the movers table ------------------------------------------------------------------------------------

  // [heading, value(i) as text, number(i) or null (sorted as text)] for each column of the table and its CSV.
  function columns() {
    const m = ep.meta(), c = info(), d = ep.points().data, cols = [];
    cols.push([m.fields[c.field].name, (i) => shown(change(i)), (i) => change(i)]);
    if (c.key_field >= 0) cols.push([m.fields[c.key_field].name, (i) => ep.fieldValue(c.key_field, i, d), null]);
    else cols.push(["row", (i) => String(row(i, d)), (i) => row(i, d)]);
    if (m.label >= 0 && m.label !== c.key_field) cols.push([m.fields[m.label].name, (i) => ep.label(i, d), null]);
    m.fields.forEach((f, j) => {
      if (j !== c.field && j !== c.key_field && j !== m.label) cols.push([f.name, (i) => ep.fieldValue(j, i, d), null]);
    });
    return cols;
  }

  function ordered(cols) {
    const rows = info().movers.slice(), [, text, number] = cols[sort.column];
    const by = number
      ? (a, b) => number(a) - number(b)
      : (a, b) => text(a).localeCompare(text(b), undefined, { numeric: true });
    rows.sort((a, b) => (sort.descending ? by(b, a) : by(a, b)) || a - b);
    return rows;
  }

  ep.moverRows = () => ordered(columns());

  ep.moversCsv = function () {
    const cols = columns(), lines = [cols.map((c) => ep.csvCell(c[0])).join(",")];
    for (const i of ordered(cols)) lines.push(cols.map((c) => ep.csvCell(c[1](i))).join(","));
    return lines.join("\r\n") + "\r\n";
  };

  ep.selectMover = function (i) {
    ep.points().selected.indices = [i];
    ep.showChange(i);
  };

  function fillMovers() {
    const table = document.getElementById("ep-movers-table");
    if (!table) return;
    const cols = columns(), d = ep.points().data, images = !!ep.meta().images, head = ep.el("tr");
    cols.forEach((c, n) => {
      const th = ep.el("th", c[0]);
      th.tabIndex = 0;
      if (n === sort.column) th.setAttribute("aria-sort", sort.descending ? "descending" : "ascending");
      const resort = () => {
        sort = { column: n, descending: n === sort.column ? !sort.descending : n === 0 };
        fillMovers();
      };
      th.addEventListener("click", resort);
      th.addEventListener("keydown", (e) => { if (e.key === "Enter") resort(); });
      head.appendChild(th);
      if (n === 1 && images) head.appendChild(ep.el("th", "image"));
    });
    const body = ep.el("tbody");
    for (const i of ordered(cols)) {
      const tr = ep.el("tr");
      tr.dataset.index = String(i);
      tr.tabIndex = 0;
      cols.forEach((c, n) => {
        tr.appendChild(ep.el("td", c[1](i), n === 0 ? "ep-number" : undefined));
        if (n === 1 && images) {
          const cell = ep.el("td"), uri = ep.image(i, d);
          if (/^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/=]+$/.test(uri)) {
            const img = document.createElement("img");
            img.src = uri;
            img.alt = "row " + row(i, d);
            cell.appendChild(img);
          }
          tr.appendChild(cell);
        }
      });
      tr.addEventListener("click", () => ep.selectMover(i));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); ep.selectMover(i); } });
      body.appendChild(tr);
    }
    const thead = ep.el("thead");
    thead.appendChild(head);
    table.replaceChildren(thead, body);
  }

  ep.on("ready", function () {
    if (!info()) return;
    fillMovers();
    const csv = document.getElementById("ep-movers-csv");
    if (csv) {
      csv.disabled = false;
      csv.addEventListener("click", () => ep.saveCsv(ep.moversCsv(), "embproj-movers.csv"));
    }
  });
})(window.embproj);
