"""The search index umap-learn's `transform` asks for, answering from embproj's own exact neighbour search.

umap-learn's `UMAP.transform` finds each new row's fitted neighbours only through a `pynndescent.NNDescent`
index handed in as `precomputed_knn[2]` (it checks with isinstance) and then calls its `query(X, k, epsilon=)`
and reads its `_angular_trees`. Building a real index compiles numba code for 30-80 s in every process before a
single query (benchmarks/RESULTS.md, "The speed paths"). `Answered` is an NNDescent that builds nothing: `query`
asks neighbours/exact.py's `Nearest`, the same exact search the run's other neighbours come from, so placed rows
find their true neighbours. It leans on those two names of pynndescent's and umap-learn's (the releases
fast/versions.py names), so it stays here; `search_index` gives a real NN-descent index when they are not there,
the releases are outside the checked ranges or EMBPROJ_NO_FAST names umap_search, and `status` says which
(`--json`). It pickles as its search alone, so that a fitted UMAP can be sent to a Dask worker to place rows there.

Above `EXACT_PLACE_ROWS` rows to place the index is pynndescent's own, built over the fitted rows. Its `query`
keeps its buffers on the index, so threads must take turns: `Locked` asks it one caller at a time and hands back
copies. Each query starts from the index's seed, whoever asked before (pynndescent copies its random state on each
call), so the rows placed a batch a thread land where one thread after another puts them, and the placing's layout
epochs, most of its time, run on every core (project/place.py).
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

import numpy as np

from embproj.fast.versions import refused

EXACT = "exact (embproj's search, handed to umap-learn's transform)"
# Above this many rows to place, pynndescent's own index (a ~33 s numba build in every process, then 0.15 s a
# query of 10,000 rows, asked a thread at a time) places faster than the exact search (~1.1 s a query, but no
# build). Measured with both placing on both cores, 20,000 rows fitted, UMAP stage: 180,000 rows placed 48.0 s
# exact against 57.4 s (trustworthiness 0.9785 against 0.9782); 380,000 rows 90.7 s against 76.1 s (0.9787
# against 0.9777): ~2.45 s against ~1.19 s a batch of 10,000, even at ~260,000 (benchmarks/RESULTS.md)
EXACT_PLACE_ROWS = 250_000
STATE = {"status": "not used"}


def search_index(nearest, X, k: int, metric: str, seed: int, placing: int = 0) -> Any:
    """An NNDescent that answers from `nearest` (neighbours/exact.py's `Nearest` over X), or a real one over X:
    when the path is off, and when more than EXACT_PLACE_ROWS rows are to be placed (`placing`)."""
    from pynndescent import NNDescent

    why = off = refused("umap_search")
    if why is None and placing > EXACT_PLACE_ROWS:
        why = f"{placing:,} rows to place, over the {EXACT_PLACE_ROWS:,} the exact search places faster"
    if why is None and "epsilon" not in inspect.signature(NNDescent.query).parameters:
        why = "its query is not the one checked"
    if why is None:
        STATE["status"] = EXACT
        return __getattr__("Answered")(nearest, metric in ("cosine", "correlation"), k)
    build = {"metric": metric, "n_neighbors": k + 1, "random_state": seed, "n_jobs": 1, "low_memory": True}
    STATE["status"] = f"NN-descent (pynndescent's own index: {why})"
    if off is None and placing > EXACT_PLACE_ROWS:
        STATE["status"] = f"NN-descent (pynndescent's own index, asked a thread at a time: {why})"
        return __getattr__("Locked")(X, **build)
    return NNDescent(X, **build)


def shareable(model) -> bool:
    """Whether threads may place rows into `model` at once: yes when its index is `Answered` (read-only arrays) or
    `Locked`; not with pynndescent's own as shipped, whose `query` builds its search on first use and keeps its
    buffers on the index."""
    index = (getattr(model, "precomputed_knn", None) or (None, None, None))[2]
    return isinstance(index, tuple(_CLASS.values()))


def status() -> str:
    """Which index umap-learn's transform was last given in this process, or "not used"."""
    return STATE["status"]


_CLASS: dict = {}


def __getattr__(name: str):
    """`Answered` and `Locked`, made on first use (they subclass pynndescent's NNDescent, which loads numba)."""
    if name not in ("Answered", "Locked"):
        raise AttributeError(name)
    if not _CLASS:
        from pynndescent import NNDescent

        class Answered(NNDescent):
            """No graph, no trees: `query` asks the exact search."""

            def __init__(self, nearest, angular: bool, k: int) -> None:  # nothing of NNDescent's own build
                self._nearest, self._angular_trees, self.n_neighbors = nearest, angular, k

            def query(self, query_data, k: int = 10, epsilon: float = 0.1, **_: Any):
                indices, distances = self._nearest.query(query_data, k)
                return indices.astype("int32"), distances

            def __reduce__(self):  # pickled as its search alone (NNDescent's own state is not there)
                return (_rebuild, (self._nearest, self._angular_trees, self.n_neighbors))

        class Locked(NNDescent):
            """pynndescent's own index, asked by one thread at a time; each caller gets arrays of its own."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self._turns = threading.Lock()

            def query(self, *args: Any, **kwargs: Any):
                with self._turns:
                    found = super().query(*args, **kwargs)
                    return tuple(np.array(a) for a in found) if isinstance(found, tuple) else np.array(found)

            def __getstate__(self):
                state = super().__getstate__()
                state.pop("_turns", None)
                return state

            def __setstate__(self, state) -> None:
                super().__setstate__(state)
                self._turns = threading.Lock()

        for made in (Answered, Locked):
            made.__module__, made.__qualname__ = __name__, made.__name__
            _CLASS[made.__name__] = made
    return _CLASS[name]


def _rebuild(nearest, angular: bool, k: int):
    return __getattr__("Answered")(nearest, angular, k)
