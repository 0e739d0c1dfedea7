// embproj report: the tooltip for the nearest hovered point. Every value is set as text (textContent), and an
// image only as a data:image URI that embproj itself encoded, so nothing from the table can run as script.
window.embproj = (function () {
  "use strict";
  const mouse = { x: 0, y: 0 };
  const track = (e) => { mouse.x = e.clientX; mouse.y = e.clientY; };
  document.addEventListener("pointermove", track, true);
  document.addEventListener("mousemove", track, true);
  const IMAGE_URI = /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/=]+$/;

  function tip() { return document.getElementById("ep-tooltip"); }

  function nearest(cb, source, fig, xcol, ycol) {
    const indices = cb.index.indices;
    if (!indices || indices.length === 0) return -1;
    const g = cb.geometry, xs = source.data[xcol], ys = source.data[ycol];
    const kx = (fig.inner_width || 1) / ((fig.x_range.end - fig.x_range.start) || 1);
    const ky = (fig.inner_height || 1) / ((fig.y_range.end - fig.y_range.start) || 1);
    let best = -1, bestD = Infinity;
    for (const i of indices) {
      const dx = (xs[i] - g.x) * kx, dy = (ys[i] - g.y) * ky, d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function render(i, source, meta) {
    const t = tip(), d = source.data;
    t.replaceChildren();
    t.dataset.index = String(i);
    const img = d.img ? d.img[i] : "";
    if (img && IMAGE_URI.test(img)) {
      const node = document.createElement("img");
      node.src = img;
      node.alt = "row " + d.row[i];
      t.appendChild(node);
    }
    const title = meta.label >= 0 ? d["f" + meta.label][i] : "row " + d.row[i];
    t.appendChild(el("div", title, "ep-title"));
    const table = el("table");
    const add = (k, v) => { const tr = el("tr"); tr.append(el("th", k), el("td", v)); table.appendChild(tr); };
    add("row", d.row[i]);
    meta.fields.forEach((name, j) => add(name, d["f" + j][i]));
    t.appendChild(table);
  }

  function place() {
    const t = tip(), pad = 14, w = t.offsetWidth, h = t.offsetHeight;
    let x = mouse.x + pad, y = mouse.y + pad;
    if (x + w > window.innerWidth) x = Math.max(0, mouse.x - pad - w);
    if (y + h > window.innerHeight) y = Math.max(0, mouse.y - pad - h);
    t.style.left = x + "px";
    t.style.top = y + "px";
  }

  function hover(cb, source, fig, xcol, ycol, meta) {
    const i = nearest(cb, source, fig, xcol, ycol);
    const t = tip();
    if (i < 0) { t.hidden = true; delete t.dataset.index; return; }
    if (t.dataset.index !== String(i)) render(i, source, meta);
    t.hidden = false;
    place();
  }

  return { hover: hover, nearest: nearest };
})();
