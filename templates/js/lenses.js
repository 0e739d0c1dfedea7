// Lenses: what each point's neighbours in the original space say about it (embproj/structure/lenses.py found it,
// embproj/render/lenses.py hands it over in the page's JSON as "lenses", with the columns' keys).
// Label agreement: a hover line, a colour choice (made by embproj like any other), and the suspect labels' table:
// the rows whose neighbours mostly carry one other label, worst first; a click on one selects it and rings its
// neighbours, and the table downloads as CSV (the same guard as the selection's).
// Map trust: a hover line per map (the colour choice colours each map by its own, js/colour.js).
(function (ep) {
  "use strict";
  const SHOWN_ROWS = 200;  // the suspects' table lists this many; the CSV all the page holds

  const lenses = () => ep.meta().lenses || null;
  const labelLens = () => (lenses() && lenses().labels) || null;
  const percent = (share) => Math.round(share * 1000) / 10 + "%";

  // -- label agreement ---------------------------------------------------------------------------------------

  // [header, value(i, n)] for the suspects' table and CSV (n: the row's place among the suspects).
  function suspectColumns() {
    const lens = labelLens(), m = ep.meta(), d = ep.points().data, rows = d[ep.names().row], to = d[lens.to_key];
    const cols = [["row", (i) => String(rows[i])]];
    const title = m.label >= 0 ? m.fields[m.label].name : null;
    if (title !== null && title !== lens.column) cols.push([title, (i) => ep.label(i, d)]);
    cols.push(
      [lens.column, (i, n) => lens.labels[lens.own[n]]],
      ["neighbours' label", (i) => (to[i] >= 0 ? lens.labels[to[i]] : "")],
      ["their share", (i, n) => percent(lens.share[n])],
      ["agreement", (i) => percent(d[lens.key][i])],
    );
    return cols;
  }

  ep.suspectsCsv = function () {
    const lens = labelLens(), cols = suspectColumns(), lines = [cols.map((c) => ep.csvCell(c[0])).join(",")];
    lens.suspects.forEach((i, n) => lines.push(cols.map((c) => ep.csvCell(c[1](i, n))).join(",")));
    return lines.join("\r\n") + "\r\n";
  };

  function download(text, name) {
    const blob = new Blob(["\ufeff" + text], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob), a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // A suspect chosen in the table: the map selects it, and its neighbours get their rings.
  ep.chooseSuspect = function (i) {
    ep.points().selected.indices = [i];
    if (ep.showNeighbours) ep.showNeighbours(i);
  };

  function suspectRow(i, n, cols) {
    const tr = ep.el("tr");
    tr.dataset.index = String(i);
    tr.tabIndex = 0;
    for (const [, value] of cols) tr.appendChild(ep.el("td", value(i, n)));
    if (ep.meta().images) {
      const cell = ep.el("td"), uri = ep.image(i);
      if (uri && ep.isImage(uri)) {
        const img = document.createElement("img");
        img.src = uri;
        img.alt = "row " + cols[0][1](i, n);
        cell.appendChild(img);
      }
      tr.appendChild(cell);
    }
    tr.addEventListener("click", () => ep.chooseSuspect(i));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); ep.chooseSuspect(i); } });
    return tr;
  }

  function fillSuspects() {
    const lens = labelLens(), table = document.getElementById("ep-labels-table");
    if (!lens || !table) return;
    const cols = suspectColumns(), head = ep.el("tr");
    for (const [name] of cols) head.appendChild(ep.el("th", name));
    if (ep.meta().images) head.appendChild(ep.el("th", "image"));
    const thead = ep.el("thead"), body = ep.el("tbody");
    thead.appendChild(head);
    lens.suspects.slice(0, SHOWN_ROWS).forEach((i, n) => body.appendChild(suspectRow(i, n, cols)));
    table.replaceChildren(thead, body);
    const note = document.getElementById("ep-labels-note"), sent = lens.suspects.length;
    if (note) {
      const csv = sent < lens.total ? `the worst ${ep.count(sent)} of ${ep.count(lens.total)}` : `all ${ep.count(sent)}`;
      note.textContent = sent > SHOWN_ROWS ? `showing the first ${ep.count(SHOWN_ROWS)}; the CSV has ${csv}` : "";
    }
    const csvButton = document.getElementById("ep-labels-csv"), select = document.getElementById("ep-labels-select");
    if (csvButton) {
      csvButton.disabled = false;
      csvButton.addEventListener("click", () => download(ep.suspectsCsv(), "embproj-suspect-labels.csv"));
    }
    if (select) {
      select.disabled = false;
      select.addEventListener("click", () => { ep.points().selected.indices = lens.suspects.slice().sort((a, b) => a - b); });
    }
  }

  function agreementLine(i, d, add) {
    const lens = labelLens(), share = d[lens.key][i], to = d[lens.to_key][i];
    if (!Number.isFinite(share)) return;
    const k = lens.k, agree = Math.round(share * k);
    let text = `${agree} of its ${k} neighbours carry its label`;
    if (to >= 0) text += `; most carry "${lens.labels[to]}"`;
    add("label agreement", text);
  }

  // -- map trust ---------------------------------------------------------------------------------------------

  function trustLines(i, d, add) {
    const maps = Object.values(lenses().trust || {});
    for (const t of maps) {
      const kept = Math.round(d[t.key][i] * t.k), name = maps.length > 1 ? `map trust · ${t.name}` : "map trust";
      add(name, `${kept} of its ${t.k} neighbours are near it on the map`);
    }
  }

  ep.on("tip", function (tip) {
    if (!lenses()) return;
    if (labelLens()) agreementLine(tip.i, tip.data, tip.add);
    trustLines(tip.i, tip.data, tip.add);
  });

  ep.on("ready", function () {
    fillSuspects();
  });
})(window.embproj);
