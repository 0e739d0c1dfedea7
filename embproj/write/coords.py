"""`--coords-out`: the map as a table (row id, x and y per algorithm, the label), Parquet or CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from embproj.write.files import Output


def coords_table(
    row_ids: np.ndarray, projections, label: str | None, labels: pa.ChunkedArray | None, trust: dict | None = None
) -> pa.Table:
    """`trust`: each map's trust per point by its key (structure/lenses.py), as `<algo>_trust` beside its x and y."""
    columns = {"row": pa.array(row_ids.astype(np.int64))}
    for p in projections:
        columns[f"{p.algo}_x"] = pa.array(p.xy[:, 0])
        columns[f"{p.algo}_y"] = pa.array(p.xy[:, 1])
        if trust and p.key in trust:  # (a report's map: its key is its algorithm)
            columns[f"{p.algo}_trust"] = pa.array(trust[p.key])
    return pa.table(_labelled(columns, label, labels, projections, len(row_ids)))


def labels_of(plan, table: pa.Table, rows: np.ndarray) -> tuple[str | None, pa.ChunkedArray | None]:
    """The column the coordinates are labelled by (the colour's, else the label's) and its values at `rows`."""
    label = plan.color.column or plan.label.column
    return label, table.column(label).take(pa.array(rows)) if label else None


def _labelled(columns: dict, label: str | None, labels, projections, n: int) -> dict:
    """`columns` with the label and, when some rows were placed by the fitted model, a "fitted" column saying
    which."""
    if label and labels is not None and label not in columns:
        columns[label] = labels
    fit = projections[0].fit if projections else None
    if fit is not None:
        fitted = np.zeros(n, dtype=bool)
        fitted[fit] = True
        columns["fitted"] = pa.array(fitted)
    return columns


def change_table(
    row_ids: np.ndarray, projections, change: np.ndarray, key: str | None, keys, label: str | None, labels
) -> pa.Table:
    """`embproj compare --coords-out`: each plotted row's number in BEFORE, its key (`keys`, when rows were matched
    by a key column), both maps' x and y by side (AFTER's aligned to BEFORE's), its neighbourhood change and the
    label."""
    columns = {"row": pa.array(row_ids.astype(np.int64))}
    if key and keys is not None:
        columns[key] = keys
    for p in projections:
        columns[f"{p.side}_x"], columns[f"{p.side}_y"] = pa.array(p.xy[:, 0]), pa.array(p.xy[:, 1])
    columns["change"] = pa.array(np.asarray(change, dtype=np.float32))
    return pa.table(_labelled(columns, label, labels, projections, len(row_ids)))


def coords_output(path: Path, table: pa.Table) -> Output:
    """The table as Parquet or CSV, by the path's suffix (checked by the option's declaration)."""

    def write(f) -> None:
        if Path(path).suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, f)
        else:  # a spreadsheet opens CSV: text that it would run as a formula is guarded
            import pyarrow.csv as pacsv

            from embproj.text.safe import guard_column

            pacsv.write_csv(pa.table([guard_column(c) for c in table.columns], names=table.column_names), f)

    return Output("coords", Path(path), write)
