"""Browser-side pieces shared by the tests (pagetools), docs/screenshot.py and benchmarks/report_size.py:
finding Chromium and the JS that locates the map's points on screen. No pytest here, so scripts can use it."""

from __future__ import annotations

import os
import shutil

# Finds a figure's view by its model name ("map_pca"), walking from the root views through child views, so it
# works for one figure and for a row of them; `clientXY` turns data coordinates into page (client) pixels.
FIGURE_VIEW_JS = """
const figureView = (name) => {
  const roots = Bokeh.index instanceof Map ? [...Bokeh.index.values()] : Object.values(Bokeh.index);
  const queue = [...roots];
  while (queue.length) {
    const view = queue.shift();
    if (view.model && view.model.name === name && view.frame && view.canvas_view) return view;
    for (const child of (view.child_views || [])) queue.push(child);
  }
  throw new Error("no figure view named " + name);
};
const points = () => {
  const source = Bokeh.documents[0].get_model_by_name("points");
  if (!source) throw new Error("no ColumnDataSource named points");
  return source;
};
const clientXY = (view, xs, ys) => {
  const box = view.canvas_view.el.getBoundingClientRect();
  const out = new Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    out[i] = [box.left + view.frame.x_scale.compute(xs[i]), box.top + view.frame.y_scale.compute(ys[i])];
  }
  return out;
};
"""

# `([algo]) => [[x, y], …]`: the page position of every point on `algo`'s map, in data-source order.
POSITIONS_JS = (
    "([algo]) => {"
    + FIGURE_VIEW_JS
    + "const d = points().data;"
    + "return clientXY(figureView('map_' + algo), d['x_' + algo], d['y_' + algo]); }"
)


def find_chromium() -> str | None:
    """The system Chromium: EMBPROJ_CHROMIUM, else `chromium` or `chromium-browser` on PATH."""
    return os.environ.get("EMBPROJ_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
