// Lenses: what each point's neighbours in the original space say about it (embproj/structure/lenses.py found it,
// embproj/render/lenses.py hands it over in the page's JSON as "lenses"; its columns and models go by the names of
// ep.names(): "lenses" for the label lens's columns, each map's "trust" and "images").
// Label agreement: a hover line, a colour choice (made by embproj like any other), and the suspect labels' table:
// the rows whose neighbours mostly carry one other label, worst first; a click on one selects it and rings its
// neighbours, and the table downloads as CSV (the same guard as the selection's).
// Map trust: a hover line per map that has it (the colour choice colours each map by its own, js/colour.js; the
// gear's map, computed in the page, has none).
// Images on the map: with the switch on, each map whose view holds few enough shown points draws each one's image
// at its place (the image the hover shows), sized to the room each point has; hover and click find the image under
// the pointer, a selection dims the images of the rows outside it.
(function (ep) {
  "use strict";
  const SHOWN_ROWS = 200;  // the suspects' table lists this many; the CSV all the page holds

  const lenses = () => ep.meta().lenses || null;
  const labelLens = () => (lenses() && lenses().labels) || null;
  const columns = () => ep.names().lenses;  // the label lens's columns: "agree" (its share), "agree_to"
  const percent = (share) => Math.round(share * 1000) / 10 + "%";

  // -- label agreement ---------------------------------------------------------------------------------------

  // [header, value(i, n)] for the suspects' table and CSV (n: the row's place among the suspects).
  function suspectColumns() {
    const lens = labelLens(), m = ep.meta(), d = ep.points().data, rows = ep.column(ep.names().row);
    const to = d[columns().agree_to], agree = d[columns().agree];
    const cols = [["row", (i) => String(rows[i])]];
    const title = m.label >= 0 ? m.fields[m.label].name : null;
    if (title !== null && title !== lens.column) cols.push([title, (i) => ep.label(i, d)]);
    cols.push(
      [lens.column, (i, n) => lens.labels[lens.own[n]]],
      ["neighbours' label", (i) => (to[i] >= 0 ? lens.labels[to[i]] : "")],
      ["their share", (i, n) => percent(lens.share[n])],
      ["agreement", (i) => percent(agree[i])],
    );
    return cols;
  }

  ep.suspectsCsv = function () {
    const lens = labelLens(), cols = suspectColumns(), lines = [cols.map((c) => ep.csvCell(c[0])).join(",")];
    lens.suspects.forEach((i, n) => lines.push(cols.map((c) => ep.csvCell(c[1](i, n))).join(",")));
    return lines.join("\r\n") + "\r\n";
  };

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
      csvButton.addEventListener("click", () => ep.saveCsv(ep.suspectsCsv(), "embproj-suspect-labels.csv"));
    }
    if (select) {
      select.disabled = false;
      select.addEventListener("click", () => { ep.points().selected.indices = lens.suspects.slice().sort((a, b) => a - b); });
    }
  }

  function agreementLine(i, d, add) {
    const lens = labelLens(), share = d[columns().agree][i], to = d[columns().agree_to][i];
    if (!Number.isFinite(share)) return;
    const k = lens.k, agree = Math.round(share * k);
    let text = `${agree} of its ${k} neighbours carry its label`;
    if (to >= 0) text += `; most carry "${lens.labels[to]}"`;
    add("label agreement", text);
  }

  // -- map trust ---------------------------------------------------------------------------------------------

  function trustLines(i, d, add) {
    const maps = Object.entries(lenses().trust || {});
    for (const [key, t] of maps) {
      const values = d[ep.map(key).trust];
      if (!values || !Number.isFinite(values[i])) continue;
      const kept = Math.round(values[i] * t.k), name = maps.length > 1 ? `map trust · ${t.name}` : "map trust";
      add(name, `${kept} of its ${t.k} neighbours are near it on the map`);
    }
  }

  // -- images on the map -------------------------------------------------------------------------------------

  const placed = {};  // algo → {rows, x, y, w, h}: the images handed to Bokeh, for imageAt
  const sizes = new Map();  // an image's data URI → [width, height] read from its header
  let timer = 0;

  const imageLens = () => (lenses() && lenses().images) || null;
  const imagesOn = () => { const box = document.getElementById("ep-images"); return !!box && box.checked; };

  // A PNG's or a JPEG's size from the first bytes of its data URI (one embproj encoded), without decoding it; null
  // for another kind or anything else (drawn square).
  ep.imageSize = function (uri) {
    if (sizes.has(uri)) return sizes.get(uri);
    let size = null;
    if (ep.isImage(uri)) {  // base64 throughout: its first 1,600 characters decode whole
      const data = uri.slice(uri.indexOf(",") + 1), head = atob(data.slice(0, Math.min(data.length, 4 * 400)));
      const b = (j) => head.charCodeAt(j), word = (j) => (b(j) << 8) | b(j + 1);
      if (head.slice(1, 4) === "PNG") size = [word(16) * 65536 + word(18), word(20) * 65536 + word(22)];
      for (let at = 2; b(0) === 0xff && b(1) === 0xd8 && at + 9 < head.length && b(at) === 0xff; at += 2 + word(at + 2)) {
        const marker = b(at + 1);  // a start of frame: every SOFn but DHT (c4), JPG (c8) and DAC (cc)
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          size = [word(at + 7), word(at + 5)];
          break;
        }
      }
    }
    sizes.set(uri, size && size[0] > 0 && size[1] > 0 ? size : null);
    return sizes.get(uri);
  };

  // The images map `fig` shows: its view's shown points' images, when the switch is on and they are few enough
  // (`crowded` when they are not), each at its point, sized to the room each has (in data units).
  function layout(fig, lens) {
    const out = { rows: [], url: [], x: [], y: [], w: [], h: [], alpha: [], crowded: false };
    const rows = imagesOn() ? ep.pointsInView(fig, lens.in_view) : [];
    if (!rows) return Object.assign(out, { crowded: true });
    const d = ep.points().data, m = ep.mapOf(fig), xs = d[m.x], ys = d[m.y];
    const pictured = rows.filter((i) => ep.isImage(ep.image(i, d)));
    const width = fig.inner_width || 1, height = fig.inner_height || 1;
    const kx = width / ((fig.x_range.end - fig.x_range.start) || 1);
    const ky = height / ((fig.y_range.end - fig.y_range.start) || 1);
    const room = lens.room * Math.sqrt((width * height) / Math.max(1, pictured.length));
    const px = Math.max(lens.px[0], Math.min(lens.px[1], room));
    const selected = ep.points().selected.indices, chosen = selected.length ? new Uint8Array(ep.meta().n) : null;
    for (const i of selected) chosen[i] = 1;
    for (const i of pictured) {
      const uri = ep.image(i, d), size = ep.imageSize(uri) || [1, 1], long = Math.max(size[0], size[1]);
      out.rows.push(i);
      out.url.push(uri);
      out.x.push(xs[i]);
      out.y.push(ys[i]);
      out.w.push((px * size[0]) / long / kx);
      out.h.push((px * size[1]) / long / ky);
      out.alpha.push(chosen && !chosen[i] ? 0.25 : 1);  // a selection dims the others
    }
    return out;
  }

  function drawImages() {
    timer = 0;
    const lens = imageLens();
    if (!lens) return;
    let crowded = false;
    for (const fig of ep.state.figures) {
      const m = ep.mapOf(fig), source = m && m.images ? ep.model(m.images) : null;
      if (!source) continue;  // (the gear's map has no images)
      const shown = layout(fig, lens);
      crowded = crowded || shown.crowded;
      placed[m.algo] = shown;
      if (!(source.data.url || []).length && !shown.url.length) continue;  // (every change repaints the map)
      source.data = {
        [ep.names().index]: shown.rows, url: shown.url, x: shown.x, y: shown.y, w: shown.w, h: shown.h, alpha: shown.alpha,
      };
    }
    const note = document.getElementById("ep-images-note");  // hidden, not emptied: the controls keep their lines
    if (note) note.style.visibility = crowded ? "visible" : "hidden";
    document.documentElement.dataset.epImages = String(Object.values(placed).reduce((n, p) => n + p.rows.length, 0));
  }

  function scheduleImages(wait) {
    clearTimeout(timer);
    timer = setTimeout(drawImages, wait);
  }

  ep.imageAt = function (fig, x, y) {
    const m = ep.mapOf(fig), shown = m ? placed[m.algo] : null;
    if (!shown) return -1;
    for (let j = shown.rows.length - 1; j >= 0; j--) {  // the last drawn is on top
      if (Math.abs(x - shown.x[j]) <= shown.w[j] / 2 && Math.abs(y - shown.y[j]) <= shown.h[j] / 2) return shown.rows[j];
    }
    return -1;
  };

  function startImages() {
    if (!imageLens()) return;
    const box = document.getElementById("ep-images");
    if (box) {
      box.disabled = false;
      box.addEventListener("change", () => scheduleImages(0));
    }
    for (const fig of ep.state.figures) {
      for (const range of [fig.x_range, fig.y_range]) range.connect(range.change, () => scheduleImages(100));
    }
    const selected = ep.points().selected;
    selected.connect(selected.change, () => scheduleImages(0));
    ep.on("shown", () => scheduleImages(0));
    drawImages();
  }

  ep.on("tip", function (tip) {
    if (!lenses()) return;
    if (labelLens()) agreementLine(tip.i, tip.data, tip.add);
    trustLines(tip.i, tip.data, tip.add);
  });

  ep.on("ready", function () {
    fillSuspects();
    startImages();
  });
})(window.embproj);
