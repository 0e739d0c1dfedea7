"""The page around the map: a Jinja template from `templates/`, BokehJS inlined, no network."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .data import ReportData

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def templates_dir() -> Path:
    """Installed wheels carry the templates inside the package; a source checkout has them at the top level."""
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


def render_html(data: ReportData) -> str:
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    from .figure import build_layout

    env = _environment()
    layout, meta = build_layout(data)
    assets = {name: (templates_dir() / name).read_text(encoding="utf-8") for name in ("report.js", "report.css")}
    return file_html(
        layout,
        resources=INLINE,
        title=data.title,
        template=env.get_template("report.html.j2"),
        template_variables={
            "report_title": data.title,
            "summary": data.summary,
            "legend": meta,
            "app_js": assets["report.js"],
            "app_css": assets["report.css"],
        },
    )
