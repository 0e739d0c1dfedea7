"""Each fact declared once. An option's flag is spelled only by options.py (its declaration) and cli.py (the
command line); every other message names an option through `options.say`, so that the Python API's errors speak
its keywords (`color="nope"`) where the command line's say `--color "nope"`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from test_bad_input import ERRORS

import embproj
from embproj.errors import EmbprojError
from embproj.options import declared

ROOT = Path(__file__).resolve().parent.parent
OWNERS = {"embproj/options.py", "embproj/cli.py"}  # the declarations, and the command line that reads them
LONG = re.compile(r"--[a-z][a-z-]+")
FIELDS = {flag: f for f, d in declared() for spelled in d.flags for flag in spelled.split("/")}
LONG_FLAGS = {flag for flag in FIELDS if flag.startswith("--")}
SHORT_FLAGS = {flag for flag in FIELDS if not flag.startswith("--")}


def _docstrings(tree: ast.AST) -> set[int]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, kinds) and node.body and isinstance(node.body[0], ast.Expr)
    }


def _python_literals(path: Path):
    """(line, text) of every string literal of a module, f-strings' parts included; docstrings and comments are
    the code's own documentation, not what a user is told."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def _page_text(path: Path):
    yield from enumerate(path.read_text(encoding="utf-8").splitlines(), 1)


def test_no_option_flag_is_spelled_outside_options_and_cli():
    sources = [(p, _python_literals) for p in sorted((ROOT / "embproj").rglob("*.py"))]
    sources += [(p, _page_text) for p in sorted((ROOT / "templates").rglob("*")) if p.suffix in (".js", ".j2")]
    found = [
        f"{path.relative_to(ROOT)}:{line}: {flag}"
        for path, read in sources
        if path.relative_to(ROOT).as_posix() not in OWNERS
        for line, text in read(path)
        for flag in LONG.findall(text)
        if flag in LONG_FLAGS
    ]
    assert len(LONG_FLAGS) > 40 and sources, "the scan sees the declarations and the code"
    assert not found, "name these options with options.say(name, value):\n" + "\n".join(found)


def _keywords(args: list[str]) -> dict:
    """The command line's options as the Python API's keywords, typed as the API takes them."""
    out, words = {}, iter(args)
    for flag in words:
        f = FIELDS[flag]
        d = f.metadata["declared"]
        value = next(words)
        if d.listed:
            out[f.name] = value.split(",") if value else []
        elif value in d.words:
            out[f.name] = value
        elif d.integer:
            out[f.name] = int(value)
        elif d.low is not None or d.high is not None:
            out[f.name] = float(value)
        else:
            out[f.name] = value
    return out


def _flags_in(message: str) -> list[str]:
    said = [w for w in LONG.findall(message) if w in LONG_FLAGS]
    return said + [w for w in re.findall(r"(?<![\w-])-[a-zA-Z](?![\w-])", message) if w in SHORT_FLAGS]


@pytest.mark.parametrize("case", [c for c in ERRORS if ERRORS[c][1] or "--" in str(ERRORS[c][2])])
def test_the_python_api_names_keywords_where_the_command_line_names_flags(tmp_path, monkeypatch, case):
    """Every bad-input case of the command line that gives an option or names one, through `embproj.report`:
    the same failure, in the API's words."""
    make, extra, _ = ERRORS[case]
    monkeypatch.chdir(tmp_path)
    data = make(tmp_path)
    keywords = {"algo": "pca", "output": str(tmp_path / "report.html"), **_keywords([str(a) for a in extra])}
    with pytest.raises(EmbprojError) as raised:
        embproj.report(data, **keywords)
    message = str(raised.value)
    assert not _flags_in(message), message
    for name in keywords.keys() & {f.name for f in FIELDS.values()} - {"algo", "output"}:
        assert f"{name}=" in message, message


def test_an_api_error_says_the_keyword_and_the_command_line_the_flag(cli, tmp_path):
    df = embproj.Table(columns=["v", "k"], data=[[[0.0, 1.0], "a"], [[1.0, 0.0], "b"], [[1.0, 1.0], "a"]])
    with pytest.raises(EmbprojError, match=r'^embproj.Table: color="nope": no such column') as raised:
        embproj.report(df, color="nope")
    assert "--" not in str(raised.value)
    with pytest.raises(EmbprojError, match=r"sample=\"stratified\" needs a colour column, name one with color=\.\.\."):
        embproj.report(df, algo="pca", sample="stratified", color="", max_points=2)

    (tmp_path / "d.csv").write_text("a,b\n1,2\n3,4\n5,6\n", encoding="utf-8")
    result = cli("project", "d.csv", "--sample", "stratified", "--color", "", "-n", "2")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: d.csv: --sample stratified needs a colour column, name one with --color"
    )


def _flat(names) -> list[str]:
    values = names.values() if isinstance(names, dict) else names
    return [v for value in values for v in ([value] if isinstance(value, str) else _flat(value))]


def test_the_page_finds_its_models_and_columns_by_the_names_python_gives_it():
    """embproj/render/names.py names the models and columns the page drives; the page's scripts read those
    names from its JSON and spell none of them, nor cut one apart (`fig.name.slice(4)`)."""
    from embproj.options import ALGOS
    from embproj.render.names import page_names

    # a comparison's page's too (its two more marks, its change column), and a page's with the lenses (the label
    # lens's columns, each map's trust column and images)
    names = page_names(ALGOS, compare=True, lenses=True)
    # also headings the page writes (a table's "row" and "points" columns), and a DOM event ("change")
    shown_words = {"row", "points", "change"}
    declared_names = set(_flat(names)) - set(ALGOS) - shown_words
    maps = [name for algo in ALGOS for name in _flat(names["maps"][algo]) if name != algo]
    prefixes = {name[: -len(algo)] for algo in ALGOS for name in maps if name.endswith(algo)}
    found = []
    for path in sorted((ROOT / "templates" / "js").glob("*.js")):
        code = re.sub(r"(^|\s)//.*$", "", path.read_text(encoding="utf-8"), flags=re.M)  # comments may say them
        code = re.sub(r"ep\.(on|emit)\(\"\w+\"", "", code)  # the page's own events ("shown": a class was hidden)
        for literal in re.findall(r'"([^"\\\n]*)"|\'([^\'\\\n]*)\'', code):
            text = literal[0] or literal[1]
            if text in declared_names or text in prefixes:
                found.append(f"{path.name}: {text!r}")
        found += [f"{path.name}: cuts a name apart" for _ in re.findall(r"\.name\.slice\(", code)]
    assert len(declared_names) > 20 and "map_" in prefixes
    assert not found, "read these from ep.names() or ep.map(algo):\n" + "\n".join(found)
