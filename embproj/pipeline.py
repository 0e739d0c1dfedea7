"""The order of the stages, and nothing else: source → plan → sample → matrix → project → report → write."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from .budget import check_limit
from .coords import check_coords_path, coords_table, write_coords
from .errors import EmbprojError, OptionError, located
from .metadata import with_metadata
from .options import Options
from .plan import Plan, make_plan
from .source import Source, open_source
from .summary import describe_run, versions_used
from .write import check_output, write_atomic

HEAD_ROWS = 1_000
MAX_NEIGHBOURS = 100  # a click rings at most this many; the page carries n × k int32


class Reports(Protocol):
    """Any reporter the pipeline accepts: `Reporter` (silent) or the CLI's ConsoleReporter."""

    def stage(self, name: str) -> AbstractContextManager[Any]: ...  # while the stage runs

    def timed(self, name: str, seconds: float) -> None: ...  # once it is done: how long it took

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...


class Reporter:
    """What the pipeline tells its caller; the CLI draws it with rich, the Python API stays silent."""

    def stage(self, name: str):
        return nullcontext()

    def timed(self, name: str, seconds: float) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


@dataclass
class Result:
    html: str
    plan: Plan
    summary: dict
    warnings: list[str] = field(default_factory=list)
    projections: tuple = ()
    output: Path | None = None
    bytes_written: int = 0

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        check_output(path)
        self.bytes_written = write_atomic(path, self.html)
        self.output = path
        return path

    def _repr_html_(self) -> str:
        import html

        return f'<iframe srcdoc="{html.escape(self.html)}" style="width:100%;height:760px;border:0"></iframe>'


def inspect(opts: Options, source: Source | None = None) -> tuple[Source, Plan]:
    source = source or _open(opts)
    head = source.head(HEAD_ROWS)
    if head.num_rows == 0:
        raise EmbprojError(
            "the table has a header but no rows", "give a file with at least one data row", where=source.name
        )
    return source, located(source.name, make_plan, head, opts, source.name)


def run(opts: Options, source: Source | None = None, reporter: Reports | None = None, *, worker=None) -> Result:
    """`worker`: a `compute.Worker` that the console script forked at start-up, to project in while this process
    reads the table and loads the report's libraries; None computes everything in this process."""
    from .compute import WORKER_MAX_BYTES, Job, compute, measure, neighbours
    from .matrix import build_matrix
    from .project import validate
    from .sample import sample_rows

    reporter = reporter or Reporter()
    if not 0 <= opts.seed < 2**32:
        raise OptionError(f"--seed {opts.seed} is out of range", "give a whole number from 0 to 4294967295")
    for algo in opts.algos:
        validate(algo, None)  # an unknown --algo fails before any work
    for algo in ("pca", "umap", "tsne"):  # so does a value out of range, used or not (--metric: where used)
        params = opts.params_for(algo)
        if algo not in opts.algos and hasattr(params, "metric"):
            params = replace(params, metric="euclidean")  # --metric is shared; chebyshev is UMAP's alone
        validate(algo, params)
    if not (isinstance(opts.neighbours, int) and 0 <= opts.neighbours <= MAX_NEIGHBOURS):
        raise OptionError(
            f"--neighbours {opts.neighbours} is out of range", f"give a whole number from 0 to {MAX_NEIGHBOURS}"
        )
    needs_reduction = any(a in ("umap", "tsne") for a in opts.algos)
    if needs_reduction and opts.max_dims < 2:
        raise OptionError(f"--max-dims {opts.max_dims} is too small", "give 2 or more")
    check_limit(opts.max_html_mb, opts.thumb_size)
    if opts.output is not None:
        check_output(opts.output, (opts.data,) if opts.data else ())
    if opts.coords_out is not None:
        check_coords_path(opts.coords_out)
        check_output(opts.coords_out, (opts.data,) if opts.data else ())
    seconds: dict[str, float] = {}

    def stage(key: str, label: str):
        return _timed(seconds, key, reporter, label)

    with stage("read", "Reading and detecting columns"):
        source, plan = inspect(opts, source)
    for line in plan.explain():
        reporter.info(line)
    with stage("sample", "Sampling rows"):
        sample = located(
            source.name,
            sample_rows,
            source,
            plan.needed_columns,
            opts.max_points,
            opts.seed,
            opts.sample,
            plan.color.column,
        )
        pa.default_memory_pool().release_unused()  # give the streamed batches back before the libraries load
    with stage("matrix", "Building the matrix"):
        matrix = located(source.name, build_matrix, sample.table, plan.embedding, source.name)
    if worker is not None and matrix.original.nbytes > WORKER_MAX_BYTES:
        worker = None  # closed by the caller; see WORKER_MAX_BYTES
    job = Job(
        algos=opts.algos,
        params={algo: opts.params_for(algo) for algo in opts.algos},
        seed=opts.seed,
        max_dims=opts.max_dims if needs_reduction else None,
        metrics=opts.metrics,
        where=source.name,
        # A worker that loads scikit-learn anyway (PCA, t-SNE) measures too; UMAP's worker loads none, so the
        # neighbours and metrics are found here, while it projects.
        measure=worker is not None and any(algo != "umap" for algo in opts.algos),
        metric=_distance(opts),
        neighbours=opts.neighbours,
    )
    if worker is not None:  # this process loads the report's libraries (and finds neighbours) meanwhile

        def meanwhile():
            _load_report_libraries(scikit_learn=not job.measure)
            near = None if job.measure else neighbours(matrix.original, job, stage)
            return near, _rows_shown(opts, source, plan, sample, matrix)

        numbers, (near, shown) = worker.compute(matrix.original, job, stage, meanwhile)
        if not job.measure:
            numbers = measure(matrix.original, numbers, job, stage, near)
    else:
        numbers = measure(matrix.original, compute(matrix.original, job, stage), job, stage)
        shown = None
    matrix = replace(matrix, X=numbers.X, reduced_to=numbers.reduced_to, reduced_variance=numbers.reduced_variance)
    projections = numbers.projections
    with stage("report", "Writing the report"):
        shown = shown or _rows_shown(opts, source, plan, sample, matrix)
        result = _render(opts, source, plan, sample, matrix, projections, seconds, numbers.neighbours, shown)
    result.summary["worker"] = numbers.worker  # not in the page: it is the same either way
    result.summary["worker_peak_rss"] = numbers.worker_peak_rss
    if numbers.umap_kernel_cache is not None:
        result.summary["umap_kernel_cache"] = numbers.umap_kernel_cache
    for message in result.warnings:
        reporter.warn(message)
    with _timed(seconds, "write", Reporter(), ""):
        if opts.output is not None:
            result.save(opts.output)
        if opts.coords_out is not None:
            label = plan.color.column or plan.label.column
            labels = sample.table.column(label).take(pa.array(matrix.keep)) if label else None
            write_coords(opts.coords_out, coords_table(sample.row_ids[matrix.keep], projections, label, labels))
    result.summary["seconds"] = {k: round(v, 3) for k, v in seconds.items()}  # the page's copy ends before these
    return result


def _distance(opts: Options) -> str:
    """The distance of the original space: --metric (UMAP's or t-SNE's, whichever runs first), else Euclidean."""
    for algo in opts.algos:
        metric = getattr(opts.params_for(algo), "metric", None)
        if metric:
            return metric
    return opts.umap.metric


def _load_report_libraries(scikit_learn: bool) -> None:
    """What the report and quality stages import (Bokeh; scikit-learn), loaded while the worker projects."""
    if scikit_learn:
        import sklearn.manifold  # noqa: F401 - trustworthiness
        import sklearn.neighbors  # noqa: F401

    from .budget import fit_report  # noqa: F401
    from .images import encode_images  # noqa: F401
    from .render.page import warm

    warm()


@dataclass(frozen=True)
class Shown:
    """What the page shows of the plotted rows, whatever the coordinates: their columns and image thumbnails."""

    table: pa.Table
    images: Any  # images.EncodedImages | None
    warnings: tuple[str, ...]


def _rows_shown(opts: Options, source: Source, plan: Plan, sample, matrix) -> Shown:
    from .images import encode_images, image_base_dir

    choices = [name for name, _ in plan.color_choices]
    wanted = [plan.color.column, plan.label.column, *plan.hover, plan.image.column, *choices]
    columns = [c for c in dict.fromkeys(wanted) if c]
    table = sample.table.select(columns).take(pa.array(matrix.keep))
    images = None
    if plan.image.column:
        images = encode_images(
            table.column(plan.image.column),
            plan.image.kind,
            opts.thumb_size,
            plan.image.shape,
            image_base_dir(source.name),
        )
    return Shown(table, images, (images.warning,) if images and images.warning else ())


def _render(opts, source, plan, sample, matrix, projections, seconds, neighbours, shown: Shown) -> Result:
    from .budget import fit_report
    from .render import ReportData, render_html

    near, near_note = neighbours
    table, images = shown.table, shown.images
    warnings = _drop_warnings(matrix, sample) + [n for p in projections for n in p.notes]
    warnings += _fold_warning(table, plan.color)
    warnings += shown.warnings
    title = opts.title or f"{Path(source.name).name}: {' · '.join(p.name for p in projections)}"
    summary = describe_run(opts, source, plan, sample, matrix, projections, seconds, warnings)

    def render(uris, facts) -> str:  # the budget renders, measures, and renders again with fewer image bytes
        data = ReportData(
            title=title,
            projections=projections,
            table=table,
            row_ids=sample.row_ids[matrix.keep],
            color=plan.color.column,
            color_kind=plan.color.kind,
            label=plan.label.column,
            hover=plan.hover,
            images=uris,
            summary={**summary, **facts},
            colors=plan.color_choices,
            neighbours=near,
            neighbours_note=near_note,
            neighbours_metric=_distance(opts),
        )
        return render_html(data)

    fitted = fit_report(render, images, opts.max_html_mb, opts.seed, plan.image.column, warnings)
    summary.update(fitted.facts)
    return Result(fitted.html, plan, summary, summary["warnings"], projections)


def _fold_warning(table: pa.Table, color) -> list[str]:
    import pyarrow.compute as pc

    from .render.values import MAX_CATEGORIES

    if not color.column or color.kind != "categorical":
        return []
    classes = pc.count_distinct(table.column(color.column), mode="all").as_py()
    if classes <= MAX_CATEGORIES:
        return []
    return [
        f'colour "{color.column}" has {classes:,} classes among the plotted rows: the legend shows the '
        f'{MAX_CATEGORIES - 1} largest and folds the rest into "other"'
    ]


def _drop_warnings(matrix, sample) -> list[str]:
    if not matrix.dropped:
        return []
    reasons = ", ".join(f"{n:,} {why}" for why, n in matrix.dropped.items())
    return [f"dropped {matrix.n_dropped:,} of {sample.table.num_rows:,} sampled rows: {reasons}"]


def _open(opts: Options) -> Source:
    if opts.data is None:
        raise OptionError("no data file given", "pass the path of a CSV, TSV, Parquet, JSON or JSON Lines file")
    source = open_source(opts.data, opts.format, opts.encoding)
    return with_metadata(source, opts.metadata, opts.encoding) if opts.metadata else source


@contextmanager
def _timed(seconds: dict, key: str, reporter: Reports, label: str):
    """Time one stage; a stage run elsewhere (the forked worker) sets `clock.seconds` to its own measure."""
    start = time.perf_counter()
    clock = Clock()
    with reporter.stage(label):
        yield clock
    seconds[key] = clock.seconds if clock.seconds is not None else time.perf_counter() - start
    reporter.timed(label, seconds[key])


@dataclass
class Clock:
    seconds: float | None = None


__all__ = ["Reporter", "Result", "inspect", "run", "versions_used"]
