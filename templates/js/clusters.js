// Clusters: their labels on every map, the cluster table, and the density contours' switch.
// A label is text in data coordinates (Bokeh draws it, so it stays on its cluster as the map zooms and pans);
// this file decides which labels show: biggest cluster first, a label shows only where its box, as drawn, meets
// no bigger cluster's shown label and lies inside the map. Run again whenever a map's ranges or size change, so
// zooming in reveals the smaller clusters' labels. The cluster table lists every cluster (label, size, purity)
// and a click on a row selects the cluster's points.
(function (ep) {
  "use strict";
  let pending = false, measure = null;
  ep.labelBoxes = {};  // algo → [{k, box: [left, top, right, bottom]}] in the map's frame pixels, as shown

  function textWidth(text) {
    const font = ep.meta().label_font;
    if (!measure) {
      measure = document.createElement("canvas").getContext("2d");
      measure.font = font.font;
    }
    return measure.measureText(text).width;
  }

  function placeOn(fig) {
    const names = ep.mapOf(fig), algo = names.algo, labels = ep.model(names.labels);
    const shown = ep.model(names.labels_shown);
    if (!labels || !shown) return;
    const d = labels.data, font = ep.meta().label_font, pad = font.padding + 1;
    const width = fig.inner_width, height = fig.inner_height, xr = fig.x_range, yr = fig.y_range;
    const boxes = [], keep = [];
    if (width > 0 && height > 0) {
      const h = parseFloat(font.font.split(" ")[1]) + 2 * pad;
      for (let k = 0; k < d.x.length; k++) {  // biggest cluster first: the order structure/clusters.py gave
        const sx = (d.x[k] - xr.start) / (xr.end - xr.start) * width;
        const sy = (yr.end - d.y[k]) / (yr.end - yr.start) * height;
        const w = textWidth(d.text[k]) + 2 * pad;
        const box = [sx - w / 2, sy - h / 2, sx + w / 2, sy + h / 2];
        if (box[0] < 0 || box[1] < 0 || box[2] > width || box[3] > height) continue;
        if (boxes.some((b) => box[0] < b.box[2] && b.box[0] < box[2] && box[1] < b.box[3] && b.box[1] < box[3])) continue;
        boxes.push({ k: k, box: box });
        keep.push(k);
      }
    }
    ep.labelBoxes[algo] = boxes;
    const now = Array.from(shown.indices);
    if (now.length !== keep.length || now.some((k, n) => k !== keep[n])) shown.indices = keep;
  }

  ep.placeLabels = function () {
    if (pending || !ep.state.ready) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      for (const fig of ep.state.figures) placeOn(fig);
    });
  };

  // The rows of cluster k (-1: the noise, whose code is the last), in point order.
  ep.clusterRows = function (k) {
    const c = ep.meta().clusters, ids = ep.points().data[c.key], rows = [], code = k < 0 ? c.labels.length : k;
    for (let i = 0; i < ids.length; i++) if (ids[i] === code) rows.push(i);
    return rows;
  };

  ep.selectCluster = function (k) {
    ep.points().selected.indices = ep.clusterRows(k);
  };

  function swatch(label) {
    const m = ep.meta(), c = m.colors.find((choice) => choice.name === m.clusters.column);
    const at = c ? c.factors.indexOf(label) : -1;
    const dot = ep.el("span", "", "ep-swatch");
    if (at >= 0) dot.style.background = c.palette[at];
    return dot;
  }

  function percent(share) { return share === null ? "" : Math.round(share * 1000) / 10 + "%"; }

  function tableRow(k, label, size, purity) {
    const tr = ep.el("tr");
    tr.dataset.cluster = String(k);
    tr.tabIndex = 0;
    const name = ep.el("td");
    name.append(swatch(label), ep.el("span", label));
    tr.append(name, ep.el("td", ep.count(size), "ep-number"), ep.el("td", percent(purity), "ep-number"));
    tr.addEventListener("click", () => ep.selectCluster(k));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); ep.selectCluster(k); } });
    return tr;
  }

  function fillTable() {
    const c = ep.meta().clusters, table = document.getElementById("ep-cluster-table");
    if (!c || !table) return;
    const head = ep.el("tr");
    for (const name of ["cluster", "points", "purity"]) head.appendChild(ep.el("th", name));
    const thead = ep.el("thead"), body = ep.el("tbody");
    thead.appendChild(head);
    c.labels.forEach((label, k) => body.appendChild(tableRow(k, label, c.sizes[k], c.purity[k])));
    if (c.noise) body.appendChild(tableRow(-1, "noise", c.noise, null));
    table.replaceChildren(thead, body);
  }

  function densitySwitch() {
    const box = document.getElementById("ep-density");
    if (!box) return;
    const apply = () => {
      for (const fig of ep.state.figures) {
        const layer = ep.model(ep.mapOf(fig).contours);  // (its lines: see render/clusters.py)
        if (layer && layer.line_renderer.visible !== box.checked) layer.line_renderer.visible = box.checked;
      }
    };
    box.disabled = false;
    box.addEventListener("change", apply);
    apply();
  }

  ep.on("ready", function () {
    fillTable();
    densitySwitch();
    ep.placeLabels();
  });
})(window.embproj);
