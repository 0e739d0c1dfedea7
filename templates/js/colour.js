// Colour: the <select> switches the maps among the colour choices (each its own mapper, made by embproj);
// the legend (categories) or the colour bar (numbers) follows. Clicking a legend entry hides that class: Bokeh
// greys the entry (its swatch renderer is hidden) and we drop the class's points through the "shown" filter.
(function (ep) {
  "use strict";
  let switching = false;

  function choice() { return ep.meta().colors[ep.state.color] || null; }

  function setFill(renderer, spec) {
    for (const g of [renderer.glyph, renderer.selection_glyph, renderer.nonselection_glyph, renderer.hover_glyph,
      renderer.muted_glyph]) {
      if (g && typeof g === "object" && "fill_color" in g) g.fill_color = spec;
    }
  }

  function swatches(j) { return (ep.state.items[j] || []).map((item) => item.renderers[0]); }

  // The classes of the current colour whose legend entry is switched off (their codes).
  ep.hiddenClasses = function () {
    const c = choice();
    if (!c || c.kind !== "categorical") return [];
    return swatches(ep.state.color).flatMap((r, k) => (r.visible ? [] : [k]));
  };

  function applyShown() {
    const c = choice(), hidden = new Set(ep.hiddenClasses()), shown = ep.model(ep.names().shown);
    if (!hidden.size) {
      if (shown.booleans !== null) shown.booleans = null;
    } else {
      const codes = ep.classCodes(c), mask = new Array(codes.length);
      for (let i = 0; i < codes.length; i++) mask[i] = !hidden.has(codes[i]);
      shown.booleans = mask;
    }
    const note = document.getElementById("ep-hidden");
    if (note) {
      const names = [...hidden].map((k) => c.factors[k]);
      note.textContent = names.length ? "hidden: " + names.join(", ") : "";
      note.title = "click a legend entry again to show its points";
    }
    ep.emit("shown");
  }

  ep.legendChanged = function () {
    if (!switching) applyShown();
  };

  ep.setColor = function (j) {
    const c = ep.meta().colors[j];
    if (!c) return;
    const mapper = ep.state.mappers[j];
    switching = true;
    try {
      for (const k in ep.state.items) for (const r of swatches(k)) r.visible = true;
      ep.mainRenderers().forEach((r, n) => {
        setFill(r, { field: ep.colourKey(c, ep.mapOf(ep.state.figures[n]).algo), transform: mapper });
      });
      const legend = ep.model(ep.names().legend), bar = ep.model(ep.names().colorbar);
      if (legend) {
        if (c.kind === "categorical") legend.items = ep.state.items[j];
        legend.visible = c.kind === "categorical";
      }
      if (bar) {
        if (c.kind === "continuous") { bar.color_mapper = mapper; bar.title = c.name; }
        bar.visible = c.kind === "continuous";
      }
      ep.state.color = j;
    } finally {
      switching = false;
    }
    const select = document.getElementById("ep-color");
    if (select && select.value !== String(j)) select.value = String(j);
    const fact = document.querySelector("#ep-colour-fact dd");  // the header says what the map shows
    if (fact) fact.textContent = c.fact;
    applyShown();
  };

  ep.on("ready", function () {
    ep.state.color = 0;
    const select = document.getElementById("ep-color");
    if (!select) return;
    select.disabled = false;
    select.addEventListener("change", () => ep.setColor(Number(select.value)));
  });
})(window.embproj);
