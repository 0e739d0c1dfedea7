"""Stage 6: what the browser gets, decoded from the HTML: coordinates, fields, images, legend, header, no network."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from embproj.options import Options
from embproj.pipeline import run
from embproj.read.base import from_table
from reportdata import legend_labels, models, page_data, points


@pytest.fixture(scope="module")
def digits_report(digits_parquet):
    return run(Options(data=digits_parquet, algo="pca"))


def test_points_carry_coordinates_fields_and_row_ids(digits_report, digits_table):
    data = points(digits_report.html)
    assert data["x_pca"].dtype == np.float32 and len(data["x_pca"]) == 1797
    np.testing.assert_array_equal(data["x_pca"], digits_report.projections[0].xy[:, 0])
    assert data["row"].tolist() == list(range(1797))
    assert data["f0"] == digits_table.column("target").to_pylist()  # hover field "target"


def test_images_are_png_thumbnails_of_each_row(digits_report, digits_table):
    data = points(digits_report.html)
    uri = data["img"][5]
    assert uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert image.size == (64, 64)
    pixels = np.asarray(image.convert("L"))[::8, ::8] / 255.0
    expected = np.asarray(digits_table.column("image")[5].as_py())
    np.testing.assert_allclose(pixels, expected, atol=0.01)


def test_legend_counts_each_class(digits_report):
    labels = legend_labels(digits_report.html)
    assert labels[:3] == ["0 (178)", "1 (182)", "2 (177)"] and len(labels) == 10


def test_header_and_footer_say_what_was_done(digits_report):
    page = digits_report.html
    assert "1,797 read · 1,797 plotted" in page
    assert "64 numeric columns, 64 dims" in page
    assert "embproj project" in page and "--algo pca --seed 0" in page
    assert re.search(r"bokeh 3\.\d+", page)


def test_self_contained_no_network(digits_report):
    page = digits_report.html
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=", page)
    assert "cdn.bokeh.org" not in page and "@import" not in page
    assert "fonts.googleapis" not in page
    assert 'id="ep-tooltip"' in page


def test_every_kind_of_page_passes_bokehs_own_checks(digits_parquet, monkeypatch):
    """Bokeh's checks of a document's models (off for the rest of the suite, see conftest.py) find nothing to
    log on a page of each kind: images and a legend; three maps side by side; a colour bar, charts of both kinds,
    clusters and the large map's density layer."""
    import logging

    from bokeh.embed import file_html
    from bokeh.plotting import figure
    from bokeh.resources import INLINE

    import embproj.render.lod as lod
    from conftest import vector_table

    monkeypatch.setenv("BOKEH_VALIDATE_DOC", "true")
    monkeypatch.setattr(lod, "THRESHOLD", 200)
    rng = np.random.default_rng(0)
    big = vector_table(600, dims=6, classes=4).append_column("score", pa.array(rng.random(600)))
    runs = [
        (Options(data=digits_parquet, algo="pca"), None),
        (Options(algo="all", iterations=100), from_table(vector_table(), name="blobs.parquet")),
        (Options(algo="pca", color="score", charts=("label", "score")), from_table(big, name="big.parquet")),
    ]
    logged: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = logged.append  # type: ignore[method-assign]
    checks = logging.getLogger("bokeh.core.validation.check")
    level = checks.level
    checks.addHandler(handler)
    checks.setLevel(logging.WARNING)  # importing distributed (test_dask.py) sets Bokeh's loggers to ERROR
    try:
        file_html(figure(), INLINE)  # a figure with nothing drawn: the check is on, and what it says is caught
        assert [r.getMessage()[:6] for r in logged] == ["W-1000"]
        logged.clear()
        pages = [run(opts, source=source).html for opts, source in runs]
    finally:
        checks.removeHandler(handler)
        checks.setLevel(level)
    assert [r.getMessage() for r in logged] == []
    assert {"x_umap", "x_tsne"} <= set(points(pages[1]))
    assert models(pages[2], "ColorBar") and models(pages[2], "ImageRGBA") and page_data(pages[2])["lod"]
    assert models(pages[0], "LegendItem") and page_data(pages[2])["clusters"]
    assert models(pages[2], "HBar") and models(pages[2], "Quad")  # the label's bars, the score's histogram


def test_values_are_escaped_in_the_page():
    n = 12
    evil = "<script>window.__pwned=1</script>"
    table = pa.table(
        {
            "label": [evil, "b"] * (n // 2),
            "a": np.arange(n, dtype=float),
            "b": np.arange(n, dtype=float) ** 2,
        }
    )
    result = run(Options(algo="pca", title=f"title {evil}"), source=from_table(table, name=f"{evil}.parquet"))
    page = result.html
    assert evil not in page  # neither in the header, nor in the embedded JSON
    assert "title &lt;script&gt;" in page
    assert points(page)["f0"][0] == evil  # the browser gets the text, to show as text


def test_continuous_colour_gets_a_colour_bar(tmp_path):
    rng = np.random.default_rng(0)
    table = pa.table({"a": rng.normal(size=50), "b": rng.normal(size=50), "score": rng.random(50)})
    pq.write_table(table, tmp_path / "t.parquet")
    result = run(Options(data=tmp_path / "t.parquet", algo="pca", columns=("a", "b"), color="score"))
    assert "ColorBar" in result.html
    assert points(result.html)["val"].dtype == np.float32


def test_many_classes_fold_into_other():
    table = pa.table({"k": [f"k{i % 40}" for i in range(400)], "a": np.arange(400.0), "b": np.ones(400)})
    result = run(Options(algo="pca", color="k"), source=from_table(table))
    labels = legend_labels(result.html)
    assert len(labels) == 20 and labels[-1] == "other (210)"


def test_legend_sorts_numbers_inside_labels_naturally():
    from embproj.render.values import categories

    _, factors, _ = categories(["t10", "t2", "t1", "10", "2", "b", "a10", "a9"])
    assert factors == ["2", "10", "a9", "a10", "b", "t1", "t2", "t10"]


def test_dates_are_shown_on_hover_not_used_as_dimensions():
    import datetime

    days = [datetime.datetime(2024, 1, 1) + datetime.timedelta(days=i) for i in range(30)]
    table = pa.table({"when": days, "a": np.arange(30.0), "b": np.arange(30.0) ** 2, "k": ["x", "y", "z"] * 10})
    result = run(Options(algo="pca"), source=from_table(table))
    assert result.plan.embedding.columns == ("a", "b")
    assert result.plan.hover == ("k", "when")
    assert points(result.html)["f1"][:2] == ["2024-01-01 00:00:00", "2024-01-02 00:00:00"]
