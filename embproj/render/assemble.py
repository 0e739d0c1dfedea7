"""Stage 8, report: the plotted rows' fields and thumbnails, the run summary, and the page rendered (by render/)
within its byte budget. Computes nothing: the numbers come from the earlier stages."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from embproj.options import Options
from embproj.summary import ImageFacts, RunSummary, StageResults, color_fact
from embproj.text.notices import run_warnings


@dataclass(frozen=True)
class Contents:
    """What the page shows beside the maps, made once before the summary and the page: the plotted rows' columns
    (with each one's cluster), their images encoded at --thumb-size, the neighbour table encoded, and the run's
    warnings in words."""

    table: pa.Table
    cluster: str | None  # the column of `table` that holds each row's cluster, if any
    images: Any  # images.cells.EncodedImages, or None without an image column
    near: Any  # render.neighbours.NeighbourTable, or None when the page has none
    table_facts: dict  # `--json`'s neighbours.table
    warnings: tuple[str, ...]
    compare: Any = None  # render.data.CompareView: what a page of `embproj compare` shows of it, or None
    gear: Any = None  # render.gear.PageSample: the rows the page's gear maps again, encoded; None for no gear


@dataclass(frozen=True)
class Page:
    html: str
    images: ImageFacts | None  # the images the page carries, as the size budget left them
    note: str | None  # what the size budget gave up, when it gave up something
    files_read: tuple[Path, ...] = ()  # the image files read into it: no output may land on one
    sending: str | None = None  # too large to send by mail: what --max-html-mb 18 would leave out
    shown: int | None = None  # the points the page holds, when the size budget left some out


def page_contents(opts: Options, made: StageResults) -> Contents:
    source, plan, sample, matrix, projections = made.source, made.plan, made.sample, made.matrix, made.projections
    neighbours, structure = made.graphs, made.structure
    compare = made.compare
    table, images = _rows_shown(opts, source, plan, sample, matrix)
    columns = plan.embedding.columns if plan.embedding.kind == "columns" else ()
    warnings = source.notes + plan.notes + (compare.notes if compare is not None else ())
    warnings += run_warnings(sample, matrix, projections, table, plan.color, images, columns)
    group = plan.color.column if plan.color.column and plan.color.kind == "categorical" and compare is None else None
    near = _neighbour_table(neighbours, opts.neighbours, projections, table, group)
    table, cluster = _with_clusters(table, structure)
    view = None
    if compare is not None:
        table, view = _with_change(table, compare, opts.neighbours, projections)
    facts = _table_facts(neighbours, near)
    return Contents(table, cluster, images, near, facts, warnings, compare=view, gear=_gear(opts, made))


def with_comparison(opts: Options, summary: RunSummary, made: StageResults, contents: Contents) -> RunSummary:
    """The run summary of `embproj compare`: its findings, and the change as the colour the page opens with
    unless --color chose one."""
    if made.compare is None:
        return summary
    not_here = "the lenses are not drawn on a compare page: `embproj project` draws them for each table"
    summary = replace(summary, compare=made.compare.summary, lenses={**summary.lenses, "notes": [not_here]})
    if opts.color is None:  # what the page is about first
        summary = replace(summary, color=color_fact(contents.compare.column, "continuous"))
    return summary


def make_page(opts: Options, made: StageResults, contents: Contents, summary: RunSummary) -> Page:
    """The page of the run `summary` describes (built once, from what the stages `made`), rendered within the size
    budget: each render shows the images it carries and what the budget gave up, beside the same summary."""
    from embproj.images.budget import Parts, fit_report
    from embproj.render.data import ReportData
    from embproj.render.page import render_html
    from embproj.render.thin import keep_points, kept_points, needed_points

    source, plan, sample, matrix, projections = made.source, made.plan, made.sample, made.matrix, made.projections
    neighbours, structure = made.graphs, made.structure
    cluster, near, graph = contents.cluster, contents.near, neighbours.original
    coloured = plan.color_choices + (((cluster, "categorical"),) if cluster and opts.color != "" else ())
    color, color_kind, hover, view = plan.color.column, plan.color.kind, plan.hover, contents.compare
    if view is not None:
        hover = (view.column, *hover)
        if opts.color is None:  # what the page is about first; the table's colours after it
            color, color_kind = view.column, "continuous"
        coloured = (((view.column, "continuous"),) if opts.color != "" else ()) + coloured

    def shown(cut) -> int | None:
        return None if cut.points is None else len(kept_points(cut.points, contents.gear, view))

    def render(uris, image_facts, note, cut) -> str:  # the budget renders, measures, and renders again if need be
        on_page = shown(cut)
        data = ReportData(
            title=opts.title or _title(source, projections, made.compare),
            projections=projections,
            table=contents.table,
            row_ids=sample.row_ids[matrix.keep],
            color=color,
            color_kind=color_kind,
            label=plan.label.column,
            hover=tuple(h for h in hover if h not in cut.hover) + ((cluster,) if cluster else ()),
            images=uris,
            summary=summary if on_page is None else replace(summary, rows=replace(summary.rows, shown=on_page)),
            image_facts=image_facts,
            budget_note=note,
            colors=coloured,
            neighbours=None if cut.neighbours else near,
            neighbours_note=_table_note(neighbours, near, cut, opts),
            neighbours_metric=opts.metric,
            neighbours_exact=graph is None or graph.exact,
            neighbours_recall=graph.recall if graph is not None else None,
            fit=projections[0].fit if projections else None,
            hover_more=plan.hover_more,
            structure=structure,
            cluster_column=cluster,
            charts=plan.charts,
            compare=view if view is None or not cut.neighbours else replace(view, after=None),
            gear=contents.gear,
            lenses=made.lenses,
        )
        return render_html(data if cut.points is None else keep_points(data, cut.points))

    images = contents.images
    tables = sum(len(t.text) for t in (near, view.after if view is not None else None) if t is not None)
    fixed = {plan.label.column, cluster, *((view.column, view.key) if view is not None else ())}
    shared = {name for name, kind in coloured if kind == "categorical"}  # sent as the colour's codes: ~no bytes
    droppable = tuple(h for h in hover if h not in fixed | shared and not _free(contents.table.column(h)))
    parts = Parts(tables, droppable, len(sample.row_ids[matrix.keep]), needed_points(contents.gear, view))
    fitted = fit_report(render, images, opts.max_html_mb, opts.seed, plan.image.column, parts)
    files = tuple(images.cells.files) if images is not None else ()
    return Page(fitted.html, fitted.images, fitted.note, files, fitted.sending, shown(fitted.cut))


def _free(column: pa.ChunkedArray) -> bool:
    """A hover field that costs the page no byte (an integer range: render/packed.py)."""
    from embproj.render.packed import costs_nothing

    return pa.types.is_integer(column.type) and not column.null_count and costs_nothing(column.to_numpy())


def _table_note(neighbours, near, cut, opts: Options) -> str:
    """Why the page has no neighbour table, when it has none."""
    from embproj.options import say

    if near is None:
        return neighbours.table_note
    return f"no neighbour table: left out to fit {say('max_html_mb', opts.max_html_mb)}" if cut.neighbours else ""


def _title(source, projections, compare) -> str:
    if compare is not None:
        return compare.title
    return f"{Path(source.name).name}: {' · '.join(p.name for p in projections)}"


def _neighbour_table(neighbours, k: int, projections, table: pa.Table | None = None, group: str | None = None):
    """The page's click-for-neighbours table, encoded once (the budget may render the page again), numbered
    along the first map, its rows also tried grouped by the first colour's classes (`group`, a categorical
    column of `table`: the page's first colour, whose codes the page holds); None when the page has none."""
    from embproj.render.neighbours import encode_neighbours
    from embproj.render.values import category_codes, display_strings

    indices = neighbours.table(k)
    if indices is None or not projections:
        return None
    codes = category_codes(display_strings(table.column(group)))[0] if table is not None and group else None
    return encode_neighbours(indices, projections[0].xy, projections[0].key, codes, group)


def _gear(opts: Options, made: StageResults):
    """The page's sample for its gear, encoded once (render/gear.py), its defaults the first map's parameters."""
    from embproj.render.gear import encode_sample

    if made.page_vectors is None or not made.projections:
        return None
    first = made.projections[0]
    return encode_sample(made.page_vectors, opts, first.algo, first.params)


def _table_facts(neighbours, table) -> dict:
    """`--json`'s neighbours.table: how the page's table is sent and what it weighs, or why there is none."""
    if table is None:
        return {"note": neighbours.table_note or "no neighbour table"}
    graph = neighbours.original
    return {**table.facts(), "exact": graph.exact, **({"recall": graph.recall} if graph.recall is not None else {})}


def _with_clusters(table: pa.Table, structure) -> tuple[pa.Table, str | None]:
    """The plotted rows with each one's cluster as a column of text ("7 · 96%", "noise"): the page colours by it,
    shows it on hover, searches it and puts it in the selection's table and CSV like any other column. Named
    "cluster" unless the table has a column of that name."""
    from embproj.structure.clusters import NOISE_LABEL

    if structure is None or structure.codes is None:
        return table, None
    name = "cluster"
    while name in table.column_names:
        name = f"{name} (embproj)"
    labels = [c.label for c in structure.clusters] + [NOISE_LABEL]  # code -1: the last
    column = pa.array([labels[c] for c in structure.codes.tolist()])
    if table.num_columns == 0:  # only the embedding was read: a table of no columns has no rows to add to
        return pa.table({name: column}), name
    return table.append_column(name, column), name


def _with_change(table: pa.Table, compare, k: int, projections):
    """The plotted rows with each one's change as a column (rounded: it is read, not computed on), and what the
    page shows of the comparison: the movers, and AFTER's neighbour table numbered along the AFTER map."""
    import numpy as np

    from embproj.render.data import CompareView

    name = "change"
    while name in table.column_names:
        name = f"{name} (embproj)"
    change = np.asarray(compare.change, dtype=np.float32)
    column = pa.array(np.round(change.astype(np.float64), 3))
    table = pa.table({name: column}) if table.num_columns == 0 else table.append_column(name, column)
    after = _neighbour_table(compare.after, k, projections[1:])
    graph = compare.after.original
    view = CompareView(change, name, compare.key, compare.movers, compare.summary.k, after, graph.exact, graph.recall)
    return table, view


def _rows_shown(opts: Options, source, plan, sample, matrix) -> tuple[pa.Table, Any]:
    """The columns the page shows of the plotted rows, and their images encoded at --thumb-size (or None)."""
    from embproj.images.cells import encode_images, image_roots

    table = sample.table.select(plan.shown_columns)
    table = table.take(pa.array(matrix.keep)) if len(matrix.keep) < len(sample.row_ids) else table
    if not plan.image.column:
        return table, None
    images = encode_images(
        table.column(plan.image.column),
        plan.image.kind,
        opts.thumb_size,
        plan.image.shape,
        image_roots(str(source.image_root or source.name), opts.image_roots),  # a folder is its own root
        opts.follow_symlinks,
    )
    return table, images
