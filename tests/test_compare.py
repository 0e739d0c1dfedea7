"""`embproj compare BEFORE AFTER`: two embeddings of the same rows. What a user sees: the movers are the rows
whose vectors were replaced, rows far from them did not change, a row that kept its neighbours stays in place
between the two aligned maps; rows are matched by a key column (found or given), by their order with a warning,
or not at all with an `Error:` line; rows in one table only are counted and listed; `--json`'s "compare" block;
`--max-change` exits with code 3 and one line, the report written; the Python API; the digits embedded by two
models end to end; bad input as one `Error:` line, nothing written."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import short_line
from reportdata import decode_neighbours, page_data, points, source

CLASSES = 4
PER_CLASS = 100
N = CLASSES * PER_CLASS
REPLACED = 20  # rows of class c0 whose AFTER vectors sit in class c1


def four_blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(BEFORE's vectors, each row's class, the class centres): four far-apart blobs in 8 dims."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=12.0, size=(CLASSES, 8))
    classes = np.arange(N) % CLASSES
    return (centres[classes] + rng.normal(size=(N, 8))).astype(np.float32), classes, centres


def replaced_rows() -> np.ndarray:
    return np.flatnonzero(four_blobs()[1] == 0)[np.random.default_rng(1).permutation(PER_CLASS)[:REPLACED]]


def vectors_column(X: np.ndarray) -> pa.Array:
    return pa.array(list(X), type=pa.list_(pa.float32()))


def write_pair(folder, order=None, before_rows=None, after_rows=None, ids=True) -> tuple:
    """BEFORE and AFTER as Parquet files: AFTER is BEFORE with `replaced_rows()` moved into class c1, its rows in
    `order` (default: shuffled); `before_rows` and `after_rows` keep only those rows of each."""
    X, classes, centres = four_blobs()
    moved = replaced_rows()
    Y = X.copy()
    Y[moved] = (centres[1] + np.random.default_rng(2).normal(size=(REPLACED, 8))).astype(np.float32)
    names = np.array([f"item-{i:03d}" for i in range(N)])
    labels = np.array([f"c{k}" for k in classes])
    order = np.random.default_rng(3).permutation(N) if order is None else order
    rows_b = np.arange(N) if before_rows is None else before_rows
    rows_a = order if after_rows is None else order[np.isin(order, after_rows)]
    columns_b = {"id": names[rows_b]} if ids else {}
    columns_a = {"id": names[rows_a]} if ids else {}
    before = pa.table({**columns_b, "label": labels[rows_b], "embedding": vectors_column(X[rows_b])})
    after = pa.table({**columns_a, "embedding": vectors_column(Y[rows_a])})
    pq.write_table(before, folder / "before.parquet")
    pq.write_table(after, folder / "after.parquet")
    return folder / "before.parquet", folder / "after.parquet"


def run_compare(*args):
    from typer.testing import CliRunner

    from embproj.cli import app

    return CliRunner().invoke(app, ["compare", *map(str, args)], catch_exceptions=False)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The PCA comparison of the pair, with --json (and --coords-out, read by its own test)."""
    folder = tmp_path_factory.mktemp("pair")
    before, after = write_pair(folder)
    out = folder / "compare.html"
    result = run_compare(before, after, "--algo", "pca", "-o", out, "-q", "--json", "--coords-out",
                         folder / "changes.parquet")  # fmt: skip
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8"), json.loads(result.stdout)


def ids_of(page: str) -> list[str]:
    data, meta = points(page), page_data(page)
    key = next(j for j, f in enumerate(meta["fields"]) if f["name"] == "id")
    return data[f"f{key}"]


# -- the done-when table -------------------------------------------------------------------------------------


def test_the_movers_are_the_rows_whose_vectors_were_replaced(pair):
    page, summary = pair
    moved = {f"item-{i:03d}" for i in replaced_rows()}
    top = [m["key"] for m in summary["compare"]["movers"][:REPLACED]]
    assert len(moved & set(top)) / REPLACED >= 0.9
    meta = page_data(page)["compare"]
    ids = ids_of(page)
    assert len({ids[i] for i in meta["movers"][:REPLACED]} & moved) / REPLACED >= 0.9, "the page's movers table"


def test_rows_far_from_the_replaced_ones_do_not_change(pair):
    page = pair[0]
    data = points(page)
    change = np.asarray(data["change"], dtype=np.float64)
    labels = [f.replace("c", "") for f in data[f"f{_field(page, 'label')}"]]
    far = np.array([label in ("2", "3") for label in labels])
    assert far.sum() == 2 * PER_CLASS
    assert change[far].mean() < 0.01 and np.median(change[far]) == 0
    assert change[~far].max() > 0.5


def test_unchanged_rows_stay_in_place_between_the_aligned_maps(pair):
    data = points(pair[0])
    before = np.column_stack([data["x_pca_before"], data["y_pca_before"]]).astype(np.float64)
    after = np.column_stack([data["x_pca_after"], data["y_pca_after"]]).astype(np.float64)
    extent = np.ptp(before, axis=0).max()
    still = np.asarray(data["change"]) == 0
    assert still.sum() > N / 2
    shift = np.linalg.norm(after - before, axis=1) / extent
    assert np.median(shift[still]) < 0.03 and np.percentile(shift[still], 90) < 0.05
    moved = np.isin(ids_of(pair[0]), [f"item-{i:03d}" for i in replaced_rows()])
    assert np.median(shift[moved]) > 0.2, "a row that moved to another class moves on the map"


def test_umap_maps_are_aligned_too(tmp_path, monkeypatch):
    monkeypatch.delenv("EMBPROJ_NO_CACHE")  # and the projection cache keeps both maps (below)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    before, after = write_pair(tmp_path)
    out = tmp_path / "umap.html"
    options = ["--algo", "umap", "-q", "--no-metrics", "--clusters", "none", "--json"]
    result = run_compare(before, after, *options, "-o", out, "--coords-out", tmp_path / "first.parquet")
    assert result.exit_code == 0, result.output
    assert [a["cache"] for a in json.loads(result.stdout)["algorithms"]] == ["miss", "miss"]
    data = points(out.read_text(encoding="utf-8"))
    xy = {side: np.column_stack([data[f"x_umap_{side}"], data[f"y_umap_{side}"]]) for side in ("before", "after")}
    extent = np.ptp(xy["before"], axis=0).max()
    shift = np.linalg.norm(xy["after"] - xy["before"], axis=1) / extent
    still = np.asarray(data["change"]) == 0
    # ~2% on the digits; here the rows of a blob of Gaussian noise have no fixed place within it
    assert np.median(shift[still]) < 0.07, "a row that kept its neighbours stays near where it was"
    moved = np.isin(ids_of(out.read_text(encoding="utf-8")), [f"item-{i:03d}" for i in replaced_rows()])
    assert np.median(shift[moved]) > 0.3, "a row whose vector went to another class goes to it on the map"
    # again with only the title changed: both maps from the cache, the same numbers; and `project` of BEFORE with
    # the same options takes the map compare kept (one cache for both commands)
    again = run_compare(before, after, *options, "-o", tmp_path / "again.html", "--title", "again", "--coords-out",
                        tmp_path / "again.parquet")  # fmt: skip
    assert again.exit_code == 0, again.output
    assert [a["cache"] for a in json.loads(again.stdout)["algorithms"]] == ["hit", "hit"]
    assert pq.read_table(tmp_path / "again.parquet").equals(pq.read_table(tmp_path / "first.parquet"))
    from typer.testing import CliRunner

    from embproj.cli import app

    alone = CliRunner().invoke(app, ["project", str(before), *options, "-o", str(tmp_path / "before.html")])
    assert alone.exit_code == 0, alone.output
    assert [a["cache"] for a in json.loads(alone.stdout)["algorithms"]] == ["hit"]


# -- the numbers ---------------------------------------------------------------------------------------------


def test_json_has_the_compare_block(pair):
    page, summary = pair
    c = summary["compare"]
    assert {"rows", "matched", "only_before", "only_after", "k", "mean_change", "median_change", "share_changed",
            "per_class", "movers"} <= set(c)  # fmt: skip
    assert (c["rows"], c["matched"], c["only_before"], c["only_after"], c["k"]) == (N, N, 0, 0, 10)
    change = np.asarray(points(page)["change"], dtype=np.float64)
    assert c["mean_change"] == pytest.approx(change.mean(), abs=1e-4)
    assert c["median_change"] == pytest.approx(np.median(change), abs=1e-4)
    assert c["share_changed"] == pytest.approx((change > 0.5).mean(), abs=1e-4)
    assert sorted(c["per_class"]) == ["c0", "c1", "c2", "c3"]
    assert c["per_class"]["c2"]["mean_change"] < 0.01 < c["per_class"]["c0"]["mean_change"]
    assert sum(v["rows"] for v in c["per_class"].values()) == N
    assert len(c["movers"]) == 100
    changes = [m["change"] for m in c["movers"]]
    assert changes == sorted(changes, reverse=True)
    assert summary["labels"] is None and summary["lenses"]["notes"] == [
        "the lenses are not drawn on a compare page: `embproj project` draws them for each table"
    ], "--json says why a compare run has no lenses"
    assert c["matching"]["key"] == "id"
    words = summary["command"].split(" ")
    assert words[:2] == ["embproj", "compare"]
    assert words[2].endswith("before.parquet") and words[3].endswith("after.parquet")


def test_coords_out_holds_each_rows_key_both_maps_and_its_change(pair, tmp_path):
    """What a CI step reads after a comparison: a row per plotted row, by key, with the page's numbers."""
    page, summary = pair
    table = pq.read_table(Path(summary["coords_out"])).to_pandas()
    assert list(table.columns) == ["row", "id", "before_x", "before_y", "after_x", "after_y", "change", "label"]
    assert len(table) == N and sorted(table["row"]) == list(range(N))
    assert list(table["id"]) == [f"item-{i:03d}" for i in table["row"]]
    data = points(page)  # the page's rows, in the same order
    assert list(table["id"]) == ids_of(page)
    np.testing.assert_allclose(table["change"], data["change"], atol=1e-3)  # the page rounds what it shows
    np.testing.assert_allclose(table[["before_x", "after_y"]], np.column_stack([data["x_pca_before"],
                               data["y_pca_after"]]), rtol=1e-5, atol=1e-5)  # fmt: skip
    assert table["change"].mean() == pytest.approx(summary["compare"]["mean_change"], abs=1e-4)
    top = set(table.nlargest(REPLACED, "change")["id"])
    assert len(top & {f"item-{i:03d}" for i in replaced_rows()}) / REPLACED >= 0.9
    # as CSV, by the suffix, and never onto an input
    before, after = write_pair(tmp_path)
    csv = tmp_path / "changes.csv"
    result = run_compare(before, after, "--algo", "pca", "-o", tmp_path / "c.html", "-q", "--coords-out", csv)
    assert result.exit_code == 0, result.output
    assert csv.read_text(encoding="utf-8").splitlines()[0] == (
        '"row","id","before_x","before_y","after_x","after_y","change","label"'
    )
    result = run_compare(before, after, "--algo", "pca", "-o", tmp_path / "c.html", "--coords-out", before)
    assert result.exit_code == 2 and "choose another --coords-out path" in result.stderr, result.output


def test_the_change_is_the_jaccard_distance_of_the_two_neighbour_tables(pair):
    page = pair[0]
    meta, data = page_data(page), source(page, "points")
    text = {name: _table_text(page, name) for name in ("ep-neighbour-table", "ep-neighbour-table-after")}
    before = _decoded(text["ep-neighbour-table"], meta["neighbours"], data)
    after = _decoded(text["ep-neighbour-table-after"], meta["compare"]["neighbours_after"], data)
    expected = [1 - len(set(a) & set(b)) / len(set(a) | set(b)) for a, b in zip(before, after)]
    assert np.allclose(np.asarray(data["change"]), expected, atol=1e-6)


def test_the_header_states_the_numbers(pair):
    page, summary = pair
    text = html.unescape(page)
    c = summary["compare"]
    assert f'<span data-fact="mean_change">{c["mean_change"]:.3f}</span>' in text
    assert f'<span data-fact="rows">{N}</span> rows' in text
    assert 'by "label"' in text


def test_the_same_seed_gives_the_same_page(tmp_path):
    before, after = write_pair(tmp_path)
    pages = []
    for _ in range(2):
        result = run_compare(before, after, "--algo", "pca", "-o", tmp_path / "c.html", "-q", "--reproducible")
        assert result.exit_code == 0, result.output
        pages.append((tmp_path / "c.html").read_bytes())
    assert pages[0] == pages[1]


# -- matching ------------------------------------------------------------------------------------------------


def test_rows_are_matched_by_the_row_order_with_a_warning(tmp_path):
    before, after = write_pair(tmp_path, order=np.arange(N), ids=False)
    result = run_compare(before, after, "--algo", "pca", "-o", tmp_path / "c.html", "--json")
    assert result.exit_code == 0, result.output
    assert "Warning: rows matched by their order" in result.stderr
    c = json.loads(result.stdout)["compare"]
    assert c["matching"]["how"] == "order" and c["rows"] == N
    moved = set(replaced_rows().tolist())
    assert len(moved & {m["key"] for m in c["movers"][:REPLACED]}) >= 0.9 * REPLACED


def test_a_given_key_matches_rows_in_another_order(tmp_path):
    before, after = write_pair(tmp_path)
    result = run_compare(before, after, "--key", "id", "--algo", "pca", "-o", tmp_path / "c.html", "-q", "--json")
    assert result.exit_code == 0, result.output
    c = json.loads(result.stdout)["compare"]
    assert c["matching"]["reason"] == 'column "id": given'
    assert c["per_class"]["c3"]["mean_change"] < 0.01


def test_rows_in_one_table_only_are_counted_and_listed(tmp_path):
    drop_after, drop_before = np.arange(N - 7, N), np.arange(3)
    before, after = write_pair(
        tmp_path, before_rows=np.setdiff1d(np.arange(N), drop_before), after_rows=np.setdiff1d(np.arange(N), drop_after)
    )
    result = run_compare(before, after, "--algo", "pca", "-o", tmp_path / "c.html", "--json")
    assert result.exit_code == 0, result.output
    c = json.loads(result.stdout)["compare"]
    assert (c["matched"], c["only_before"], c["only_after"], c["rows"]) == (N - 10, 7, 3, N - 10)
    assert sorted(c["matching"]["only_before_keys"]) == [f"item-{i:03d}" for i in drop_after]
    assert sorted(c["matching"]["only_after_keys"]) == [f"item-{i:03d}" for i in drop_before]
    assert 'Warning: 7 rows only in BEFORE ("item-393"' in result.stderr
    page = html.unescape((tmp_path / "c.html").read_text(encoding="utf-8"))
    listed = page[page.index('id="ep-one-sided"') :]
    assert all(f"<span>item-{i:03d}</span>" in listed for i in [*drop_after, *drop_before])


def test_two_vector_columns_of_one_table(tmp_path):
    X, classes, _ = four_blobs()
    Y = X.copy()
    Y[replaced_rows()] *= -1
    table = pa.table({"label": [f"c{k}" for k in classes], "old": vectors_column(X), "new": vectors_column(Y)})
    pq.write_table(table, tmp_path / "both.parquet")
    out = tmp_path / "c.html"
    result = run_compare(tmp_path / "both.parquet", "--against", "new", "--algo", "pca", "-o", out, "-q", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    c = summary["compare"]
    assert c["matching"]["how"] == "columns" and c["rows"] == N
    assert c["before"].endswith('"old" (8 dims)') and c["after"].endswith('"new" (8 dims)')
    assert len(set(replaced_rows().tolist()) & {m["key"] for m in c["movers"][:REPLACED]}) >= 0.9 * REPLACED
    words = summary["command"].split(" ")
    assert words[:2] == ["embproj", "compare"] and words[2].endswith("both.parquet")
    assert words[3:5] == ["--against", "new"]


# -- the CI gate ---------------------------------------------------------------------------------------------


def test_max_change_exits_3_with_one_line_and_writes_the_report(tmp_path):
    before, after = write_pair(tmp_path)
    out = tmp_path / "c.html"
    result = run_compare(before, after, "--algo", "pca", "-o", out, "-q", "--max-change", "0.01")
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "above --max-change 0.01" in lines[0] and "Traceback" not in result.output
    assert out.is_file() and "ep-movers" in out.read_text(encoding="utf-8")
    result = run_compare(before, after, "--algo", "pca", "-o", out, "-q", "--max-change", "0.5")
    assert result.exit_code == 0 and result.stderr == ""


# -- the Python API ------------------------------------------------------------------------------------------


def test_the_api_compares_data_frames_and_returns_what_report_returns(tmp_path):
    import pandas as pd

    import embproj
    from embproj.pipeline import Result

    before, after = write_pair(tmp_path)
    frames = pd.read_parquet(before), pd.read_parquet(after)
    result = embproj.compare(*frames, key="id", algo="pca")
    assert isinstance(result, Result) and isinstance(embproj.report(frames[0], algo="pca"), Result)
    c = result.summary.compare
    assert c.rows == N and len({k for k, _ in c.movers[:REPLACED]} & {f"item-{i:03d}" for i in replaced_rows()}) >= 18
    assert result.summary.compare.facts()["matching"]["key"] == "id"
    saved = result.save(tmp_path / "api.html")
    assert "ep-movers" in saved.read_text(encoding="utf-8")
    paths = embproj.compare(before, after, algo="pca")
    assert paths.summary.compare.mean_change == pytest.approx(c.mean_change)
    with pytest.raises(embproj.EmbprojError, match='key="nope": no such column'):
        embproj.compare(*frames, key="nope", algo="pca")


# -- the real case -------------------------------------------------------------------------------------------


def test_the_digits_embedded_by_two_models(digits_table, tmp_path):
    """PCA to 16 dims against a small MLP's hidden layer, fitted here: another model, another neighbourhood."""
    import warnings

    from sklearn.decomposition import PCA
    from sklearn.neural_network import MLPClassifier

    names = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
    pixels = np.column_stack([digits_table.column(name).to_numpy() for name in names]) / 16.0
    target = np.asarray(digits_table.column("target").to_pylist())
    pca16 = PCA(16, random_state=0).fit_transform(pixels).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it has not converged in 30 iterations: a model half trained is a model
        mlp = MLPClassifier((32,), max_iter=30, random_state=0).fit(pixels, target)
    hidden = np.maximum(0, pixels @ mlp.coefs_[0] + mlp.intercepts_[0]).astype(np.float32)
    table = digits_table.select(["target", "image"]).append_column("pca16", vectors_column(pca16))
    pq.write_table(table.append_column("mlp", vectors_column(hidden)), tmp_path / "digits2.parquet")
    out = tmp_path / "digits.html"
    result = run_compare(
        tmp_path / "digits2.parquet", "--embedding", "pca16", "--against", "mlp", "--algo", "pca", "-o", out,
        "-q", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    c = json.loads(result.stdout)["compare"]
    assert c["rows"] == 1797 and c["k"] == 10
    assert 0.2 < c["mean_change"] < 0.95, "two models of the same digits share some neighbours, not all"
    assert sorted(c["per_class"], key=int) == [str(d) for d in range(10)]
    page = out.read_text(encoding="utf-8")
    meta = page_data(page)
    assert meta["images"] is not None and len(meta["compare"]["movers"]) == 100
    assert [a["algo"] for a in meta["algos"]] == ["pca_before", "pca_after"]


# -- bad input -----------------------------------------------------------------------------------------------


def _pair(**kw):
    def make(d):
        return list(write_pair(d, **kw))

    return make


def _one_table(d):
    X, classes, _ = four_blobs()
    pq.write_table(pa.table({"old": vectors_column(X), "new": vectors_column(X * 2)}), d / "both.parquet")
    return [d / "both.parquet"]


def _repeated_key(d):
    before, after = write_pair(d)
    table = pq.read_table(after)
    ids = table.column("id").to_pylist()
    ids[5] = ids[6]
    pq.write_table(table.set_column(0, "id", pa.array(ids)), after)
    return [before, after]


ERRORS = {
    "no AFTER and no --against": (_one_table, [], "compare needs two embeddings, give the AFTER table"),
    "--engine dask": (_pair(), ["--engine", "dask"], "--engine dask is not supported by compare"),
    "--algo all": (_pair(), ["--algo", "all"], "compare draws one pair of maps, not --algo all"),
    "--neighbours 0": (_pair(), ["--neighbours", "0"], "--neighbours 0 leaves none"),
    "--against the same column": (_one_table, ["--embedding", "old", "--against", "old"], "name the same column"),
    "--against no such column": (
        _one_table,
        ["--against", "nwe"],
        '--against "nwe": no such column, did you mean --against new?',
    ),
    "--key no such column": (_pair(), ["--key", "ID"], '--key "ID": no such column, did you mean --key id?'),
    "a key that repeats": (_repeated_key, ["--key", "id"], 'column "id" holds "item-'),
    "no key, other row counts": (
        _pair(ids=False, after_rows=np.arange(N - 5)),
        [],
        "no column names the rows in both tables (one of unique identifiers in both), and they have 400 and 395",
    ),
    "--max-change out of range": (_pair(), ["--max-change", "2"], "--max-change 2 is out of range"),
    "--key with one table": (_one_table, ["--against", "new", "--key", "old"], "leave --key out"),
    "the report onto AFTER": (_pair(), ["-o", "{after}"], "after.parquet"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_compare_error_cases(tmp_path, case):
    make, extra, message = ERRORS[case]
    files = make(tmp_path)
    extra = [files[-1] if word == "{after}" else word for word in extra]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    out = [] if "-o" in extra else ["-o", tmp_path / "c.html"]
    result = run_compare(*files, "--algo", "pca", *extra, *out)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and message in lines[-1], lines[-1]
    assert sum(line.startswith("Error") for line in lines) == 1
    assert short_line(lines[-1]) and "Traceback" not in result.output
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before, "nothing written"


# -- helpers -------------------------------------------------------------------------------------------------


def _field(page: str, name: str) -> int:
    return next(j for j, f in enumerate(page_data(page)["fields"]) if f["name"] == name)


def _table_text(page: str, element: str) -> str:
    import re

    return re.search(f'<script type="application/octet-stream" id="{element}">(.*?)</script>', page, re.S).group(1)


def _decoded(text: str, info: dict, data: dict) -> np.ndarray:
    code = info["code"]
    xy = np.column_stack([data["x_" + code["algo"]], data["y_" + code["algo"]]])
    return decode_neighbours(text.strip(), code, xy, info["k"])
