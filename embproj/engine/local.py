"""`--engine local`: every batch step in this process, the stages' own functions over one float32 matrix."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa

from embproj.options import Options
from embproj.plan.choose import Plan
from embproj.project.place import Placer, place_rows
from embproj.read.base import Source
from embproj.sample import Draw, Reading, Sample, sample_rows
from embproj.vectors.matrix import Matrix, Reducer, matrix_from
from embproj.vectors.scaling import Scaler


class Local:
    """The engine of engine/base.py in this process. Between the stages it holds the sampled vectors, then the
    kept rows as read (`read`: rescaled in place, so a large matrix is never copied) and as the maps see them
    (`maps`: `read` itself, or its pre-reduction)."""

    here = True

    def __init__(self) -> None:
        self.sampled: np.ndarray | None = None
        self.read = self.maps = np.empty((0, 0), np.float32)

    def sample(self, source: Source, plan: Plan, opts: Options, progress=None) -> Sample:
        from functools import partial

        from embproj.vectors.matrix import vectors

        reading = Reading(plan.needed_columns, plan.shown_columns, partial(vectors, embedding=plan.embedding))
        draw = Draw(opts.max_points, opts.seed, opts.sample, plan.color.column)
        sample = sample_rows(source, reading, draw, progress)
        pa.default_memory_pool().release_unused()  # give the streamed batches back before the libraries load
        self.sampled = sample.X
        return replace(sample, X=None)

    def matrix(self, sample: Sample, where: str) -> Matrix:
        assert self.sampled is not None and sample.bad is not None, "sample first"
        X, matrix = matrix_from(self.sampled, sample.bad, sample.dims, where, sample.gaps)
        self.sampled, self.read, self.maps = None, X, X
        return matrix

    def gather(self, rows: np.ndarray | None = None, read: bool = False) -> np.ndarray:
        X = self.read if read else self.maps
        return X if rows is None or len(rows) == len(X) else X[rows]  # every row: the matrix itself, not a copy

    def rescale(self, scaler: Scaler) -> None:
        self.read = self.maps = scaler(self.read, out=self.read)

    def reduce(self, reducer: Reducer) -> None:
        self.maps = reducer(self.read)

    def place(self, placer: Placer, fit: np.ndarray, Y: np.ndarray, progress=None) -> np.ndarray:
        return place_rows(self.maps, placer, fit, Y, progress)
