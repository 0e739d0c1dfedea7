"""The numeric stages as two calls, run here or in a forked worker: `compute` (pre-reduce, project) and
`measure` (the neighbour table, quality metrics).

A fresh `embproj project` on a small table spends most of its time importing: scikit-learn, numba and
umap-learn or openTSNE for the numbers, Bokeh for the page. The console script therefore forks a worker first
thing (`Worker.start`, from cli.py). The worker imports the numeric libraries while this process reads, samples
and builds the matrix; the matrix goes to the worker, which runs `compute` (the same function, with the same
arguments, as the in-process path, so the same coordinates) and streams its stage timings back, which this
process replays to the reporter as they come. Meanwhile this process loads Bokeh and encodes the thumbnails. A
PCA or t-SNE worker has scikit-learn loaded anyway and measures too; a UMAP worker loads none (umap_direct.py),
so this process loads it and finds the neighbours while UMAP runs, and measures when the coordinates arrive.

The worker is used only where it is safe and pays: the console script (not the Python API, whose host process
may hold threads or OpenMP pools that a fork would copy half-way), a POSIX system other than macOS, at least two
CPUs, no other thread running, none of the numeric libraries loaded yet, and a matrix of at most
`WORKER_MAX_BYTES`. `EMBPROJ_NO_WORKER=1` turns it off. A worker that dies (a signal, out of memory) is not
fatal: the numbers are computed in this process instead; a main process that dies takes the worker with it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .errors import located

OFF_SWITCH = "EMBPROJ_NO_WORKER"
# Modules whose presence means a fork would copy live thread pools (OpenMP, numba), and would gain nothing.
NUMERIC_MODULES = ("sklearn", "numba", "umap", "openTSNE", "scipy.sparse.linalg", "threadpoolctl")
# What the worker imports as soon as it is forked, per algorithm ("umap_direct": umap-learn's functions, loaded).
PRELOAD = {
    "pca": ("sklearn.decomposition",),
    "umap": ("numba", "scipy.sparse.linalg", "scipy.sparse.csgraph", "scipy.optimize", "umap_direct"),
    "tsne": ("openTSNE", "openTSNE.affinity", "sklearn.neighbors"),
}

# Larger matrices stay in this process: piping them costs a copy on each side, while the worker gains a fixed
# second or so of imports, small beside projecting that many values.
WORKER_MAX_BYTES = 256 * 2**20
# Inputs larger than this on disk are read for seconds, so the imports a worker overlaps matter less, and the
# memory it adds (~250 MB) more: such runs keep one process (benchmarks/RESULTS.md, streaming).
WORKER_MAX_INPUT_BYTES = 256 * 2**20

_PARENT = [0]  # the main process's pid, for the worker to check it is still there

Stage = Callable[[str, str], AbstractContextManager[Any]]  # (key, label) -> a timing context; may yield a clock


@dataclass(frozen=True)
class Job:
    algos: tuple[str, ...]
    params: dict[str, Any]  # algo -> its parameters
    seed: int
    max_dims: int | None  # PCA pre-reduction target, None for none
    metrics: bool
    where: str  # the input's name, for errors that do not say where they happened
    measure: bool = False  # `compute` also finds neighbours and measures (a worker that has scikit-learn loaded)
    metric: str = "euclidean"  # distance in the original space, for the neighbour table and the metrics (--metric)
    neighbours: int = 10  # the neighbour table's k (--neighbours); 0 for none


@dataclass(frozen=True)
class Numbers:
    X: np.ndarray  # the matrix the projections saw (after any pre-reduction)
    reduced_to: int | None
    reduced_variance: float | None
    projections: tuple
    neighbours: tuple[np.ndarray | None, str] = (None, "")
    umap_kernel_cache: str | None = None
    worker: bool = False  # projected in the forked worker
    worker_peak_rss: int | None = None  # bytes, the worker's own peak memory


def compute(X: np.ndarray, job: Job, stage: Stage) -> Numbers:
    """Pre-reduction and projections, from the matrix as read (float32, n × dims): the worker's part (with
    `measure` when `job.measure`)."""
    from .matrix import pre_reduce
    from .project import NAMES, project

    reduced, reduced_to, variance = X, None, None
    if job.max_dims is not None and X.shape[1] > job.max_dims:
        with stage("reduce", f"Reducing {X.shape[1]:,} dimensions with PCA"):
            reduced, reduced_to, variance = pre_reduce(X, job.max_dims, job.seed)
    projections = []
    for algo in job.algos:
        with stage(algo, f"Projecting with {NAMES[algo]}"):
            projections.append(located(job.where, project, reduced, algo, job.params[algo], job.seed))
    kernels = None
    if "umap" in job.algos:
        from .umap_fast import kernel_cache_status

        kernels = kernel_cache_status()
    numbers = Numbers(reduced, reduced_to, variance, tuple(projections), umap_kernel_cache=kernels)
    return measure(X, numbers, job, stage) if job.measure else numbers


def neighbours(X: np.ndarray, job: Job, stage: Stage) -> tuple[np.ndarray | None, str]:
    """The report's click-for-neighbours table, exact, in the space the vectors were read in."""
    from .metrics import report_neighbours

    if job.neighbours == 0:
        return None, "no neighbour table: --neighbours 0"
    with stage("neighbours", "Finding each point's neighbours"):
        return report_neighbours(X, job.neighbours, job.metric)


def measure(X: np.ndarray, numbers: Numbers, job: Job, stage: Stage, near=None) -> Numbers:
    """The neighbour table (unless given) and each projection's quality numbers."""
    from .metrics import quality

    near = near if near is not None else neighbours(X, job, stage)
    projections = numbers.projections
    if job.metrics:
        with stage("metrics", "Measuring quality"):
            projections = tuple(
                replace(p, metrics={**p.metrics, **quality(X, p.xy, job.seed, high=near[0], metric=job.metric)})
                for p in projections
            )
    return replace(numbers, projections=projections, neighbours=near)


# -- the worker -----------------------------------------------------------------------------------------------


def worker_wanted(environ=os.environ) -> bool:
    """Fork only where it is safe and gains something (see the module docstring)."""
    return (
        hasattr(os, "fork")
        and sys.platform != "darwin"
        and environ.get(OFF_SWITCH, "") in ("", "0")
        and (os.cpu_count() or 1) >= 2
        and threading.active_count() == 1
        and not any(name in sys.modules for name in NUMERIC_MODULES)
    )


class Worker:
    """A forked process that imports the numeric libraries at once, then runs `compute` on the matrix it is sent.

    Protocol over a socket pair, one pickled tuple per message: this process sends `(X, job)` once (or nothing,
    closing the pair, when the run fails before the matrix); the worker answers `("start", key, label)` and
    `("end", key, seconds)` per stage, then `("done", Numbers)` or `("error", exception)`, and exits.
    """

    def __init__(self, pid: int, conn) -> None:
        self.pid = pid
        self.conn = conn

    @classmethod
    def start(cls, modules: tuple[str, ...], serve: Callable | None = None) -> Worker:
        from multiprocessing import Pipe

        mine, theirs = Pipe()
        _PARENT[0] = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            mine.close()
            code = 1
            try:
                (serve or _serve)(theirs, modules)
                code = 0
            finally:
                os._exit(code)
        theirs.close()
        return cls(pid, mine)

    def compute(self, X: np.ndarray, job: Job, stage: Stage, meanwhile: Callable[[], Any]) -> tuple[Numbers, Any]:
        """Send the matrix, run `meanwhile` here, then replay the worker's stages as they come: (the worker's
        numbers, what `meanwhile` returned). Each stage takes the seconds the worker measured (the replay may
        start late), through the clock its context yields. Computes here instead when the worker is gone."""
        sent: list[bool] = []

        def send() -> None:  # in a thread: a send blocks until the worker, still importing, reads it
            try:
                self.conn.send((X, job))
                sent.append(True)
            except OSError:
                pass

        sender = threading.Thread(target=send, name="embproj-send", daemon=True)
        sender.start()
        got = meanwhile()
        sender.join()
        if not sent:
            return compute(X, job, stage), got
        open_stage: AbstractContextManager[Any] | None = None
        clock = None
        try:
            while True:
                try:
                    kind, *body = self.conn.recv()
                except (EOFError, OSError):  # the worker died: a signal, the OOM killer
                    if open_stage is not None:
                        open_stage.__exit__(None, None, None)
                        open_stage = None
                    return compute(X, job, stage), got
                if kind == "start":
                    open_stage = stage(body[0], body[1])
                    clock = open_stage.__enter__()
                elif kind == "end" and open_stage is not None:
                    if clock is not None:
                        clock.seconds = body[1]
                    open_stage.__exit__(None, None, None)
                    open_stage = None
                elif kind == "done":
                    return replace(body[0], worker=True), got
                elif kind == "error":
                    raise body[0]
        finally:
            if open_stage is not None:
                open_stage.__exit__(*sys.exc_info())

    def close(self) -> None:
        """Stop the worker (it may still be importing) and reap it."""
        self.conn.close()
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def small_input(path) -> bool:
    """Whether the input (a file, or a folder of Parquet parts) is at most `WORKER_MAX_INPUT_BYTES` on disk."""
    from pathlib import Path

    try:
        path = Path(path)
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        return sum(p.stat().st_size for p in files) <= WORKER_MAX_INPUT_BYTES
    except (OSError, TypeError):
        return True  # a path that does not say: the run reports what is wrong with it


@contextmanager
def maybe_worker(wanted: bool, algos: tuple[str, ...]) -> Iterator[Worker | None]:
    worker = None
    if wanted and worker_wanted():
        worker = Worker.start(tuple(dict.fromkeys(m for algo in algos for m in PRELOAD.get(algo, ()))))
    try:
        yield worker
    finally:
        if worker is not None:
            worker.close()


def _serve(conn, modules: tuple[str, ...]) -> None:
    """The worker's life: quiet its output, import, wait for the matrix, compute, answer."""
    _die_with_parent()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # library chatter (numba, OpenMP) must not reach the user's terminal twice
    os.dup2(devnull, 2)
    _preload(modules)
    try:
        message = conn.recv()
    except (EOFError, OSError):  # the run ended before it had a matrix
        return
    X, job = message

    @contextmanager
    def stage(key: str, label: str):
        conn.send(("start", key, label))
        start = time.perf_counter()
        yield
        conn.send(("end", key, time.perf_counter() - start))

    try:
        numbers = compute(X, job, stage)
    except BaseException as err:  # noqa: BLE001 - every failure goes back to be raised there
        conn.send(("error", _portable(err)))
        return
    conn.send(("done", replace(numbers, worker_peak_rss=peak_rss())))


def peak_rss() -> int | None:
    """This process's peak resident memory in bytes (None where the platform does not say)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _die_with_parent() -> None:
    """On Linux, ask the kernel to end the worker when the main process ends, however it ends (SIGKILL too):
    no orphan goes on projecting for nobody. Elsewhere the worker ends at its next send."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != _PARENT[0]:  # the main process ended before the request was made
        os._exit(1)


def _preload(modules: tuple[str, ...]) -> None:
    import importlib

    for name in modules:
        try:
            if name == "umap_direct":
                from .umap_direct import namespace

                namespace()
            else:
                importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a library that does not load fails later, where it is used
            pass


def _portable(err: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a RuntimeError that says what it was."""
    import pickle

    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(err).__name__}: {err}")
