"""The projection cache: a run whose numbers are those of an earlier one (the same vectors, the same projection
options, the same libraries) reuses its coordinates, so that changing only what the page shows (title, colour,
images, hover) costs seconds, not the fit again. The graph of every row's nearest neighbours (the page's table)
is kept beside the maps, keyed by the same vectors, the metric and the seed.

The key hashes the vectors as projected (the float32 matrix of the sampled, usable rows: whatever file they came
from), the algorithm's parameters, the seed, the rows fitted and the pre-reduction, and the versions of the
libraries that made the numbers. Entries are `.npz` files (no pickles) under the user's cache folder
(~/.cache/embproj/projections, XDG_CACHE_HOME respected), private to the user, at most `MAX_BYTES` in all, the
oldest out first. `--no-cache` (or EMBPROJ_NO_CACHE=1) skips it; `--json` says hit or miss for each map.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .environment import NO_CACHE, switched_on

MAX_BYTES = 2 * 2**30
FORMAT = 1  # bumped when what an entry holds changes
LIBRARIES = ("embproj", "numpy", "scikit-learn", "umap-learn", "numba", "pynndescent", "openTSNE")


def folder(environ=os.environ) -> Path:
    base = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "embproj" / "projections"


def enabled(asked: bool) -> bool:
    return asked and not switched_on(NO_CACHE)


def key(X: np.ndarray, algo: str, params: dict, seed: int, fitted: int, reduced_to: int | None) -> str:
    """What the numbers of one map depend on, hashed."""
    digest = hashlib.blake2b(digest_size=20)
    if X.size:
        digest.update(np.ascontiguousarray(X).data.cast("B"))  # the bytes themselves, not a copy
    facts = {"format": FORMAT, "shape": X.shape, "algo": algo, "params": params, "seed": seed, "fitted": fitted}
    facts |= {"reduced_to": reduced_to, "versions": {name: _version(name) for name in LIBRARIES}}
    digest.update(json.dumps(facts, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def load(name: str):
    """The cached Projection, or None (missing, unreadable, or in a folder others can write to)."""
    from .project import Projection

    found = _read(name, ("xy", "fit"))
    if found is None:
        return None
    facts, arrays = found
    fit = arrays["fit"] if facts["placed"] else None
    return Projection(facts["algo"], arrays["xy"], facts["params"], facts["seconds"], tuple(facts["notes"]),
                      facts["metrics"], facts["kernels"], fit, placing=facts.get("placing"))  # fmt: skip


def save(name: str, projection) -> None:
    """Store the projection (best effort: a full disk or a read-only folder only loses the cache)."""
    facts = {
        "algo": projection.algo,
        "params": projection.params,
        "seconds": projection.seconds,
        "notes": list(projection.notes),
        "metrics": projection.metrics,
        "kernels": projection.kernels,
        "placing": projection.placing,
        "placed": projection.fit is not None,
    }
    fit = projection.fit if projection.fit is not None else np.empty(0, np.int64)
    _write(name, facts, xy=projection.xy, fit=fit)


def load_graph(name: str):
    """The cached knn.Graph over every plotted row, or None."""
    from .knn import Graph

    found = _read(name, ("indices", "distances"))
    if found is None:
        return None
    facts, arrays = found
    indices, distances = arrays["indices"], arrays["distances"]
    if indices.ndim != 2 or indices.shape != distances.shape:
        return None  # not a graph: searched again
    if indices.size and not (indices.min() >= 0 and indices.max() < len(indices)):
        return None  # rows it does not have
    return Graph(indices, distances, facts["metric"], facts["exact"], facts["recall"], cached=True)


def save_graph(name: str, graph) -> None:
    """Store a neighbour graph (its search index, for rows placed later, is not kept)."""
    facts = {"metric": graph.metric, "exact": graph.exact, "recall": graph.recall}
    _write(name, facts, indices=graph.indices, distances=graph.distances)


def _read(name: str, arrays: tuple[str, ...]) -> tuple[dict, dict[str, np.ndarray]] | None:
    path = _path(name)
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as entry:
            facts = json.loads(bytes(entry["facts"]).decode())
            found = {array: entry[array] for array in arrays}
        os.utime(path)  # recently used: the last to go
    except (OSError, ValueError, KeyError):
        return None
    return facts, found


def _write(name: str, facts: dict, **arrays: np.ndarray) -> None:
    """Best effort: a full disk or a read-only folder only loses the cache."""
    path = _path(name, create=True)
    if path is None:
        return
    buffer = io.BytesIO()
    entries: dict[str, Any] = {"facts": np.frombuffer(json.dumps(facts).encode(), dtype=np.uint8), **arrays}
    np.savez(buffer, **entries)
    try:
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(buffer.getvalue())
        os.replace(tmp, path)
        _trim(path.parent)
    except OSError:
        pass


def _path(name: str, create: bool = False) -> Path | None:
    where = folder()
    try:
        if create:
            where.parent.mkdir(parents=True, exist_ok=True)
            where.mkdir(mode=0o700, exist_ok=True)
        info = where.stat()
    except OSError:
        return None
    if os.name == "posix" and (info.st_uid != os.getuid() or info.st_mode & 0o022):
        return None  # another user could plant coordinates here
    return where / f"{name}.npz"


def _trim(where: Path) -> None:
    entries = sorted(where.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    total = 0
    for entry in entries:
        total += entry.stat().st_size
        if total > MAX_BYTES:
            entry.unlink(missing_ok=True)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"
