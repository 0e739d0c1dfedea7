"""--scale: columns on different scales (grams beside millimetres) are standardised before the maps, the neighbours
and the quality numbers, and the report says so and why; an embedding's dimensions are left as read."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import RobustScaler, StandardScaler

from conftest import vector_table
from embproj.options import Options
from embproj.plan.choose import make_plan
from embproj.vectors.scaling import fit_scaler
from reportdata import neighbours

N = 300


def measurements(seed: int = 0) -> pa.Table:
    """Three kinds told apart by two lengths in mm (a few mm apart), and a weight in grams that says nothing of
    the kind but spreads over thousands: raw, the weight orders the map."""
    rng = np.random.default_rng(seed)
    kind = np.arange(N) % 3
    return pa.table(
        {
            "kind": [f"k{k}" for k in kind],
            "bill_mm": np.round(40 + 8 * kind + rng.normal(size=N), 2),
            "depth_mm": np.round(15 + 6 * (kind == 1) + rng.normal(size=N), 2),
            "mass_g": np.round(4000 + 800 * rng.normal(size=N)),
        }
    )


def agreement(xy: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """The share of each point's k nearest on the map that share its label."""
    idx = NearestNeighbors(n_neighbors=k + 1).fit(xy).kneighbors(xy, return_distance=False)[:, 1:]
    return float((labels[idx] == labels[:, None]).mean())


def test_the_plan_standardises_columns_on_different_scales_and_says_why():
    plan = make_plan(measurements(), Options())
    assert plan.scaling.method == "standard"
    scale = next(line for line in plan.explain() if line.startswith("scale:"))
    assert scale.startswith("scale: standardised (scikit-learn's StandardScaler: the columns' spreads differ")
    assert '"mass_g" (standard deviation 741.1, the median column' in scale
    assert "would hold over 99.99%" in scale and "% of the variance; --scale none keeps them as read" in scale


def test_one_scale_is_left_as_read(digits_table):
    digits = make_plan(digits_table.slice(0, 1000), Options())  # 64 pixel columns, 0..16 each
    assert digits.scaling.method == "none" and "one scale" in digits.scaling.reason
    vectors = make_plan(vector_table(), Options())  # one column of vectors: never rescaled unless asked
    assert vectors.scaling.method == "none" and "one column of vectors" in vectors.scaling.reason
    assert make_plan(vector_table(), Options(scale="standard")).scaling.method == "standard"


def test_one_column_holding_most_of_the_variance_is_rescaled_though_the_spreads_are_close():
    """Air pollutants as texmex's winter table has them: five columns within 5× of each other in spread, but one
    of them (NO) would hold 88% of the variance as read, and order the map; two columns 4× apart stay as read."""
    rng = np.random.default_rng(3)
    spreads = {"O3": 9.0, "NO2": 8.0, "NO": 47.0, "SO2": 9.5, "PM10": 10.0}
    air = pa.table({name: rng.normal(scale=sd, size=200) + 3 * sd for name, sd in spreads.items()})
    plan = make_plan(air, Options())
    assert plan.scaling.method == "standard" and '"NO"' in plan.scaling.reason, plan.scaling.reason
    two = pa.table({"x": rng.normal(scale=4.0, size=200), "y": rng.normal(scale=1.0, size=200)})
    assert make_plan(two, Options()).scaling.method == "none"


@pytest.mark.parametrize("method, peer", [("standard", StandardScaler), ("robust", RobustScaler)])
def test_the_scaler_is_scikit_learns_fitted_on_the_fitted_rows(method, peer):
    rng = np.random.default_rng(2)
    X = (rng.normal(size=(500, 4)) * [1, 10, 100, 0] + [0, 5, -50, 3]).astype(np.float32)  # one constant column
    fit = np.sort(rng.choice(500, 200, replace=False))
    expected = peer().fit(X[fit]).transform(X)
    scaled = fit_scaler(X[fit], method)(X.copy())
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, expected, rtol=1e-5, atol=1e-5)


def test_the_report_says_the_scale_and_keeps_the_kinds_together(cli, tmp_path):
    pacsv.write_csv(measurements(), tmp_path / "birds.csv")
    runs = {}
    for scale in ("auto", "none"):
        out = tmp_path / scale
        args = ["--algo", "pca", "-o", f"{out}.html", "--coords-out", f"{out}.parquet", "--json"]
        result = cli("project", "birds.csv", *args, *(["--scale", scale] if scale != "auto" else []))
        assert result.exit_code == 0, result.stderr
        coords = pq.read_table(f"{out}.parquet")
        xy = np.column_stack([coords.column("pca_x").to_numpy(), coords.column("pca_y").to_numpy()])
        page = (tmp_path / f"{scale}.html").read_text(encoding="utf-8")
        runs[scale] = (json.loads(result.stdout), agreement(xy, coords.column("kind").to_numpy(False)), page)
    summary, together, page = runs["auto"]
    assert summary["scale"]["method"] == "standard" and '"mass_g"' in summary["scale"]["reason"]
    assert "<dt>scale</dt><dd>standardised (scikit-learn&#39;s StandardScaler: the columns&#39; spreads" in page
    assert together > 0.9 and runs["none"][1] < 0.6  # raw, the map is ordered by grams
    assert runs["none"][0]["scale"] == {"method": "none", "reason": "set by --scale none"}
    # the neighbours a click rings are the rescaled space's: each row's 10 nearest mostly of its kind
    kinds = np.array([f"k{k}" for k in np.arange(N) % 3])
    near = neighbours(page)
    assert (kinds[near] == kinds[:, None]).mean() > 0.9
    assert "--scale none" in runs["none"][0]["command"]


def test_rows_placed_by_the_fitted_map_are_rescaled_as_the_fitted_ones(cli, tmp_path):
    pq.write_table(measurements(), tmp_path / "birds.parquet")
    args = ["--algo", "pca", "--fit-points", "100", "--coords-out", "c.parquet", "-o", "r.html"]
    assert cli("project", "birds.parquet", *args).exit_code == 0
    coords = pq.read_table(tmp_path / "c.parquet")
    placed = ~np.asarray(coords.column("fitted").to_pylist())
    xy = np.column_stack([coords.column("pca_x").to_numpy(), coords.column("pca_y").to_numpy()])
    assert placed.sum() == N - 100 and agreement(xy, coords.column("kind").to_numpy(False)) > 0.9
