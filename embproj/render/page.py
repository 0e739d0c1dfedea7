"""The page around the map: a Jinja template from `templates/`, BokehJS inlined, no network."""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from embproj.render.data import ReportData
from embproj.render.gear import NOTICE, VENDORED, WORKER

PACKAGE_DIR = Path(__file__).resolve().parent.parent
SURROGATE = re.compile("[\ud800-\udfff]")  # bytes that were not UTF-8, as Python keeps them from argv and names


def templates_dir() -> Path:
    """Installed wheels carry the templates inside the package; a source checkout has them at the top."""
    for candidate in (PACKAGE_DIR / "templates", PACKAGE_DIR.parent / "templates"):
        if (candidate / "report.html.j2").is_file():
            return candidate
    raise FileNotFoundError("embproj's templates/ folder is missing from this installation")


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["thousands"] = lambda n: f"{n:,}" if isinstance(n, int) else n
    return env


SCRIPTS = ("core.js", "tooltip.js", "colour.js", "search.js", "selection.js", "neighbours.js", "zoom.js", "clusters.js",
           "charts.js", "lod.js", "compare.js", "lenses.js")  # fmt: skip


def render_html(data: ReportData) -> str:
    from bokeh.document import Document
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    from embproj.fast.bokeh_ids import stable_ids
    from embproj.render.figure import build_layout
    from embproj.summary import manifest

    env = _environment()
    with stable_ids(_fingerprint(data)):
        layout, meta, ready = build_layout(data)
        doc = Document()
        doc.add_root(layout)
        doc.js_on_event("document_ready", ready)
        page = file_html(
            doc,
            resources=INLINE,
            title=data.title,
            template=env.get_template("report.html.j2"),
            suppress_callback_warning=True,  # a page has no Python callbacks: no walk over the models for them
            template_variables={
                "report_title": data.title,
                "summary": data.summary,
                "images": data.image_facts,
                "warnings": data.summary.warnings + ((data.budget_note,) if data.budget_note else ()),
                "meta": meta,
                "page_data": _script_json(meta),
                "neighbour_table": data.neighbours.text if data.neighbours is not None else "",  # base85: no "<"
                "neighbour_table_after": _after_table(data),
                "manifest": _script_json(manifest(data.summary)),
                "app_js": _assets(GEAR_SCRIPTS if data.gear is not None else ()),
                "app_css": (templates_dir() / "report.css").read_text(encoding="utf-8"),
                "gear": _gear(data.gear),
            },
        )
    return _writable(page)


def _after_table(data: ReportData) -> str:
    """A comparison's second neighbour table (AFTER's), as the first is sent; "" when there is none."""
    c = data.compare
    return c.after.text if c is not None and c.after is not None else ""


def _writable(page: str) -> str:
    """A title or file name from argv may hold bytes that are not UTF-8, which no page can carry: each becomes
    U+FFFD, the replacement character (not an escape: it may sit inside the page's JSON)."""
    return SURROGATE.sub("\ufffd", page) if SURROGATE.search(page) else page


def _assets(more: tuple[str, ...] = ()) -> str:
    """The page's script, in load order; each file extends window.embproj (see js/core.js)."""
    folder = templates_dir() / "js"
    return "\n".join((folder / name).read_text(encoding="utf-8") for name in SCRIPTS + more)


GEAR_SCRIPTS = ("gear.js",)  # only in a page with a gear: --page-sample 0 adds nothing


def _gear(sample) -> dict | None:
    """What the template puts in a page with a gear: its style, the worker's text and the sample (none of them
    can end the element that holds it)."""
    if sample is None:
        return None
    folder = templates_dir()
    worker = "\n".join((NOTICE, *((folder / name).read_text(encoding="utf-8") for name in (VENDORED, WORKER))))
    lowered = worker.lower()
    if "</script" in lowered or "<!--" in lowered:
        raise ValueError("the page's projector holds text that would end its script element")
    return {"css": (folder / "gear.css").read_text(encoding="utf-8"), "worker": worker, "sample": sample.text}


def _script_json(obj) -> str:
    """JSON that is safe inside <script>: no "<" can close the element."""
    from embproj.text.finite import finite

    text = json.dumps(finite(obj), ensure_ascii=False, sort_keys=True, default=str, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _fingerprint(data: ReportData) -> str:
    digest = hashlib.sha256()
    for p in data.projections:
        digest.update(p.xy.tobytes())
    digest.update(data.row_ids.tobytes())
    return digest.hexdigest()[:12]
