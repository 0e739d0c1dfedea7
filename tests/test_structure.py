"""Clusters, their labels, density and the charts' data (issue 16), as the user gets them: the CLI's output and
`--json`, and the data the report carries (decoded from the HTML). Labels are checked on tables whose answer is
known: blobs with known names, and a text table whose topics have known words (fixtures/make_topics.py).
The page itself is driven in Chromium in test_explain_browser.py."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from knowntables import HABITATS, NAMES, PER_BLOB, N, named_blobs, topics_module
from reportdata import legend_labels, page_data, points, sent, source


def run_cli(data, *args):
    """`embproj project DATA ARGS`; on the blobs coloured (and so their clusters named) by "animal"."""
    from embproj.cli import app

    named = ["--color", "animal"] if "blobs" in Path(data).name or "evil" in Path(data).name else []
    return CliRunner().invoke(app, ["project", str(data), *named, *map(str, args)], catch_exceptions=False)


@pytest.fixture(scope="module")
def blobs_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("named")
    pq.write_table(named_blobs(), folder / "blobs.parquet")
    out = folder / "report.html"
    result = run_cli(folder / "blobs.parquet", "--algo", "pca", "-o", out, "--json", "--no-metrics")
    assert result.exit_code == 0, result.output
    return folder, json.loads(result.stdout), out.read_text()


def test_blobs_are_found_and_named_by_their_majority_value(blobs_report):
    _, summary, page = blobs_report
    c = summary["clusters"]
    assert c["found"] == len(NAMES) and c["map"] == "pca"
    assert c["min_cluster_size"] == round(1.5 * math.sqrt(N))
    assert sorted(x["label"] for x in c["clusters"]) == sorted(f"{name} · 100%" for name in NAMES)
    assert all(x["purity"] == 1.0 for x in c["clusters"])
    assert sum(x["size"] for x in c["clusters"]) + c["noise"] == N
    sizes = [x["size"] for x in c["clusters"]]
    assert sizes == sorted(sizes, reverse=True), "biggest first"
    header = html.unescape(page)
    assert f"{len(NAMES)} by HDBSCAN on the PCA map (min cluster size {c['min_cluster_size']})" in header


def test_every_point_carries_its_cluster_in_hover_colour_and_table(blobs_report):
    _, summary, page = blobs_report
    meta, data = page_data(page), points(page)
    labels = [x["label"] for x in summary["clusters"]["clusters"]]
    assert meta["clusters"]["labels"] == labels
    codes = np.asarray(data["cluster_id"])
    animals = [data[f"f{j}"] for j, f in enumerate(meta["fields"]) if f["name"] == "animal"][0]
    shown = [data[f"f{j}"] for j, f in enumerate(meta["fields"]) if f["name"] == "cluster"][0]
    for i in range(N):  # the hover's cluster is the point's own, and its blob's name
        if codes[i] >= 0:
            assert shown[i] == labels[codes[i]] and labels[codes[i]].startswith(animals[i])
        else:
            assert shown[i] == "noise"
    cluster_colour = [c for c in meta["colors"] if c["name"] == "cluster"]
    assert cluster_colour and cluster_colour[0]["kind"] == "categorical"


def test_labels_sit_on_their_clusters_on_the_map(blobs_report):
    _, summary, page = blobs_report
    data, labels = points(page), source(page, "cluster_labels_pca")
    codes = np.asarray(data["cluster_id"])
    xy = np.column_stack([data["x_pca"], data["y_pca"]])
    assert list(labels["text"]) == [x["label"] for x in summary["clusters"]["clusters"]]
    for k, (x, y) in enumerate(zip(labels["x"], labels["y"], strict=True)):
        inside = xy[codes == k]
        nearest = np.argmin(((xy - (x, y)) ** 2).sum(axis=1))
        assert codes[nearest] == k, "the label's nearest point is one of its cluster's"
        assert inside[:, 0].min() <= x <= inside[:, 0].max() and inside[:, 1].min() <= y <= inside[:, 1].max()


def test_charts_of_the_other_columns_count_every_row(blobs_report):
    _, _, page = blobs_report
    charts, data = page_data(page)["charts"], points(page)
    assert [(c["name"], c["kind"]) for c in charts] == [("animal", "bars"), ("weight", "histogram"),
                                                         ("habitat", "bars")]  # fmt: skip
    animal, weight, habitat = charts
    assert animal["labels"] == sorted(NAMES) and animal["counts"] == [PER_BLOB] * len(NAMES)
    assert habitat["labels"] == sorted(HABITATS) and sum(habitat["counts"]) == N
    assert sum(weight["counts"]) == N and len(weight["edges"]) == len(weight["counts"]) + 1
    table = named_blobs()
    w = np.asarray(table.column("weight"))
    bins = np.asarray(data[weight["key"]])
    edges = np.asarray(weight["edges"])
    assert np.all((edges[bins] <= w) & (w <= edges[bins + 1])), "each point's bar holds its value"
    assert [animal["labels"][b] for b in data[animal["key"]]] == table.column("animal").to_pylist()
    colours = {c["name"]: c["key"] for c in page_data(page)["colors"]}  # the page colours by the animal too:
    assert animal["from"]["key"] == colours["animal"] and animal["key"] not in sent(page)  # its codes sent once
    assert weight["key"] in sent(page) and "from" not in weight


def test_charts_option_chooses_them_and_empty_means_none(blobs_report):
    folder, _, _ = blobs_report
    out = folder / "chosen.html"
    result = run_cli(folder / "blobs.parquet", "--algo", "pca", "-o", out, "--charts", "habitat", "--no-metrics")
    assert result.exit_code == 0, result.output
    assert 'charts: "habitat" (bars) (set by --charts)' in result.stderr
    assert [c["name"] for c in page_data(out.read_text())["charts"]] == ["habitat"]
    result = run_cli(folder / "blobs.parquet", "--algo", "pca", "-o", out, "--charts", "", "--no-metrics")
    assert result.exit_code == 0, result.output
    assert page_data(out.read_text())["charts"] == []
    assert "chart_0" not in out.read_text()


def test_clusters_none_and_small_tables_have_no_clusters(blobs_report, tmp_path):
    folder, _, _ = blobs_report
    out = tmp_path / "none.html"
    result = run_cli(folder / "blobs.parquet", "--algo", "pca", "-o", out, "--clusters", "none", "--json", "-q")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["clusters"] == {"found": 0, "about": "no clusters: --clusters none"}
    meta = page_data(out.read_text())
    assert meta["clusters"] is None and "cluster" not in [c["name"] for c in meta["colors"]]
    assert meta["density"] == ["pca"], "the density contours do not need clusters"
    pq.write_table(named_blobs().slice(0, 150), tmp_path / "small.parquet")
    result = run_cli(tmp_path / "small.parquet", "--algo", "pca", "-o", out, "--json", "-q")
    assert json.loads(result.stdout)["clusters"]["about"] == "no clusters: fewer than 200 points"


def test_min_cluster_size_is_obeyed(blobs_report, tmp_path):
    folder, _, _ = blobs_report
    out = tmp_path / "big.html"
    result = run_cli(folder / "blobs.parquet", "--algo", "pca", "-o", out, "--min-cluster-size", "250", "--json")
    assert result.exit_code == 0, result.output
    c = json.loads(result.stdout)["clusters"]
    assert c["min_cluster_size"] == 250
    assert all(x["size"] >= 250 for x in c["clusters"]) and c["found"] < len(NAMES)
    assert "--min-cluster-size 250" in html.unescape(out.read_text())  # the command to make it again


def test_default_min_cluster_size_grows_with_the_sample():
    from embproj.structure.clusters import default_min_cluster_size

    assert default_min_cluster_size(1_797) == 64
    sizes = [default_min_cluster_size(n) for n in (200, 1_000, 10_000, 100_000, 1_000_000)]
    assert sizes == sorted(sizes) and sizes[0] >= 5
    assert [round(n / s) for n, s in zip((1_000, 100_000), sizes[1::2], strict=True)] != [1, 1]


def test_clusters_are_the_same_for_the_same_seed(monkeypatch):
    """Whole maps, and a map above CLUSTER_POINTS (a seeded sample clustered, the rest joining their nearest)."""
    from embproj.structure import clusters as structure

    rng = np.random.default_rng(1)
    xy = np.concatenate([rng.normal(loc=(8 * k, 0), size=(400, 2)) for k in range(4)]).astype(np.float32)
    first, seen = structure.cluster(xy, 60, seed=0)
    assert seen == len(xy) and np.array_equal(first, structure.cluster(xy, 60, seed=0)[0])
    assert len(set(first.tolist()) - {-1}) == 4
    monkeypatch.setattr(structure, "CLUSTER_POINTS", 500)
    sampled, seen = structure.cluster(xy, 60, seed=3)
    assert seen == 500 and np.array_equal(sampled, structure.cluster(xy, 60, seed=3)[0])
    assert len(set(sampled.tolist()) - {-1}) == 4


def test_cluster_words_are_each_topics_own_words():
    """Class-based TF-IDF on the true topics of a text table: each topic's words, no stop word, no other topic's."""
    from embproj.structure.names import distinctive_words

    topics = topics_module()
    table = topics.topics_table(rows=600, topics=5)
    names = table.column("topic").to_pylist()
    order = sorted(set(names))
    codes = np.array([order.index(n) for n in names], dtype=np.int32)
    words = distinctive_words(codes, len(order), table.column("text"))
    for name, found in zip(order, words, strict=True):
        assert len(found) == 3 and set(found) <= set(topics.TOPICS[name].split()), (name, found)
        assert not set(found) & set(topics.STOP)


@pytest.fixture(scope="module")
def topics_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("topics")
    table = topics_module().topics_table(rows=600, topics=5)
    pq.write_table(table, folder / "topics.parquet")
    out = folder / "report.html"
    result = run_cli(folder / "topics.parquet", "--algo", "umap", "--text", "text", "-o", out, "--json",
                     "--no-metrics", "--no-cache")  # fmt: skip
    assert result.exit_code == 0, result.output
    return table, json.loads(result.stdout), out.read_text()


def test_text_names_each_topic_cluster_by_its_topic_words(topics_report):
    """What every good map of five separate topics gives, on any CPU (another BLAS gives another layout): each
    topic's rows mostly in a cluster of their own, and every cluster named by three words of one topic."""
    table, summary, page = topics_report
    topics = topics_module()
    c = summary["clusters"]
    assert c["names"] == 'the most distinctive words of "text" in each (--text)'
    own = {name: set(words.split()) for name, words in topics.TOPICS.items() if name in set(table["topic"].to_pylist())}
    assert c["found"] >= len(own)
    for x in c["clusters"]:
        words = x["label"].split(", ")
        match = [name for name, vocabulary in own.items() if set(words) <= vocabulary]
        assert len(words) == 3 and len(match) == 1, x
        assert x["purity"] > 0.85, x  # purity is measured on the label column ("topic")
    data = points(page)
    codes = np.asarray(data["cluster_id"])
    topic = np.asarray(table["topic"].to_pylist())[np.asarray(data["row"])]
    majority = {}
    for name in own:
        found, counts = np.unique(codes[(topic == name) & (codes >= 0)], return_counts=True)
        majority[name] = int(found[counts.argmax()])
        assert counts.max() > 0.8 * (topic == name).sum(), (name, dict(zip(found.tolist(), counts.tolist())))
    assert len(set(majority.values())) == len(own), f"two topics share a cluster: {majority}"
    assert page_data(page)["clusters"]["labels"] == [x["label"] for x in c["clusters"]]


def test_a_hostile_majority_value_is_only_ever_text(tmp_path):
    table = named_blobs()
    evil = '<img src=x onerror="alert(1)">'
    animals = [evil if a == "cat" else a for a in table.column("animal").to_pylist()]
    table = table.set_column(0, "animal", pa.array(animals))
    table = table.set_column(2, "$$h$$", pa.array([f"$${h}$$" for h in table.column("habitat").to_pylist()]))
    pq.write_table(table, tmp_path / "evil.parquet")
    out = tmp_path / "evil.html"
    result = run_cli(tmp_path / "evil.parquet", "--algo", "pca", "-o", out, "--no-metrics", "-q")
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "<img src=x" not in page
    assert f"{evil} · 100%" in page_data(page)["clusters"]["labels"]
    assert len(page) < 2_500_000, "a chart's TeX-like name and bars are text, not TeX (no 1.8 MB MathJax bundle)"
    assert [c["name"] for c in page_data(page)["charts"]] == ["animal", "weight", "$$h$$"]


def test_a_cluster_of_empty_label_values_is_named_missing_as_in_the_legend(tmp_path):
    """The cat blob's names are empty (a CSV's empty cells): on the map "(missing) · 100%", as the legend says."""
    table = named_blobs()
    animals = ["" if a == "cat" else a for a in table.column("animal").to_pylist()]
    pq.write_table(table.set_column(0, "animal", pa.array(animals)), tmp_path / "blank_blobs.parquet")
    out = tmp_path / "blank.html"
    result = run_cli(tmp_path / "blank_blobs.parquet", "--algo", "pca", "-o", out, "--no-metrics", "-q")
    assert result.exit_code == 0, result.output
    page = out.read_text()
    labels = page_data(page)["clusters"]["labels"]
    assert "(missing) · 100%" in labels and not any(label.startswith(" ·") for label in labels)
    assert f"(missing) ({PER_BLOB})" in legend_labels(page)
