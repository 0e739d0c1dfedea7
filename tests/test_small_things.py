"""Issue 12, points 4–6, as a new user meets them: W&B's three-row hello world with default options, W&B's Table
API (and a wandb.Table, by a stand-in with its public attributes), Python's words in the API's errors and
warnings, and the command line's small things: --version, "did you mean", lists that count what they leave out,
range messages that read well. Browser behaviours are in test_small_things_browser.py."""

from __future__ import annotations

import base64
import io
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import embproj
from conftest import short_line
from embproj.errors import OptionError
from embproj.options import Options, command_line, declared, validate
from reportdata import manifest, page_data, points

HELLO = [[0.2, 0.4, 0.1, 0.7, 0.5], [0.3, 0.1, 0.9, 0.2, 0.7], [0.4, 0.5, 0.2, 0.2, 0.1]]  # W&B's "Hello World"
DIMS = ["D1", "D2", "D3", "D4", "D5"]
TOO_FEW_UMAP = "3 rows are too few for UMAP (it needs at least 4 with a usable vector), so the map is PCA"


def write_csv(path: Path, columns, rows) -> Path:
    path.write_text(",".join(columns) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


@pytest.fixture
def hello_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "hello.csv", DIMS, HELLO)


def stderr_lines(result) -> list[str]:
    return result.stderr.strip().splitlines()


# -- 4. small tables just work -------------------------------------------------------------------------------


def test_the_hello_world_makes_a_pca_map_with_a_warning_by_default(cli, hello_csv, tmp_path):
    done = cli("project", hello_csv, "--reproducible")
    assert done.exit_code == 0, done.output
    assert f"Warning: {TOO_FEW_UMAP}" in stderr_lines(done)
    page = (tmp_path / "hello.umap.html").read_text(encoding="utf-8")
    data, meta = points(page), page_data(page)
    assert [a["algo"] for a in meta["algos"]] == ["pca"] and "x_umap" not in data
    assert len(data["x_pca"]) == 3 and np.isfinite(data["x_pca"]).all()
    assert f"<li>{TOO_FEW_UMAP}</li>" in page  # the page says why too
    # a table of nothing but its dimensions shows them on hover
    assert [f["name"] for f in meta["fields"]] == DIMS and meta["more_fields"] == ""
    assert [float(data[f"f{j}"][0]) for j in range(5)] == HELLO[data["row"][0]]
    # the command the page gives makes the same file again: no --algo, so PCA again
    command = manifest(page)["command"]
    assert "--algo" not in command
    again = cli(*shlex.split(command)[1:])
    assert again.exit_code == 0 and (tmp_path / "hello.umap.html").read_text(encoding="utf-8") == page
    whitened = command_line(Options(data=hello_csv, whiten=True))  # a PCA option counts: PCA may run
    assert whitened is not None and "--whiten" in whitened


def test_rows_dropped_below_the_minimum_count_as_too_few(cli, tmp_path):
    rows = [*HELLO, ["nan", 1, 2, 3, 4], ["", 1, 2, 3, 4]]  # five rows, three usable
    done = cli("project", write_csv(tmp_path / "t.csv", DIMS, rows), "-o", "t.html")
    assert done.exit_code == 0, done.output
    lines = stderr_lines(done)
    assert any(line.startswith("Warning: dropped 2 of 5 sampled rows") for line in lines)
    assert f"Warning: {TOO_FEW_UMAP}" in lines


def test_algo_all_keeps_the_maps_that_can_run(cli, hello_csv):
    done = cli("project", hello_csv, "--algo", "all", "-o", "all.html")
    assert done.exit_code == 0, done.output
    assert (
        "Warning: 3 rows are too few for UMAP and t-SNE (they need at least 4 with a usable vector), so only the "
        "PCA map is shown" in stderr_lines(done)
    )
    meta = page_data(Path("all.html").read_text(encoding="utf-8"))
    assert [a["algo"] for a in meta["algos"]] == ["pca"]


@pytest.mark.parametrize(("algo", "name"), [("umap", "UMAP"), ("tsne", "t-SNE"), ("UMAP", "UMAP"), ("t-sne", "t-SNE")])
def test_an_algorithm_named_on_too_few_rows_is_an_error(cli, hello_csv, tmp_path, algo, name):
    """The user chose it: a PCA map instead would not be what they asked for, so say how to get one."""
    done = cli("project", hello_csv, "--algo", algo, "-o", "r.html")
    assert done.exit_code == 2
    assert stderr_lines(done)[-1] == (
        f"Error: {hello_csv}: {name} needs at least 4 rows with a usable vector, got 3, give more rows, or use "
        "--algo pca"
    )
    assert "Traceback" not in done.output and not (tmp_path / "r.html").exists()


def test_a_wide_table_of_dimensions_shows_the_first_eight_and_a_count(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(12, 20)), columns=[f"dim{i}" for i in range(20)])
    meta = page_data(embproj.report(frame, algo="pca").html)
    assert [f["name"] for f in meta["fields"]] == [f"dim{i}" for i in range(8)]
    assert meta["more_fields"] == "… and 12 more dimensions"


# -- 5. the Table API W&B users know -------------------------------------------------------------------------


def test_wandb_table_methods():
    table = embproj.Table(columns=DIMS[:2], data=[row[:2] for row in HELLO])
    table.add_data(0.9, 0.8)
    table.add_column("label", ["a", "b", "a", "b"])
    table.add_computed_columns(lambda ndx, row: {"index": ndx, "total": row["D1"] + row["D2"]})
    assert table.columns == ["D1", "D2", "label", "index", "total"] and len(table.data) == 4
    assert table.get_column("index") == [0, 1, 2, 3]
    total = table.get_column("total", convert_to="numpy")
    assert isinstance(total, np.ndarray) and total.tolist() == pytest.approx([0.6, 0.4, 0.9, 1.7])
    frame = table.get_dataframe()
    assert list(frame.columns) == table.columns and frame["label"].tolist() == ["a", "b", "a", "b"]
    again = embproj.Table(dataframe=frame)
    assert again.columns == table.columns and again.get_column("D2") == table.get_column("D2")
    with pytest.raises(OptionError, match='no column "Total", did you mean "total"\\? Columns are: "D1"'):
        table.get_column("Total")


def test_an_embedding_column_added_and_read_back_as_numpy():
    vectors = np.random.default_rng(1).normal(size=(6, 4))
    table = embproj.Table(columns=["label"], data=[[k] for k in "aabbcc"])
    table.add_column("embedding", list(vectors))
    assert table.get_column("embedding", convert_to="numpy").shape == (6, 4)
    result = table.report(algo="pca")
    assert result.plan.embedding.columns == ("embedding",) and len(points(result.html)["x_pca"]) == 6


class StandInImage:
    """The public face of `wandb.Image` embproj reads: `image` (a PIL image, as wandb's property returns) and
    `format`. Not tested against the real wandb, which is not installed here."""

    def __init__(self, pil_image):
        self._image = pil_image
        self.format = "png"

    @property
    def image(self):
        return self._image


class StandInTable:
    """The public face of `wandb.Table`: `columns` and `data` (rows), named as wandb's module names it."""

    def __init__(self, columns, data):
        self.columns = columns
        self.data = data


StandInTable.__module__ = "wandb.sdk.data_types.table"
StandInTable.__name__ = StandInTable.__qualname__ = "Table"
COLOURS = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (40, 60, 220)}


def test_a_wandb_table_with_images_is_read_through_its_public_attributes():
    rng = np.random.default_rng(2)
    names = list(COLOURS) * 4
    rows = [
        [name, rng.normal(size=5).tolist(), StandInImage(Image.new("RGB", (16, 16), COLOURS[name]))] for name in names
    ]
    rows[-1][2] = StandInImage(None)  # a wandb.Image whose pixels are elsewhere (a remote reference)
    rows[-2][2] = rows[-2][2].image  # a PIL image as the cell itself
    with pytest.warns(embproj.EmbprojWarning, match="1 of 12 images could not be read: 1 empty cell"):
        result = embproj.report(StandInTable(["label", "embedding", "image"], rows), algo="pca")
    assert "wandb" not in sys.modules  # read by its attributes, never imported
    assert "<title>wandb.Table, 12 rows</title>" in result.html
    data = points(result.html)
    for row, uri in zip(data["row"], data["img"], strict=True):
        if row == 11:
            assert uri == "", "a cell without pixels got an image"
            continue
        thumb = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB")
        assert thumb.getpixel((thumb.width // 2, thumb.height // 2)) == COLOURS[names[row]], f"row {row}"


def test_api_errors_name_python_keywords():
    frame = pd.DataFrame(HELLO, columns=DIMS).assign(target=["x", "y", "x"])
    cases = [
        ({"algo": "umap"}, 'UMAP needs at least 4 rows with a usable vector, got 3, give more rows, or use algo="pca"'),
        ({"color": "Target", "algo": "pca"}, 'color="Target": no such column, did you mean color="target"?'),
        ({"n_neighbors": 1}, "n_neighbors=1 is out of range, give a whole number from 2 to 1000"),
        ({"algo": "umpa"}, 'algo="umpa" is not supported, did you mean algo="umap"? Use one of pca, umap, tsne'),
        ({"hover": ["D1", "d2"], "algo": "pca"}, 'hover=["d2"]: no such column, did you mean hover=["D1", "D2"]?'),
        (
            {"colour": "target"},
            'unknown option "colour", did you mean color? Use one of algo, cache, charts, clusters, color,',
        ),  # fmt: skip
    ]
    for keywords, message in cases:
        with pytest.raises(embproj.EmbprojError) as err:
            embproj.report(frame, **keywords)
        assert message in str(err.value) and "--" not in str(err.value), keywords
    with pytest.raises(embproj.EmbprojError) as err:  # the command line still speaks in flags
        validate(Options(n_neighbors=1))
    assert str(err.value).startswith("--n-neighbors 1 is out of range")


def test_api_warnings_are_python_warnings_at_the_callers_line():
    frame = pd.DataFrame(HELLO, columns=DIMS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = embproj.report(frame)  # default options: PCA and a warning
    assert [(w.category, str(w.message)) for w in caught] == [(embproj.EmbprojWarning, TOO_FEW_UMAP)]
    assert caught[0].filename == __file__
    assert result.warnings == (TOO_FEW_UMAP,)


def test_a_dataframe_report_has_a_real_title_and_no_command_it_cannot_run():
    frame = pd.DataFrame(HELLO, columns=DIMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", embproj.EmbprojWarning)
        page = embproj.report(frame).html
        titled = embproj.report(frame, title="My map", algo="pca").html
    assert "<title>DataFrame, 3 rows</title>" in page and "<h1>DataFrame, 3 rows</h1>" in page
    assert "<title>My map</title>" in titled
    assert "to make it again" not in page and manifest(page)["command"] is None


def test_repr_of_a_result_and_a_table_is_one_short_line():
    frame = pd.DataFrame(HELLO, columns=DIMS)
    result = embproj.report(frame, algo="pca")
    table = embproj.Table(dataframe=frame)
    assert re.fullmatch(r"<embproj report of DataFrame: PCA map of 3 points, \d+\.\d MB, no warnings>", repr(result))
    assert repr(table) == '<embproj.Table: 3 rows × 5 columns "D1", "D2", "D3", "D4", "D5">'
    wide = embproj.Table(columns=[f"c{i}" for i in range(40)])
    assert repr(wide) == '<embproj.Table: 0 rows × 40 columns "c0", "c1", "c2", "c3", "c4", … and 35 more>'


# -- 6. small things a new user hit --------------------------------------------------------------------------


def test_version():
    done = subprocess.run([sys.executable, "-m", "embproj", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == f"embproj {embproj.__version__}\n" and done.stderr == ""


def test_an_unknown_column_gets_did_you_mean_and_every_column_counted(cli, digits_parquet):
    done = cli("project", digits_parquet, "--color", "Target")
    assert done.exit_code == 2
    (line,) = stderr_lines(done)
    assert line.startswith(f'Error: {digits_parquet}: --color "Target": no such column, did you mean --color target? ')
    listed = re.search(r"Columns are: (.*), … and (\d+) more$", line)
    assert listed, line
    assert len(listed.group(1).split(", ")) + int(listed.group(2)) == 66  # the first named, the others counted
    assert short_line(line)  # as many names as a line has room for


def test_algorithm_names_in_any_case_and_with_a_hyphen(cli, hello_csv):
    assert Options(algo="UMAP").algo == "umap" and Options(algo="t-SNE").algo == "tsne"
    done = cli("project", hello_csv, "--algo", "PCA", "-q")
    assert done.exit_code == 0 and Path("hello.pca.html").is_file()
    wrong = cli("project", hello_csv, "--algo", "tnse")
    assert stderr_lines(wrong) == [
        'Error: --algo "tnse" is not supported, did you mean --algo tsne? Use one of pca, umap, tsne, all'
    ]


def test_the_usage_line_says_data(cli):
    done = cli("project", "--help")
    usage = done.stdout.splitlines()[0]
    assert usage.startswith("Usage: ") and "DATA" in usage
    assert "Missing argument 'DATA'" in cli("project").stderr


RANGE = re.compile(
    r"(?P<flag>--[a-z-]+) (?P<value>\S+) is out of range, give (a whole number|a number)"
    r"( from \S+ to \S+|, \S+ or more| above \S+(, up to \S+)?| up to \S+)"
)


@pytest.mark.parametrize("name", [f.name for f, d in declared() if d.low is not None or d.high is not None])
def test_every_range_message_reads_cleanly(name):
    d = next(d for f, d in declared() if f.name == name)
    wrong = (d.low - 1) if d.low is not None else (d.high + 1)
    with pytest.raises(OptionError) as err:
        validate(Options(**{name: int(wrong) if d.integer else float(wrong)}))
    message = str(err.value)
    assert RANGE.fullmatch(message), message
    assert not re.search(r"above \S+ to ", message), message  # never "above 0 to 1000"
    assert RANGE.fullmatch(message)["flag"] == d.flag
