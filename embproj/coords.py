"""`--coords-out`: the map as a table (row id, x and y per algorithm, the label), Parquet or CSV, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

from .errors import OptionError

SUFFIXES = (".parquet", ".csv")


def check_coords_path(path: Path) -> None:
    if Path(path).suffix.lower() not in SUFFIXES:
        raise OptionError(f"--coords-out {path}: unknown suffix", "end the name in .parquet or .csv")


def coords_table(row_ids: np.ndarray, projections, label: str | None, labels: pa.ChunkedArray | None) -> pa.Table:
    columns = {"row": pa.array(row_ids.astype(np.int64))}
    for p in projections:
        columns[f"{p.algo}_x"] = pa.array(p.xy[:, 0])
        columns[f"{p.algo}_y"] = pa.array(p.xy[:, 1])
    if label and labels is not None and label not in columns:
        columns[label] = labels
    return pa.table(columns)


def write_coords(path: Path, table: pa.Table) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = Path(path)
    check_coords_path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    try:
        if path.suffix.lower() == ".parquet":
            pq.write_table(table, tmp)
        else:
            pacsv.write_csv(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
