"""Stage 6, report: projections + the sampled rows → one self-contained HTML page (Bokeh inlined, Jinja)."""

from .data import ReportData
from .page import render_html

__all__ = ["ReportData", "render_html"]
