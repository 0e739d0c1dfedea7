"""Headless Chromium for the report tests: one browser per test session, a fresh context and page per test,
and a `ReportPage` that reads the report the way a user meets it: the map's points where they are drawn, the
tooltip as shown, every network request attempted and every console error.

Use it from a test module with

    pytest_plugins = ["pagetools"]          # the `chromium` and `open_report` fixtures

    @pytest.mark.browser
    def test_something(open_report, report_path):
        page = open_report(report_path)
        tip = page.hover(0, "pca")
        ...
        page.assert_quiet()                 # no network request, no console error
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from browserjs import FIGURE_VIEW_JS

from conftest import chromium_path

# Playwright adds --headless, --user-data-dir=<a fresh temporary profile, removed on close> and
# --enable-unsafe-swiftshader (WebGL without a GPU). --headless=new makes Chromium 112–131 use the same
# headless mode as 132+, where plain --headless already means it; the other flags keep the browser from
# calling home.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
VIEWPORT = {"width": 1400, "height": 1000}  # the 640 px map fits below the header without scrolling
WAIT_MS = 10_000
OWN_URL_SCHEMES = ("data:", "blob:")


_TOOLTIP = """
() => {
  const t = document.getElementById("ep-tooltip");
  if (!t) return null;
  const r = t.getBoundingClientRect(), img = t.querySelector("img");
  const cells = [...t.querySelectorAll("tr")].map((tr) => [
    tr.querySelector("th") ? tr.querySelector("th").textContent : "",
    tr.querySelector("td") ? tr.querySelector("td").textContent : "",
  ]);
  const title = t.querySelector(".ep-title");
  return {
    hidden: t.hidden,
    display: getComputedStyle(t).display,
    index: t.dataset.index === undefined ? null : t.dataset.index,
    text: t.innerText,
    text_content: t.textContent,
    title: title ? title.textContent : null,
    rows: cells,
    images: t.querySelectorAll("img").length,
    img_src: img ? img.getAttribute("src") : null,
    img_size: img && img.complete ? [img.naturalWidth, img.naturalHeight] : null,
    rect: [r.left, r.top, r.width, r.height],
  };
}
"""

# In an `on_figure` body: `host`, the view of the figure that holds the map's legend (the "keys" figure beside
# the maps, or the map itself), `legend`, the Legend model or undefined, and `lv`, its view.
LEGEND_VIEW_JS = """
  const legendOf = (v) => {
    const f = v.model;
    return [...f.left, ...f.right, ...f.above, ...f.below, ...f.center].find((m) => m.type === "Legend");
  };
  let host = view, legend = legendOf(view);
  if (!legend) {
    try { host = figureView("keys"); legend = legendOf(host); } catch (e) { legend = undefined; }
  }
  const lv = legend ? host.views.find_one(legend) : null;
"""

_TWO_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"

_SETTLED = """
([want]) => {
  const t = document.getElementById("ep-tooltip");
  if (!t) return false;
  if (want === "hidden") return t.hidden;
  const img = t.querySelector("img");
  return !t.hidden && t.dataset.index !== undefined && (!img || img.complete);
}
"""


# -- the browser ---------------------------------------------------------------------------------------------


class _Shared:
    playwright = None
    browser = None
    tab = None  # (context, page): the tab the reports are opened in, one after the other
    tab_in_use = False


def _tab(browser):
    """The session's one tab, or a new one when that tab holds another report (a test with two open) or died.

    Navigating one tab from report to report costs Chromium ~1.5 CPU-seconds a report; a new context and tab for
    each costs ~3, most of it the browser's window furniture (Chromium 156 headless makes an omnibox popup WebUI
    for every window). The reports keep nothing between documents: no storage, cookies or service workers."""
    if _Shared.tab is not None and not _Shared.tab_in_use and not _Shared.tab[1].is_closed():
        _Shared.tab_in_use = True
        return (*_Shared.tab, True)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    if _Shared.tab is None or _Shared.tab[1].is_closed():
        _Shared.tab, _Shared.tab_in_use = (context, page), True
        return context, page, True
    return context, page, False


def launch_chromium():
    """The session's headless Chromium, launched on first use (skips the test when there is none; conftest
    turns that into a failure under CI=true)."""
    if _Shared.browser is not None:
        if _Shared.browser.is_connected():
            return _Shared.browser
        close_chromium()  # it crashed: start over
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium found (install chromium or set EMBPROJ_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=list(CHROMIUM_ARGS))
    except Exception:
        playwright.stop()
        raise
    _Shared.playwright, _Shared.browser = playwright, browser
    return browser


def close_chromium() -> None:
    browser, playwright = _Shared.browser, _Shared.playwright
    _Shared.browser = _Shared.playwright = _Shared.tab = None
    _Shared.tab_in_use = False
    try:
        if browser is not None:
            browser.close()
    finally:
        if playwright is not None:
            playwright.stop()


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole session; the reports are opened one after the other in one tab."""
    browser = launch_chromium()
    yield browser
    close_chromium()


@pytest.fixture
def open_report(chromium):
    """`open_report(path)` → a `ReportPage`, closed after the test."""
    opened: list[ReportPage] = []

    def open_(path: Path | str, viewport: dict | None = None) -> ReportPage:
        page = ReportPage.open(chromium, path, viewport=viewport)
        opened.append(page)
        return page

    yield open_
    for page in opened:
        page.close()


# -- what the user sees --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tooltip:
    """The #ep-tooltip element as shown: `visible` means laid out on screen, not only un-hidden."""

    hidden: bool
    visible: bool
    index: int | None  # data-index: the row of the "points" ColumnDataSource it shows
    text: str  # innerText, as a user reads it
    title: str | None
    rows: tuple[tuple[str, str], ...]  # the field table, (name, value) per row, in order
    images: int
    img_src: str | None
    img_size: tuple[int, int] | None  # natural size once the browser decoded it
    rect: tuple[float, float, float, float]  # client left, top, width, height
    text_content: str = ""

    @classmethod
    def from_js(cls, state: dict) -> Tooltip:
        index = state["index"]
        width, height = state["rect"][2:]
        shown = not state["hidden"] and state["display"] != "none" and width > 0 and height > 0
        return cls(
            hidden=state["hidden"],
            visible=shown,
            index=int(index) if index not in (None, "") else None,
            text=state["text"],
            title=state["title"],
            rows=tuple((k, v) for k, v in state["rows"]),
            images=state["images"],
            img_src=state["img_src"],
            img_size=tuple(state["img_size"]) if state["img_size"] else None,
            rect=tuple(state["rect"]),
            text_content=state["text_content"],
        )

    @property
    def fields(self) -> dict[str, str]:
        return dict(self.rows)

    def image(self):
        """The tooltip image decoded by Pillow (only a data:image/…;base64 URI is accepted)."""
        from PIL import Image

        match = re.fullmatch(r"data:image/(png|jpeg|webp|gif);base64,([A-Za-z0-9+/=]+)", self.img_src or "")
        assert match, f"tooltip image is not a base64 data:image URI: {(self.img_src or '')[:80]!r}"
        image = Image.open(io.BytesIO(base64.b64decode(match.group(2), validate=True)))
        image.load()
        return image


class ReportPage:
    """One report opened in its own browser context, with a record of foreign requests and console errors."""

    def __init__(self, context, page, url: str, shared: bool = False):
        self.context, self.page, self.url, self.shared = context, page, url, shared
        self.requests: list[str] = []  # every URL that is not the report itself or a data:/blob: URL
        self.errors: list[str] = []  # console errors and uncaught page errors
        self._listeners = [
            (context, "request", self._on_request),
            (page, "websocket", lambda ws: self.requests.append(ws.url)),
            (page, "console", self._on_console),
            (page, "pageerror", lambda err: self.errors.append(f"pageerror: {err}")),
            (page, "popup", lambda popup: self.requests.append(f"popup: {popup.url}")),
        ]

    @classmethod
    def open(cls, browser, path: Path | str, viewport: dict | None = None) -> ReportPage:
        url = Path(path).resolve().as_uri()
        context, page, shared = _tab(browser)
        page.set_viewport_size(viewport or VIEWPORT)
        report = cls(context, page, url, shared)
        for target, event, listener in report._listeners:
            target.on(event, listener)
        page.goto(url, wait_until="load")
        report.wait_ready()
        return report

    def _on_request(self, request) -> None:
        url = request.url
        if url.split("#")[0] != self.url and not url.startswith(OWN_URL_SCHEMES):
            self.requests.append(url)

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console.error: {message.text}")

    def wait_ready(self) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(
                "() => !!(window.Bokeh && Object.keys(Bokeh.index).length && Bokeh.documents.length)",
                timeout=WAIT_MS,
            )
        except PlaywrightTimeout:
            raise AssertionError(
                f"the report's map never appeared ({WAIT_MS / 1000:.0f} s); errors: {self.errors or 'none'}"
            ) from None

    def close(self) -> None:
        """Leaves the shared tab blank, the mouse in its corner and no key held, for the next report."""
        if not self.shared:
            self.context.close()
            return
        try:
            for target, event, listener in self._listeners:
                target.remove_listener(event, listener)
            self.page.goto("about:blank")
            for key in ("Control", "Shift", "Alt", "Meta"):
                self.page.keyboard.up(key)
            self.page.mouse.move(0, 0)
            self.page.mouse.up()
        except Exception:
            _Shared.tab = None  # the tab died with its test: the next report gets a new one
            with contextlib.suppress(Exception):
                self.context.close()
        finally:
            _Shared.tab_in_use = False

    def assert_quiet(self) -> None:
        """What a user would notice in the devtools: no network request attempted, no error logged."""
        assert self.requests == [], f"the report tried to reach the network: {self.requests}"
        assert self.errors == [], f"the page logged errors: {self.errors}"

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    # -- the map --------------------------------------------------------------------------------------------

    def column(self, name: str) -> list:
        """One column of the "points" ColumnDataSource, as the page reads it (an integer column sent packed:
        rebuilt by the page, js/core.js's `ep.column`)."""
        return self.js("([name]) => Array.from(window.embproj.column(name))", [name])

    def on_figure(self, algo: str, body: str, *args):
        """Run JS `body` with `view` bound to the view of `algo`'s figure (the model named "map_<algo>"),
        `points()` giving the "points" ColumnDataSource, `clientXY(view, xs, ys)` and `args`; returns its
        result."""
        return self.on_named_figure(f"map_{algo}", body, *args)

    def on_named_figure(self, name: str, body: str, *args):
        """`on_figure` for any figure, by its model name (a chart: "chart_0")."""
        script = f"([name, args]) => {{ {FIGURE_VIEW_JS}\nconst view = figureView(name);\n{body}\n}}"
        return self.js(script, [name, list(args)])

    def point_positions(self, algo: str) -> list[tuple[float, float]]:
        """Client (page) x, y of every point on the map of `algo`, in ColumnDataSource order."""
        xy = self.on_figure(
            algo,
            "const d = points().data; return clientXY(view, d[args[0]], d[args[1]]);",
            f"x_{algo}",
            f"y_{algo}",
        )
        return [tuple(p) for p in xy]

    def point_position(self, i: int, algo: str) -> tuple[float, float]:
        """Client x, y of point `i` on the map of `algo`, scrolled into the viewport first if need be."""
        x, y = self._position(i, algo)
        size = self.page.viewport_size
        if not (0 <= x < size["width"] and 0 <= y < size["height"]):
            self.on_figure(algo, "view.el.scrollIntoView({block: 'center'});")
            x, y = self._position(i, algo)
        return x, y

    def _position(self, i: int, algo: str) -> tuple[float, float]:
        body = """const d = points().data, i = args[2];
          return clientXY(view, [d[args[0]][i]], [d[args[1]][i]])[0];"""
        return tuple(self.on_figure(algo, body, f"x_{algo}", f"y_{algo}", i))

    def frame_rect(self, algo: str) -> tuple[float, float, float, float]:
        """Client left, top, width, height of the plotting area (inside axes, legend and toolbar)."""
        body = """
          const box = view.canvas_view.el.getBoundingClientRect(), f = view.frame.bbox;
          return [box.left + f.x0, box.top + f.y0, f.width, f.height];"""
        return tuple(self.on_figure(algo, body))

    def canvases(self, algo: str) -> list[tuple[int, int]]:
        """Width, height of every <canvas> inside the figure's view, shadow roots included."""
        body = """
          const found = [];
          const walk = (root) => {
            for (const el of root.querySelectorAll("*")) {
              if (el.tagName === "CANVAS") found.push([el.width, el.height]);
              if (el.shadowRoot) walk(el.shadowRoot);
            }
          };
          walk(view.el.shadowRoot || view.el);
          return found;"""
        return [tuple(c) for c in self.on_figure(algo, body)]

    def legend(self, algo: str) -> dict | None:
        """The legend of `algo`'s map as drawn (beside the maps, in the "keys" figure): item labels and its box
        on screen."""
        body = (
            LEGEND_VIEW_JS
            + """
          if (!legend) return null;
          const label = (l) => (l !== null && typeof l === "object" && "value" in l) ? l.value : l;
          const box = host.canvas_view.el.getBoundingClientRect();
          return {
            labels: legend.items.map((item) => label(item.label)),
            visible: legend.visible,
            rect: lv ? [box.left + lv.bbox.x0, box.top + lv.bbox.y0, lv.bbox.width, lv.bbox.height] : null,
          };"""
        )
        return self.on_figure(algo, body)

    def fill_colors(self, algo: str) -> dict:
        """The scatter's colour mapping: {"palette": [...], "factors": [...] or None, "alpha": a}."""
        body = """
          const glyph = view.model.renderers[0].glyph, spec = glyph.fill_color, alpha = glyph.fill_alpha;
          const mapper = spec && spec.transform;
          return {
            palette: mapper ? Array.from(mapper.palette) : [typeof spec === "object" ? spec.value : spec],
            factors: mapper && mapper.factors ? Array.from(mapper.factors) : null,
            alpha: typeof alpha === "object" ? alpha.value : alpha,
          };"""
        return self.on_figure(algo, body)

    def screenshot(self, rect: tuple[float, float, float, float]):
        """The pixels a user sees in `rect` (client left, top, width, height), as an RGB Pillow image."""
        from PIL import Image

        left, top, width, height = rect
        png = self.page.screenshot(clip={"x": left, "y": top, "width": width, "height": height})
        return Image.open(io.BytesIO(png)).convert("RGB")

    # -- the mouse and the tooltip --------------------------------------------------------------------------

    def tooltip(self) -> Tooltip:
        state = self.js(_TOOLTIP)
        assert state is not None, "the page has no #ep-tooltip element"
        return Tooltip.from_js(state)

    def hover(self, i: int, algo: str) -> Tooltip:
        """Move the mouse off the map, then onto point `i` of `algo`'s map; the tooltip once it shows (or,
        if it never does within the wait, as it is)."""
        self.move_off()
        x, y = self.point_position(i, algo)
        return self.hover_at(x, y)

    def hover_at(self, x: float, y: float, expect: str = "shown") -> Tooltip:
        self.page.mouse.move(x, y)
        self._settle(expect)
        return self.tooltip()

    def move_off(self) -> Tooltip:
        """Move the mouse to the page's top-left corner (the header, outside every map)."""
        self.page.mouse.move(2, 2)
        self._settle("hidden")
        return self.tooltip()

    def _settle(self, want: str) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.wait_for_function(_SETTLED, arg=[want], timeout=WAIT_MS, polling="raf")
        except PlaywrightTimeout:
            pass  # the caller asserts on the tooltip's state and says what it saw
        self.page.evaluate(_TWO_FRAMES)
