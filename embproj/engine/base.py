"""What an engine is: where the batch steps run, and where the plotted rows' vectors live between the stages.

Two engines: `local.Local` (this process, one matrix) and `dask.Dask` (a Dask cluster, whose workers keep the
rows part by part). Only the pipeline holds one. The stages never see it: the pipeline asks it for the arrays a
stage needs (`gather`) and hands them on, and the project stage gets `place` alone, to place its rows.

Both engines give the same numbers: the same rows sampled (sample.py's keys), the same arithmetic applied row by
row (the scaler and the reducer are fitted once, on gathered rows, and give a row the same numbers whatever the
block it is in), and the rows placed in the same batches (project/place.py's `batches`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from embproj.options import Options
from embproj.plan.choose import Plan
from embproj.project.place import Placer
from embproj.read.base import Source
from embproj.sample import Sample
from embproj.vectors.matrix import Matrix, Reducer
from embproj.vectors.scaling import Scaler


class Engine(Protocol):
    here: bool  # every row's vectors are in this process: cheap to hash (the cache) and to search (the table)

    def sample(self, source: Source, plan: Plan, opts: Options, progress: Callable[[int], None]) -> Sample:
        """sample.py's rows, read from the source (on a cluster: from its parts); the rows' vectors stay with
        the engine (`Sample.X` is None)."""
        ...

    def matrix(self, sample: Sample, where: str) -> Matrix:
        """The vectors stage (vectors/matrix.py) on the sampled vectors: the usable rows kept, the others
        counted."""
        ...

    def gather(self, rows: np.ndarray | None = None, read: bool = False) -> np.ndarray:
        """The vectors of `rows` (ascending, distinct positions among the kept rows; None: every row) as the maps
        see them, or with `read` as read (rescaled, not pre-reduced), here as one float32 array."""
        ...

    def rescale(self, scaler: Scaler) -> None:
        """Every row rescaled where it lives; before `reduce`."""
        ...

    def reduce(self, reducer: Reducer) -> None:
        """Every row pre-reduced where it lives, for the maps; the rows as read are kept."""
        ...

    def place(self, placer: Placer, fit: np.ndarray, Y: np.ndarray, progress=None) -> np.ndarray:
        """Every row's coordinates: the rows `fit`'s `Y`, the others placed by `placer` in project/place.py's
        batches; `progress(rows)` as each batch is done."""
        ...
