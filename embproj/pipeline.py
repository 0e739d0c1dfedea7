"""The order of the stages, and nothing else:
source → plan → sample → matrix → knn → project → (metrics) → structure → report → write."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from embproj import cache
from embproj.errors import EmbprojError, OptionError, located
from embproj.options import ALGO_NAMES, Options, say, validate
from embproj.plan.choose import Plan, make_plan
from embproj.read.base import Source
from embproj.read.source import open_source
from embproj.summary import RunSummary, StageResults, describe_run, one_line, with_page
from embproj.write.files import Output, Written, check_outputs, text_output, write_outputs

HEAD_ROWS = 1_000


class Reports(Protocol):
    """Any reporter the pipeline accepts: `Reporter` (silent) or the CLI's ConsoleReporter."""

    def stage(self, name: str, total: int | None = None) -> AbstractContextManager[Callable[[int], None]]:
        """While the stage runs; it yields `tick(rows)`, to be called as rows are done, of `total` when known."""
        ...

    def timed(self, name: str, seconds: float) -> None: ...  # once it is done: how long it took

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...


class Reporter:
    """What the pipeline tells its caller; the CLI draws it with rich, the Python API stays silent."""

    def stage(self, name: str, total: int | None = None):
        return nullcontext(_no_tick)

    def timed(self, name: str, seconds: float) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


@dataclass(frozen=True)
class Result:
    html: str
    plan: Plan
    summary: RunSummary
    projections: tuple = ()
    seconds: dict[str, float] = field(default_factory=dict)  # every stage's, the page's and the write's too
    written: tuple[Written, ...] = ()
    read: tuple[Path, ...] = ()  # every input of the run: `save` never lands on one

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.summary.warnings

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        check_outputs([("save", path)], self.read)
        write_outputs([text_output("report", path, self.html)])
        return path

    def __repr__(self) -> str:  # one line: the generated one would print the whole page
        return one_line(self.summary, self.html)

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


def run(opts: Options, source: Source | None = None, reporter: Reports | None = None) -> Result:
    from embproj.project.projectors import fit_rows, runnable
    from embproj.render.assemble import make_page, page_contents
    from embproj.structure.clusters import find_structure
    from embproj.vectors.matrix import matrix_from, needs_reduction, reduce, rescale

    reporter = reporter or Reporter()
    _check_outputs(validate(opts))
    stage = Stages(reporter)
    with _engine(opts, reporter) as cluster:  # None: this process
        with stage("read", "Reading and detecting columns"):
            source, plan = inspect(opts, source)
        _check_outputs(opts, (*source.parts, *source.inputs))  # the files a config or a table names: known now
        for line in (*source.about, *plan.explain()):
            reporter.info(line)
        with stage("sample", "Reading rows", source.num_rows) as tick:
            sample = _sample(opts, source, plan, tick, cluster)
        with stage("matrix", "Building the matrix"):
            matrix = located(source.name, matrix_from, sample.X, sample.bad, sample.dims, source.name, sample.gaps)
        maps = located(source.name, runnable, opts.algo, len(matrix.X))  # the maps the rows allow, warned for others
        fit = fit_rows(len(matrix.X), opts.fit_points, opts.seed)
        if plan.scaling.method != "none":  # before the fingerprint: the cache keeps maps of what they were made of
            with stage("scale", "Rescaling each column"):
                matrix = rescale(matrix, plan.scaling.method, fit)
        if needs_reduction(matrix, maps.algos, opts.max_dims):  # also for cached maps: the page says what it kept
            with stage("reduce", f"Reducing {matrix.dims:,} dimensions with PCA"):
                matrix = reduce(matrix, opts.max_dims, opts.seed, fit)
        stages = partial(_maps, opts, maps, matrix, fit, stage)  # the stages the projection cache is around
        graphs, projections = cache.around(stages, opts, maps.algos, matrix, fit, reporter.warn)
        if opts.metrics:
            from embproj.project.metrics import measure

            with stage("metrics", "Measuring quality"):
                projections = measure(projections, matrix.original, opts.seed, opts.metric, graphs.original)
    with stage("structure", "Finding clusters and the maps' density"):
        structure = find_structure(opts, plan, sample, matrix, tuple(projections))
    made = StageResults(source, plan, sample, matrix, tuple(projections), graphs, structure)
    seconds = dict(stage.seconds)
    with stage("report", "Writing the report"):
        contents = page_contents(opts, made)
        summary = describe_run(opts, made, seconds, contents.warnings, contents.table_facts)
        page = make_page(opts, made, contents, summary)
    summary = with_page(summary, page.images, page.note)
    for message in summary.warnings:
        reporter.warn(message)
    with Stages(Reporter(), stage.seconds)("write", ""):
        read = _check_outputs(opts, (*source.parts, *source.inputs, *page.files_read))  # and the image files now
        written = write_outputs(_outputs(opts, page.html, plan, sample, matrix, projections))
    return Result(page.html, plan, summary, tuple(projections), stage.seconds, written, read)


def _engine(opts: Options, reporter: Reports):
    """Where the batch steps run: None for this process, or a connected `cluster.Cluster`."""
    if opts.engine != "dask":
        return nullcontext(None)
    from embproj.engine.dask import connect

    @contextmanager
    def connected():
        with connect(opts.scheduler, opts.timeout) as cluster:
            if cluster.started:
                reporter.info(cluster.started)
            yield cluster

    return connected()


def _sample(opts: Options, source: Source, plan: Plan, tick, cluster=None):
    """The plotted rows: what the page shows of them, and their vectors converted as the file streams (on a
    Dask cluster: read by its workers, the vectors left there)."""
    from functools import partial

    if cluster is not None:
        from embproj.engine.dask import sample_on

        return located(source.name, sample_on, cluster, source, plan, opts, tick)

    from embproj.sample import Draw, Reading, sample_rows
    from embproj.vectors.matrix import vectors

    reading = Reading(plan.needed_columns, plan.shown_columns, partial(vectors, embedding=plan.embedding))
    draw = Draw(opts.max_points, opts.seed, opts.sample, plan.color.column)
    sample = located(source.name, sample_rows, source, reading, draw, tick)
    pa.default_memory_pool().release_unused()  # give the streamed batches back before the libraries load
    return sample


def _maps(opts: Options, maps, matrix, fit, stage, todo: tuple[str, ...], search):
    """The run's graphs, and a map for each algorithm of `todo` (those the projection cache does not hold): the
    stages cache.around is around; `search` finds the graph over every row."""
    with stage("neighbours", "Finding each point's neighbours"):
        graphs = _neighbours(opts, maps.algos, todo, matrix, fit, search)
    return graphs, {a: _project(opts, a, maps, matrix, graphs, fit, stage) for a in todo}


def _neighbours(opts: Options, algos: tuple[str, ...], todo: tuple[str, ...], matrix, fit, search):
    """The run's graphs (neighbours/search.py), the fit's as deep as the maps of `todo` read it, the one over every
    row as deep as every map of the run would (so the same whichever maps were cached)."""
    from embproj.neighbours.search import Wanted, find_neighbours
    from embproj.project.metrics import measure_k
    from embproj.project.projectors import neighbours_needed

    def deepest(names) -> int:
        return max((neighbours_needed(a, opts.params_for(a), len(fit)) for a in names), default=0)

    placing = len(fit) < len(matrix.X) and any(a in ("umap", "tsne") for a in todo)
    reduced = matrix.X if matrix.reduced_to else None
    measure = measure_k(opts, len(matrix.X))
    wanted = Wanted(deepest(todo), opts.neighbours, measure, opts.metric, opts.seed, placing, opts.neighbour_rows,
                    planned=deepest(algos))  # fmt: skip
    return find_neighbours(matrix.original, reduced, fit, wanted, search)


def _project(opts: Options, algo: str, maps, matrix, graphs, fit, stage):
    from embproj.project.projectors import project

    fitted = f" (fitted on {len(fit):,} rows)" if len(fit) < len(matrix.X) else ""
    with stage(algo, f"Projecting with {ALGO_NAMES[algo]}{fitted}", len(matrix.X)) as tick:
        args = (opts.params_for(algo), opts.seed, graphs.fit, fit, maps.notes_for(algo), tick)
        return located(opts.data or "", project, matrix.X, algo, *args)


def _outputs(opts: Options, html: str, plan: Plan, sample, matrix, projections) -> list[Output]:
    from embproj.write.coords import coords_output, coords_table

    outputs = [text_output("report", opts.output, html)] if opts.output is not None else []
    if opts.coords_out is not None:
        label = plan.color.column or plan.label.column
        labels = sample.table.column(label).take(pa.array(matrix.keep)) if label else None
        table = coords_table(sample.row_ids[matrix.keep], projections, label, labels)
        outputs.append(coords_output(opts.coords_out, table))
    return outputs


def _check_outputs(opts: Options, read: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """Every output writable, and none of them a file the run reads: the data, the metadata, the files they
    name, the images. Those inputs, for `Result.save`."""
    named = ((say("output", short=True), opts.output), (say("coords_out"), opts.coords_out))
    outputs = [(flag, path) for flag, path in named if path]
    data = Path(opts.data).expanduser() if opts.data is not None else None  # the file _open reads
    inputs = tuple(dict.fromkeys(Path(p) for p in (data, opts.metadata, *read) if p is not None))
    check_outputs(outputs, inputs)
    return inputs


def _open(opts: Options) -> Source:
    from embproj.read.metadata import with_metadata

    if opts.data is None:
        raise OptionError("no data file given", "pass the path of a CSV, TSV, Parquet, JSON or JSON Lines file")
    # '~/…' quoted (a pattern kept from the shell) or given to the Python API: read where the shell would look
    source = open_source(Path(opts.data).expanduser(), opts.format, opts.encoding, opts.table, opts.follow_symlinks)
    return with_metadata(source, opts.metadata, opts.encoding) if opts.metadata else source


class Stages:
    """Times each stage into `seconds` and tells the reporter when it starts, how far it is (rows done, of
    `total`), and how long it took."""

    def __init__(self, reporter: Reports, seconds: dict[str, float] | None = None) -> None:
        self.reporter = reporter
        self.seconds: dict[str, float] = {} if seconds is None else seconds

    @contextmanager
    def __call__(self, key: str, label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        start = time.perf_counter()
        with self.reporter.stage(label, total) as tick:
            yield tick
        self.seconds[key] = time.perf_counter() - start
        self.reporter.timed(label, self.seconds[key])


def _no_tick(rows: int) -> None:
    pass


__all__ = ["Reporter", "Result", "inspect", "run"]
