"""The defaults on real public tables saved the ways people save them (tests/corpus.py): the embedding's columns,
the scale, the colour and title, and the columns left out and why, as a data scientist would choose them; and
what follows on the map: no map ordered by one column's units, classes kept together, rows kept."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from corpus import CORPUS, write_corpus
from sklearn.neighbors import NearestNeighbors

from embproj.options import Options
from embproj.pipeline import inspect
from reportdata import page_data, points

pytest.importorskip("palmerpenguins")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def plans(corpus):
    return {k.file: inspect(Options(data=corpus / k.file)) for k in CORPUS}


@pytest.mark.parametrize("known", CORPUS, ids=lambda k: k.file)
def test_the_defaults_choose_what_a_data_scientist_would(plans, known):
    source, plan = plans[known.file]
    dims = plan.embedding.columns
    assert plan.embedding.kind == "columns" and len(dims) >= 2
    if known.dims:
        assert dims == known.dims
    assert plan.scaling.method == known.scale, plan.scaling.reason
    assert (plan.color.column, plan.label.column) == (known.colour, known.label)
    kinds = {c.name: c.kind for c in plan.info}
    for name in known.identifiers:
        assert name not in dims and kinds[name] == "id"
    assert set(known.codes) <= set(dict(plan.codes)) and not set(known.codes) & set(dims)
    assert {name for name, _ in plan.left_out} == set(known.missing)
    if known.missing:
        assert all(f'"{name}"' in plan.notes[0] for name in known.missing)


def test_no_identifier_is_a_dimension(plans):
    for source, plan in plans.values():
        ids = [c.name for c in plan.info if c.kind == "id"]
        assert not set(ids) & set(plan.embedding.columns), source.name


def test_no_map_is_ordered_by_one_columns_units(plans):
    """Left as read, no column holds 90% of the variance (penguins' body_mass_g held 99.96%)."""
    for source, plan in plans.values():
        if plan.scaling.method == "none":
            spread = np.array([c.std or 0.0 for c in plan.info if c.name in plan.embedding.columns]) ** 2
            assert spread.max() / spread.sum() < 0.9, source.name


def test_no_table_keeps_under_half_its_rows_for_one_column(plans):
    for source, plan in plans.values():
        head = source.head(1_000)
        present = np.ones(head.num_rows, dtype=bool)
        for name in plan.embedding.columns:
            values = pc.cast(head.column(name), pa.float64()).to_numpy(zero_copy_only=False)
            present &= np.isfinite(values)
        assert present.mean() >= 0.5, source.name


def agreement(coords: pa.Table, algo: str, label: str, k: int = 10) -> float:
    xy = np.column_stack([coords.column(f"{algo}_x").to_numpy(), coords.column(f"{algo}_y").to_numpy()])
    labels = np.asarray(coords.column(label).to_pylist())
    idx = NearestNeighbors(n_neighbors=k + 1).fit(xy).kneighbors(xy, return_distance=False)[:, 1:]
    return float((labels[idx] == labels[:, None]).mean())


def project(cli, corpus, name: str, *args) -> tuple[dict, pa.Table, str]:
    out = corpus / "maps" / name.split(".")[0]
    out.parent.mkdir(exist_ok=True)
    result = cli("project", corpus / name, "-o", f"{out}.html", "--coords-out", f"{out}.parquet", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), pq.read_table(f"{out}.parquet"), out.with_suffix(".html").read_text("utf-8")


def test_labelled_tables_keep_their_classes_together(cli, corpus):
    """10-nearest-neighbour agreement of the classes on the PCA map (as read: penguins 0.67, wine 0.69)."""
    summary, coords, _ = project(cli, corpus, "wine.parquet", "--algo", "pca")
    assert summary["scale"]["method"] == "standard" and agreement(coords, "pca", "target") >= 0.9
    summary, coords, _ = project(cli, corpus, "penguins.csv", "--algo", "pca", "--neighbours", "0")
    assert agreement(coords, "pca", "species") >= 0.85  # two of its three species overlap in any 2D linear view


@pytest.mark.slow
def test_penguins_keep_their_species_together_on_the_default_map(cli, corpus):
    summary, coords, _ = project(cli, corpus, "penguins_r.csv", "--neighbours", "0", "--no-metrics")
    assert [a["algo"] for a in summary["algorithms"]] == ["umap"] and agreement(coords, "umap", "species") >= 0.9


def test_the_hover_title_is_the_row_name(cli, corpus):
    _, _, page = project(cli, corpus, "mtcars.csv", "--algo", "pca", "--neighbours", "0")
    meta = page_data(page)
    titles = points(page)[meta["fields"][meta["label"]]["key"]]
    assert titles[29] == "Ferrari Dino"  # R's row 30: the hover says the car, not "row 29"


@pytest.mark.parametrize("name, left", [("movies.parquet", "budget"), ("msleep.csv", "sleep_cycle")])
def test_a_mostly_empty_column_costs_the_column_not_the_rows(cli, corpus, name, left):
    summary, _, _ = project(cli, corpus, name, "--algo", "pca", "--neighbours", "0", "--no-metrics")
    assert summary["rows"]["plotted"] == summary["rows"]["sampled"] and left not in summary["columns"]["embedding"]
    assert any(w.startswith("left ") and f'"{left}"' in w and "--missing drop" in w for w in summary["warnings"])


def test_inspect_says_why(cli, corpus):
    result = cli("inspect", corpus / "mtcars.csv")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.split()[:1] == ["am"])
    assert "a class code (2 distinct whole numbers in the first rows, beside measurements with fractions)" in row
    assert any(
        line.startswith("  scale: standardised (scikit-learn's StandardScaler: the columns' spreads") for line in lines
    )
    label = next(line for line in lines if line.startswith("  label:"))
    assert label.startswith('  label: "Unnamed: 0" (the row names (R') and "without a column name" in label
