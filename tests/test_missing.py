"""--missing: a column missing most of its numbers costs the map that column, not most of its rows; the warnings
name the columns responsible and the options that change it."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from embproj.options import Options
from embproj.plan.choose import Embedding, make_plan
from embproj.vectors.matrix import build_matrix

N = 200


def films(seed: int = 0) -> pa.Table:
    """ggplot2's movies in small: a budget known for one film in ten, three measures always known, a few gaps in
    "rating" (5%)."""
    rng = np.random.default_rng(seed)
    budget = np.where(rng.random(N) < 0.1, rng.integers(1, 100, N) * 1e6, np.nan)
    rating = np.where(rng.random(N) < 0.05, np.nan, np.round(rng.uniform(1, 10, N), 1))
    return pa.table(
        {
            "title": [f"Film {i}" for i in range(N)],
            "length": np.round(rng.normal(100, 20, N), 1),
            "budget": pa.array(budget, from_pandas=True),
            "rating": pa.array(rating, from_pandas=True),
            "votes": np.round(rng.lognormal(5, 1, N), 1),
        }
    )


def test_a_mostly_missing_column_is_left_out_and_named():
    plan = make_plan(films(), Options())
    assert plan.embedding.columns == ("length", "rating", "votes")
    assert plan.embedding.reason.startswith("no vector column, so the 3 numeric columns")
    assert plan.embedding.reason.endswith('left out for their missing numbers: "budget"')
    [note] = plan.notes
    assert note.startswith('left "budget" (9')  # ~90% of the rows miss it
    assert note.endswith(
        "out of the dimensions: missing in that share of the first 200 rows, which would have dropped those rows; "
        "--missing drop keeps it and drops the rows, --missing fill fills the gaps with each column's median, "
        "--columns chooses the dimensions"
    )
    role = {c.name: (role, why) for c, role, why in plan.roles()}["budget"]
    assert role[0] == "hover" and role[1].startswith("missing in 9") and "(--missing drop keeps it)" in role[1]
    assert plan.color.column != "budget"  # never the continuous colour either
    kept = make_plan(films(), Options(missing="drop"))
    assert kept.embedding.columns == ("length", "budget", "rating", "votes") and not kept.notes
    filled = make_plan(films(), Options(missing="fill"))
    budgets = films().column("budget").drop_null().to_numpy()
    assert filled.embedding.columns == kept.embedding.columns and filled.embedding.fill[1] == np.median(budgets)


def test_the_numbers_columns_miss_are_dropped_or_filled_and_counted_by_column():
    table = pa.table({"a": [1.0, None, 3.0, float("nan")], "b": [1.0, 2.0, None, 4.0]})
    _, dropped = build_matrix(table, Embedding("columns", ("a", "b"), 2, ""))
    assert dropped.keep.tolist() == [0] and dropped.dropped == {"missing numbers": 3}
    assert dropped.gaps == (2, 1)
    X, filled = build_matrix(table, Embedding("columns", ("a", "b"), 2, "", fill=(2.0, 3.0)))
    assert X.tolist() == [[1, 1], [2, 2], [3, 3], [2, 4]] and not filled.dropped
    _, inf = build_matrix(
        pa.table({"a": [1.0, float("inf")], "b": [1.0, 2.0]}), Embedding("columns", ("a", "b"), 2, "")
    )
    assert inf.dropped == {"NaN or infinite values": 1}  # not missing: a number out of range


@pytest.mark.parametrize("missing", ["auto", "drop", "fill"])
def test_the_report_keeps_its_rows_or_says_which_columns_cost_them(cli, tmp_path, missing):
    pacsv.write_csv(films(), tmp_path / "films.csv")
    result = cli("project", "films.csv", "--algo", "pca", "-o", "r.html", "--json", "--missing", missing)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    gaps = int(films().column("budget").null_count)
    rating_gaps = int(films().column("rating").null_count)
    if missing == "auto":  # the rating's few gaps still drop their rows, counted by column
        assert summary["rows"]["plotted"] > N * 0.9 and "budget" not in summary["columns"]["embedding"]
        assert summary["warnings"][0].startswith('left "budget" (')
        assert summary["warnings"][1] == (
            f'dropped {rating_gaps} of {N} sampled rows: {rating_gaps} missing numbers (missing in "rating" '
            f"{rating_gaps}); --missing fill keeps them, each gap filled with its column's median, --columns "
            "chooses the dimensions"
        )
    elif missing == "drop":
        assert summary["rows"]["plotted"] < N * 0.2
        [warning] = summary["warnings"]
        assert f'(missing in "budget" {gaps}, "rating" ' in warning and "--missing fill keeps them" in warning
    else:
        assert summary["rows"]["plotted"] == N and not summary["warnings"]
        assert "budget" in summary["columns"]["embedding"] and "--missing fill" in summary["command"]
