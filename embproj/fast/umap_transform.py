"""umap-learn's `UMAP.transform`, with the new rows' starting places computed as whole arrays.

`transform` starts each new row at the weighted mean of its fitted neighbours' places (`init_graph_transform`):
a Python loop that slices a scipy matrix once per row, ~0.2 ms a row, about a third of placing a million rows.
Here umap-learn's own `transform` builds the graph (`transform_mode="graph"`, a public option), the same
weighted mean is taken in numpy, and the layout epochs are umap-learn's own function called with the arguments
`transform` gives it, so the coordinates are `transform`'s (tests/test_scale.py checks them against it).

It leans on names of umap-learn 0.5.x that are not its documented API (`umap.layouts.optimize_layout_euclidean`,
`umap.umap_.make_epochs_per_sample`, the fitted `_a`, `_b`, `_initial_alpha`), so it stays here: `UMAP.transform`
itself runs when one is missing, the release is outside the range fast/versions.py checked, EMBPROJ_NO_FAST names
umap_transform, or the model is not the plain one (another output metric, densMAP). `plan()` says which, and
`status()` the last way rows were placed, for `--json`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from embproj.fast.versions import refused

WHOLE_ARRAYS = "umap-learn's transform, its start for the new rows taken as whole arrays"


STATE = {"status": "not used"}


def plan(model) -> str:
    """How `transform` will place rows into this fitted model: WHOLE_ARRAYS, or umap-learn's own and why."""
    STATE["status"] = _steps(model)[1]
    return STATE["status"]


def status() -> str:
    """How rows were last placed into a UMAP map in this process (`plan`), or "not used"."""
    return STATE["status"]


def transform(model, X: np.ndarray) -> np.ndarray:
    """`model.transform(X)` (X float32, C order), its start computed as whole arrays when that is safe."""
    steps, STATE["status"] = _steps(model)
    if steps is None:
        return model.transform(X)
    make_epochs_per_sample, optimize_layout_euclidean, INT32_MIN, INT32_MAX = steps
    asked = copy.copy(model)  # the same fitted arrays; its own mode, so that threads can share the model
    asked.transform_mode = "graph"
    graph = asked.transform(X)
    if graph is getattr(model, "graph_", None):  # X is the fitted data itself: its own places
        return model.embedding_
    csr = graph.tocsr()
    csr.eliminate_zeros()
    embedding = start(csr, model.embedding_)
    n_epochs = (100 if graph.shape[0] <= 10000 else 30) if model.n_epochs is None else int(model.n_epochs // 3.0)
    graph.data[graph.data < (graph.data.max() / float(n_epochs))] = 0.0
    graph.eliminate_zeros()
    rng_state = np.random.RandomState(model.transform_seed).randint(INT32_MIN, INT32_MAX, 3).astype(np.int64)
    return optimize_layout_euclidean(
        embedding,
        model.embedding_.astype(np.float32, copy=True),
        graph.row,
        graph.col,
        n_epochs,
        graph.shape[1],
        make_epochs_per_sample(graph.data, n_epochs),
        model._a,
        model._b,
        rng_state,
        model.repulsion_strength,
        model._initial_alpha / 4.0,
        model.negative_sample_rate,
        model.random_state is None,
        verbose=model.verbose,
        tqdm_kwds=model.tqdm_kwds,
    )


def _steps(model) -> tuple[Any, str]:
    """umap-learn's pieces of `transform` after the graph (None when this model or version needs its own), and
    which way rows are placed."""
    why = refused("umap_transform")
    if why:
        return None, f"umap-learn's transform ({why})"
    if model.output_metric != "euclidean" or model.densmap or model.transform_mode != "embedding":
        return None, "umap-learn's transform (not a euclidean map)"
    try:
        from umap.layouts import optimize_layout_euclidean
        from umap.umap_ import INT32_MAX, INT32_MIN, make_epochs_per_sample

        for name in ("_a", "_b", "_initial_alpha", "repulsion_strength", "negative_sample_rate", "transform_seed"):
            getattr(model, name)
    except (ImportError, AttributeError) as err:  # a name gone: umap-learn's own transform, as shipped
        return None, f"umap-learn's transform ({type(err).__name__}: {err})"
    return (make_epochs_per_sample, optimize_layout_euclidean, INT32_MIN, INT32_MAX), WHOLE_ARRAYS


def start(graph, embedding: np.ndarray) -> np.ndarray:
    """umap-learn's `init_graph_transform` as whole arrays, to the bit: each row at the weighted mean of its
    neighbours' places, in the order the row lists them; at a neighbour's place when its weight is exactly 1 (the
    first such); NaN with no neighbours. `graph`: CSR, explicit zeros removed."""
    n, dims = graph.shape[0], embedding.shape[1]
    counts = np.diff(graph.indptr)
    result = np.zeros((n, dims), dtype=np.float32)
    rows = np.repeat(np.arange(n), counts)
    sums = np.zeros(n, dtype=graph.data.dtype)
    nonempty = counts > 0
    sums[nonempty] = [graph.data[a:b].sum() for a, b in zip(graph.indptr[:-1][nonempty], graph.indptr[1:][nonempty])]
    weights = graph.data / sums[rows]  # per-neighbour weight, as umap-learn divides: value / row sum
    position = np.arange(len(graph.data)) - np.repeat(graph.indptr[:-1], counts)
    for j in range(int(counts.max(initial=0))):  # the j-th neighbour of every row at once: the loop's order
        at = position == j
        result[rows[at]] += weights[at, None] * embedding[graph.indices[at]]
    ones = graph.data == 1
    if ones.any():
        first = np.full(n, -1)
        hits = np.flatnonzero(ones)[::-1]  # reversed, so the first of a row's is written last
        first[rows[hits]] = graph.indices[hits]
        result[first >= 0] = embedding[first[first >= 0]]
    result[~nonempty] = np.nan
    return result
