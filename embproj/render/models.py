"""The one Bokeh model of our own: a colour mapper for categories sent as integer codes.

Bokeh's CategoricalColorMapper matches each value against its factors, so the data would have to carry the
class names as strings, about 12 bytes a point. This one takes code k to palette[k] (factors[k] names it, for
the legend and for tests), so the data is one int8 a point. Its BokehJS half is in templates/js/core.js,
registered under the same name before the document loads; nothing is compiled. Import this module only when
rendering: it imports Bokeh."""

from __future__ import annotations

from bokeh.core.properties import Int, List
from bokeh.models import CategoricalColorMapper


class CodeColorMapper(CategoricalColorMapper):
    """Integer code k → palette[k]; codes outside the palette get nan_color. With `factor_of`, code k →
    palette[factor_of[k]]: the column holds another's codes (each point's cluster, render/encode.py)."""

    factor_of = List(Int, default=[])

    __view_module__ = "embproj"  # no extension bundle to look for: the implementation is inlined by page.py
    __qualified_model__ = "embproj.CodeColorMapper"
