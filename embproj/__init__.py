"""embproj: a table of embeddings → one self-contained HTML map (PCA, UMAP or t-SNE).

import embproj
embproj.report(df, algo="umap").save("report.html")
"""

from __future__ import annotations

from embproj.errors import EmbprojError, EmbprojWarning

__version__ = "0.1.0"
__all__ = ["EmbprojError", "EmbprojWarning", "Table", "compare", "report", "__version__"]


def __getattr__(name):
    if name == "Table":
        from embproj.api import Table

        return Table
    raise AttributeError(name)


def report(data=None, *, columns=None, **options):
    """Project `data` (a path, a pandas DataFrame, an Arrow table, rows with `columns`, an `embproj.Table` or a
    `wandb.Table`) and return a result with `.save(path)` and `_repr_html_()`. Keyword options are those of
    `embproj project` with underscores (see `Options`); the run's warnings are `EmbprojWarning`s."""
    from embproj.api import report as _report

    return _report(data, columns=columns, **options)


def compare(before=None, after=None, *, key=None, columns=None, **options):
    """Compare two embeddings of the same rows, `before` and `after` (paths or tables, as `report` takes), matched
    by `key`; or two vector columns of one table (`embedding="old", against="new"`). Returns the result `report`
    returns; `.summary.compare` holds the numbers (mean change, movers, per class)."""
    from embproj.api import compare as _compare

    return _compare(before, after, key=key, columns=columns, **options)
