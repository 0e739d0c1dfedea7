"""The Python way in: any table a user holds → the same pipeline as the CLI."""

from __future__ import annotations

from pathlib import Path

from .errors import OptionError
from .options import from_keywords


def report(data, *, columns=None, **options):
    """A report of `data` (a path, a pandas DataFrame, an Arrow table, rows with `columns=`, a list of dicts, or
    a `Table`), with the CLI's options as keywords (`algo="umap"`, `max_points=10_000`). Writes nothing unless
    `output=` is given; `.save(path)` writes it later."""
    from .pipeline import run
    from .source import from_table

    opts = from_keywords(**options)
    if isinstance(data, (str, Path)):
        return run(opts.with_(data=Path(data)))
    return run(opts, source=from_table(_to_arrow(data, columns), name=opts.title or "<table>"))


def _to_arrow(data, columns):
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, Table):
        return data.to_arrow()
    if hasattr(data, "to_arrow") and not hasattr(data, "iloc"):
        return data.to_arrow()
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        return _frame_to_arrow(data)
    if columns is not None:
        return _frame_to_arrow(pd.DataFrame(list(data), columns=list(columns)))
    if isinstance(data, dict):
        return _frame_to_arrow(pd.DataFrame(data))
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return _frame_to_arrow(pd.DataFrame(data))
    raise OptionError(
        f"cannot make a table from {type(data).__name__}",
        "pass a path, a pandas DataFrame, an Arrow table, a list of dicts, or rows with columns=[...]",
    )


def _frame_to_arrow(frame):
    """pandas → Arrow, with numpy-array cells (an embedding per row) as lists and any column Arrow cannot type
    (mixed objects) as text rather than an exception."""
    import numpy as np
    import pyarrow as pa

    from .tidy import unique_names

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
    """A table built in Python, the way the reference product builds one: from rows and column names, row by
    row, by adding a column, or by computing a column from each row. `report()` runs the CLI's pipeline.

        t = embproj.Table(columns=["label", "embedding"])
        t.add_row("cat", [0.1, 0.2, 0.3])
        t.add_computed_column("norm", lambda row: sum(v * v for v in row["embedding"]) ** 0.5)
        t.report(algo="pca").save("map.html")
    """

    def __init__(self, columns=None, data=None) -> None:
        self.columns: list[str] = list(columns or [])
        self.rows: list[list] = []
        for row in data or ():
            self.add_row(*row)

    def add_row(self, *values, **named) -> Table:
        if named and not values:
            for name in named:
                if name not in self.columns:
                    self._add_empty_column(name)
            values = tuple(named.get(c) for c in self.columns)
        if len(values) != len(self.columns):
            raise OptionError(
                f"add_row got {len(values)} values for {len(self.columns)} columns",
                f"give one value per column: {', '.join(self.columns)}",
            )
        self.rows.append(list(values))
        return self

    add_data = add_row  # the reference product's name

    def add_column(self, name: str, values) -> Table:
        values = list(values)
        if name in self.columns:
            raise OptionError(f'column "{name}" already exists', "choose another name")
        if self.rows and len(values) != len(self.rows):
            raise OptionError(
                f'column "{name}" has {len(values)} values for {len(self.rows)} rows', "give one value per row"
            )
        if not self.rows:
            self.rows = [[] for _ in values]
        self.columns.append(name)
        for row, value in zip(self.rows, values):
            row.append(value)
        return self

    def add_computed_column(self, name: str, fn) -> Table:
        """A column whose value is `fn(row)`, with `row` a dict of the row's values by column name."""
        return self.add_column(name, [fn(dict(zip(self.columns, row))) for row in self.rows])

    def add_computed_columns(self, fn) -> Table:
        """The reference product's form: `fn(index, row) -> {new column: value}` for every row."""
        results = [fn(i, dict(zip(self.columns, row))) for i, row in enumerate(self.rows)]
        for name in dict.fromkeys(k for r in results for k in r):
            self.add_column(name, [r.get(name) for r in results])
        return self

    def _add_empty_column(self, name: str) -> None:
        self.columns.append(name)
        for row in self.rows:
            row.append(None)

    def to_arrow(self):
        import pandas as pd

        return _frame_to_arrow(pd.DataFrame(self.rows, columns=self.columns))

    def report(self, **options):
        return report(self, **options)

    def __len__(self) -> int:
        return len(self.rows)
