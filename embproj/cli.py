"""The command line: Typer options → `Options`, `EmbprojError` → one line `Error: …` and exit code 2.

This is the only module that imports Typer or rich; heavy libraries load inside the commands.
"""

from __future__ import annotations

import inspect
import os
import signal
import sys
import time
import typing
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import typer

from embproj.errors import EmbprojError, OptionError
from embproj.options import DEFAULT_ALGO, Options, declared
from embproj.text.safe import terminal

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Turn a table of embeddings into one self-contained, offline HTML map (PCA, UMAP or t-SNE).",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _print_version(given: bool) -> None:
    if given:
        from embproj import __version__

        typer.echo(f"embproj {__version__}")
        raise typer.Exit()


@app.callback()
def _app_options(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print embproj's version and exit."
    ),
) -> None:
    """Turn a table of embeddings into one self-contained, offline HTML map (PCA, UMAP or t-SNE)."""


# The terminal's own switches: how the run is shown, not what it makes (so not part of `Options`).
PRESENTATION = {
    "json_out": (bool, typer.Option(False, "--json", help="Print a machine-readable summary on stdout.")),
    "quiet": (bool, typer.Option(False, "--quiet", "-q", help="Print errors only.")),
}


def command(name: str, doc: str, extra: dict | None = None, arguments: dict | None = None):
    """A Typer command whose parameters are `name`'s declared options (options.py), plus `extra`; the decorated
    function receives the `Options` and the extra values. `arguments`: a positional argument's name and help in
    this command, by field (compare's DATA is BEFORE)."""

    def decorate(body):
        params = [_parameter(f, d, *(arguments or {}).get(f.name, ())) for f, d in declared(name)]
        for key, (kind, info) in (extra or {}).items():
            params.append(inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=kind))

        def run(**values):
            extras = {key: values.pop(key) for key in extra or ()}
            with _errors():
                opts = _options(values)
            body(opts, **extras)

        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        run.__doc__ = doc
        run.__name__ = name
        return app.command(name)(run)

    return decorate


def _parameter(f, d, metavar: str | None = None, help: str | None = None) -> inspect.Parameter:
    hints = typing.get_type_hints(Options)
    kinds = [a for a in typing.get_args(hints[f.name]) or (hints[f.name],) if a is not type(None)]
    if d.words:
        kind: object = str  # a number, or one of the words (`--max-points all`)
    elif d.repeated:
        kind = list[Path] | None
    elif d.listed or tuple in [typing.get_origin(k) or k for k in kinds]:
        kind = str | None  # comma-separated, or an image shape as text
    else:
        kind = kinds[0] | None if len(kinds) == 1 and f.default is None else kinds[0]
    if not d.flags:  # DATA must be given; another argument (compare's AFTER) may be left out
        required = ... if f.name == "data" else None
        info = typer.Argument(required, help=help or d.help_text(), show_default=False, metavar=metavar or d.metavar)
        return inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=Path if f.name == "data" else Path | None
        )
    default = None if isinstance(f.default, tuple) else str(f.default) if d.words else f.default
    info = typer.Option(default, *d.flags, help=d.help_text())
    return inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=kind)


def parse_listed(value: str | None) -> tuple[str, ...] | None:
    """`a, b,c` → ("a", "b", "c"); None stays None (not given), '' is the empty tuple (none)."""
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _options(values: dict) -> Options:
    for f, d in declared():
        if d.listed and f.name in values:
            parsed = parse_listed(values[f.name])
            values[f.name] = parsed if parsed is not None or f.default is None else f.default
        elif d.repeated and f.name in values:
            values[f.name] = tuple(values[f.name] or ())
        elif d.words and f.name in values:
            values[f.name] = _number_or_word(d, values[f.name])
    return Options(**values)


def _number_or_word(d, text: str):
    if text in d.words:
        return d.words[text]
    try:
        return int(text)
    except ValueError:
        words = " or ".join(d.words)
        raise OptionError(f'{d.flag} "{text}" is not a whole number', f"give a number or {words}") from None


@command("project", "Project DATA to 2D and write one self-contained HTML report.\n\n"
         "Example: embproj project fixtures/digits.parquet --algo umap -o report.html", PRESENTATION)  # fmt: skip
def project(opts: Options, json_out: bool, quiet: bool) -> None:
    def made(result) -> str:
        rows = result.summary.rows
        return f"{rows.points_text} of {rows.read:,} row{'s' if rows.read != 1 else ''}"

    _make(_named(opts, opts.algo or DEFAULT_ALGO), json_out, quiet, made)


COMPARE_DOC = """Compare two embeddings of the same rows: each row's neighbourhood change, the two maps aligned side by
side, and the rows that moved most, in one self-contained HTML report. Exits with code 3 when --max-change is
exceeded.

Example: embproj compare before.parquet after.parquet --key id -o compare.html

Two vector columns of one table: embproj compare data.parquet --embedding old --against new"""
BEFORE = ("BEFORE", "The BEFORE table (CSV, TSV, Parquet, JSON or JSON Lines), or the one table of --against.")


@command("compare", COMPARE_DOC, PRESENTATION, {"data": BEFORE})
def compare_command(opts: Options, json_out: bool, quiet: bool) -> None:
    def made(result) -> str:
        c = result.summary.compare
        return f"{c.rows:,} row{'s' if c.rows != 1 else ''} compared, mean change {c.mean_change:.3f}"

    result = _make(_named(opts, "compare"), json_out, quiet, made, comparing=True)
    over = result.summary.compare.over(opts.max_change)
    if over:  # the gate: one line, the report written all the same
        typer.echo(terminal(over), err=True)
        raise typer.Exit(3)


def _named(opts: Options, kind: str) -> Options:
    """-o's default: DATA-STEM.KIND.html, here."""
    if opts.output is not None:
        return opts
    stem = Path(opts.data or "report").name.split(".")[0] or "report"
    return opts.with_(output=Path(f"{stem}.{kind}.html"))


def _make(opts: Options, json_out: bool, quiet: bool, made, comparing: bool = False):
    """Make the report (`embproj compare`'s when `comparing`) with the terminal's reporter; print --json's summary
    and what was written (`made(result)` says what it holds)."""
    with _errors():
        from embproj.comparison.run import compare
        from embproj.pipeline import run

        console = _console(quiet)
        start = time.perf_counter()
        with _library_messages(console), _stdout_for(json_out):
            result = (compare if comparing else run)(opts, reporter=ConsoleReporter(console))
        if json_out:
            _print_json(result)
        if console:
            report = result.written[0]
            console.print(
                f"Wrote {terminal(str(report.path))} ({report.bytes / 1e6:.1f} MB): {made(result)} in "
                f"{time.perf_counter() - start:.1f} s",
                markup=False,
                highlight=False,
            )
    return result


def _print_json(result) -> None:
    import json

    from embproj.summary import json_summary
    from embproj.text.finite import finite

    summary = finite(json_summary(result))
    typer.echo(json.dumps(summary, indent=2, ensure_ascii=False, default=str, allow_nan=False))


@command("inspect", "Show the columns, the role detected for each and why, and what `project` would do. Projects "
         "nothing.\n\nExample: embproj inspect fixtures/digits.parquet")  # fmt: skip
def inspect_command(opts: Options) -> None:
    with _errors():
        from embproj.pipeline import inspect as inspect_plan

        source, plan = inspect_plan(opts)
        typer.echo(describe_inspection(source, plan, opts))


def describe_inspection(source, plan, opts: Options) -> str:
    """The text `embproj inspect` prints: the file, each column's role with its reason, and the plan (every
    piece from the data with its control characters escaped)."""
    rows = f"{source.num_rows:,} rows" if source.num_rows is not None else "row count known after one pass"
    lines = [f"{terminal(source.name)}: {source.format}, {len(source.schema)} columns, {rows}"]
    lines += [terminal(line) for line in source.about]  # which table of a folder of several, and why
    lines += [f"Warning: {terminal(note)}" for note in (*source.notes, *plan.notes)] + [""]
    table = [tuple(map(terminal, (c.name, c.type, role, why))) for c, role, why in plan.roles()]
    dims = [i for i, row in enumerate(table) if row[2] == "dimension"]
    if len(dims) > 6:  # 768 lines of "dimension" say nothing: show a few and count the rest
        hidden = set(dims[3:-1])
        table = [row for i, row in enumerate(table) if i not in hidden]
        table.insert(dims[3], ("…", "", "dimension", f"{len(hidden):,} more numeric columns like these"))
    widths = [max(len(str(r[i])) for r in [("column", "type", "role", ""), *table]) for i in range(3)]
    lines.append(f"  {'column':<{widths[0]}}  {'type':<{widths[1]}}  {'role':<{widths[2]}}  why")
    for name, type_, role, why in table:
        lines.append(f"  {name:<{widths[0]}}  {type_:<{widths[1]}}  {role:<{widths[2]}}  {why}")
    lines += ["", "project would use:", *(f"  {terminal(line)}" for line in plan.explain()), ""]
    n = source.num_rows
    limit = opts.max_points
    if limit is None:
        lines.append(f"  rows: all {n:,} (--max-points all)" if n is not None else "  rows: all (--max-points all)")
    elif n is not None and n > limit:
        lines.append(f"  rows: a random sample of {limit:,} of {n:,} (--max-points, --seed {opts.seed})")
    elif n is not None:
        lines.append(f"  rows: all {n:,} (at most --max-points {limit:,})")
    else:
        lines.append(f"  rows: counted while sampling; at most --max-points {limit:,} are plotted")
    plotted = min(n, limit) if n is not None and limit is not None else n if limit is None else limit
    if plotted is not None and plotted > opts.fit_points:
        fitted = f"{opts.fit_points:,}"
        lines.append(f"  fit: on a seeded {fitted} of them; the rest placed by the fitted model (--fit-points)")
    n_dims = plan.embedding.dims or 0
    if n_dims > opts.max_dims:
        lines.append(f"  dimensions: {n_dims:,}, reduced with PCA to {opts.max_dims} before UMAP or t-SNE (--max-dims)")
    else:
        lines.append(f"  dimensions: {n_dims:,}")
    return "\n".join(lines)


class ConsoleReporter:
    def __init__(self, console):
        self.console = console

    @contextmanager
    def stage(self, name: str, total: int | None = None):
        """A spinner; with `total` rows, a bar with the rows done and the time left (on stderr, gone when done)."""
        if self.console is None:
            yield lambda rows: None
            return
        if total is None or not self.console.is_terminal:  # a bar only where it can be redrawn in place
            with self.console.status(name + " …"):
                yield lambda rows: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"))
        with Progress(*columns, TimeRemainingColumn(), console=self.console, transient=True) as bar:
            task = bar.add_task(name, total=total)
            yield lambda rows: bar.advance(task, rows)

    def timed(self, name: str, seconds: float) -> None:
        if self.console is not None:
            self.console.print(f"[dim]{name}: {seconds:.1f} s[/dim]", highlight=False)

    def info(self, message: str) -> None:
        if self.console is not None:
            self.console.print(terminal(message), markup=False, highlight=False)

    def warn(self, message: str) -> None:
        if self.console is not None:
            self.console.print(f"[yellow]Warning:[/yellow] {_escape(terminal(message))}", highlight=False)


@contextmanager
def _library_messages(console):
    """The libraries' own warnings and log records during a run: under -q none (errors only, as -q says); else a
    warning is one line, "Warning: sklearn: …", once per text, not a file name, line number and source line. The
    categories Python itself hides from users (import, deprecation, resource warnings: for the libraries'
    developers, nothing a user can act on) stay hidden: umap-learn's "Tensorflow not installed" on its first
    import, for one."""
    import logging
    import warnings

    said = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if console is not None and text not in said:
            said.add(text)
            ConsoleReporter(console).warn(f"{_library(filename)}: {text}")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if console is None else "always")
        for hidden in (ImportWarning, DeprecationWarning, PendingDeprecationWarning, ResourceWarning):
            warnings.simplefilter("ignore", hidden)
        warnings.showwarning = show
        if console is None:
            logging.disable(logging.CRITICAL)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def _library(filename: str) -> str:
    """The package a warning came from, by the file it names: "site-packages/sklearn/…" → "sklearn"."""
    parts = Path(filename).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts and parts.index(marker) + 1 < len(parts):
            return parts[parts.index(marker) + 1].removesuffix(".py")
    return Path(filename).stem


@contextmanager
def _stdout_for(json_out: bool):
    """With --json, stdout carries the summary and nothing else: whatever a library prints goes to stderr."""
    if not json_out:
        yield
        return
    from contextlib import redirect_stdout

    with redirect_stdout(sys.stderr):
        yield


def _console(quiet: bool):
    if quiet:
        return None
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@contextmanager
def _errors():
    try:
        yield
    except EmbprojError as err:
        typer.echo(f"Error: {terminal(str(err))}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("Error: interrupted, nothing was written", err=True)
        raise typer.Exit(130) from None
    except Terminated:
        typer.echo("Error: terminated, nothing was written", err=True)
        raise typer.Exit(128 + signal.SIGTERM) from None


class Terminated(BaseException):
    """SIGTERM (as CI sends on cancel), raised where the run is, so that its temporary files are cleaned up."""


def _terminate(signum, frame) -> NoReturn:
    raise Terminated


def usage_error(err: Exception) -> str:
    """Click's usage error as one line, `Error: <what>, <fix>`, like embproj's own; with no arguments at all,
    Click's answer is the help text, which stays whole."""
    format_message = getattr(err, "format_message", None)
    message = (format_message() if format_message else str(err)).strip()
    if "\n" in message:
        return message
    ctx = getattr(err, "ctx", None)
    where = getattr(ctx, "command_path", None) or "embproj"
    return f"Error: {terminal(message.rstrip('.'))}, see {where} --help"


def main() -> NoReturn:
    """The console script. Exits with os._exit once the output is flushed: tearing down an interpreter that has
    loaded numba, scikit-learn and bokeh costs most of a second and does nothing for the user."""
    code: str | int | None
    signal.signal(signal.SIGTERM, _terminate)
    try:
        outcome = app(standalone_mode=False)  # Click's usage errors come here, to be said in one line
        code = outcome if isinstance(outcome, int) else 0
    except typer.Abort:
        print("Aborted!", file=sys.stderr)
        code = 1
    except typer.TyperException as err:  # the public base of Click's exceptions (usage errors, bad values)
        print(usage_error(err), file=sys.stderr)
        code = getattr(err, "exit_code", 2)
    except SystemExit as done:
        code = done.code
        if isinstance(code, str):
            print(code, file=sys.stderr)
            code = 1
        code = code or 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
