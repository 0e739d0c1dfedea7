"""--engine dask on real clusters on loopback: a `distributed.LocalCluster` of 2 worker processes, and a scheduler
and a worker started with the `dask` command-line tools as a user would. The same seed gives the same sample and
the same coordinates as the local engine, whatever the number of parts; lost workers are survived, a cluster that
does nothing ends in one `Error:` line, never a hang."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import vector_table
from reportdata import manifest, neighbours, page_data

distributed = pytest.importorskip("distributed")

ROWS = 800
FIT = "300"  # fitted rows: the other 500 are placed by the workers
BIN = Path(sys.executable).parent


def write_parts(folder: Path, parts: int, table: pa.Table | None = None) -> Path:
    table = table if table is not None else vector_table(ROWS, dims=12, classes=4)
    folder.mkdir(parents=True)
    for p, rows in enumerate(np.array_split(np.arange(table.num_rows), parts)):
        pq.write_table(table.take(pa.array(rows)), folder / f"part-{p:02d}.parquet")
    return folder


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 worker processes (with nannies, which restart a worker that dies)."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as local:
        yield local


def mixed_scales(n: int = ROWS) -> pa.Table:
    """vector_table's 12-dim rows as 12 numeric columns, the last in thousands: standardised by default, so the
    workers rescale their rows with the scaler fitted on the client."""
    table = vector_table(n, dims=12, classes=4)
    X = np.stack(table.column("embedding").to_numpy(zero_copy_only=False)) * np.array([1.0] * 11 + [1000.0])
    return pa.table({"id": table.column("id"), "label": table.column("label"), **{f"m{j}": X[:, j] for j in range(12)}})


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> Path:
    return write_parts(tmp_path_factory.mktemp("table") / "parts", 5, mixed_scales())


def coords(path: Path) -> pa.Table:
    return pq.read_table(path)


def project(cli, data, out: str, *args):
    result = cli("project", data, "-o", f"{out}.html", "--coords-out", f"{out}.parquet", "--reproducible", *args)
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def all_three(parts, cluster, tmp_path_factory):
    """PCA, UMAP and t-SNE of every row (400 fitted, the rest placed), pre-reduced to 8 dims, on each engine."""
    from typer.testing import CliRunner

    from embproj.cli import app

    folder = tmp_path_factory.mktemp("all_three")
    made = {}
    for engine in ("local", "dask"):
        out = folder / engine
        args = ["project", str(parts), "-o", f"{out}.html", "--coords-out", f"{out}.parquet", "--reproducible"]
        args += ["--algo", "all", "--max-points", "all", "--fit-points", FIT, "--max-dims", "8", "--json"]
        args += ["--iterations", "100", "--neighbours", "0", "--no-metrics"]
        args += ["--engine", engine, "--scheduler", cluster.scheduler_address]
        result = CliRunner().invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        made[engine] = (out, result)
    return made


def test_every_map_is_the_local_engines_row_by_row(all_three):
    local, dask = (coords(out.with_suffix(".parquet")) for out, _ in all_three.values())
    assert local.num_rows == ROWS and local.column_names[:7] == [
        "row",
        "pca_x",
        "pca_y",
        "umap_x",
        "umap_y",
        "tsne_x",
        "tsne_y",
    ]
    assert sum(local.column("fitted").to_pylist()) == int(FIT)
    assert local.equals(dask)  # every coordinate, bit for bit


def test_the_report_is_the_local_engines(all_three):
    (local, _), (dask, result) = all_three.values()
    page = dask.with_suffix(".html").read_text().replace(str(dask), str(local))
    assert page == local.with_suffix(".html").read_text()
    summary = json.loads(result.stdout)
    assert summary["scale"]["method"] == "standard"  # rescaled on the workers, with the client's fitted scaler
    assert [p["placed"] for p in summary["algorithms"]] == [ROWS - int(FIT)] * 3
    assert summary["engine"] == "dask" and all(p["cache"] == "off" for p in summary["algorithms"])


def test_rows_missing_numbers_are_counted_by_column_on_the_workers(tmp_path, cluster, cli):
    table = mixed_scales(300)
    m3 = table.column("m3").to_numpy().copy()
    m3[::7] = np.nan  # 43 rows
    table = table.set_column(table.schema.get_field_index("m3"), "m3", pa.array(m3, from_pandas=True))
    said = {}
    for engine, parts in (("local", 1), ("dask", 3)):
        data = write_parts(tmp_path / engine, parts, table)
        args = ["--algo", "pca", "--missing", "drop", "--json", "--engine", engine]
        said[engine] = json.loads(project(cli, data, engine, *args, "--scheduler", cluster.scheduler_address).stdout)
    assert said["dask"]["warnings"] == said["local"]["warnings"]
    assert said["local"]["warnings"][0].startswith(
        'dropped 43 of 300 sampled rows: 43 missing numbers (missing in "m3" 43)'
    )


def test_the_same_sample_whatever_the_parts(tmp_path, cluster, cli):
    """A seeded sample of 1,000 of 3,200 rows: the same rows and map from 5 parts, 2 parts, 1 file."""
    table = vector_table(3_200, dims=12, classes=4)
    project(cli, write_parts(tmp_path / "five", 5, table), "local", "--algo", "pca", "--max-points", "1000")
    for name, parts in (("two", 2), ("one", 1)):
        data = write_parts(tmp_path / name, parts, table)
        result = project(
            cli, data, name, "--algo", "pca", "-n", "1000", "--engine", "dask", "--scheduler", cluster.scheduler_address
        )
        assert "Wrote" in result.stderr and "1,000 points of 3,200 rows" in result.stderr
        assert coords(tmp_path / f"{name}.parquet").equals(coords(tmp_path / "local.parquet"))
        local_table = neighbours((tmp_path / "local.html").read_text(encoding="utf-8"))
        assert local_table is not None  # 1,000 rows are gathered for the neighbour table: the local engine's
        np.testing.assert_array_equal(neighbours((tmp_path / f"{name}.html").read_text(encoding="utf-8")), local_table)


def test_above_the_rows_it_gathers_the_dask_page_says_why_it_has_no_neighbour_table(parts, cluster, cli, monkeypatch):
    import embproj.neighbours.search

    monkeypatch.setattr(embproj.neighbours.search, "GATHER_ROWS", 500)
    on_dask = ["--engine", "dask", "--scheduler", cluster.scheduler_address]
    result = project(cli, parts, "over", "--algo", "pca", "--max-points", "all", "--json", *on_dask)
    html = Path("over.html").read_text(encoding="utf-8")
    note = f"no neighbour table: {ROWS} points on the Dask cluster, over the 500 whose vectors are gathered here"
    assert neighbours(html) is None and page_data(html)["neighbours_note"].startswith(note) and note in html
    assert json.loads(result.stdout)["neighbours"]["table"]["note"].startswith(note)


def test_a_stratified_sample_is_the_local_engines(tmp_path, cluster, cli):
    """Classes of 60%, 30%, 9% and 1% of the rows, and rows with no class, first seen in different parts: the
    same 400 rows (every class kept) from 1 file locally and 3 or 7 parts on the cluster."""
    table = vector_table(3_200, dims=12, classes=4)
    rng = np.random.default_rng(3)
    labels = rng.choice(["big", "mid", "small", "rare", None], size=3_200, p=[0.6, 0.3, 0.09, 0.005, 0.005])
    table = table.set_column(1, "label", pa.array(labels.tolist(), pa.string()))
    args = ["--algo", "pca", "-n", "400", "--sample", "stratified", "--color", "label"]
    project(cli, write_parts(tmp_path / "one", 1, table), "local", *args)
    local = coords(tmp_path / "local.parquet")
    assert set(local.column("label").to_pylist()) == {"big", "mid", "small", "rare", None}
    for parts in (3, 7):
        data = write_parts(tmp_path / f"p{parts}", parts, table)
        project(cli, data, f"dask{parts}", *args, "--engine", "dask", "--scheduler", cluster.scheduler_address)
        assert coords(tmp_path / f"dask{parts}.parquet").equals(local)


def test_a_pattern_of_parts_reads_the_same_rows(parts, cli, tmp_path):
    project(cli, parts, "folder", "--algo", "pca", "--max-points", "all")
    project(cli, f"{parts}/part-*.parquet", "pattern", "--algo", "pca", "--max-points", "all")
    assert coords(tmp_path / "pattern.parquet").equals(coords(tmp_path / "folder.parquet"))
    result = cli("project", f"{parts}/nothing-*.parquet", "--algo", "pca")
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"Error: {parts}/nothing-*.parquet: no file matches the pattern, check the path and the pattern"
    )


def scheduler_address(info: Path, wait: float = 60) -> str:
    """The address `dask scheduler --scheduler-file` writes, once the file is whole: the scheduler creates it,
    then writes it, and a loaded machine shows it empty in between."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return json.loads(info.read_text())["address"]
        except (OSError, ValueError, KeyError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_scheduler_and_a_worker_started_by_hand(parts, tmp_path, cli, monkeypatch):
    """`dask scheduler` and `dask worker` as separate processes, embproj pointed at them by
    DASK_SCHEDULER_ADDRESS, as a user would run it (embproj itself runs in this process: its console script is
    tested in test_cli.py). The worker runs in another working folder and is given the paths as typed in the
    data's parent: a relative folder, and a pattern from the home folder; the local engine's map from both."""
    info = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    scheduler = subprocess.Popen(
        [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", info],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(  # started beside the scheduler: it waits for the scheduler's file
        [BIN / "dask", "worker", "--scheduler-file", info, "--nthreads", "1", "--no-nanny", "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=elsewhere,
    )
    args = ["--algo", "pca", "--max-points", "all", "--fit-points", FIT, "--neighbours", "0", "--reproducible"]
    monkeypatch.chdir(parts.parent)
    monkeypatch.setenv("HOME", str(parts.parent))
    typed = {"relative": "parts", "home": "~/parts/part-*.parquet"}
    try:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", scheduler_address(info))
        for name, data in typed.items():
            out = ["-o", tmp_path / f"{name}.html", "--coords-out", tmp_path / f"{name}.parquet"]
            run = cli("project", data, *args, *out, "--engine", "dask", "--timeout", "120")
            assert run.exit_code == 0, run.stderr
            assert "Wrote" in run.stderr and "800 points" in run.stderr
            assert "started a Dask cluster" not in run.stderr  # it used the one at DASK_SCHEDULER_ADDRESS
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(30)
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    local = cli("project", "parts", *args, "-o", tmp_path / "local.html", "--coords-out", tmp_path / "local.parquet")
    assert local.exit_code == 0, local.stderr
    for name, data in typed.items():
        assert coords(tmp_path / f"{name}.parquet").equals(coords(tmp_path / "local.parquet")), name
        command = manifest((tmp_path / f"{name}.html").read_text(encoding="utf-8"))["command"]
        assert command.startswith(f"embproj project {shlex.quote(data)} ")  # as typed, to run it again


def test_a_cluster_without_workers_ends_in_one_error_line(parts, cli, tmp_path):
    with distributed.LocalCluster(n_workers=0, dashboard_address=None, silence_logs=50) as empty:
        result = cli(
            "project",
            parts,
            "--engine",
            "dask",
            "--scheduler",
            empty.scheduler_address,
            "--timeout",
            "2",
            "-o",
            "r.html",
        )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {parts}: the Dask cluster did not finish a task in 2 s (0 workers connected), check that the "
        "cluster has workers that can read the data, or give a longer --timeout"
    )
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:9",  # nothing listens
        "127.0.0.1",  # no port
        "tcp://::1:9",  # IPv6 without brackets
        "[::1]:9",
        "inproc://127.0.0.1/1/2",
        "ucx://127.0.0.1:9",  # a scheme whose library is not installed
        "http://127.0.0.1:9",
        "not an address",
    ],
)
def test_an_unreachable_scheduler_is_one_error_line(address, parts, cli, tmp_path):
    result = cli("project", parts, "--engine", "dask", "--scheduler", address, "--timeout", "1")
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: cannot reach the Dask scheduler at {address} (")
    assert line.endswith("check --scheduler (e.g. tcp://10.0.0.5:8786) and that the scheduler runs")
    assert not list(tmp_path.glob("*.html"))


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (
            "tls://127.0.0.1:9",
            "Error: the Dask scheduler at tls://127.0.0.1:9 takes TLS connections, and Dask is given no TLS "
            "certificates, set distributed.comm.tls.ca-file, .client.cert and .client.key in Dask's configuration, "
            "or give a tcp:// address",
        ),
        (
            " ",
            "Error: --scheduler is empty, give the scheduler's address (e.g. tcp://10.0.0.5:8786), or leave it out",
        ),
    ],
)
def test_a_scheduler_address_it_cannot_use_is_said(address, message, parts, cli):
    result = cli("project", parts, "--engine", "dask", "--scheduler", address, "--timeout", "1")
    assert result.exit_code == 2 and result.stderr.strip() == message


@pytest.fixture
def silent_scheduler():
    """A server that accepts connections and never answers: it reads and writes nothing."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}", accepted
    stop.set()
    thread.join()
    for s in (*accepted, server):
        s.close()


def test_a_scheduler_that_never_answers_is_one_error_line_in_the_timeout(silent_scheduler, parts, tmp_path):
    """The client's handshake with the scheduler is bounded by --timeout too (embproj in a process of its own,
    so that a hang fails this test, not the suite)."""
    address, accepted = silent_scheduler
    run = [sys.executable, "-m", "embproj", "project", parts, "--engine", "dask", "--scheduler", address]
    started = time.monotonic()
    run += ["--timeout", "1", "-o", tmp_path / "r.html"]
    done = subprocess.run(run, capture_output=True, text=True, timeout=60)  # a hang fails here, not the suite
    assert accepted and done.returncode == 2 and time.monotonic() - started < 30
    assert done.stderr.strip() == (
        f"Error: cannot reach the Dask scheduler at {address} (no answer in 1 s), check --scheduler (e.g. "
        "tcp://10.0.0.5:8786) and that the scheduler runs"
    )
    assert not (tmp_path / "r.html").exists()


class Quiet:
    """A reporter that says nothing."""

    def stage(self, name, total=None):
        return nullcontext(lambda rows: None)

    def timed(self, name, seconds):
        pass

    def info(self, message):
        pass

    def warn(self, message):
        pass


class MovesTheData(Quiet):
    """Moves the data folder away once this process has read its footers, before the workers read a part: as
    workers that do not see this machine's files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def stage(self, name, total=None):
        if name.startswith("Reading rows"):
            self.folder.rename(self.folder.with_name("moved"))
        return super().stage(name, total)


def test_parts_the_workers_cannot_read_are_one_error_line(tmp_path, cluster):
    from embproj.errors import ClusterError
    from embproj.options import Options
    from embproj.pipeline import run

    data = write_parts(tmp_path / "parts", 2, vector_table(40, dims=4))
    opts = Options(data=data, algo="pca", engine="dask", scheduler=cluster.scheduler_address, output=None)
    with pytest.raises(ClusterError) as raised:
        run(opts, reporter=MovesTheData(data))
    assert str(raised.value) == (
        f'{data}: a Dask worker cannot read "{data}/part-00.parquet" (No such file or directory), the workers must '
        "see the data at the same path as this machine (a shared folder), or use --engine local"
    )


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (
            lambda d: (d / "t.csv").write_text("a,b\n1,2\n3,4\n"),
            ["t.csv"],
            "Error: t.csv: --engine dask reads Parquet: a file, a folder of part files, or a pattern such as "
            "'parts/*.parquet', convert the table to Parquet, or use --engine local",
        ),
    ],
)
def test_what_the_cluster_does_not_read(make, args, message, cli, tmp_path, cluster):
    make(tmp_path)
    result = cli("project", *args, "--engine", "dask", "--scheduler", cluster.scheduler_address)
    assert result.exit_code == 2 and result.stderr.strip().splitlines()[-1] == message


def test_without_dask_installed_the_error_names_the_extra(vectors_parquet, cli, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails, as where it is not installed
    result = cli("project", vectors_parquet, "--engine", "dask", "-o", "r.html")
    assert result.exit_code == 2 and not (tmp_path / "r.html").exists()
    assert result.stderr.strip() == (
        "Error: --engine dask needs Dask, which is not installed, install it with pip install 'embproj[dask]'"
    )
    assert cli("project", vectors_parquet, "--algo", "pca", "-q", "-o", "r.html").exit_code == 0  # local: no Dask


class KillsAWorker(Quiet):
    """A reporter that kills one of the cluster's worker processes when the rows start being placed."""

    def __init__(self, cluster) -> None:
        self.cluster, self.killed = cluster, 0

    def stage(self, name, total=None):
        if not name.startswith("Projecting") or self.killed:
            return nullcontext(lambda rows: None)
        with distributed.Client(self.cluster, set_as_default=False) as client:
            victim = sorted(client.scheduler_info()["workers"])[0]
            pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, 9)
        self.killed = pid
        return nullcontext(lambda rows: None)


def test_a_worker_dying_mid_run_is_survived(parts, tmp_path, cluster, all_three):
    """One of the two workers is killed while the map is fitted (last in this file: the cluster's nanny starts
    a new worker): the parts it held are read again elsewhere (Dask's lineage), and the coordinates are still the
    local engine's."""
    from embproj.options import Options
    from embproj.pipeline import run

    killer = KillsAWorker(cluster)
    opts = Options(
        data=parts,
        algo="umap",
        max_points=None,
        fit_points=int(FIT),
        neighbours=0,
        metrics=False,
        max_dims=8,
        engine="dask",
        scheduler=cluster.scheduler_address,
        output=None,
        coords_out=tmp_path / "dask.parquet",
        timeout=120,
    )
    run(opts, reporter=killer)
    assert killer.killed
    local = coords(all_three["local"][0].with_suffix(".parquet"))
    assert coords(tmp_path / "dask.parquet").equals(local.select(["row", "umap_x", "umap_y", "label", "fitted"]))
