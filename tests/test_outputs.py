"""What CI pipelines consume: --json, --coords-out, quality metrics, --algo all, byte-identical reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from embproj.fast import bokeh_ids
from embproj.render.gear import ALGO as GEAR
from reportdata import manifest, page_data, points


@pytest.fixture(scope="module")
def all_run(digits_parquet, tmp_path_factory):
    """One `--algo all` run on the digits, shared by the module."""
    from typer.testing import CliRunner

    from embproj.cli import app

    folder = tmp_path_factory.mktemp("all")
    args = ["project", str(digits_parquet), "--algo", "all", "-o", str(folder / "r.html"), "--json", "--reproducible"]
    args += ["--coords-out", str(folder / "coords.parquet"), "--iterations", "100", "--metric", "cosine"]
    args += ["--title", "Digits, 'all' three <maps>"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result, folder


def test_json_summary_on_stdout(all_run):
    result, folder = all_run
    summary = json.loads(result.stdout)
    rows = {"read": 1797, "sampled": 1797, "plotted": 1797, "on_page": 1797, "dropped": 0, "dropped_reasons": {}}
    assert summary["rows"] == rows
    assert summary["columns"]["color"] == "target" and len(summary["columns"]["embedding"]) == 64
    assert [a["algo"] for a in summary["algorithms"]] == ["pca", "umap", "tsne"]
    assert summary["algorithms"][1]["params"] == {"n_neighbors": 15, "min_dist": 0.1, "metric": "cosine"}
    assert summary["algorithms"][2]["params"]["iterations"] == 100
    assert summary["seed"] == 0 and set(summary["seconds"]) >= {"read", "sample", "matrix", "pca", "umap", "tsne"}
    assert {"report", "write", "neighbours"} <= set(summary["seconds"]) and summary["peak_rss_mb"] > 50
    assert "worker" not in summary
    assert summary["output"].endswith("r.html") and summary["bytes"] == (folder / "r.html").stat().st_size
    assert summary["created"] == "1970-01-01T00:00:00Z"
    assert summary["fast"]["umap_kernels"].startswith(("cached in ", "off: "))
    assert summary["fast"]["bokeh_ids"] == bokeh_ids.STABLE


def test_quality_metrics_rank_the_algorithms(all_run):
    result, _ = all_run
    metrics = {a["algo"]: a["metrics"] for a in json.loads(result.stdout)["algorithms"]}
    for algo in ("pca", "umap", "tsne"):
        assert 0.5 < metrics[algo]["trustworthiness"] <= 1.0
        assert 0.0 <= metrics[algo]["knn_recall@10"] <= 1.0
    assert metrics["umap"]["trustworthiness"] > metrics["pca"]["trustworthiness"]
    assert metrics["tsne"]["knn_recall@10"] > metrics["pca"]["knn_recall@10"]
    assert 0.2 < sum(metrics["pca"]["explained_variance_ratio"]) < 0.4


def test_all_side_by_side_shares_one_source(all_run):
    _, folder = all_run
    page = (folder / "r.html").read_text()
    data = points(page)
    assert {"x_pca", "y_pca", "x_umap", "y_umap", "x_tsne", "y_tsne"} <= set(data)
    assert (
        page.count('"name":"ColumnDataSource"') + page.count('"name": "ColumnDataSource"') <= 1
        or len(data["row"]) == 1797
    )
    assert "trustworthiness" in page and "kNN recall@10" in page


def test_coords_out_matches_the_map(all_run):
    _, folder = all_run
    table = pq.read_table(folder / "coords.parquet")
    maps = [f"{algo}_{c}" for algo in ("pca", "umap", "tsne") for c in ("x", "y", "trust")]
    assert table.column_names == ["row", *maps, "target"]
    data = points((folder / "r.html").read_text())
    np.testing.assert_array_equal(table.column("umap_x").to_numpy(), data["x_umap"])
    assert table.column("row").to_pylist() == list(range(1797))


def test_coords_out_csv_and_bad_suffix(cli, vectors_parquet, tmp_path):
    assert cli("project", vectors_parquet, "--algo", "pca", "--coords-out", "c.csv", "-q").exit_code == 0
    table = pacsv.read_csv(tmp_path / "c.csv")
    assert table.column_names == ["row", "pca_x", "pca_y", "pca_trust", "label"] and table.num_rows == 120
    result = cli("project", vectors_parquet, "--algo", "pca", "--coords-out", "c.xlsx")
    assert result.exit_code == 2 and "end the name in .parquet or .csv" in result.stderr


def test_manifest_records_how_the_report_was_made(all_run):
    _, folder = all_run
    m = manifest((folder / "r.html").read_text())
    assert m["created"] == "1970-01-01T00:00:00Z" and "seconds" not in m
    assert m["command"].startswith("embproj project") and "--iterations 100" in m["command"]
    assert m["command"].count("--metric cosine") == 1
    assert m["versions"]["umap-learn"] and m["versions"]["openTSNE"]


def test_the_command_in_the_page_makes_the_same_files_again(vectors_parquet, tmp_path, monkeypatch):
    """Title, metric, --coords-out and --reproducible all reach "to make it again": running it rewrites the
    report and the coordinates byte for byte (a small table, so that the three maps are quick)."""
    import shlex

    from typer.testing import CliRunner

    from embproj.cli import app

    monkeypatch.chdir(tmp_path)
    args = ["project", str(vectors_parquet), "--algo", "all", "-o", "r.html", "--coords-out", "c.parquet"]
    args += ["--reproducible", "--metric", "cosine", "--title", "Blobs, 'all' three <maps>", "--iterations", "100"]
    assert CliRunner().invoke(app, args).exit_code == 0
    report, coords = (tmp_path / "r.html").read_bytes(), (tmp_path / "c.parquet").read_bytes()
    command = manifest(report.decode())["command"]
    assert "--title" in command and "--coords-out" in command and "--reproducible" in command
    assert command.count("--metric cosine") == 1
    (tmp_path / "r.html").unlink()
    (tmp_path / "c.parquet").unlink()
    words = shlex.split(command)
    assert words[:2] == ["embproj", "project"]
    again = CliRunner().invoke(app, words[1:])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "r.html").read_bytes() == report
    assert (tmp_path / "c.parquet").read_bytes() == coords


def _project_in_fresh_process(data, folder, env_extra, *args):
    """`embproj project DATA -o r.html` run in `folder` (the output's name is in the page's command, so two
    reports compared byte for byte are written under the same name, in two folders)."""
    env = {**os.environ, **env_extra}
    folder.mkdir()
    cmd = [sys.executable, "-m", "embproj", "project", str(data), "-o", "r.html", "-q", *args]
    subprocess.run(cmd, check=True, env=env, timeout=300, cwd=folder)
    return (folder / "r.html").read_bytes()


def test_same_input_same_bytes_in_one_process(cli, vectors_parquet, tmp_path):
    made = []
    args = ["--algo", "tsne", "-o", "r.html", "--reproducible", "-q", "--iterations", "250"]
    for _ in range(2):
        assert cli("project", vectors_parquet, *args).exit_code == 0
        made.append((tmp_path / "r.html").read_bytes())
    assert made[0] == made[1]


def test_without_pinning_the_page_holds_timings(cli, vectors_parquet, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert cli("project", vectors_parquet, "--algo", "pca", "-o", "r.html", "-q").exit_code == 0
    m = manifest((tmp_path / "r.html").read_text())
    assert m["created"].startswith("20") and "pca" in m["seconds"]


def test_umap_report_is_byte_identical_across_processes(vectors_parquet, tmp_path, monkeypatch):
    """A fresh process writes the UMAP report this one writes, to the byte (test_umap_kernels.py checks that a
    cold and a warm kernel cache give the same coordinates)."""
    from typer.testing import CliRunner

    from embproj.cli import app

    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    first = _project_in_fresh_process(vectors_parquet, tmp_path / "a", env, "--algo", "umap")
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "b")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", env["SOURCE_DATE_EPOCH"])
    args = ["project", str(vectors_parquet), "-o", "r.html", "-q", "--algo", "umap"]  # as the fresh process's
    assert CliRunner().invoke(app, args).exit_code == 0
    second = (tmp_path / "b" / "r.html").read_bytes()
    assert first == second
    assert b"2023-11-14T22:13:20Z" in first  # SOURCE_DATE_EPOCH is the only time in it


def test_each_map_s_trust_per_point_has_the_reported_knn_recall_as_its_mean(all_run):
    """Issue 29: the per-point trust's mean is the kNN recall@10 of the header and --json, on every map; it goes
    to --coords-out as <algo>_trust and to the page, where the "map trust" colour colours each map by its own."""
    result, folder = all_run
    summary = json.loads(result.stdout)
    coords = pq.read_table(folder / "coords.parquet")
    html = (folder / "r.html").read_text(encoding="utf-8")
    data, meta = points(html), page_data(html)
    choice = next(c for c in meta["colors"] if c["name"] == "map trust")
    assert choice["kind"] == "continuous" and set(choice["keys"]) == {"pca", "umap", "tsne", GEAR}
    assert np.isnan(data[choice["keys"][GEAR]]).all(), "measured in the page once drawn"
    for a in summary["algorithms"]:
        algo, recall = a["algo"], a["metrics"]["knn_recall@10"]
        trust = coords.column(f"{algo}_trust").to_numpy()
        assert summary["trust"][algo] == {"k": 10, "mean": pytest.approx(recall, abs=0.01)}
        assert float(trust.mean()) == pytest.approx(recall, abs=0.01) and set(np.round(trust * 10, 4)) <= set(range(11))
        np.testing.assert_array_equal(data[choice["keys"][algo]], trust)
