"""The console script projects in a forked worker (embproj/compute.py) while it reads the table and loads Bokeh.

What a user sees must not change: the same report byte for byte, the same stage lines, the same one-line errors.
End-to-end runs are real `python -m embproj` processes (only the console script forks); the fallbacks are tested
in-process with a worker that dies at once.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import vector_table
from embproj import compute
from embproj.errors import InputError, OptionError
from embproj.options import PcaParams, TsneParams, UmapParams


def embproj(*args, env_extra=None, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    env.pop(compute.OFF_SWITCH, None)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "embproj", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def wide_table(tmp_path_factory):
    """64-dimensional vectors, so that UMAP and t-SNE pre-reduce first (in the worker)."""
    path = tmp_path_factory.mktemp("worker") / "wide.parquet"
    pq.write_table(vector_table(n=150, dims=64), path)
    return path


@pytest.fixture(scope="module")
def both_ways(wide_table, tmp_path_factory):
    """`--algo all --json` once with the worker and once without (EMBPROJ_NO_WORKER=1)."""
    out = tmp_path_factory.mktemp("both-ways")
    runs = {}
    for name, extra in (("worker", None), ("in-process", {compute.OFF_SWITCH: "1"})):
        html = out / f"{name}.html"
        done = embproj("project", wide_table, "--algo", "all", "--json", "-o", html, env_extra=extra)
        assert done.returncode == 0, done.stderr
        runs[name] = (html.read_bytes(), json.loads(done.stdout), done.stderr)
    return runs


FORKS = hasattr(os, "fork") and sys.platform != "darwin" and (os.cpu_count() or 1) >= 2
forks = pytest.mark.skipif(not FORKS, reason="the worker is used only with fork and two CPUs")


@forks
def test_worker_and_in_process_runs_write_the_same_report(both_ways):
    (html_w, summary_w, _), (html_i, summary_i, _) = both_ways["worker"], both_ways["in-process"]
    assert summary_w["worker"] is True and summary_i["worker"] is False
    assert html_w == html_i  # byte for byte: coordinates, metrics, neighbours, images
    for key in ("algorithms", "rows", "dims", "columns"):
        if key == "algorithms":
            assert [a["metrics"] for a in summary_w[key]] == [a["metrics"] for a in summary_i[key]]
        else:
            assert summary_w[key] == summary_i[key]


@forks
def test_worker_run_prints_the_same_stages(both_ways):
    def stages(stderr: str) -> set[str]:
        return {
            line.split(":")[0] for line in stderr.splitlines() if line.endswith(" s") and not line.startswith("Wrote")
        }

    worker, in_process = stages(both_ways["worker"][2]), stages(both_ways["in-process"][2])
    assert worker == in_process
    assert {"Reducing 64 dimensions with PCA", "Projecting with UMAP", "Projecting with t-SNE"} <= worker
    assert set(both_ways["worker"][1]["seconds"]) == set(both_ways["in-process"][1]["seconds"])
    # the times printed are the worker's own, not when its messages happened to be read here
    printed = dict(line.rsplit(": ", 1) for line in both_ways["worker"][2].splitlines() if line.endswith(" s"))
    for key, label in (("umap", "Projecting with UMAP"), ("tsne", "Projecting with t-SNE")):
        assert float(printed[label][:-2]) == pytest.approx(both_ways["worker"][1]["seconds"][key], abs=0.051)


def test_an_error_raised_in_the_worker_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "three.parquet"
    pq.write_table(vector_table(n=3), path)
    done = embproj("project", path, "--algo", "tsne", "-o", tmp_path / "r.html")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"Error: {path}: t-SNE needs at least 4 rows")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r.html").exists()


def test_a_run_that_fails_before_the_matrix_stops_the_worker(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n")  # a header and no rows
    done = embproj("project", bad, "--algo", "umap", "-o", tmp_path / "r.html")
    assert done.returncode == 2 and done.stderr.startswith("Error: ")
    # the worker is reaped by the main process; none outlives it
    out = subprocess.run(["ps", "-eo", "ppid,args"], capture_output=True, text=True).stdout
    assert str(bad) not in out


# -- in this process: fallbacks and the conditions for forking ------------------------------------------------


JOB = compute.Job(
    algos=("pca",),
    params={"pca": PcaParams(), "umap": UmapParams(), "tsne": TsneParams()},
    seed=0,
    max_dims=None,
    metrics=False,
    where="table.parquet",
)


def _die_at_once(conn, modules):
    os._exit(3)


def test_a_worker_that_dies_is_replaced_by_this_process():
    X = np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)
    calls = []
    worker = compute.Worker.start((), serve=_die_at_once)
    try:
        numbers, got = worker.compute(X, JOB, _stage(calls), lambda: "meanwhile ran")
    finally:
        worker.close()
    expected = compute.compute(X, JOB, _stage([]))
    assert got == "meanwhile ran" and numbers.worker is False
    np.testing.assert_array_equal(numbers.projections[0].xy, expected.projections[0].xy)
    assert ("pca", "Projecting with PCA") in calls


def test_the_worker_is_forked_only_where_it_is_safe(monkeypatch):
    assert not compute.worker_wanted({compute.OFF_SWITCH: "1"})
    monkeypatch.setitem(sys.modules, "numba", types.ModuleType("numba"))  # a numeric library is loaded already
    assert not compute.worker_wanted({})
    monkeypatch.delitem(sys.modules, "numba")
    for name in compute.NUMERIC_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not compute.worker_wanted({})  # another thread: a fork would copy it half-way
    finally:
        stop.set()
        other.join()
    monkeypatch.setattr(compute.threading, "active_count", lambda: 1)  # earlier tests may leave threads behind
    expected = sys.platform != "darwin" and hasattr(os, "fork") and (os.cpu_count() or 1) >= 2
    assert compute.worker_wanted({}) == expected


def test_the_python_api_never_forks(tmp_path, monkeypatch):
    import embproj

    monkeypatch.setattr(compute.Worker, "start", classmethod(lambda *a, **k: pytest.fail("forked")))
    table = vector_table(n=30)
    result = embproj.report(table.to_pandas(), algo="pca")
    assert result.summary["worker"] is False


def test_errors_survive_the_trip_back_from_the_worker():
    for err in (InputError("no usable rows", "check the column", where="data.csv"), OptionError("bad", None)):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err)
        assert (back.what, back.fix, back.where) == (err.what, err.fix, err.where)
    assert str(pickle.loads(pickle.dumps(InputError("x"))).at("f.csv")) == "f.csv: x"
    portable = compute._portable(_Unpicklable())
    assert isinstance(portable, RuntimeError) and "_Unpicklable" in str(portable)


class _Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("cannot pickle")


def _stage(calls: list):
    from contextlib import nullcontext

    def stage(key, label):
        calls.append((key, label))
        return nullcontext()

    return stage


def test_a_matrix_too_large_to_pipe_is_projected_here(vectors_parquet, tmp_path, monkeypatch):
    from embproj.options import Options
    from embproj.pipeline import run

    class Unused:
        def compute(self, *args):
            pytest.fail("the matrix went to the worker")

    monkeypatch.setattr(compute, "WORKER_MAX_BYTES", 0)
    result = run(Options(data=vectors_parquet, output=tmp_path / "r.html", algo="pca"), worker=Unused())
    assert result.summary["worker"] is False and (tmp_path / "r.html").exists()


@forks
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_worker_ends_when_the_main_process_is_killed(wide_table, tmp_path):
    import signal
    import time

    script = str(Path(sys.executable).with_name("embproj"))
    proc = subprocess.Popen([script, "project", wide_table, "--algo", "tsne", "-o", tmp_path / "r.html", "-q"])
    worker = None
    for _ in range(200):
        found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True)
        if found.stdout.split():
            worker = int(found.stdout.split()[0])
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert worker is not None, "no worker was forked"
    for _ in range(200):
        if _gone(worker):
            break
        time.sleep(0.02)
    assert _gone(worker)


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # ended; a zombie only waits for its new parent to reap it


def test_a_large_input_keeps_one_process(tmp_path):
    """Reading a large file takes seconds: the imports a worker overlaps matter less than the memory it adds."""
    big = tmp_path / "big.parquet"
    with open(big, "wb") as f:
        f.truncate(compute.WORKER_MAX_INPUT_BYTES + 1)  # sparse: no disk used
    assert not compute.small_input(big)
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(3):
        with open(parts / f"part-{i}.parquet", "wb") as f:
            f.truncate(compute.WORKER_MAX_INPUT_BYTES // 2)
    assert not compute.small_input(parts)
    small = tmp_path / "small.parquet"
    pq.write_table(vector_table(n=10), small)
    assert compute.small_input(small) and compute.small_input(tmp_path / "missing.parquet")
