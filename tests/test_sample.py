"""Stage 3: a seeded reservoir over batches; stratified keeps every class."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from embproj.errors import EmbprojError
from embproj.options import Options, validate
from embproj.read.base import Source, from_table
from embproj.sample import Draw, Reading, sample_rows


def _source(n: int, batch_rows: int, classes=None) -> Source:
    labels = classes if classes is not None else [f"c{i % 4}" for i in range(n)]
    table = pa.table({"i": np.arange(n), "label": labels})

    def batches(columns):
        yield from table.select(list(columns)).to_batches(batch_rows)

    return Source("mem", "arrow", table.schema, n, batches)


def test_all_rows_when_they_fit():
    s = sample_rows(_source(50, 7), Reading(["i"]), Draw(100, seed=0))
    assert s.rows_read == 50 and s.table.column("i").to_pylist() == list(range(50))
    assert s.row_ids.tolist() == list(range(50))


def test_seeded_and_independent_of_batch_size():
    a = sample_rows(_source(10_000, 333), Reading(["i"]), Draw(500, seed=7))
    b = sample_rows(_source(10_000, 4096), Reading(["i"]), Draw(500, seed=7))
    c = sample_rows(_source(10_000, 333), Reading(["i"]), Draw(500, seed=8))
    assert a.table.num_rows == 500 and a.rows_read == 10_000
    assert a.row_ids.tolist() == b.row_ids.tolist()
    assert a.row_ids.tolist() != c.row_ids.tolist()
    assert a.table.column("i").to_pylist() == a.row_ids.tolist()  # rows stay with their ids, in file order
    assert a.row_ids.tolist() == sorted(a.row_ids.tolist())


def test_sample_is_spread_over_the_file():
    s = sample_rows(_source(100_000, 8192), Reading(["i"]), Draw(1000, seed=0))
    assert 35_000 < np.median(s.row_ids) < 65_000


def test_stratified_keeps_rare_classes():
    labels = ["big"] * 9_990 + ["rare"] * 10
    rng = np.random.default_rng(0)
    rng.shuffle(labels)
    random = sample_rows(_source(10_000, 1000, labels), Reading(["i", "label"]), Draw(20, seed=1))
    strat = sample_rows(_source(10_000, 1000, labels), Reading(["i", "label"]), Draw(20, 1, "stratified", "label"))
    assert strat.table.num_rows == 20
    assert "rare" in strat.table.column("label").to_pylist()
    assert set(random.table.column("label").to_pylist()) <= {"big", "rare"}


def test_stratified_is_proportional():
    labels = ["a"] * 6000 + ["b"] * 3000 + ["c"] * 1000
    s = sample_rows(_source(10_000, 777, labels), Reading(["label"]), Draw(100, 0, "stratified", "label"))
    got = s.table.column("label").to_pylist()
    assert (got.count("a"), got.count("b"), got.count("c")) == (60, 30, 10)


def test_empty_table_and_bad_limits():
    empty = from_table(pa.table({"i": pa.array([], pa.int64())}))
    with pytest.raises(EmbprojError, match="no rows"):
        sample_rows(empty, Reading(["i"]), Draw(10, seed=0))
    with pytest.raises(EmbprojError, match="--max-points 0 is out of range, give a whole number, 1 or more"):
        validate(Options(max_points=0))
