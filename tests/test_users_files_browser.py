"""Other tools' files in Chromium: hovering a point of the W&B artifact's digits table, or of the TensorBoard log
folder, shows that row's own image (the wandb.Image file, the sprite's tile) with its digit, and the page makes no
network request."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from test_users_files import ARTIFACT, LABELS, TB_DIGITS, enlarged, sprite_tile
from typer.testing import CliRunner

pytest_plugins = ["pagetools"]

pytestmark = pytest.mark.browser

ALGO = "pca"


def make_report(data, out) -> None:
    from embproj.cli import app

    args = ["project", str(data), "--algo", ALGO, "-o", str(out), "--quiet"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def hover_shows_each_rows_image(page, own_image) -> list[str]:
    """Hover the most isolated point and two others: one image, the row's own, 64 px, under its digit. Returns
    the tooltips' titles."""
    positions = np.array(page.point_positions(ALGO))
    rows = page.column("row")
    assert len(positions) == len(rows) == 100
    gaps = np.hypot(*(positions[:, None, :] - positions[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    isolated = int(np.argmax(gaps.min(axis=1)))
    titles = []
    for i in (isolated, 0, 57):
        tip = page.hover(i, ALGO)
        assert tip.visible and tip.index is not None, f"point {i}: no tooltip ({tip})"
        if i == isolated:
            assert tip.index == i
        row = int(rows[tip.index])
        assert tip.images == 1 and tip.img_size == (64, 64), f"point {i}: {tip.images} images, {tip.img_size}"
        assert tip.title == LABELS[row]
        shown = np.asarray(tip.image().convert("L"))
        assert np.array_equal(shown, enlarged(own_image(row))), f"row {row}: the tooltip shows another image"
        titles.append(tip.title)
    return titles


def test_wandb_artifact_hover_shows_the_wandb_image(open_report, tmp_path):
    out = tmp_path / "artifact.html"
    make_report(ARTIFACT, out)
    cells = [row[0]["path"] for row in json.loads((ARTIFACT / "digits.table.json").read_text())["data"]]
    page = open_report(out)
    titles = hover_shows_each_rows_image(page, lambda row: np.asarray(Image.open(ARTIFACT / cells[row]).convert("L")))
    assert len(titles) == 3 and set(titles) <= set(LABELS)  # each tooltip is headed by its row's digit
    page.assert_quiet()  # no network request, no console error


def test_tensorboard_hover_shows_the_sprite_tile(open_report, tmp_path):
    out = tmp_path / "tensorboard.html"
    make_report(TB_DIGITS, out)
    page = open_report(out)
    titles = hover_shows_each_rows_image(page, sprite_tile)
    assert len(titles) == 3 and set(titles) <= set(LABELS)  # each tooltip is headed by its row's digit
    page.assert_quiet()  # no network request, no console error
