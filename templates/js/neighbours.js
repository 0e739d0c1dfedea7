// Neighbours: a click on a point rings its k nearest neighbours in the original space (computed by embproj when
// the report was made, exact, sent as an int32 table) on every map, and says how many of them are also among its
// k nearest on each map, i.e. whether the map keeps its true neighbours together.
(function (ep) {
  "use strict";
  const RADIUS = 12;  // pixels: a click farther than this from every point clears the neighbours

  // The k points nearest to point i on one map (data coordinates; ties by index), as a Set.
  function mapNeighbours(i, k, xs, ys) {
    const best = [];  // [distance², index], sorted, at most k
    const x = xs[i], y = ys[i];
    for (let j = 0; j < xs.length; j++) {
      if (j === i) continue;
      const dx = xs[j] - x, dy = ys[j] - y, d = dx * dx + dy * dy;
      if (best.length === k && d >= best[k - 1][0]) continue;
      let at = best.length;
      while (at > 0 && best[at - 1][0] > d) at--;
      best.splice(at, 0, [d, j]);
      if (best.length > k) best.pop();
    }
    return new Set(best.map((b) => b[1]));
  }

  ep.neighboursOf = function (i) {
    const nb = ep.state.neighbours, info = ep.meta().neighbours;
    if (!nb || !info) return null;
    const k = info.k, nn = nb.data.nn, out = [];  // (Bokeh's typed arrays do not slice like plain ones)
    for (let j = i * k; j < (i + 1) * k; j++) out.push(nn[j]);
    return out;
  };

  ep.clearNeighbours = function () {
    ep.model("nn_hits").indices = [];
    ep.model("nn_origin").indices = [];
    const out = document.getElementById("ep-neighbours");
    if (!out) return;
    out.replaceChildren(ep.el("span", out.dataset.hint || ""));
    delete out.dataset.index;
    delete out.dataset.kept;
  };

  ep.showNeighbours = function (i) {
    const m = ep.meta(), d = ep.points().data, out = document.getElementById("ep-neighbours");
    const near = ep.neighboursOf(i);
    ep.model("nn_origin").indices = [i];
    ep.model("nn_hits").indices = near || [];
    out.replaceChildren();
    out.dataset.index = String(i);
    out.appendChild(ep.el("strong", ep.title(i, d)));
    if (!near) {
      out.appendChild(ep.el("span", ` · ${m.neighbours_note || "this report has no neighbour table"}`));
      return;
    }
    const k = near.length, kept = [];
    out.appendChild(ep.el("span", ` · of its ${k} nearest neighbours in the original space (ringed), ` +
      `how many are also among its ${k} nearest on the map: `));
    m.algos.forEach((a, n) => {
      const onMap = mapNeighbours(i, k, d["x_" + a.algo], d["y_" + a.algo]);
      kept.push(near.filter((j) => onMap.has(j)).length);
      out.appendChild(ep.el("span", `${n ? " · " : ""}${a.name} ${kept[n]} of ${k}`, "ep-kept"));
    });
    out.dataset.kept = kept.join(",");
    const list = ep.el("ol", undefined, "ep-neighbour-list");
    for (const j of near) {
      const li = ep.el("li", ep.title(j, d));
      li.dataset.index = String(j);
      list.appendChild(li);
    }
    out.appendChild(list);
  };

  ep.tap = function (event, fig, xcol, ycol) {
    if (!ep.state.ready) return;
    const i = ep.nearest(event.x, event.y, fig, xcol, ycol, undefined, RADIUS);
    if (i < 0) ep.clearNeighbours();
    else ep.showNeighbours(i);
  };

  ep.on("ready", function () {
    const out = document.getElementById("ep-neighbours");
    if (out) out.dataset.hint = out.textContent;
  });
})(window.embproj);
