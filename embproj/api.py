"""The Python way in: any table a user holds → the same pipeline as the CLI, in Python's words: errors name
keywords (`algo="pca"`, not `--algo pca`), the run's warnings are Python warnings, and `Table` has W&B's methods.
A `wandb.Table` is read through its public attributes (`columns`, `data`, and each `wandb.Image` cell's `image`),
so wandb is never imported here."""

from __future__ import annotations

import inspect
import io
import os
import warnings
from pathlib import Path

from embproj.errors import EmbprojWarning, OptionError
from embproj.keywords import from_keywords
from embproj.options import python_names
from embproj.pipeline import Reporter
from embproj.text.words import closest, guessed, listing

PACKAGE = str(Path(__file__).resolve().parent) + os.sep
PLAIN = (str, bytes, bytearray, int, float, bool, list, tuple, dict)  # cells taken as they are


def report(data, *, columns=None, **options):
    """A report of `data` (a path, a pandas DataFrame, an Arrow table, rows with `columns=`, a list of dicts, a
    `Table` or a `wandb.Table`), with the CLI's options as keywords (`algo="umap"`, `max_points=10_000`). Writes
    nothing unless `output=` is given; `.save(path)` writes it later. A table's report is titled "DataFrame,
    3 rows" (its kind and size) unless `title=` says otherwise."""
    from embproj.pipeline import run
    from embproj.read.base import from_table

    with python_names():
        opts = from_keywords(**options)
        if isinstance(data, (str, Path)):
            return run(opts.with_(data=Path(data)), reporter=PythonWarnings())
        table, kind = _to_arrow(data, columns)
        opts = opts if opts.title else opts.with_(title=f"{kind}, {table.num_rows:,} rows")
        return run(opts, source=from_table(table, name=kind), reporter=PythonWarnings())


def compare(before, after=None, *, key=None, columns=None, **options):
    """Compare two embeddings of the same rows: `before` and `after` (each a path or any table `report` takes),
    matched by `key` (a column in both; default: one of unique identifiers in both, else the row order), or two
    vector columns of one table (`after=None`, `embedding="old", against="new"`). Returns the result `report`
    returns, whose `.summary.compare` holds the numbers (`mean_change`, `movers`, …); `max_change=` is the
    command line's exit code and changes nothing here. Writes nothing unless `output=` is given."""
    from embproj.comparison.run import compare as run_compare
    from embproj.read.base import from_table

    with python_names():
        opts = from_keywords("compare", key=key, **options)
        sources = {}
        for name, data in (("data", before), ("after", after)):
            if isinstance(data, (str, Path)):
                opts = opts.with_(**{name: Path(data)})
            elif data is not None:
                table, kind = _to_arrow(data, columns)
                side = "BEFORE" if name == "data" else "AFTER"
                sources[name] = from_table(table, name=f"{side} {kind}")
                if not opts.title and name == "data":
                    opts = opts.with_(title=f"{kind}, {table.num_rows:,} rows: BEFORE → AFTER")
        return run_compare(opts, sources.get("data"), sources.get("after"), reporter=PythonWarnings())


class PythonWarnings(Reporter):
    """The run's warnings (rows dropped, a parameter lowered, a map left out) as `EmbprojWarning`s that point at
    the caller's line; everything else silent."""

    def warn(self, message: str) -> None:
        warnings.warn(message, EmbprojWarning, stacklevel=_outside_embproj())


def _outside_embproj() -> int:
    """The `stacklevel` of the nearest frame outside this package, counted from the caller of warnings.warn
    (however deep in the pipeline the warning was found)."""
    frame, level = inspect.currentframe(), 0
    frame = frame.f_back if frame else None  # PythonWarnings.warn: stacklevel 1
    while frame is not None and frame.f_back is not None and frame.f_code.co_filename.startswith(PACKAGE):
        frame, level = frame.f_back, level + 1
    return level + 1


def _to_arrow(data, columns):
    """(the Arrow table, what it was made from, in words: "DataFrame", "wandb.Table", …)."""
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data, "Arrow table"
    pd = _pandas()
    if isinstance(data, pd.DataFrame):
        return _frame_to_arrow(data), "DataFrame"
    if hasattr(data, "columns") and hasattr(data, "data"):  # a Table here or W&B's: the same public attributes
        return _table_like(data), f"{type(data).__module__.split('.')[0]}.{type(data).__name__}"
    if hasattr(data, "to_arrow"):  # polars and other frames that hand over Arrow
        return data.to_arrow(), type(data).__name__
    if columns is not None:
        return _frame_to_arrow(pd.DataFrame(list(data), columns=list(columns))), type(data).__name__
    if isinstance(data, dict) or (isinstance(data, list) and data and isinstance(data[0], dict)):
        return _frame_to_arrow(pd.DataFrame(data)), type(data).__name__
    raise OptionError(
        f"cannot make a table from {type(data).__name__}",
        "pass a path, a pandas DataFrame, an Arrow table, a list of dicts, a Table, or rows with columns=[...]",
    )


def _pandas():
    import pandas as pd

    return pd


def _table_like(table):
    """A table with `columns` and `data` (rows) → Arrow; image cells (W&B's `wandb.Image`, anything with a PIL
    image as its public `image`) become PNG bytes, which the images stage reads like any image file."""
    names = [str(c) for c in table.columns]
    rows = [[_cell(v) for v in row] for row in table.data]
    return _frame_to_arrow(_pandas().DataFrame(rows, columns=names))


def _cell(value):
    if value is None or isinstance(value, PLAIN) or type(value).__module__ == "numpy":
        return value
    image = value if _is_pil(value) else getattr(value, "image", value)
    if image is None:  # an image cell whose pixels are elsewhere (a wandb.Image of a remote reference)
        return None
    if not _is_pil(image):
        return value
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):  # 16-bit or float pixels: PNG takes 8-bit here
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _is_pil(value) -> bool:
    return hasattr(value, "save") and hasattr(value, "mode") and hasattr(value, "size")


def _frame_to_arrow(frame):
    """pandas → Arrow, with numpy-array cells (an embedding per row) as lists and any column Arrow cannot type
    (mixed objects) as text rather than an exception."""
    import numpy as np
    import pyarrow as pa

    from embproj.read.tidy import unique_names

    frame = frame.copy()
    frame.columns = unique_names([str(c) for c in frame.columns])  # "a", "a" → "a", "a.1", as the files are
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object and any(isinstance(v, np.ndarray) for v in column):
            frame[name] = [np.asarray(v).tolist() if isinstance(v, np.ndarray) else v for v in column]
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise OptionError(
            f"the table's columns cannot be typed ({err})", "give each column values of one type"
        ) from None


class Table:
    """A table built in Python with W&B's Table methods: from columns and rows (`data=`) or a DataFrame
    (`dataframe=`), row by row (`add_data`), a column at a time (`add_column`), or computed from each row
    (`add_computed_columns`). Its public attributes are W&B's too: `columns` and `data` (the rows).

        t = embproj.Table(columns=["label", "embedding"])
        t.add_data("cat", [0.1, 0.2, 0.3])
        t.add_computed_columns(lambda ndx, row: {"norm": sum(v * v for v in row["embedding"]) ** 0.5})
        t.report(algo="pca").save("map.html")
    """

    def __init__(self, columns=None, data=None, rows=None, dataframe=None) -> None:
        if dataframe is not None:
            columns = [str(c) for c in dataframe.columns]
            data = [list(row) for row in dataframe.itertuples(index=False, name=None)]
        self.columns: list[str] = list(columns or [])
        self.data: list[list] = []
        for row in data if data is not None else rows or ():
            self.add_data(*row)

    def add_data(self, *values, **named) -> Table:
        """One row: a value per column, in order (or by name, adding the columns not seen yet)."""
        if named and not values:
            for name in named:
                if name not in self.columns:
                    self._add_empty_column(name)
            values = tuple(named.get(c) for c in self.columns)
        if len(values) != len(self.columns):
            raise OptionError(
                f"add_data got {len(values)} value{'s' if len(values) != 1 else ''} for {len(self.columns)} columns",
                f"give one value per column: {listing(self.columns)}",
            )
        self.data.append(list(values))
        return self

    add_row = add_data  # the name embproj had first

    def add_column(self, name: str, data, optional: bool = False) -> Table:
        """A column of `data`, one value per row (`optional` is W&B's type hint; every column here may hold
        None)."""
        values = list(data)
        if name in self.columns:
            raise OptionError(f'column "{name}" already exists', "choose another name")
        if self.data and len(values) != len(self.data):
            raise OptionError(
                f'column "{name}" has {len(values)} values for {len(self.data)} rows', "give one value per row"
            )
        if not self.data:
            self.data = [[] for _ in values]
        self.columns.append(name)
        for row, value in zip(self.data, values):
            row.append(value)
        return self

    def get_column(self, name: str, convert_to: str | None = None):
        """The column's values as a list, or as one numpy array with `convert_to="numpy"` (an embedding column
        becomes rows × dims)."""
        if name not in self.columns:
            guess = closest(name, self.columns)
            raise OptionError(
                f'no column "{name}"', guessed(guess and f'"{guess}"', f"columns are: {listing(self.columns)}")
            )
        j = self.columns.index(name)
        values = [row[j] for row in self.data]
        if convert_to is None:
            return values
        if convert_to != "numpy":
            raise OptionError(f'convert_to="{convert_to}" is not supported', 'use convert_to="numpy" or leave it out')
        import numpy as np

        return np.array(values)

    def get_dataframe(self):
        return _pandas().DataFrame(self.data, columns=self.columns)

    def add_computed_column(self, name: str, fn) -> Table:
        """A column whose value is `fn(row)`, with `row` a dict of the row's values by column name."""
        return self.add_column(name, [fn(dict(zip(self.columns, row))) for row in self.data])

    def add_computed_columns(self, fn) -> Table:
        """W&B's form: `fn(ndx, row) -> {new column: value}` for every row."""
        results = [fn(i, dict(zip(self.columns, row))) for i, row in enumerate(self.data)]
        for name in dict.fromkeys(k for r in results for k in r):
            self.add_column(name, [r.get(name) for r in results])
        return self

    def _add_empty_column(self, name: str) -> None:
        self.columns.append(name)
        for row in self.data:
            row.append(None)

    def to_arrow(self):
        return _table_like(self)

    def report(self, **options):
        return report(self, **options)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"<embproj.Table: {len(self.data):,} rows × {len(self.columns)} columns {listing(self.columns, 5)}>"
