"""`embproj compare`: the order of its steps, the same stages `project` runs, twice where there are two
embeddings: read and plan both tables, match their rows, sample, build both matrices, find each row's neighbours
in each space (the report's own search), score each row's neighbourhood change, make the BEFORE map and the
AFTER map aligned to it, find the structure on BEFORE's, render one page with both maps, write it.

It runs in this process (the local engine): the Dask engine places the rows of one embedding, not of two."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from embproj.comparison.change import ChangeSummary, movers, summarise
from embproj.comparison.sides import Side, match, open_table, paired, planned, sampled
from embproj.errors import OptionError
from embproj.options import ALGO_NAMES, Options, say, validate
from embproj.pipeline import Reporter, Reports, Result, Stages
from embproj.summary import StageResults, describe_run, with_page
from embproj.write.files import check_outputs, text_output, write_outputs


@dataclass(frozen=True)
class Comparison:
    """What the page shows of a comparison beside the two maps (render/assemble.py reads it)."""

    change: np.ndarray  # float32, each plotted row's neighbourhood change
    summary: ChangeSummary
    after: Any  # neighbours.search.Neighbours: AFTER's graphs (the page's second neighbour table)
    key: str | None  # the key column (shown on hover and in the movers table), None when rows match by number
    movers: np.ndarray  # the rows that changed most, most first (the page's movers table)
    title: str  # the page's title unless --title gives one
    notes: tuple[str, ...] = ()  # the run's warnings: rows matched by order, rows in one table only


def compare(opts: Options, before=None, after=None, reporter: Reports | None = None) -> Result:
    """Compare BEFORE (opts.data, or the `before` Source) with AFTER (opts.after, the `after` Source, or --against
    in the same table): the report `project` makes, with two aligned maps and the change of each row."""
    reporter = reporter or Reporter()
    opts = _checked(validate(opts), two_tables=after is not None)
    stage = Stages(reporter)
    with stage("read", "Reading and detecting columns"):
        first = before if before is not None else open_table(opts, _given(opts.data))
        second = after if after is not None else open_table(opts, opts.after) if opts.after is not None else None
        sides = planned(opts, first, second)
    _check_outputs(opts, sides)
    for line in (*sides[0].source.about, *sides[0].plan.explain()):
        reporter.info(line)
    with stage("match", "Matching the rows of the two tables"):
        matching = match(opts, *sides)
    reporter.info(f"rows matched by {matching.reason}: {matching.matched:,}")
    with stage("sample", "Reading rows", (matching.before_rows or 0) + (matching.after_rows or 0)) as tick:
        samples = sampled(opts, *sides, matching, tick)
    with stage("matrix", "Building the matrices"):
        paired_sides = paired(*sides, samples, matching)
    return _rest(opts, stage, paired_sides, matching, reporter)


def _rest(opts: Options, stage: Stages, sides: tuple[Side, Side], matching, reporter: Reports) -> Result:
    from embproj.comparison.maps import both_maps
    from embproj.render.assemble import make_page, page_contents, with_comparison
    from embproj.structure.clusters import find_structure

    before, after = sides
    maps = both_maps(opts, stage, before, after, reporter.warn)
    with stage("structure", "Finding clusters and the maps' density"):
        structure = find_structure(opts, before.plan, before.sample, maps.before.matrix, maps.projections)
    summary = summarise(
        maps.change, _keys(matching, before), _classes(before), before.plan.color.column, k=maps.k,
        metric=opts.metric, matching=matching.facts(), sides={"before": before.embedding, "after": after.embedding},
        aligned=maps.aligned,
    )  # fmt: skip
    key = matching.key
    title = f"{Path(before.source.name).name} → {Path(after.source.name).name}: {maps.name}"
    comparison = Comparison(maps.change, summary, maps.after.graphs, key, movers(maps.change), title, matching.notes)
    plan = before.plan
    if key and key not in plan.hover:
        plan = replace(plan, hover=(key, *plan.hover))
    made = StageResults(
        before.source, plan, before.sample, maps.before.matrix, maps.projections, maps.before.graphs, structure,
        compare=comparison,  # and no page_vectors: a comparison's page has no gear
    )  # fmt: skip
    seconds = dict(stage.seconds)
    with stage("report", "Writing the report"):
        contents = page_contents(opts, made)
        run_summary = describe_run(opts, made, seconds, contents.warnings, contents.table_facts)
        run_summary = with_comparison(opts, run_summary, made, contents)
        page = make_page(opts, made, contents, run_summary)
    run_summary = with_page(run_summary, page.images, page.note, page.sending, shown=page.shown)
    for message in run_summary.warnings:
        reporter.warn(message)
    with Stages(Reporter(), stage.seconds)("write", ""):
        read = _check_outputs(opts, sides, page.files_read)
        written = write_outputs(_outputs(opts, page.html, before, matching, maps))
    return Result(page.html, plan, run_summary, maps.projections, stage.seconds, written, read)


def _outputs(opts: Options, html: str, before: Side, matching, maps) -> list:
    """The report, and with --coords-out each row's key, both maps and its change as a table."""
    import pyarrow as pa

    from embproj.write.coords import change_table, coords_output, labels_of

    outputs = [text_output("report", opts.output, html)] if opts.output is not None else []
    if opts.coords_out is not None:
        rows, table = before.matrix.keep, before.sample.table
        label, labels = labels_of(before.plan, table, rows)
        keys = matching.keys(table, before.sample.row_ids).take(pa.array(rows)) if matching.key else None
        ids = before.sample.row_ids[rows]
        changed = change_table(ids, maps.projections, maps.change, matching.key, keys, label, labels)
        outputs.append(coords_output(opts.coords_out, changed))
    return outputs


def _checked(opts: Options, two_tables: bool) -> Options:
    """What compare asks of the options beyond their ranges."""
    if opts.engine != "local":
        raise OptionError(
            f"{say('engine', opts.engine)} is not supported by compare",
            f"compare runs in this process: leave {say('engine')} out",
        )
    if opts.algo == "all":
        raise OptionError(
            f"compare draws one pair of maps, not {say('algo', 'all')}",
            f"give one of {', '.join(say('algo', a) for a in ALGO_NAMES)}",
        )
    if opts.after is None and opts.against is None and not two_tables:
        raise OptionError(
            "compare needs two embeddings",
            f"give the AFTER table after BEFORE, or AFTER's column of this table with {say('against', 'COL')}",
        )
    if opts.neighbours < 1:
        raise OptionError(
            f"compare measures each row's change over its nearest neighbours: {say('neighbours', 0)} leaves none",
            f"give {say('neighbours', 10)} or another number from 1",
        )
    return opts


def _given(path: Path | None) -> Path:
    if path is None:
        raise OptionError("no data file given", "pass the BEFORE table and the AFTER table")
    return path


def _check_outputs(opts: Options, sides, files=()) -> tuple[Path, ...]:
    """The report writable and none of the files the run reads: both tables, the files they name, the images."""
    inputs = [Path(p).expanduser() for p in (opts.data, opts.after, opts.metadata) if p is not None]
    for side in sides:
        inputs += [*side.source.parts, *side.source.inputs]
    inputs = list(dict.fromkeys([*inputs, *files]))
    named = ((say("output", short=True), opts.output), (say("coords_out"), opts.coords_out))
    check_outputs([(flag, path) for flag, path in named if path is not None], inputs)
    return tuple(inputs)


def _keys(matching, before: Side) -> list:
    """Each plotted row's key, as --json lists the movers: the key's text, or the row's number in BEFORE."""
    rows = before.matrix.keep
    if matching.key is None:
        return [int(i) for i in before.sample.row_ids[rows]]
    return matching.keys(before.sample.table, before.sample.row_ids).take(rows).to_pylist()


def _classes(before: Side) -> list[str] | None:
    """Each plotted row's class of BEFORE's categorical colour column, as the legend names it, or None."""
    from embproj.render.values import categories, display_strings

    color = before.plan.color
    if color.column is None or color.kind != "categorical":
        return None
    strings = display_strings(before.sample.table.column(color.column).take(before.matrix.keep))
    return categories(strings)[0]
