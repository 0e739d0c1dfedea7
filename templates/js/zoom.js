// The mouse wheel scrolls the page, as it does everywhere else: it zooms a map only once the map was clicked
// (until the pointer leaves it), or while Ctrl or ⌘ is held, as the note beside the controls says. Bokeh zooms
// on the wheel only while the toolbar's wheel-zoom tool is active, and its figures start with none active
// (figure.py), so this switches that tool: in the capture phase, before Bokeh sees the event.
(function (ep) {
  "use strict";
  let armed = null;  // the figure model whose wheel zooms after a click on it
  let views = null;

  // The element of each map's view, found once the document has rendered them.
  function figureElements() {
    if (views && views.size === ep.state.figures.length) return views;
    const roots = Bokeh.index instanceof Map ? [...Bokeh.index.values()] : Object.values(Bokeh.index);
    const queue = [...roots];
    views = new Map();
    while (queue.length) {
      const view = queue.shift();
      if (ep.state.figures.includes(view.model) && view.el) views.set(view.model, view.el);
      for (const child of view.child_views || []) queue.push(child);
    }
    return views;
  }

  // The map under an event: its element is on the event's path, shadow roots included.
  function figureOf(event) {
    const path = event.composedPath();
    for (const [fig, el] of figureElements()) if (path.includes(el)) return fig;
    return null;
  }

  function wheelTool(fig) { return fig.toolbar.tools.find((t) => t.type === "WheelZoomTool") || null; }

  function setZooming(fig, on) {
    const tool = wheelTool(fig);
    if (tool && tool.active !== on) tool.active = on;
  }

  function arm(fig) {
    if (armed === fig) return;
    if (armed) setZooming(armed, false);
    armed = fig;
    const note = document.getElementById("ep-zoom-note"), text = ep.meta().zoom;
    if (note) {
      note.textContent = fig ? text.armed : text.idle;
      note.dataset.armed = fig ? ep.mapOf(fig).algo : "";
    }
  }
  ep.zoomArmed = () => (armed ? ep.mapOf(armed).algo : null);

  ep.on("ready", function () {
    document.addEventListener("pointerdown", (e) => arm(figureOf(e)), true);
    document.addEventListener("pointermove", (e) => { if (armed && figureOf(e) !== armed) arm(null); }, true);
    document.addEventListener("wheel", function (e) {
      const fig = figureOf(e);
      if (fig) setZooming(fig, fig === armed || e.ctrlKey || e.metaKey);  // else Bokeh leaves it to the page
    }, { capture: true, passive: true });
  });
})(window.embproj);
