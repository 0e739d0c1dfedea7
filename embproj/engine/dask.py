"""`--engine dask`: the batch steps (read, sample, place rows) on an existing `dask.distributed` cluster.

What runs where:
- the client (this process) reads the Parquet footers and the first rows (for the plan), draws nothing else;
- each worker reads its own Parquet parts: the random keys of the sample (one numpy stream, advanced to the part's
  first row, so the keys are the local engine's), then the sampled rows' vectors, which stay on the worker;
- the client gathers the shown columns of the plotted rows, and the vectors of the rows the fit and the quality
  numbers need (`Dask.gather`); the fit runs once, here;
- the placer (the fitted model, pickled once) goes to the workers, which place the other rows in the local
  engine's batches (the same rows in the same batch, so the same coordinates), and send back x, y.

A worker gets the parts' paths made absolute here (it resolves a relative one in its own working folder), and no
contact with the scheduler, connecting included, waits longer than --timeout.

Dask is imported here only, and only when the engine is asked for: the local engine needs no Dask installed.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from embproj.errors import ClusterError, EmbprojError, InputError, OptionError
from embproj.options import say
from embproj.read.jsonfile import first_line

INSTALL = "pip install 'embproj[dask]'"
ASIDE_SECONDS = 10  # at most this long for a call that only adds to a message or tidies up (workers, closing)


# -- on the workers ---------------------------------------------------------------------------------------------


@dataclass
class Part:
    """One Parquet part's sampled rows, held by a worker: the usable rows' vectors stay there."""

    X: np.ndarray  # float32, the usable sampled rows' vectors, in file order
    bad: np.ndarray  # int8 per sampled row: why its vector is unusable (matrix.REASONS), 0 if usable
    table: pa.Table  # the shown columns of the sampled rows
    dims: int
    gaps: np.ndarray | None = None  # numeric columns: per column, the sampled rows missing its number


def _opened(path: str):
    """The part as this worker opens it, or one line if it cannot (the client could: the worker sees other files)."""
    from embproj.read.tables import open_parquet

    try:
        return open_parquet(Path(path), path, "parquet", None)  # the same tidy names as the whole table's
    except (OSError, pa.ArrowException) as err:
        why = os.strerror(err.errno) if isinstance(err, OSError) and err.errno else first_line(err)  # no path twice
        raise ClusterError(
            f'a Dask worker cannot read "{path}" ({why})',
            "the workers must see the data at the same path as this machine (a shared folder), or use "
            + say("engine", "local"),
        ) from None


def part_rows(path: str) -> int:
    rows = _opened(path).num_rows
    if rows is None:  # the sampling keys are drawn for the rows a footer states: a false count would be used
        raise InputError("its footer states a row count its own columns deny", "write the file again", where=path)
    return rows


def keys_of(seed: int, offset: int, n: int) -> np.ndarray:
    """The sampling keys of rows offset … offset + n - 1: the local engine's (sample.py), one `default_rng(seed)`
    stream over the rows in file order, advanced here to this part's first row (a double is one 64-bit draw)."""
    bits = np.random.PCG64(seed)  # what default_rng(seed) draws from
    bits.advance(offset)
    return np.random.Generator(bits).random(n)


def smallest_keys(seed: int, offset: int, n: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The `limit` smallest sampling keys of the part's rows, and their row numbers."""
    from embproj.sample import lowest_keys

    keys = keys_of(seed, offset, n)
    picked = np.sort(lowest_keys(keys, limit))
    return keys[picked], picked + offset


def class_keys(path: str, column: str, seed: int, offset: int, limit: int) -> list[tuple]:
    """For --sample stratified: per class of `column` in the part, (value, rows, first row, the `limit`
    smallest keys, their row numbers)."""
    import pyarrow.compute as pc

    from embproj.sample import lowest_keys

    batches = list(_opened(path).batches([column]))
    values = pa.chunked_array([b.column(0) for b in batches]).combine_chunks() if batches else pa.array([])
    encoded = pc.dictionary_encode(values)
    names = [*encoded.dictionary.to_pylist(), None]
    codes = encoded.indices.fill_null(len(names) - 1).to_numpy(zero_copy_only=False)
    keys = keys_of(seed, offset, len(values))
    out = []
    for code in np.unique(codes):
        members = np.flatnonzero(codes == code)
        picked = members[np.sort(lowest_keys(keys[members], limit))]
        out.append((names[code], len(members), int(members[0]) + offset, keys[picked], picked + offset))
    return out


def load_part(path: str, rows: np.ndarray | None, columns: Sequence[str], schema: pa.Schema, embedding) -> Part:
    """The part's rows `rows` (numbers within the part, ascending; None: every row): their vectors converted as
    the part streams, and their shown columns (`schema`, as the whole table's)."""
    from embproj.vectors.matrix import GAP, vectors

    source = _opened(path)
    X, bad, tables, dims, start, gaps = [], [], [], 0, 0, None
    for batch in source.batches(columns):
        n = batch.num_rows
        if rows is not None:
            lo, hi = np.searchsorted(rows, [start, start + n])
            batch = batch.take(pa.array(rows[lo:hi] - start))
        start += n
        v = vectors(batch, embedding)
        X.append(v.X[v.bad == 0])
        bad.append(v.bad)
        missing = np.isnan(v.X[v.bad == GAP]).sum(axis=0)
        gaps = missing if gaps is None else gaps + missing
        tables.append(pa.Table.from_batches([batch]).select(schema.names).cast(schema))
        dims = dims or (v.dims if v.X.size else 0)
    if not tables:
        return Part(np.empty((0, 0), np.float32), np.empty(0, np.int8), schema.empty_table(), 0)
    return Part(np.concatenate(X), np.concatenate(bad), pa.concat_tables(tables), dims, gaps)


def shown(part: Part) -> tuple[np.ndarray, pa.Table, int, np.ndarray | None]:
    """What the client takes of a part: the rows' codes and shown columns (not the vectors), and the gaps."""
    return part.bad, part.table, part.dims, part.gaps


def prepared(X: np.ndarray, scaler, reducer) -> np.ndarray:
    """Rows as the maps see them: rescaled by the scaler fitted on the client, then pre-reduced (the local
    engine's arithmetic, so the same numbers)."""
    X = scaler(X) if scaler is not None else X
    return reducer(X) if reducer is not None else X


def take(part: Part, rows: np.ndarray, scaler, reducer) -> np.ndarray:
    return prepared(part.X[rows], scaler, reducer)


def place(placer, scaler, reducer, pieces: list) -> np.ndarray:
    """One batch of rows placed: the rows of each (part, rows) piece in order, rescaled, pre-reduced, then
    placed."""
    X = prepared(np.concatenate([part.X[rows] for part, rows in pieces]), scaler, reducer)
    return np.asarray(placer(X), dtype=np.float32)


# -- on the client ----------------------------------------------------------------------------------------------


class Cluster:
    """A client of the cluster, and the one way of waiting on it: never longer than `timeout` seconds without a
    task done; a task's error comes back as the error it raised, a lost worker or scheduler as `ClusterError`."""

    def __init__(self, client, timeout: float, started: str = "") -> None:
        self.client, self.timeout, self.started = client, timeout, started

    def submit(self, fn, *args, **kwargs):
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def broadcast(self, value):
        """`value` sent once to every worker (the fitted placer), as a future the tasks take."""
        scatter = self.client.scatter
        [future] = self._waited(lambda: bounded(self.timeout, scatter, [value], broadcast=True, hash=False))
        return future

    def done(self, futures: list) -> Iterator[tuple[int, Any]]:
        """(position, result) of each future, in order, waiting at most `timeout` seconds for each."""
        for i, future in enumerate(futures):
            yield i, self._result(future)

    def results(self, futures: list) -> list:
        out: list = [None] * len(futures)
        for i, value in self.done(futures):
            out[i] = value
        return out

    def _result(self, future):
        return self._waited(lambda: future.result(timeout=self.timeout))

    def _waited(self, wait):
        try:
            return wait()
        except TimeoutError:
            raise ClusterError(
                f"the Dask cluster did not finish a task in {self.timeout:g} s ({self._workers()})",
                f"check that the cluster has workers that can read the data, or give a longer {say('timeout')}",
            ) from None
        except EmbprojError:
            raise
        except Exception as err:  # noqa: BLE001 - every failure of the cluster is said in one line
            name = type(err).__name__
            if name == "KilledWorker":
                raise ClusterError(
                    "a Dask worker died each time it ran a task of this run (out of memory?)",
                    "give the workers more memory, or fewer rows per part",
                ) from None
            if name in ("CancelledError", "CommClosedError", "FutureCancelledError"):
                raise ClusterError("lost the Dask scheduler", "check the cluster, then run again") from None
            raise

    def _workers(self) -> str:
        try:
            n = len(bounded(ASIDE_SECONDS, self.client.scheduler_info, n_workers=-1).get("workers", {}))
        except Exception:  # noqa: BLE001 - only for the message
            return "the scheduler does not answer"
        return f"{n} worker{'s' if n != 1 else ''} connected"


def bounded(timeout: float, fn, *args, **kwargs):
    """`fn(*args, **kwargs)`, waited for at most `timeout` seconds (then TimeoutError): Dask bounds the wait for a
    task's result, not every call its client makes. A call that never returns is left to a daemon thread."""
    got: list = []

    def call() -> None:
        try:
            got.append((True, fn(*args, **kwargs)))
        except BaseException as err:  # noqa: BLE001 - raised again in the caller's thread
            got.append((False, err))

    thread = threading.Thread(target=call, name="embproj-dask-call", daemon=True)
    thread.start()
    thread.join(timeout)
    if not got:
        raise TimeoutError(f"no answer in {timeout:g} s")
    ok, value = got[0]
    if not ok:
        raise value
    return value


@contextmanager
def connect(scheduler: str | None, timeout: float) -> Iterator[Cluster]:
    """The cluster at `scheduler` (or DASK_SCHEDULER_ADDRESS); with neither, a cluster of this machine's cores."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        what = f"{say('engine', 'dask')} needs Dask, which is not installed"
        raise OptionError(what, f"install it with {INSTALL}") from None
    if scheduler is not None and not scheduler.strip():
        raise OptionError(
            f"{say('scheduler')} is empty", "give the scheduler's address (e.g. tcp://10.0.0.5:8786), or leave it out"
        )
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    local = None
    if address:
        client, started = _client(address, timeout), ""
    else:
        workers = os.cpu_count() or 1
        try:
            with warnings.catch_warnings():  # "port 8787 is in use": its status page, which is not started
                warnings.simplefilter("ignore")
                local = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None, silence_logs=40)
            client = Client(local, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            raise ClusterError(
                f"cannot start a Dask cluster on this machine ({first_line(err)})",
                f"give the address of a running one with {say('scheduler')}, or use {say('engine', 'local')}",
            ) from None
        started = f"no {say('scheduler')}: started a Dask cluster of {workers} workers on this machine"
    try:
        yield Cluster(client, timeout, started)
    finally:
        with suppress(Exception):  # the run is done or has failed already: closing only tidies up
            client.close(timeout=min(timeout, ASIDE_SECONDS))
        if local is not None:
            local.close()


def _client(address: str, timeout: float):
    """A client of the scheduler at `address`, or one `Error:` line. Dask's client waits for the scheduler's first
    answer with no timeout (a server that accepts the connection and never answers hangs it), and one that failed
    to start can hang again when it is collected: so one connection, with the client's address and security
    settings, is made and closed first, in `timeout` seconds, and what would fail there fails here."""
    import asyncio

    from distributed import Client
    from distributed.comm import connect as open_comm

    async def handshake(args: dict) -> None:
        try:
            comm = await asyncio.wait_for(open_comm(address, timeout=timeout, **args), timeout)
        except asyncio.TimeoutError:  # says nothing (and is not TimeoutError before Python 3.11)
            raise TimeoutError(f"no answer in {timeout:g} s") from None
        await comm.close()

    try:
        security = _security(address)
        args = security.get_connection_args("client")
        if address.startswith(("tls://", "wss://")) and args.get("ssl_context") is None:
            raise ClusterError(
                f"the Dask scheduler at {address} takes TLS connections, and Dask is given no TLS certificates",
                "set distributed.comm.tls.ca-file, .client.cert and .client.key in Dask's configuration, or give a "
                "tcp:// address",
            )
        bounded(timeout + 1, asyncio.run, handshake(args))  # a loop of its own: the caller's (a notebook's) may run
        return Client(address, timeout=timeout, security=security, set_as_default=False)
    except EmbprojError:
        raise
    except Exception as err:  # noqa: BLE001 - an address Dask cannot use fails in many ways: each is one line
        raise ClusterError(
            f"cannot reach the Dask scheduler at {address} ({first_line(err)})",
            f"check {say('scheduler')} (e.g. tcp://10.0.0.5:8786) and that the scheduler runs",
        ) from None


def _security(address: str):
    """What Dask's client would use: its security loader's settings for the address ("module.function" in its
    configuration), else those of its configuration."""
    import importlib

    import dask
    from distributed.security import Security

    loader = dask.config.get("distributed.client.security-loader", None)
    if loader:
        module, _, name = loader.rpartition(".")
        return getattr(importlib.import_module(module), name)({"address": address}) or Security()
    return Security()


class Dask:
    """The engine of engine/base.py on a cluster: the plotted rows' vectors are held by the workers, part by part
    (the usable rows of each, in file order), and stay there; the client gathers the rows a stage needs, and the
    rows are rescaled, pre-reduced and placed where they are."""

    here = False

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.parts: list = []  # a future per part that holds sampled rows (`Part`)
        self.starts = np.zeros(1, np.int64)  # where each part's rows begin among the kept rows, then their count
        self.dims = 0
        self.scaler: Any = None
        self.reducer: Any = None

    def sample(self, source, plan, opts, progress=None):
        """The rows sample.py would choose (`sample_on`), their vectors left on the workers."""
        sample, self.parts, usable = sample_on(self.cluster, source, plan, opts, progress)
        self.starts, self.dims = np.concatenate([[0], np.cumsum(usable)]).astype(np.int64), sample.dims
        return sample

    def matrix(self, sample, where: str):
        """The workers kept the usable rows already: here they are only counted."""
        from embproj.vectors.matrix import counted

        return counted(sample.bad, sample.dims, where, sample.gaps)

    def _pieces(self, rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """(part, rows within it) for ascending row numbers."""
        bounds = np.searchsorted(rows, self.starts)
        return [
            (p, rows[bounds[p] : bounds[p + 1]] - self.starts[p])
            for p in range(len(self.parts))
            if bounds[p + 1] > bounds[p]
        ]

    def gather(self, rows: np.ndarray | None = None, read: bool = False) -> np.ndarray:
        rows = np.arange(self.starts[-1]) if rows is None else np.asarray(rows, dtype=np.int64)
        reducer = None if read else self.reducer
        order = np.argsort(rows, kind="stable")
        pieces = self._pieces(rows[order])
        futures = [self.cluster.submit(take, self.parts[p], local, self.scaler, reducer) for p, local in pieces]
        got = self.cluster.results(futures)
        X = np.concatenate(got) if got else np.empty((0, reducer.target if reducer else self.dims), np.float32)
        out = np.empty_like(X)
        out[order] = X
        return out

    def rescale(self, scaler) -> None:
        self.scaler = scaler

    def reduce(self, reducer) -> None:
        self.reducer = reducer

    def place(self, placer, fit: np.ndarray, Y: np.ndarray, progress=None) -> np.ndarray:
        """The local engine's batches (the same rows in the same batch, so the same coordinates), each placed on
        the workers that hold its rows' parts, its x, y sent back as it is done."""
        from embproj.project.place import batches

        n = int(self.starts[-1])
        xy = np.empty((n, 2), dtype=np.float32)
        xy[fit] = Y
        placer_f = self.cluster.broadcast(placer)
        todo = batches(n, fit)
        pieces = [[(self.parts[p], local) for p, local in self._pieces(rows)] for rows in todo]
        futures = [self.cluster.submit(place, placer_f, self.scaler, self.reducer, piece) for piece in pieces]
        for i, placed_xy in self.cluster.done(futures):
            xy[todo[i]] = placed_xy
            futures[i] = None  # the worker lets the batch go
            if progress is not None:
                progress(len(todo[i]))
        return xy


def sample_on(cluster: Cluster, source, plan, opts, progress=None) -> tuple[Any, list, list[int]]:
    """sample.sample_rows on the cluster: the same rows, with their vectors left on the workers; and the parts
    that hold them (futures of `Part`), with their numbers of usable rows."""
    from embproj.sample import Sample

    if opts.metadata:
        raise OptionError(
            f"{say('metadata')} does not run on {say('engine', 'dask')}",
            f"join it into the Parquet parts, or use {say('engine', 'local')}",
        )
    if not source.parts:
        raise InputError(
            f"{say('engine', 'dask')} reads Parquet: a file, a folder of part files, or a pattern such as "
            "'parts/*.parquet'",
            f"convert the table to Parquet, or use {say('engine', 'local')}",
            where=source.name,
        )
    # absolute here, as Dask's own readers make them: a worker resolves a relative path in its own working folder
    paths = [os.path.abspath(p) for p in source.parts]
    sizes = np.array(cluster.results([cluster.submit(part_rows, p) for p in paths]), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    total = int(offsets[-1])
    if total == 0:
        raise InputError("the table has no rows", "give a file with at least one data row")
    chosen = _sampled(cluster, paths, sizes, offsets, plan, opts)  # per part: its rows to plot (None: all)
    schema = pa.schema([source.schema.field(c) for c in plan.shown_columns])
    wanted = [p for p in range(len(paths)) if chosen[p] is None or len(chosen[p])]
    columns, embedding = plan.needed_columns, plan.embedding
    parts = [cluster.submit(load_part, paths[p], chosen[p], columns, schema, embedding) for p in wanted]
    heads: list = [None] * len(parts)
    for i, got in cluster.done([cluster.submit(shown, part) for part in parts]):
        heads[i] = got
        if progress is not None:
            progress(int(sizes[wanted[i]]))
    bad = np.concatenate([h[0] for h in heads]) if heads else np.empty(0, np.int8)
    table = pa.concat_tables([h[1] for h in heads]).combine_chunks() if heads else schema.empty_table()
    row_ids = np.concatenate(
        [np.arange(sizes[p]) + offsets[p] if chosen[p] is None else chosen[p] + offsets[p] for p in wanted]
    ).astype(np.int64)
    dims_seen = [h[2] for h in heads if h[2]]
    dims = max(set(dims_seen), key=dims_seen.count) if dims_seen else 0
    usable = [int((h[0] == 0).sum()) for h in heads]
    gaps = [h[3] for h in heads if h[3] is not None and len(h[3]) == dims]
    sample = Sample(table, row_ids, total, opts.sample, None, bad, dims, np.sum(gaps, axis=0) if gaps else None)
    return sample, parts, usable


def _sampled(cluster: Cluster, paths: list[str], sizes, offsets, plan, opts) -> list:
    """sample.sample_rows's choice of rows, made from the parts' keys: per part, the numbers within it of the
    rows kept, or None for all of them."""
    from embproj.sample import lowest_keys, no_colour, stratified_keys

    limit, seed, total = opts.max_points, opts.seed, int(offsets[-1])
    if limit is None or total <= limit:
        return [None] * len(paths)
    if opts.sample == "stratified":
        if not plan.color.column:
            raise no_colour()
        column = plan.color.column
        found = cluster.results(
            [cluster.submit(class_keys, p, column, seed, int(o), limit) for p, o in zip(paths, offsets)]
        )
        merged: dict = {}  # class value: [rows, first row, keys, row numbers]
        for value, rows, first, keys, ids in (c for part in found for c in part):
            got = merged.setdefault(value, [0, first, [], []])
            got[0] += rows
            got[1] = min(got[1], first)
            got[2].append(keys)
            got[3].append(ids)
        classes = sorted(merged.values(), key=lambda c: c[1])  # in the order of their first row, as sample.py
        keys = np.concatenate([k for c in classes for k in c[2]])
        ids = np.concatenate([i for c in classes for i in c[3]])
        codes = np.repeat(np.arange(len(classes)), [sum(len(k) for k in c[2]) for c in classes])
        kept = np.sort(ids[stratified_keys(keys, codes, np.array([c[0] for c in classes]), limit)])
    else:
        jobs = [cluster.submit(smallest_keys, seed, int(offsets[p]), int(sizes[p]), limit) for p in range(len(paths))]
        found = cluster.results(jobs)
        keys, ids = np.concatenate([k for k, _ in found]), np.concatenate([i for _, i in found])
        kept = np.sort(ids[lowest_keys(keys, limit)])
    bounds = np.searchsorted(kept, offsets)
    return [kept[bounds[p] : bounds[p + 1]] - offsets[p] for p in range(len(paths))]
