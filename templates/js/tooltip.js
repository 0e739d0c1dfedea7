// The tooltip: the nearest hovered point only, its image and its fields, drawn as DOM text next to the mouse.
(function (ep) {
  "use strict";
  const mouse = { x: 0, y: 0 };
  const track = (e) => { mouse.x = e.clientX; mouse.y = e.clientY; };
  document.addEventListener("pointermove", track, true);
  document.addEventListener("mousemove", track, true);
  const IMAGE_URI = /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/=]+$/;
  ep.isImage = (uri) => IMAGE_URI.test(uri);  // an image embproj encoded, and nothing else, goes into an <img>

  function tip() { return document.getElementById("ep-tooltip"); }

  function render(i) {
    const t = tip(), d = ep.points().data, m = ep.meta(), names = ep.names(), row = ep.column(names.row), fit = d[names.fit];
    t.replaceChildren();
    t.dataset.index = String(i);
    const img = ep.image(i, d);
    if (img && IMAGE_URI.test(img)) {
      const node = document.createElement("img");
      node.src = img;
      node.alt = "row " + row[i];
      node.addEventListener("load", () => { if (!t.hidden) place(); });  // taller now: kept on screen
      t.appendChild(node);
    }
    t.appendChild(ep.el("div", ep.label(i, d), "ep-title"));
    const table = ep.el("table");
    const add = (k, v) => { const tr = ep.el("tr"); tr.append(ep.el("th", k), ep.el("td", v)); table.appendChild(tr); };
    add("row", row[i]);
    if (fit) add("on the map", fit[i] ? "fitted" : "placed by the fitted model");
    m.fields.forEach((f, j) => add(f.name, ep.fieldValue(j, i, d)));
    ep.emit("tip", { i: i, data: d, add: add });  // what other parts say of the point (js/lenses.js)
    t.appendChild(table);
    if (m.more_fields) t.appendChild(ep.el("div", m.more_fields, "ep-muted"));  // "… and 56 more dimensions"
  }

  function place() {
    const t = tip(), pad = 14, w = t.offsetWidth, h = t.offsetHeight;
    let x = mouse.x + pad, y = mouse.y + pad;
    if (x + w > window.innerWidth) x = Math.max(0, mouse.x - pad - w);
    if (y + h > window.innerHeight) y = Math.max(0, mouse.y - pad - h);
    t.style.left = x + "px";
    t.style.top = y + "px";
  }

  ep.hover = function (cb, source, fig, xcol, ycol) {
    const indices = cb.index.indices, x = cb.geometry.x, y = cb.geometry.y, over = ep.imageAt(fig, x, y);
    ep.showTip(over >= 0 ? over : indices && indices.length ? ep.nearest(x, y, fig, xcol, ycol, indices) : -1);
  };

  // Point i's tooltip by the mouse, or none for -1.
  ep.showTip = function (i) {
    const t = tip();
    if (i < 0) { t.hidden = true; delete t.dataset.index; return; }
    if (t.dataset.index !== String(i)) render(i);
    t.hidden = false;
    place();
  };
})(window.embproj);
