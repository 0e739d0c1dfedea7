// Selection: box or lasso select fills a table of the selected rows (row, fields, coordinates); the button
// saves them all as CSV through a Blob, in the page (no server). CSV cells are quoted as RFC 4180 says, and a
// text cell that a spreadsheet would run as a formula gets a leading apostrophe: the rule (= + - @ and their
// full-width forms, after any leading whitespace; tab, CR or LF first) comes from embproj/text/safe.py.
(function (ep) {
  "use strict";
  const SHOWN_ROWS = 500;
  let pending = false, formula = null, number = null;

  // The selected rows that are drawn (a class hidden by the legend leaves the table too), in point order.
  ep.selectedRows = function () {
    const shown = ep.shownMask();
    return Array.from(ep.points().selected.indices).filter((i) => !shown || shown[i]).sort((a, b) => a - b);
  };

  // [header, value(i)] for every column of the table and the CSV.
  function columns() {
    const m = ep.meta(), d = ep.points().data;
    const rows = ep.column(ep.names().row), cols = [["row", (i) => String(rows[i])]];
    m.fields.forEach((f, j) => cols.push([f.name, (i) => ep.fieldValue(j, i, d)]));
    for (const a of m.algos) {
      const xs = d[ep.map(a.algo).x], ys = d[ep.map(a.algo).y];
      cols.push([a.algo + "_x", (i) => coordinate(xs[i])], [a.algo + "_y", (i) => coordinate(ys[i])]);
    }
    return cols;
  }

  function coordinate(v) { return Number.isFinite(v) ? String(Number(v.toPrecision(7))) : ""; }

  ep.csvCell = function (value) {
    let s = value === undefined || value === null ? "" : String(value);
    if (formula === null) [formula, number] = [new RegExp(ep.meta().csv.formula), new RegExp(ep.meta().csv.number)];
    if (formula.test(s) && !number.test(s)) s = "'" + s;
    if (/[",\r\n]/.test(s) || s !== s.trim()) s = '"' + s.replace(/"/g, '""') + '"';
    return s;
  };

  ep.selectionCsv = function () {
    const cols = columns(), lines = [cols.map((c) => ep.csvCell(c[0])).join(",")];
    for (const i of ep.selectedRows()) lines.push(cols.map((c) => ep.csvCell(c[1](i))).join(","));
    return lines.join("\r\n") + "\r\n";
  };

  // Saves `csv` as a file named `name`, through a Blob (no server); a BOM first, so that spreadsheets read UTF-8.
  ep.saveCsv = function (csv, name) {
    const blob = new Blob(["\ufeff" + csv], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob), a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };

  function download() { ep.saveCsv(ep.selectionCsv(), "embproj-selection.csv"); }

  function render() {
    pending = false;
    const panel = document.getElementById("ep-selection");
    if (!panel) return;
    const rows = ep.selectedRows(), cols = columns();
    const table = document.getElementById("ep-selection-table"), note = document.getElementById("ep-selection-note");
    document.getElementById("ep-selection-count").textContent =
      rows.length === 1 ? "1 row selected" : `${ep.count(rows.length)} rows selected`;
    panel.dataset.count = String(rows.length);
    document.getElementById("ep-csv").disabled = rows.length === 0;
    document.getElementById("ep-clear").disabled = rows.length === 0;
    const head = ep.el("tr");
    for (const c of cols) head.appendChild(ep.el("th", c[0]));
    const body = ep.el("tbody");
    for (const i of rows.slice(0, SHOWN_ROWS)) {
      const tr = ep.el("tr");
      tr.dataset.index = String(i);
      for (const c of cols) tr.appendChild(ep.el("td", c[1](i)));
      body.appendChild(tr);
    }
    const thead = ep.el("thead");
    thead.appendChild(head);
    table.replaceChildren(thead, body);
    note.textContent = rows.length > SHOWN_ROWS
      ? `showing the first ${ep.count(SHOWN_ROWS)}; the CSV has all ${ep.count(rows.length)}` : "";
    panel.hidden = rows.length === 0;
  }

  ep.selectionChanged = function () {
    if (pending || !ep.state.ready) return;
    pending = true;
    requestAnimationFrame(render);
  };

  ep.on("shown", ep.selectionChanged);
  ep.on("ready", function () {
    const csv = document.getElementById("ep-csv"), clear = document.getElementById("ep-clear");
    if (csv) csv.addEventListener("click", download);
    if (clear) clear.addEventListener("click", () => { ep.points().selected.indices = []; });
    render();
  });
})(window.embproj);
