"""The order of the stages, and nothing else:
source → plan → sample → matrix → knn → project → (metrics) → structure → report → write."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from embproj import cache
from embproj.errors import EmbprojError, OptionError, located
from embproj.memory import give_back
from embproj.options import ALGO_NAMES, Options, say, validate
from embproj.plan.choose import Plan, make_plan
from embproj.read.base import Source
from embproj.read.source import open_source
from embproj.summary import RunSummary, StageResults, describe_run, one_line, with_page
from embproj.write.files import Output, Written, check_outputs, text_output, write_outputs

if TYPE_CHECKING:
    from embproj.engine.base import Engine

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
    from embproj.structure.lenses import find_lenses
    from embproj.vectors.matrix import needs_reduction

    reporter = reporter or Reporter()
    _check_outputs(validate(opts))
    stage = Stages(reporter)
    with _engine(opts, reporter) as engine:  # where the rows' vectors are: the stages get arrays from it
        with stage("read", "Reading and detecting columns"):
            source, plan = inspect(opts, source)
        _check_outputs(opts, (*source.parts, *source.inputs))  # the files a config or a table names: known now
        for line in (*source.about, *plan.explain()):
            reporter.info(line)
        with stage("sample", "Reading rows", source.num_rows) as tick:
            sample = located(source.name, engine.sample, source, plan, opts, tick)
        with stage("matrix", "Building the matrix"):
            matrix = located(source.name, engine.matrix, sample, source.name)
        maps = located(source.name, runnable, opts.algo, matrix.rows)  # the maps the rows allow, warned for others
        fit = fit_rows(matrix.rows, opts.fit_points, opts.seed)
        if plan.scaling.method != "none":  # before the cache's fingerprint: it keeps maps of what they were made of
            with stage("scale", "Rescaling each column"):
                _rescale(engine, plan.scaling.method, fit)
        if needs_reduction(matrix, maps.algos, opts.max_dims):  # also for cached maps: the page says what it kept
            with stage("reduce", f"Reducing {matrix.dims:,} dimensions with PCA"):
                matrix = _reduce(engine, matrix, opts, fit)
        fitted = engine.gather(fit)  # the rows the maps are fitted on, as they see them
        stages = partial(_maps, opts, maps, matrix, fit, fitted, engine, stage)  # what the projection cache is around
        vectors = engine.gather(read=True) if engine.here else None  # a cluster's are not hashed here
        graphs, projections = cache.around(stages, opts, maps.algos, vectors, matrix, fit, reporter.warn)
        measured = _measured(engine, opts, matrix)
        page_vectors = _page_vectors(engine, opts, plan, matrix)
    # no step reads the vectors past here: without these names the engine's matrix (512 MB at a million rows of
    # 128 dims) is given back before the quality numbers and the page, the run's other large steps
    del engine, fitted, stages, vectors
    if measured is not None:
        from embproj.project.metrics import measure

        with stage("metrics", "Measuring quality"):
            projections = measure(projections, measured, opts.seed, opts.metric, graphs.original)
    with stage("structure", "Finding clusters and the maps' density"):
        structure = find_structure(opts, plan, sample, matrix, tuple(projections))
    with stage("lenses", "Reading each point's neighbours: label agreement, map trust"):
        lenses = find_lenses(opts, plan, sample, matrix, tuple(projections), graphs)
    made = StageResults(
        source, plan, sample, matrix, tuple(projections), graphs, structure, page_vectors=page_vectors, lenses=lenses
    )
    seconds = dict(stage.seconds)
    with stage("report", "Writing the report"):
        contents = page_contents(opts, made)
        summary = describe_run(opts, made, seconds, contents.warnings, contents.table_facts)
        page = make_page(opts, made, contents, summary)
    summary = with_page(summary, page.images, page.note, page.sending, shown=page.shown)
    for message in summary.warnings:
        reporter.warn(message)
    with Stages(Reporter(), stage.seconds)("write", ""):
        read = _check_outputs(opts, (*source.parts, *source.inputs, *page.files_read))  # and the image files now
        written = write_outputs(_outputs(opts, page.html, plan, sample, matrix, projections, lenses))
    return Result(page.html, plan, summary, tuple(projections), stage.seconds, written, read)


@contextmanager
def _engine(opts: Options, reporter: Reports) -> Iterator[Engine]:
    """Where the batch steps run (engine/base.py): this process, or a connected Dask cluster."""
    if opts.engine != "dask":
        from embproj.engine.local import Local

        yield Local()
        return
    from embproj.engine.dask import Dask, connect

    with connect(opts.scheduler, opts.timeout) as cluster:
        if cluster.started:
            reporter.info(cluster.started)
        yield Dask(cluster)


def _rescale(engine: Engine, method: str, fit) -> None:
    """Each column rescaled (vectors/scaling.py) by a scaler fitted on the rows `fit`, where the rows are."""
    from embproj.vectors.scaling import fit_scaler

    scaler = fit_scaler(engine.gather(fit, read=True), method)
    if scaler is not None:
        engine.rescale(scaler)


def _reduce(engine: Engine, matrix, opts: Options, fit):
    """The maps' rows narrowed by PCA to --max-dims (vectors/matrix.py), fitted on the rows `fit` and applied to
    every row where it is (the rows as read are kept for the neighbours and the quality numbers)."""
    from embproj.vectors.matrix import fit_reducer

    reducer = fit_reducer(engine.gather(fit, read=True), opts.max_dims, opts.seed)
    if reducer is None:
        return matrix
    engine.reduce(reducer)
    return replace(matrix, reduced_to=reducer.target, reduced_variance=reducer.variance)


def _measured(engine: Engine, opts: Options, matrix):
    """The rows the quality numbers are measured on (project/metrics.py), as read; None without --metrics."""
    from embproj.project.metrics import subset

    return engine.gather(subset(matrix.rows, opts.seed), read=True) if opts.metrics else None


def _page_vectors(engine: Engine, opts: Options, plan: Plan, matrix):
    """The rows the page's gear maps again (render/gear.py), as the maps saw them: a few numeric columns as
    scaled, so that the reader may choose among them; else at most --max-dims, the report's pre-reduction (or
    one fitted on these rows, for a map that needed none)."""
    from embproj.render.gear import PageVectors, page_rows, sends_columns
    from embproj.vectors.matrix import fit_reducer

    rows = page_rows(matrix.rows, opts.page_sample, opts.seed)
    if rows is None:
        return None
    if sends_columns(plan.embedding.kind, matrix.dims) and len(plan.embedding.columns) == matrix.dims:
        columns = plan.embedding.columns
        return PageVectors(engine.gather(rows, read=True), rows, columns, f"the {len(columns):,} columns as scaled")
    if matrix.dims <= opts.max_dims:
        return PageVectors(engine.gather(rows, read=True), rows, (), f"the {matrix.dims:,}-dim vectors")
    if matrix.reduced_to:
        X = engine.gather(rows)
    else:
        read = engine.gather(rows, read=True)
        reducer = fit_reducer(read, opts.max_dims, opts.seed)
        X = reducer(read) if reducer is not None else read
    return PageVectors(X, rows, (), f"{X.shape[1]:,} PCA dimensions of the {matrix.dims:,}-dim vectors")


def _maps(opts: Options, maps, matrix, fit, fitted, engine: Engine, stage, todo: tuple[str, ...], search):
    """The run's graphs, and a map for each algorithm of `todo` (those the projection cache does not hold): the
    stages cache.around is around; `search` finds the graph over every row."""
    with stage("neighbours", "Finding each point's neighbours"):
        graphs = _neighbours(opts, maps.algos, todo, matrix, fit, fitted, engine, search)
    return graphs, {a: _project(opts, a, maps, matrix, graphs, fit, fitted, engine.place, stage) for a in todo}


def _neighbours(opts: Options, algos: tuple[str, ...], todo: tuple[str, ...], matrix, fit, fitted, engine, search):
    """The run's graphs (neighbours/search.py), the fit's as deep as the maps of `todo` read it, the one over every
    row as deep as every map of the run would (so the same whichever maps were cached)."""
    from embproj.neighbours.search import Rows, Wanted, find_neighbours
    from embproj.project.metrics import measure_k
    from embproj.project.projectors import neighbours_needed
    from embproj.structure.lenses import wanted as lens_depth

    def deepest(names) -> int:
        return max((neighbours_needed(a, opts.params_for(a), len(fit)) for a in names), default=0)

    placing = len(fit) < matrix.rows and any(a in ("umap", "tsne") for a in todo)
    every_row = partial(engine.gather, read=True)
    rows = Rows(fitted, fit, matrix.rows, every_row, bool(matrix.reduced_to), held=not engine.here)
    measure = measure_k(opts, matrix.rows)
    wanted = Wanted(deepest(todo), opts.neighbours, measure, opts.metric, opts.seed, placing, opts.neighbour_rows,
                    planned=deepest(algos), lenses=lens_depth(opts))  # fmt: skip
    return find_neighbours(rows, wanted, search)


def _project(opts: Options, algo: str, maps, matrix, graphs, fit, fitted, place, stage):
    from embproj.project.projectors import project_rows

    some = f" (fitted on {len(fit):,} rows)" if len(fit) < matrix.rows else ""
    with stage(algo, f"Projecting with {ALGO_NAMES[algo]}{some}", matrix.rows) as tick:
        args = (opts.params_for(algo), opts.seed, graphs.fit, maps.notes_for(algo), tick)
        return located(opts.data or "", project_rows, fitted, fit, matrix.rows, place, algo, *args)


def _outputs(opts: Options, html: str, plan: Plan, sample, matrix, projections, lenses) -> list[Output]:
    from embproj.write.coords import coords_output, coords_table, labels_of

    outputs = [text_output("report", opts.output, html)] if opts.output is not None else []
    if opts.coords_out is not None:
        label, labels = labels_of(plan, sample.table, matrix.keep)
        trust = {key: t.kept for key, t in lenses.trust.items()}
        table = coords_table(sample.row_ids[matrix.keep], projections, label, labels, trust)
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
        give_back()  # what the stage freed, before the next one takes memory
        self.seconds[key] = time.perf_counter() - start
        self.reporter.timed(label, self.seconds[key])


def _no_tick(rows: int) -> None:
    pass


__all__ = ["Reporter", "Result", "inspect", "run"]
