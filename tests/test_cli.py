"""The command line as a user meets it: output, exit codes, one-line errors, files written whole or not at all."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reportdata import legend_labels, points


@pytest.fixture(scope="module")
def digits_run(digits_parquet, tmp_path_factory):
    from typer.testing import CliRunner

    from embproj.cli import app

    out = tmp_path_factory.mktemp("cli") / "report.html"
    result = CliRunner().invoke(app, ["project", str(digits_parquet), "--algo", "pca", "-o", str(out)])
    return result, out


def test_project_explains_its_choices_and_writes_the_report(digits_run):
    result, out = digits_run
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert 'embedding: 64 columns "pixel_0_0"' in err
    assert 'colour: "target" (10 distinct values in the first rows, its name says label)' in err
    assert 'image: "image" (8×8 arrays of numbers (pixels))' in err
    assert f"Wrote {out}" in err and "1,797 points of 1,797 rows" in err
    assert result.stdout == ""  # stdout stays free for machine-readable output
    page = out.read_text()
    assert len(points(page)["x_pca"]) == 1797
    assert "0 (178)" in legend_labels(page)


def test_quiet_prints_nothing(cli, vectors_parquet, tmp_path):
    result = cli("project", vectors_parquet, "--algo", "pca", "-o", tmp_path / "r.html", "--quiet")
    assert result.exit_code == 0
    assert result.stderr == "" and result.stdout == ""
    assert (tmp_path / "r.html").stat().st_size > 100_000


def test_default_output_name(cli, vectors_parquet, tmp_path):
    result = cli("project", vectors_parquet, "--algo", "pca", "-q")
    assert result.exit_code == 0
    assert (tmp_path / "vectors.pca.html").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["project", "missing.csv", "--algo", "pca"], "Error: missing.csv: no such file or directory, check the path"),
        (
            ["project", "{data}", "--algo", "nope"],
            'Error: --algo "nope" is not supported, use one of pca, umap, tsne, all',
        ),
        (
            ["project", "{data}", "--algo", "pca", "-o", "no/such/dir/r.html"],
            "Error: no/such/dir/r.html: the output folder no/such/dir does not exist",
        ),
        (
            ["project", "{data}", "--algo", "pca", "-o", "{data}"],
            "the output path is the input file, choose another -o path",
        ),
        (["project", "{data}", "--algo", "pca", "--color", "nope"], 'Error: {data}: --color "nope": no such column'),
        (
            ["project", "{data}", "--n-neighbors", "0"],
            "Error: --n-neighbors 0 is out of range, give a whole number from 2 to 1000",
        ),
    ],
)
def test_errors_are_one_line_exit_2_and_write_nothing(cli, vectors_parquet, tmp_path, args, message):
    before = vectors_parquet.read_bytes()
    args = [a.replace("{data}", str(vectors_parquet)) for a in args]
    result = cli(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert message.replace("{data}", str(vectors_parquet)) in lines[0]
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.parquet"]  # no report, no temp file
    assert vectors_parquet.read_bytes() == before


def test_inspect_shows_roles_without_projecting(cli, digits_parquet):
    result = cli("inspect", digits_parquet)
    assert result.exit_code == 0
    out = result.stdout
    assert "parquet, 66 columns, 1,797 rows" in out
    assert re.search(r"  image +list<list<float>> +image +image \(8×8 arrays of numbers \(pixels\)\)", out)
    assert re.search(r"  target +string +colour \+ label +colour \(10 distinct values", out)
    assert re.search(r"  pixel_0_0 +float +dimension", out) and "60 more numeric columns like these" in out
    assert "  rows: all 1,797 (at most --max-points 5,000)" in out
    assert "  dimensions: 64, reduced with PCA to 50 before UMAP or t-SNE (--max-dims)" in out
    assert "Wrote" not in result.output


def test_failed_run_keeps_the_previous_report(cli, vectors_parquet, tmp_path, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("previous report")

    def crash(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("embproj.render.page.render_html", crash)
    result = cli("project", vectors_parquet, "--algo", "pca", "-o", out)
    assert result.exit_code == 130
    assert out.read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_python_dash_m_and_console_script_answer_help():
    result = subprocess.run([sys.executable, "-m", "embproj", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "project" in result.stdout and "inspect" in result.stdout
    result = subprocess.run([sys.executable, "-m", "embproj", "project", "--help"], capture_output=True, text=True)
    assert "Example: embproj project fixtures/digits.parquet --algo umap -o report.html" in result.stdout
    assert "--n-neighbors" in result.stdout and "--perplexity" in result.stdout


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from embproj.cli import app\n"
        "from typer.testing import CliRunner\n"
        "assert CliRunner().invoke(app, ['project', '--help']).exit_code == 0\n"
        "heavy = [m for m in ('umap', 'numba', 'openTSNE', 'bokeh', 'sklearn', 'pandas') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_console_script_exit_codes_and_flushed_output(vectors_parquet, tmp_path):
    """`main()` ends with os._exit: the codes and every printed line must survive it."""
    run = [sys.executable, "-m", "embproj", "project", str(vectors_parquet), "--algo", "pca", "--json"]
    ok = subprocess.run([*run, "-o", str(tmp_path / "r.html")], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and ok.stdout.rstrip().endswith("}") and "Wrote" in ok.stderr
    bad = subprocess.run([*run, "--perplexity", "-1"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("Error: --perplexity -1 is out of range")
    usage = subprocess.run([sys.executable, "-m", "embproj", "project"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "Missing argument" in usage.stderr


def test_a_metric_only_umap_has_is_fine_for_umap(cli, vectors_parquet, tmp_path):
    ok = cli("project", vectors_parquet, "--algo", "umap", "--metric", "chebyshev", "-o", "r.html", "-q")
    assert ok.exit_code == 0, ok.output
    bad = cli("project", vectors_parquet, "--algo", "tsne", "--metric", "chebyshev")
    assert bad.exit_code == 2 and '--metric "chebyshev" is not supported by t-SNE, use one of euclidean' in bad.stderr


def test_inspect_follows_the_sampling_options(cli, digits_parquet):
    out = cli("inspect", digits_parquet, "--max-points", "500", "--max-dims", "100").stdout
    assert "  rows: a random sample of 500 of 1,797 (--max-points, --seed 0)" in out
    assert "  dimensions: 64\n" in out + "\n"


EMBPROJ = str(Path(sys.executable).with_name("embproj"))  # the console script, as a user types it


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["project"], "Error: Missing argument 'DATA', see embproj project --help"),
        (["project", "x.parquet", "--colour", "a"], "Error: No such option: --colour (Possible options: "),
        (["project", "x.parquet", "--max-points", "many"], 'Error: --max-points "many" is not a whole number, give a'),
        (["plot"], "Error: No such command 'plot', see embproj --help"),
    ],
)
def test_usage_errors_are_one_line_exit_2(args, expected):
    done = subprocess.run([EMBPROJ, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), done.stderr
    if "--colour" in args:  # among Click's close matches (which also name --clusters, --columns)
        assert "--color," in lines[0].split("(Possible options: ")[1], done.stderr


def test_no_arguments_at_all_show_the_help():
    done = subprocess.run([EMBPROJ], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Usage: embproj [OPTIONS] COMMAND" in done.stderr and "project" in done.stderr


def test_long_stages_show_rows_done_and_the_time_left_on_a_terminal():
    """A stage that knows its rows draws a bar (rows done of all, time left) on a terminal, and removes it when
    done; elsewhere (a log, a pipe) it prints only the stage's line."""
    import io
    import time

    from rich.console import Console

    from embproj.cli import ConsoleReporter

    screen = io.StringIO()
    reporter = ConsoleReporter(Console(file=screen, force_terminal=True, width=100))
    with reporter.stage("Placing rows", 1000) as tick:
        tick(400)
        time.sleep(0.2)
        tick(100)
        time.sleep(0.2)
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "Placing rows" in drawn and "500/1000 rows" in drawn and "0:00:0" in drawn
    log = io.StringIO()
    with ConsoleReporter(Console(file=log, force_terminal=False)).stage("Placing rows", 1000) as tick:
        tick(1000)
    assert log.getvalue() == ""


def test_a_table_of_one_row_is_one_point_in_words(cli, tmp_path):
    (tmp_path / "one.csv").write_text("a,b\n1,2\n")
    result = cli("project", tmp_path / "one.csv", "-o", "r.html")
    assert result.exit_code == 0, result.output
    assert "Warning: only one vector, so its point sits at (0, 0)\n" in result.stderr
    assert ": 1 point of 1 row in " in result.stderr


def _strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_json_is_json_and_quiet_is_quiet_when_the_numbers_are_not_finite(tmp_path):
    """Vectors so small that float32 squares them to 0 (denormals): PCA's explained variance is 0/0. The summary
    is still JSON (no NaN), stdout holds only it, and under -q no library warning reaches stderr."""
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(60, 80)) * 1e-40).astype(np.float32)
    pq.write_table(pa.table({"emb": pa.array(list(X), type=pa.list_(pa.float32()))}), tmp_path / "tiny.parquet")
    run = [sys.executable, "-m", "embproj", "project", str(tmp_path / "tiny.parquet"), "--algo", "pca", "--no-cache"]
    done = subprocess.run([*run, "-o", str(tmp_path / "r.html"), "--json", "-q"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    summary = _strict_json(done.stdout)
    assert "explained_variance_ratio" not in summary["algorithms"][0]["metrics"], "0/0 is no ratio to report"
    loud = subprocess.run([*run, "-o", str(tmp_path / "r2.html")], capture_output=True, text=True)
    assert loud.returncode == 0 and "RuntimeWarning" not in loud.stderr and "Traceback" not in loud.stderr


def test_a_library_warning_is_one_line_and_silent_under_quiet():
    from embproj.cli import _console, _library_messages

    def warn():
        import warnings

        warnings.warn_explicit("invalid value\n encountered", RuntimeWarning, "/x/site-packages/sklearn/pca.py", 9)

    def hidden():  # what Python hides from users by default, as umap-learn's first import warns
        import warnings

        warnings.warn_explicit("Tensorflow not installed", ImportWarning, "/x/site-packages/umap/__init__.py", 9)
        warnings.warn_explicit("old", DeprecationWarning, "/x/site-packages/sklearn/pca.py", 9)

    console = _console(False)
    with console.capture() as seen, _library_messages(console):
        warn()
        hidden()
        warn()
    assert seen.get().splitlines() == ["Warning: sklearn: invalid value encountered"]
    with _library_messages(None):
        warn()  # -q: nothing to see, and no error either


def test_numeric_class_codes_sort_as_numbers_in_the_legend_and_the_charts(cli, tmp_path):
    """Codes 1 to 12 (as integers, as numbers, as text) in the legend: 1, 2 … 10, 11, 12, not 1, 10, 11, 2; a
    chart of 13 equally common codes, folded, lists its most common bars in the same order."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from reportdata import page_data

    n = 13 * 12
    codes = np.arange(n) % 13 + 1
    X = np.random.default_rng(0).normal(size=(n, 4)) + codes[:, None]
    table = pa.table({"emb": pa.array(list(X.astype(np.float32))), "int": codes, "float": codes.astype(float),
                      "text": [str(c) for c in codes]})  # fmt: skip
    pq.write_table(table.filter(pa.compute.less_equal(table["int"], 12)), tmp_path / "codes.parquet")
    pq.write_table(table, tmp_path / "thirteen.parquet")
    for column in ("int", "float", "text"):
        result = cli("project", "codes.parquet", "--algo", "pca", "--color", column, "-o", f"{column}.html", "-q")
        assert result.exit_code == 0, result.output
        assert legend_labels((tmp_path / f"{column}.html").read_text()) == [f"{c} (12)" for c in range(1, 13)]
    result = cli("project", "thirteen.parquet", "--algo", "pca", "--charts", "text", "-o", "t.html", "-q")
    assert result.exit_code == 0, result.output
    (chart,) = page_data((tmp_path / "t.html").read_text())["charts"]
    assert chart["labels"] == [str(c) for c in range(1, 12)] + ["other"]


def test_a_european_excel_csv_is_read_as_it_was_saved_and_said_so(cli, tmp_path):
    """`;` between the fields and 1,5 for one and a half: the numbers are the map's dimensions, and both the
    run and `inspect` say how the file was read."""
    rows = [f"c{i % 3};{i % 5},{i % 4};{i % 7},25;{i % 3}" for i in range(40)]
    (tmp_path / "excel.csv").write_text("klasse;a;b;c\n" + "\n".join(rows) + "\n", encoding="utf-8-sig")
    said = "excel.csv: read as semicolon-separated with decimal commas (1,5 is 1.5), as its content says"
    shown = cli("inspect", "excel.csv")
    assert shown.exit_code == 0 and said in shown.stdout
    assert re.search(r"\n  a +double +dimension", shown.stdout), shown.stdout
    result = cli("project", "excel.csv", "--algo", "pca", "-o", "r.html")
    assert result.exit_code == 0, result.output
    assert said in result.stderr and "Warning" not in result.stderr
    assert len(points((tmp_path / "r.html").read_text())["x_pca"]) == 40
