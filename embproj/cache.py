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
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .environment import NO_CACHE, switched_on

MAX_BYTES = 2 * 2**30
FORMAT = 2  # bumped when what an entry holds changes
LIBRARIES = ("embproj", "numpy", "scikit-learn", "umap-learn", "numba", "pynndescent", "openTSNE")


def folder(environ=os.environ) -> Path:
    base = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "embproj" / "projections"


def enabled(asked: bool) -> bool:
    return asked and not switched_on(NO_CACHE)


def fingerprint(X: np.ndarray) -> str:
    """The vectors as projected (their bytes and shape), hashed once a run: every key of the run starts from it
    (at 1,000,000 × 128 the hash takes ~1 s)."""
    digest = hashlib.blake2b(digest_size=20)
    if X.size:
        digest.update(np.ascontiguousarray(X).data.cast("B"))  # the bytes themselves, not a copy
    digest.update(json.dumps([X.shape, str(X.dtype)]).encode())
    return digest.hexdigest()


def key(vectors: str, algo: str, params: dict, seed: int, fitted: int, reduced_to: int | None) -> str:
    """What the numbers of one map (or graph) depend on, hashed; `vectors`: the `fingerprint` of the matrix."""
    facts = {"format": FORMAT, "vectors": vectors, "algo": algo, "params": params, "seed": seed, "fitted": fitted}
    facts |= {"reduced_to": reduced_to, "versions": {name: _version(name) for name in LIBRARIES}}
    return hashlib.blake2b(json.dumps(facts, sort_keys=True, default=str).encode(), digest_size=20).hexdigest()


def load(name: str):
    """The cached Projection, or None (missing, unreadable, not a projection, or in a folder others can write to)."""
    from .project import Projection

    found = _read(name, ("xy", "fit"))
    if found is None:
        return None
    facts, arrays = found
    xy, fit = arrays["xy"], arrays["fit"]
    if xy.ndim != 2 or xy.shape[1:] != (2,) or xy.dtype.kind != "f" or fit.ndim != 1 or fit.dtype.kind not in "iu":
        return None
    try:
        return Projection(facts["algo"], xy, facts["params"], facts["seconds"], tuple(facts["notes"]),
                          facts["metrics"], facts["kernels"], fit if facts["placed"] else None,
                          placing=facts.get("placing"))  # fmt: skip
    except (KeyError, TypeError, ValueError):
        return None


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
    """The cached knn.Graph over every plotted row, or None (as `load`; also when it is not a graph of distinct
    other rows)."""
    from .knn import Graph

    found = _read(name, ("indices", "distances"))
    if found is None:
        return None
    facts, arrays = found
    indices, distances = arrays["indices"], arrays["distances"]
    metric, exact, recall = facts.get("metric"), facts.get("exact"), facts.get("recall")
    if not (isinstance(metric, str) and isinstance(exact, bool) and (recall is None or isinstance(recall, float))):
        return None
    if not _is_graph(indices, distances):
        return None  # searched again
    return Graph(indices, distances, metric, exact, recall, cached=True)


def _is_graph(indices: np.ndarray, distances: np.ndarray) -> bool:
    """Each row's distinct other rows, among the graph's own, with a distance each."""
    if indices.ndim != 2 or indices.shape != distances.shape or indices.dtype.kind not in "iu":
        return False
    if distances.dtype.kind != "f":
        return False
    if not indices.size:
        return True
    n = len(indices)
    if indices.min() < 0 or indices.max() >= n or (indices == np.arange(n)[:, None]).any():
        return False
    return not (np.diff(np.sort(indices, axis=1), axis=1) == 0).any()


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
            found = {array: np.asarray(entry[array]) for array in arrays}
        os.utime(path)  # recently used: the last to go
    except Exception:  # any entry that cannot be read (empty, cut short, not an .npz) is a miss, never an error
        return None
    return (facts, found) if isinstance(facts, dict) else None


def _write(name: str, facts: dict, **arrays: np.ndarray) -> None:
    """Best effort: a full disk or a read-only folder only loses the cache."""
    path = _path(name, create=True)
    if path is None:
        return
    buffer = io.BytesIO()
    entries: dict[str, Any] = {"facts": np.frombuffer(json.dumps(facts).encode(), dtype=np.uint8), **arrays}
    np.savez(buffer, **entries)
    try:
        handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")  # its own: runs at once do not mix
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(buffer.getvalue())
        os.replace(tmp, path)
        _trim(path.parent)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


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
    if os.name == "posix" and create and info.st_mode & 0o077:
        try:
            os.chmod(where, 0o700)  # made readable by the user's own hand: the vectors' maps stay the user's
        except OSError:
            return None
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
