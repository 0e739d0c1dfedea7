"""The projection cache: a run whose numbers are those of an earlier one (the same vectors, the same projection
options, the same libraries) reuses its coordinates, so that changing only what the page shows (title, colour,
images, hover) costs seconds, not the fit again. The graph of every row's nearest neighbours (the page's table)
is kept beside the maps, keyed by the same vectors, the metric and the seed.

The key hashes the vectors as projected (the float32 matrix of the sampled, usable rows: whatever file they came
from), the algorithm's parameters, the seed, the rows fitted and the pre-reduction, and the versions of the
libraries that made the numbers. Entries are `.npz` files (no pickles) under the user's cache folder
(~/.cache/embproj/projections, XDG_CACHE_HOME respected), private to the user, at most `MAX_BYTES` in all, the
oldest out first. `--no-cache` (or EMBPROJ_NO_CACHE=1) skips it; `--json` says hit or miss for each map.

It is one wrapper (`around`) around the stages it caches, the neighbours and the maps: they run for the maps it
does not hold, and never know of it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from embproj.environment import NO_CACHE, switched_on

MAX_BYTES = 2 * 2**30
FORMAT = 2  # bumped when what an entry holds changes
Warn = Callable[[str], None]  # how an entry that could not be used is told to the user (the run's reporter)
LIBRARIES = ("embproj", "numpy", "scikit-learn", "umap-learn", "numba", "pynndescent", "openTSNE")


# The stages the cache is around: (the algorithms whose maps to make, the search for the graph over every row) →
# (the run's neighbours.search.Neighbours, {algorithm: project.projectors.Projection})
Compute = Callable[[tuple[str, ...], Callable], tuple[Any, dict]]


def around(compute: Compute, opts, algos: tuple[str, ...], vectors, matrix, fit: np.ndarray, warn: Warn):
    """(the run's graphs, a map for each of `algos`, in order): `compute` runs for the maps the cache does not hold,
    its graph over every row read from the cache when it holds one as deep, and what it makes is kept; each map
    says "hit" or "miss". `vectors`: every row as read (None when they are a Dask cluster's workers', not hashed
    here); with the cache off, or without them, `compute` makes every map with the plain search."""
    from embproj.neighbours.search import knn

    if not enabled(opts.cache) or vectors is None:
        graphs, made = compute(algos, knn)
        return graphs, [made[a] for a in algos]
    hashed = fingerprint(vectors)
    names = {a: key(hashed, a, opts.params_for(a), opts.seed, len(fit), matrix.reduced_to) for a in algos}
    found = {a: _hit(names[a], warn, a, matrix.rows) for a in algos}
    todo = tuple(a for a in algos if found[a] is None)
    graphs, made = compute(todo, _searched(hashed, warn))
    for a in todo:
        save(names[a], made[a])
        found[a] = replace(made[a], cached="miss")
    return graphs, [found[a] for a in algos]


def one_map(
    make: Callable[[], Any],
    warn: Warn,
    vectors: np.ndarray,
    algo: str,
    params: dict,
    seed: int,
    fitted: int,
    reduced_to: int | None,
):
    """One map (a Projection of `algo`) of `vectors` (every row as read), from the cache when it holds it, else
    `make()`'s, kept: marked "hit" or "miss". `params`: all it depends on besides the vectors (`embproj compare`'s
    AFTER map adds the start it was refined from), so that a map `project` keeps serves compare and back."""
    name = key(fingerprint(vectors), algo, params, seed, fitted, reduced_to)
    found = _hit(name, warn, algo, len(vectors))
    if found is not None:
        return found
    made = make()
    save(name, made)
    return replace(made, cached="miss")


def graph_search(vectors: np.ndarray, warn: Warn) -> Callable:
    """`knn` for the graph over every row of `vectors`, answered from the cache or kept in it (`_searched`)."""
    return _searched(fingerprint(vectors), warn)


def _hit(name: str, warn: Warn, algo: str, rows: int):
    hit = load(name, warn, algo)
    return replace(hit, cached="hit") if hit is not None and len(hit.xy) == rows else None


def _searched(vectors: str, warn: Warn) -> Callable:
    """`knn` for the graph over every row, answered from the cache when it holds that graph (the same rows, as
    deep), kept in it otherwise: at 1,000,000 rows that search takes minutes."""
    from embproj.neighbours.search import knn, search_facts, within

    def search(X: np.ndarray, k: int, metric: str = "euclidean", seed: int = 0):
        depth = within(k, len(X))
        name = key(vectors, "neighbours", {"metric": metric, "k": depth, **search_facts()}, seed, 0, None)
        found = load_graph(name, warn)
        if found is not None and len(found.indices) == len(X) and found.k == depth:
            return found
        graph = knn(X, k, metric, seed)
        save_graph(name, graph)
        return graph

    return search


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


def load(name: str, warn: Warn | None = None, algo: str | None = None):
    """The cached Projection (of `algo`, when given), or None: missing, in a folder others can write to, or
    unusable (see `_read`)."""
    from embproj.project.projectors import NAMES, Projection

    found = _read(name, ("xy", "fit"), warn)
    if found is None:
        return None
    path, facts, arrays = found
    xy, fit = arrays["xy"], arrays["fit"]
    why = _map_fault(xy, fit) or _facts_fault(facts, PROJECTION_FACTS)
    if why is None and (facts["algo"] not in NAMES or facts["algo"] != (algo or facts["algo"])):
        why = f'it holds a map of "{facts["algo"][:20]}", not {algo or "an algorithm embproj has"}'
    if why is not None:
        _discard(path, why, warn)
        return None
    return Projection(facts["algo"], xy, facts["params"], float(facts["seconds"]), tuple(facts["notes"]),
                      facts["metrics"], fit if facts["placed"] else None)  # fmt: skip


def _map_fault(xy: np.ndarray, fit: np.ndarray) -> str | None:
    """What makes a map's arrays unusable, or None."""
    if xy.ndim != 2 or xy.shape[1:] != (2,) or xy.dtype.kind != "f":
        return "its coordinates are not an n×2 array of floats"
    if not np.isfinite(xy).all():
        return "its coordinates hold NaN or infinite values"
    if fit.ndim != 1 or fit.dtype.kind not in "iu" or len(fit) > len(xy):
        return "its fitted rows are not rows of the map"
    if len(fit) and (fit[0] < 0 or fit[-1] >= len(xy) or (np.diff(fit) <= 0).any()):
        return "its fitted rows are not rows of the map"
    return None


NUMBER = (int, float)
PROJECTION_FACTS = {"algo": str, "params": dict, "seconds": NUMBER, "notes": list, "metrics": dict,
                    "placed": bool}  # fmt: skip
GRAPH_FACTS = {"metric": str, "exact": bool, "recall": (float, type(None))}


def _facts_fault(facts: dict, types: dict) -> str | None:
    """What makes an entry's facts other than those `save` writes, or None."""
    for name, kind in types.items():
        value = facts.get(name)
        if not isinstance(value, kind) or (kind is NUMBER and isinstance(value, bool)):
            return f'its "{name}" is not what embproj writes'
    if not all(isinstance(note, str) for note in facts.get("notes", [])):
        return 'its "notes" are not text'
    if not all(
        _plain_number(v) or (isinstance(v, list) and all(map(_plain_number, v)))
        for v in facts.get("metrics", {}).values()
    ):
        return 'its "metrics" are not numbers'
    return None


def _plain_number(value) -> bool:
    return value is None or (isinstance(value, NUMBER) and not isinstance(value, bool))


def save(name: str, projection) -> None:
    """Store the projection (best effort: a full disk or a read-only folder only loses the cache)."""
    facts = {
        "algo": projection.algo,
        "params": projection.params,
        "seconds": projection.seconds,
        "notes": list(projection.notes),
        "metrics": projection.metrics,
        "placed": projection.fit is not None,
    }
    fit = projection.fit if projection.fit is not None else np.empty(0, np.int64)
    _write(name, facts, xy=projection.xy, fit=fit)


def load_graph(name: str, warn: Warn | None = None):
    """The cached knn.Graph over every plotted row, or None (as `load`; also when it is not a graph of distinct
    other rows)."""
    from embproj.neighbours.search import Graph

    found = _read(name, ("indices", "distances"), warn)
    if found is None:
        return None
    path, facts, arrays = found
    indices, distances = arrays["indices"], arrays["distances"]
    why = _facts_fault(facts, GRAPH_FACTS)
    if why is None and not _is_graph(indices, distances):
        why = "it is not a graph of each row's other rows"
    if why is None and distances.size and not np.isfinite(distances).all():
        why = "its distances hold NaN or infinite values"
    if why is not None:
        _discard(path, why, warn)  # searched again
        return None
    return Graph(indices, distances, facts["metric"], facts["exact"], facts["recall"], cached=True)


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


def _read(name: str, arrays: tuple[str, ...], warn: Warn | None) -> tuple[Path, dict, dict[str, np.ndarray]] | None:
    """(path, facts, arrays) of the entry, or None: missing (a miss), in a folder others can write to, or not
    readable: empty, cut short, another kind of file, a folder, a pickle (never loaded), facts that are not a JSON
    object. An entry that cannot be used is deleted and said to `warn`, so that it is computed and stored again."""
    path = _path(name)
    if path is None or not (path.exists() or path.is_symlink()):
        return None
    if not path.is_file():
        _discard(path, "it is not a file", warn)
        return None
    try:
        with np.load(path, allow_pickle=False) as entry:
            facts = json.loads(bytes(entry["facts"]).decode())
            found = {array: np.asarray(entry[array]) for array in arrays}
    except Exception as err:  # noqa: BLE001 (numpy, zipfile and json raise many kinds on a damaged file)
        _discard(path, f"{type(err).__name__}: {str(err)[:80]}", warn)
        return None
    try:
        os.utime(path)  # recently used: the last to go
    except OSError:
        pass
    if not isinstance(facts, dict):
        _discard(path, "its facts are not a JSON object", warn)
        return None
    return path, facts, found


def _discard(path: Path, why: str, warn: Warn | None) -> None:
    """Delete an unusable entry (an empty folder too; anything else in its place is left) and say so."""
    try:
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink(missing_ok=True)
        done = "deleted"
    except OSError:
        done = "left in place"
    if warn is not None:
        warn(f"the projection cache's entry {path} could not be used ({why}): {done}, and computed again")


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
    entries = sorted((p for p in where.glob("*.npz") if p.is_file()), key=lambda p: p.stat().st_mtime, reverse=True)
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
