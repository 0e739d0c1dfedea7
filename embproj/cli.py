"""The command line: Typer options → `Options`, `EmbprojError` → one line `Error: …` and exit code 2.

This is the only module that imports Typer or rich; heavy libraries load inside the commands.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from .errors import EmbprojError
from .options import (
    DEFAULT_MAX_DIMS,
    DEFAULT_MAX_HTML_MB,
    DEFAULT_MAX_POINTS,
    DEFAULT_NEIGHBOURS,
    DEFAULT_SEED,
    DEFAULT_THUMB_SIZE,
    Options,
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Turn a table of embeddings into one self-contained, offline HTML map (PCA, UMAP or t-SNE).",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

DATA = Annotated[
    Path, typer.Argument(help="CSV, TSV, Parquet (file or folder), JSON or JSON Lines table.", show_default=False)
]
FORMAT = Annotated[
    str | None, typer.Option("--format", help="Read as csv|tsv|parquet|json|jsonl, whatever the suffix.")
]
METADATA = Annotated[
    Path | None,
    typer.Option(
        "--metadata", help="TSV of per-row fields for a headerless vectors file (TensorBoard's metadata.tsv)."
    ),
]
ENCODING = Annotated[
    str | None, typer.Option("--encoding", help="Text encoding of CSV/TSV/JSON files (default UTF-8).")
]
EMBEDDING = Annotated[
    str | None, typer.Option("--embedding", "-e", help='Column of vectors (lists, arrays or "[…]" text).')
]
COLUMNS = Annotated[str | None, typer.Option("--columns", help="Numeric columns as dimensions, by globs: 'dim_*,f?'.")]
COLOR = Annotated[str | None, typer.Option("--color", "-c", help="Column to colour by; '' for none.")]
LABEL = Annotated[str | None, typer.Option("--label", help="Column shown as each point's title on hover.")]
IMAGE = Annotated[str | None, typer.Option("--image", help="Column of images: pixel arrays, bytes, paths, base64.")]
HOVER = Annotated[str | None, typer.Option("--hover", help="Columns shown on hover, comma-separated.")]
MAX_POINTS = Annotated[int, typer.Option("--max-points", "-n", help="Rows to plot at most (a seeded sample beyond).")]
MAX_DIMS = Annotated[int, typer.Option("--max-dims", help="PCA pre-reduction before UMAP and t-SNE.")]
NO_IMAGES = Annotated[bool, typer.Option("--no-images", help="Leave images out of the report.")]
IMAGE_SHAPE = Annotated[
    str | None, typer.Option("--image-shape", help="Shape of flat pixel lists: HxW or HxWxC, e.g. 28x28 or 32x32x3.")
]


@app.command()
def project(
    data: DATA,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Report path [default: DATA-STEM.ALGO.html here].")
    ] = None,
    algo: Annotated[str, typer.Option("--algo", "-a", help="pca | umap | tsne | all (side by side).")] = "umap",
    format: FORMAT = None,
    encoding: ENCODING = None,
    metadata: METADATA = None,
    embedding: EMBEDDING = None,
    columns: COLUMNS = None,
    color: COLOR = None,
    label: LABEL = None,
    image: IMAGE = None,
    hover: HOVER = None,
    no_images: NO_IMAGES = False,
    thumb_size: Annotated[
        int, typer.Option("--thumb-size", help="Longest side of hover images, in pixels.")
    ] = DEFAULT_THUMB_SIZE,
    image_shape: IMAGE_SHAPE = None,
    max_html_mb: Annotated[
        float,
        typer.Option(
            "--max-html-mb",
            help=(
                "Keep the report within this many MB (10^6 bytes): smaller images first (down to 32 px), then "
                "images for a seeded subset of points. Over even without images: written anyway, with a warning."
            ),
        ),
    ] = DEFAULT_MAX_HTML_MB,
    max_points: MAX_POINTS = DEFAULT_MAX_POINTS,
    max_dims: MAX_DIMS = DEFAULT_MAX_DIMS,
    sample: Annotated[str, typer.Option("--sample", help="random | stratified (every colour class kept).")] = "random",
    seed: Annotated[int, typer.Option("--seed", help="Seed for sampling and projection.")] = DEFAULT_SEED,
    title: Annotated[
        str | None, typer.Option("--title", help="Report title [default: file name and algorithm].")
    ] = None,
    n_neighbors: Annotated[int, typer.Option("--n-neighbors", help="UMAP: neighbourhood size, 2 to 1000.")] = 15,
    min_dist: Annotated[float, typer.Option("--min-dist", help="UMAP: how tightly points pack, 0 to 1.")] = 0.1,
    metric: Annotated[
        str, typer.Option("--metric", help="UMAP and t-SNE: euclidean | cosine | manhattan | correlation.")
    ] = "euclidean",
    perplexity: Annotated[float, typer.Option("--perplexity", help="t-SNE: effective neighbours, above 0.")] = 30.0,
    learning_rate: Annotated[
        float | None, typer.Option("--learning-rate", help="t-SNE: step size [default: auto, n/12].")
    ] = None,
    iterations: Annotated[
        int, typer.Option("--iterations", help="t-SNE: optimisation steps after early exaggeration.")
    ] = 500,
    early_exaggeration: Annotated[
        float, typer.Option("--early-exaggeration", help="t-SNE: early exaggeration factor.")
    ] = 12.0,
    whiten: Annotated[bool, typer.Option("--whiten", help="PCA: scale components to unit variance.")] = False,
    coords_out: Annotated[
        Path | None,
        typer.Option("--coords-out", help="Also write row, x, y per algorithm and the label (.parquet or .csv)."),
    ] = None,
    no_metrics: Annotated[bool, typer.Option("--no-metrics", help="Skip trustworthiness and kNN recall.")] = False,
    neighbours: Annotated[
        int,
        typer.Option("--neighbours", help="Nearest rows a click on a point rings (exact, by --metric), 0 to 100."),
    ] = DEFAULT_NEIGHBOURS,
    reproducible: Annotated[
        bool,
        typer.Option(
            "--reproducible",
            help="Byte-identical output: pin the time (or set SOURCE_DATE_EPOCH), no timings in the page.",
        ),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
) -> None:
    """Project DATA to 2D and write one self-contained HTML report.

    Example: embproj project fixtures/digits.parquet --algo umap -o report.html
    """
    from .options import PcaParams, TsneParams, UmapParams

    opts = Options(
        data=data,
        output=output or Path(f"{data.name.split('.')[0] or 'report'}.{algo}.html"),
        format=format,
        encoding=encoding,
        metadata=metadata,
        algo=algo,
        embedding=embedding,
        columns=_split(columns) or (),
        color=color,
        label=label,
        image=image,
        hover=_split(hover),
        no_images=no_images,
        thumb_size=thumb_size,
        image_shape=image_shape,
        max_html_mb=max_html_mb,
        max_points=max_points,
        max_dims=max_dims,
        sample=sample,
        seed=seed,
        title=title,
        coords_out=coords_out,
        metrics=not no_metrics,
        neighbours=neighbours,
        reproducible=reproducible,
        pca=PcaParams(whiten=whiten),
        umap=UmapParams(n_neighbors=n_neighbors, min_dist=min_dist, metric=metric),
        tsne=TsneParams(perplexity, learning_rate, iterations, early_exaggeration, metric),
    )
    with _errors(), _worker(opts) as worker:
        from .pipeline import run

        console = _console(quiet)
        start = time.perf_counter()
        result = run(opts, reporter=ConsoleReporter(console), worker=worker)
        if json_out:
            import json

            from .summary import json_summary

            summary = json_summary(result.summary, result.output, result.bytes_written, opts.coords_out)
            typer.echo(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
        if console:
            s = result.summary
            console.print(
                f"Wrote {result.output} ({result.bytes_written / 1e6:.1f} MB): {s['rows_plotted']:,} points "
                f"of {s['rows_read']:,} rows in {time.perf_counter() - start:.1f} s"
            )


@app.command()
def inspect(
    data: DATA,
    format: FORMAT = None,
    encoding: ENCODING = None,
    metadata: METADATA = None,
    embedding: EMBEDDING = None,
    columns: COLUMNS = None,
    color: COLOR = None,
    label: LABEL = None,
    image: IMAGE = None,
    hover: HOVER = None,
    no_images: NO_IMAGES = False,
    image_shape: IMAGE_SHAPE = None,
    max_points: MAX_POINTS = DEFAULT_MAX_POINTS,
    max_dims: MAX_DIMS = DEFAULT_MAX_DIMS,
) -> None:
    """Show the columns, the role detected for each and why, and what `project` would do. Projects nothing.

    Example: embproj inspect fixtures/digits.parquet
    """
    opts = Options(
        data=data,
        format=format,
        encoding=encoding,
        metadata=metadata,
        embedding=embedding,
        columns=_split(columns) or (),
        color=color,
        label=label,
        image=image,
        hover=_split(hover),
        no_images=no_images,
        image_shape=image_shape,
        max_points=max_points,
        max_dims=max_dims,
    )
    with _errors():
        from .pipeline import inspect as inspect_plan

        source, plan = inspect_plan(opts)
        typer.echo(describe_inspection(source, plan, opts))


def describe_inspection(source, plan, opts: Options) -> str:
    """The text `embproj inspect` prints: the file, each column's role with its reason, and the plan."""
    rows = f"{source.num_rows:,} rows" if source.num_rows is not None else "row count known after one pass"
    lines = [f"{source.name}: {source.format}, {len(source.schema)} columns, {rows}", ""]
    table = [(c.name, c.type, role, why) for c, role, why in plan.roles()]
    dims = [i for i, row in enumerate(table) if row[2] == "dimension"]
    if len(dims) > 6:  # 768 lines of "dimension" say nothing: show a few and count the rest
        hidden = set(dims[3:-1])
        table = [row for i, row in enumerate(table) if i not in hidden]
        table.insert(dims[3], ("…", "", "dimension", f"{len(hidden):,} more numeric columns like these"))
    widths = [max(len(str(r[i])) for r in [("column", "type", "role", ""), *table]) for i in range(3)]
    lines.append(f"  {'column':<{widths[0]}}  {'type':<{widths[1]}}  {'role':<{widths[2]}}  why")
    for name, type_, role, why in table:
        lines.append(f"  {name:<{widths[0]}}  {type_:<{widths[1]}}  {role:<{widths[2]}}  {why}")
    lines += ["", "project would use:", *(f"  {line}" for line in plan.explain()), ""]
    n = source.num_rows
    if n is not None and n > opts.max_points:
        lines.append(f"  rows: a random sample of {opts.max_points:,} of {n:,} (--max-points, --seed {opts.seed})")
    elif n is not None:
        lines.append(f"  rows: all {n:,} (at most --max-points {opts.max_points:,})")
    else:
        lines.append(f"  rows: counted while sampling; at most --max-points {opts.max_points:,} are plotted")
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
    def stage(self, name: str):
        if self.console is None:
            yield
            return
        with self.console.status(name + " …"):
            yield

    def timed(self, name: str, seconds: float) -> None:
        if self.console is not None:
            self.console.print(f"[dim]{name}: {seconds:.1f} s[/dim]", highlight=False)

    def info(self, message: str) -> None:
        if self.console is not None:
            self.console.print(message, markup=False, highlight=False)

    def warn(self, message: str) -> None:
        if self.console is not None:
            self.console.print(f"[yellow]Warning:[/yellow] {_escape(message)}", highlight=False)


@contextmanager
def _worker(opts: Options):
    """The console script forks the numeric worker first thing, before even pyarrow loads (see compute.py)."""
    from .compute import maybe_worker, small_input

    wanted = _FORK_WORKER and opts.algo in ("pca", "umap", "tsne", "all") and small_input(opts.data)
    with maybe_worker(wanted, opts.algos) as worker:
        yield worker


def _console(quiet: bool):
    if quiet:
        return None
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


@contextmanager
def _errors():
    try:
        yield
    except EmbprojError as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("Error: interrupted, nothing was written", err=True)
        raise typer.Exit(130) from None


def usage_error(err: Exception) -> str:
    """Click's usage error as one line, `Error: <what>, <fix>`, like embproj's own; with no arguments at all,
    Click's answer is the help text, which stays whole."""
    format_message = getattr(err, "format_message", None)
    message = (format_message() if format_message else str(err)).strip()
    if "\n" in message:
        return message
    ctx = getattr(err, "ctx", None)
    where = getattr(ctx, "command_path", None) or "embproj"
    return f"Error: {message.rstrip('.')}, see {where} --help"


_FORK_WORKER = False  # set by the console script: only a fresh process may fork the numeric worker


def main() -> NoReturn:
    """The console script. Exits with os._exit once the output is flushed: tearing down an interpreter that has
    loaded numba, scikit-learn and bokeh costs most of a second and does nothing for the user."""
    global _FORK_WORKER
    code: str | int | None
    _FORK_WORKER = True
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
