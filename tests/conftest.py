"""Shared test data: the digits table (made once per session from scikit-learn's bundled copy) and small tables
generated in code. Tests write only under pytest's tmp_path."""

from __future__ import annotations

import os

# The two workers of `make test` share the two cores, and each worker's OpenMP threads (numba's, in umap-learn and
# pynndescent, and scikit-learn's) spin on a core for a while after every parallel loop, taking it from the other
# worker: ~100 of the suite's ~450 CPU-seconds. Passive threads sleep instead. Set before numpy and numba load
# libgomp, which reads it once; what the libraries compute is the same either way.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import importlib.util
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
# Every map is computed, never taken from the projection cache: tests check what the libraries make (the cache's
# own tests turn it back on).
os.environ["EMBPROJ_NO_CACHE"] = "1"
# Bokeh checks a document's models before writing it, and only logs what it finds: ~15% of each of the suite's
# ~220 renders. test_report.py turns the check back on for a page of each kind and fails on anything it logs.
os.environ["BOKEH_VALIDATE_DOC"] = "false"

# The files that take longest go first, so that the workers of `make test` (-n auto --dist loadfile: a file to
# a worker; --no-loadscope-reorder, or pytest-xdist hands out the files with the most tests first) end together
# instead of one of them running a long file alone at the end. Order measured with `pytest --durations=0`,
# summed by file, longest first.
FIRST = ("test_scale.py", "test_dask.py", "test_cli.py", "test_interactions.py", "test_bad_input.py",
         "test_page_js.py", "test_bounds.py", "test_budget_beyond_images.py", "test_fuzz_readers.py",
         "test_lenses.py", "test_images.py", "test_gear.py", "test_outputs.py", "test_formats.py",
         "test_explain_browser.py", "test_compare.py", "test_hostile.py", "test_users_files.py",
         "test_umap_kernels.py", "test_report.py", "test_project.py", "test_lod.py", "test_bad_output.py",
         "test_packaging.py", "test_structure.py", "test_browser.py", "test_hostile_paths.py",
         "test_corpus.py")  # fmt: skip


def pytest_collection_modifyitems(items) -> None:
    rank = {name: i for i, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(FIRST)))  # stable: the others keep their order


def _load_fixture_module():
    spec = importlib.util.spec_from_file_location("make_digits", ROOT / "fixtures" / "make_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def digits_parquet(tmp_path_factory) -> Path:
    """fixtures/digits.parquet as `make demo` writes it (1,797 rows: target, image 8×8, 64 pixel columns)."""
    path = tmp_path_factory.mktemp("digits") / "digits.parquet"
    _load_fixture_module().write_digits(path)
    return path


@pytest.fixture(scope="session")
def digits_table(digits_parquet) -> pa.Table:
    return pq.read_table(digits_parquet)


def blobs(n: int = 120, dims: int = 8, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`classes` well-separated Gaussian clusters: (float32 n×dims, labels as text)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes
    centers = rng.normal(scale=10.0, size=(classes, dims))
    X = (centers[labels] + rng.normal(size=(n, dims))).astype(np.float32)
    return X, np.array([f"c{k}" for k in labels])


def vector_table(n: int = 120, dims: int = 8, classes: int = 3, seed: int = 0) -> pa.Table:
    """One list<float32> column `embedding`, a `label` and an `id`."""
    X, labels = blobs(n, dims, classes, seed)
    return pa.table(
        {
            "id": pa.array(np.arange(n)),
            "label": pa.array(labels),
            "embedding": pa.array(list(X), type=pa.list_(pa.float32())),
        }
    )


@pytest.fixture
def vectors_parquet(tmp_path) -> Path:
    path = tmp_path / "vectors.parquet"
    pq.write_table(vector_table(), path)
    return path


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run `embproj …` in-process from tmp_path; returns the Click result (exit_code, stdout, stderr)."""
    from embproj.cli import app

    runner = CliRunner()
    monkeypatch.chdir(tmp_path)

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return invoke


def chromium_path() -> str | None:
    """The system Chromium for browser tests; under CI (CI=true) its absence is a failure, not a skip."""
    from browserjs import find_chromium

    found = find_chromium()
    if found is None and os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but no chromium was found: .ci/run must apt-get install chromium")
    return found


def short_line(line: str, most: int = 300) -> bool:
    """An error line is short whatever the table: at most `most` characters besides the file names it gives (the
    user's own paths, words with a "/", which are kept whole)."""
    return sum(len(word) + 1 for word in line.split(" ") if "/" not in word) <= most
