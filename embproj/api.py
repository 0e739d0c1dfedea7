"""The Python way in: any table a user holds → the same pipeline as the CLI."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from .errors import OptionError
from .options import Options, PcaParams, TsneParams, UmapParams

PARAMS = {"pca": PcaParams, "umap": UmapParams, "tsne": TsneParams}


def report(data, *, columns=None, **options):
    from .pipeline import run
    from .source import from_table

    opts = _options(options)
    if isinstance(data, (str, Path)):
        return run(opts.with_(data=Path(data)))
    return run(opts, source=from_table(_to_arrow(data, columns), name=opts.title or "<table>"))


def _options(options: dict) -> Options:
    names = {f.name for f in fields(Options)}
    nested = {algo: {} for algo in PARAMS}
    flat = {}
    for key, value in options.items():
        owner = next((a for a, cls in PARAMS.items() if key in {f.name for f in fields(cls)}), None)
        if key in names:
            flat[key] = tuple(value) if key in ("columns", "hover") and value is not None else value
        elif owner:
            for algo, cls in PARAMS.items():  # metric is shared by UMAP and t-SNE
                if key in {f.name for f in fields(cls)}:
                    nested[algo][key] = value
        else:
            raise OptionError(f'unknown option "{key}"', f"use one of {', '.join(sorted(names))}")
    for algo, cls in PARAMS.items():
        if nested[algo]:
            flat[algo] = cls(**nested[algo])
    if "output" in flat and flat["output"] is not None:
        flat["output"] = Path(flat["output"])
    return Options(**flat)


def _to_arrow(data, columns):
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
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
    import numpy as np
    import pyarrow as pa

    frame = frame.copy()
    for name in frame.columns:
        if frame[name].dtype == object and len(frame) and isinstance(frame[name].iloc[0], np.ndarray):
            frame[name] = [None if v is None else np.asarray(v).tolist() for v in frame[name]]
    return pa.Table.from_pandas(frame, preserve_index=False)
