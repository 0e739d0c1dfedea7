"""Each option is declared once (options.py); the CLI, the Python API, the checks and the page's "to make it
again" command all come from that declaration, so they agree."""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from embproj.errors import OptionError
from embproj.keywords import from_keywords
from embproj.options import Options, command_line, declared, validate


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"n_neighbors": 1}, "--n-neighbors 1 is out of range, give a whole number from 2 to 1000"),
        ({"min_dist": 1.5}, "--min-dist 1.5 is out of range, give a number from 0 to 1"),
        ({"metric": "hamming2"}, '--metric "hamming2" is not supported, use one of euclidean, cosine'),
        ({"metric": "chebyshev", "algo": "tsne"}, '--metric "chebyshev" is not supported by t-SNE, use one of eucl'),
        ({"perplexity": 0.0}, "--perplexity 0 is out of range, give a number above 0, up to 1000"),
        ({"iterations": 5}, "--iterations 5 is out of range, give a whole number from 10 to 100000"),
        ({"learning_rate": -1.0}, "--learning-rate -1 is out of range, give a number above 0"),
        ({"algo": "nope"}, '--algo "nope" is not supported, use one of pca, umap, tsne, all'),
        ({"seed": -1}, "--seed -1 is out of range, give a whole number from 0 to 4294967295"),
        ({"neighbours": 101}, "--neighbours 101 is out of range, give a whole number from 0 to 100"),
        ({"thumb_size": 4}, "--thumb-size 4 is out of range, give a whole number from 8 to 1024"),
        ({"max_html_mb": 0.0}, "--max-html-mb 0 is out of range, give a number above 0"),
        ({"max_dims": 1}, "--max-dims 1 is out of range, give a whole number, 2 or more"),
        ({"sample": "clever"}, '--sample "clever" is not supported, use one of random, stratified'),
        ({"coords_out": Path("c.xlsx")}, "--coords-out c.xlsx: unknown suffix, end the name in .parquet or .csv"),
        ({"perplexity": float("nan")}, "--perplexity nan is out of range, give a number above 0, up to 1000"),
        ({"min_dist": float("nan")}, "--min-dist nan is out of range, give a number from 0 to 1"),
        ({"max_html_mb": float("inf")}, "--max-html-mb inf is out of range, give a number above 0"),
        ({"learning_rate": float("inf")}, "--learning-rate inf is out of range, give a number above 0"),
    ],
)
def test_values_out_of_range_name_the_flag_and_the_range(changes, message):
    with pytest.raises(OptionError) as err:
        validate(Options(**changes))
    assert message in str(err.value)


def test_a_metric_only_umap_has_is_fine_where_umap_runs():
    validate(Options(metric="chebyshev", algo="umap"))
    with pytest.raises(OptionError, match="not supported by t-SNE"):
        validate(Options(metric="chebyshev", algo="all"))


def test_every_option_reaches_the_cli_with_its_declared_help():
    """`embproj project --help` lists each declared flag, with its range where it has one."""
    done = subprocess.run(
        [sys.executable, "-m", "embproj", "project", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "400", "PATH": ""},
    )
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for _, d in declared("project"):
        if d.flags:
            assert d.flags[0].split("/")[0] in text
            if d.range_text():
                assert d.range_text() in text, d.flag
    assert "UMAP: neighbourhood size (from 2 to 1000)." in text
    assert "t-SNE: effective neighbours (above 0, up to 1000)." in text


def test_the_python_api_takes_the_same_names_and_checks_their_types():
    opts = from_keywords(algo="tsne", max_points=10, hover=["a", "b"], output="x.html", perplexity=5)
    assert opts.hover == ("a", "b") and opts.output == Path("x.html") and opts.perplexity == 5
    with pytest.raises(
        OptionError, match='unknown option "n_neighbours", did you mean n_neighbors\\? Use one of algo, '
    ):
        from_keywords(n_neighbours=5)
    with pytest.raises(OptionError, match='option max_points="many" is a str, give an int'):
        from_keywords(max_points="many")
    with pytest.raises(OptionError, match="option metrics=1 is a int, give a bool"):
        from_keywords(metrics=1)
    assert {f.name for f in fields(Options)} == {f.name for f, _ in declared()}


def test_the_command_line_holds_every_changed_option_once_and_parses_back():
    opts = Options(
        data=Path("my data.parquet"),
        output=Path("r.html"),
        algo="all",
        title="It's <b>",
        metric="cosine",
        min_dist=0.123456789,
        hover=("a", "b c"),
        color="",
        metrics=False,
        whiten=True,
        coords_out=Path("c.csv"),
        reproducible=True,
        image_shape="28x28",
    )
    command = command_line(opts)
    assert command == command_line(opts.with_(image_shape=(28, 28)))
    words = shlex.split(command)
    assert words[:3] == ["embproj", "project", "my data.parquet"]
    assert command.count("--metric") == 1 and "--min-dist 0.123456789" in command
    from typer.main import get_command

    from embproj.cli import _options, app

    context = get_command(app).commands["project"].make_context("project", words[2:])
    values = {k: v for k, v in context.params.items() if k not in ("json_out", "quiet")}
    assert _options(values) == opts


def test_defaults_are_left_out_but_algo_and_seed_stay():
    assert command_line(Options(data=Path("d.csv"))) == "embproj project d.csv --seed 0"  # no --algo: UMAP or PCA
    assert command_line(Options(data=Path("d.csv"), algo="umap")) == "embproj project d.csv --algo umap --seed 0"
    assert command_line(Options(data=Path("d.csv"), algo="pca", perplexity=5.0)) == (
        "embproj project d.csv --algo pca --seed 0"
    )  # a t-SNE option does not make a PCA map
    assert command_line(Options()) is None  # a table handed to the Python API has no command to run
