"""The typed run summary: what was read, kept, dropped, projected and how to make it again. Built once, after the
stages, from their results (`describe_run`, called by pipeline.py); every rendering of the page shows that one
summary, with the images it carries and the size budget's note beside it; the run's result completes it once with
the page's (`with_page`). Then only read: by the page's header and footer, its manifest, and `--json`."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from embproj.environment import source_date_epoch
from embproj.options import Options, command_line

LIBRARIES = {"pca": ("scikit-learn",), "umap": ("umap-learn", "numba", "pynndescent"), "tsne": ("openTSNE",)}


@dataclass(frozen=True)
class StageResults:
    """What the stages made, handed whole to the run summary and the page (pipeline.py fills it once)."""

    source: Any  # read.base.Source
    plan: Any  # plan.choose.Plan
    sample: Any  # sample.Sample
    matrix: Any  # vectors.matrix.Matrix
    projections: tuple  # project.projectors.Projection, one a map
    graphs: Any  # neighbours.search.Neighbours
    structure: Any  # structure.clusters.Structure
    page_vectors: Any = None  # render.gear.PageVectors: the rows the page's gear maps again; None for no gear
    compare: Any = None  # `embproj compare`'s findings beside its two maps (comparison/run.py's Comparison)
    lenses: Any = None  # structure.lenses.Lenses


@dataclass(frozen=True)
class Rows:
    read: int
    sampled: int
    plotted: int
    dropped: int
    reasons: dict[str, int] = field(default_factory=dict)  # why rows were dropped → how many
    shown: int | None = None  # the points on the page, when --max-html-mb left some of the plotted ones out

    @property
    def on_page(self) -> int:
        """The points the page holds: every plotted one unless the size budget thinned them."""
        return self.plotted if self.shown is None else self.shown

    @property
    def points_text(self) -> str:
        """`1,797 points`, or `2,060 points on the page (5,000 plotted)` when the size budget thinned them."""
        if self.shown is not None:
            return f"{self.shown:,} point{'s' if self.shown != 1 else ''} on the page ({self.plotted:,} plotted)"
        return f"{self.plotted:,} point{'s' if self.plotted != 1 else ''}"


@dataclass(frozen=True)
class ProjectionFacts:
    algo: str
    name: str
    params: dict[str, Any]
    seconds: float
    metrics: dict[str, Any]
    fitted: int = 0  # rows the model was fitted on
    placed: int = 0  # rows placed by the fitted model
    cached: str | None = None  # "hit" or "miss" in the projection cache, None when it was off

    @property
    def params_text(self) -> str:
        text = ", ".join(f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in self.params.items())
        if self.placed:
            text += f"; fitted on {self.fitted:,} rows, {self.placed:,} placed by the fitted model"
        return text

    @property
    def metrics_text(self) -> str:
        return metrics_text(self.metrics)


@dataclass(frozen=True)
class ImageFacts:
    """The images the page carries, as the size budget left them."""

    column: str | None
    shown: int
    points: int
    size: int
    bytes: int

    @property
    def text(self) -> str:
        text = f"{self.shown:,} of {self.points:,} points, {self.size} px, {self.bytes / 1e6:.2f} MB"
        return f'"{self.column}": {text}' if self.column else text


@dataclass(frozen=True)
class RunSummary:
    source: str
    format: str
    rows: Rows
    sampled: str | None  # how the rows were sampled, when not every row was kept
    embedding: str  # the embedding in words: column(s), dims, pre-reduction
    dims: int
    scale: dict[str, str]  # how each dimension was rescaled ("none", "standard", "robust") and why
    color: str | None
    columns: dict[str, Any]  # the roles: embedding, color, label, image, hover
    projections: tuple[ProjectionFacts, ...]
    seed: int
    seconds: dict[str, float]  # each stage before the page
    versions: dict[str, str]
    warnings: tuple[str, ...]
    command: str | None  # to make it again; None for a table handed to the Python API
    created: str
    reproducible: bool  # time pinned, no timings in the page
    neighbours: dict[str, Any] = field(default_factory=dict)  # how each neighbour graph was found (knn.Graph)
    images: ImageFacts | None = None
    engine: str = "local"  # where the batch steps ran (--json only: the page is the same on every engine)
    clusters: dict[str, Any] = field(default_factory=dict)  # structure.Structure.facts(): found, noise, map, …
    compare: Any = None  # `embproj compare`: comparison/change.py's ChangeSummary (the header, --json's "compare")
    lenses: dict[str, Any] = field(default_factory=dict)  # structure.lenses.Lenses.facts(): labels, trust

    @property
    def clusters_text(self) -> str:
        """The header's "clusters" fact: `10 by HDBSCAN on the UMAP map (min cluster size 64), 31 points noise`."""
        c = self.clusters
        if not c.get("found"):
            return ""
        text = f"{c['found']:,} by HDBSCAN on the {c['map_name']} map (min cluster size {c['min_cluster_size']:,})"
        if c["clustered_points"] < self.rows.plotted:
            text += f", found on a seeded {c['clustered_points']:,} points"
        return text + f", {c['noise']:,} point{'s' if c['noise'] != 1 else ''} noise; labels: {c['names']}"


def describe_run(opts: Options, made: StageResults, seconds: dict, warnings: tuple, table=None) -> RunSummary:
    """The summary of a run from what its stages made; `table`: the page's neighbour table's facts
    (render.assemble.Contents), under neighbours.table."""
    source, plan, sample, matrix, projections = made.source, made.plan, made.sample, made.matrix, made.projections
    graphs, structure = made.graphs, made.structure
    e = plan.embedding
    dims = f"{matrix.dims} dims"
    if matrix.reduced_to:
        dims += f", PCA to {matrix.reduced_to} first ({matrix.reduced_variance:.1%} of variance kept)"
    what = f'"{e.columns[0]}"' if e.kind == "list" else f"{len(e.columns)} numeric columns"
    sampled = None
    if sample.rows_read > len(sample.row_ids):
        sampled = f"{sample.method}, {len(sample.row_ids):,} of {sample.rows_read:,} rows, seed {opts.seed}"
    return RunSummary(
        source=source.name,
        format=source.format,
        rows=Rows(sample.rows_read, len(sample.row_ids), len(matrix.keep), matrix.n_dropped, dict(matrix.dropped)),
        sampled=sampled,
        embedding=f"{what}, {dims}",
        dims=matrix.dims,
        scale={"method": plan.scaling.method, "reason": plan.scaling.reason, "text": plan.scaling.text},
        color=plan.color.column and color_fact(plan.color.column, plan.color.kind),
        columns={
            "embedding": list(e.columns),
            "color": plan.color.column,
            "label": plan.label.column,
            "image": plan.image.column,
            "hover": list(plan.hover),
        },
        projections=tuple(
            ProjectionFacts(p.algo, p.name, p.params, round(p.seconds, 3), p.metrics, p.fitted, p.placed, p.cached)
            for p in projections
        ),
        seed=opts.seed,
        engine=opts.engine,
        seconds={k: round(v, 3) for k, v in seconds.items()},
        versions=versions_used([p.algo for p in projections]),
        warnings=tuple(warnings),
        command=command_line(opts),
        created=created_at(opts.reproducible),
        reproducible=pinned(opts.reproducible),
        neighbours={**(graphs.facts() if graphs is not None else {}), **({"table": table} if table else {})},
        clusters=structure.facts() if structure is not None else {},
        lenses=made.lenses.facts(sample.row_ids[matrix.keep]) if made.lenses is not None else {},
    )


def color_fact(column: str, kind: str | None) -> str:
    """The header's "colour" fact, `"target" (categorical)`; the page shows the one of each colour it switches to."""
    return f'"{column}" ({kind})'


def with_page(
    summary: RunSummary, images: ImageFacts | None, *notes: str | None, shown: int | None = None
) -> RunSummary:
    """The summary as the page written shows it: with its images, the size budget's notes and, when the budget
    thinned the points, how many the page holds (`shown`)."""
    rows = summary.rows if shown is None else replace(summary.rows, shown=shown)
    return replace(summary, images=images, rows=rows, warnings=summary.warnings + tuple(n for n in notes if n))


def versions_used(algos) -> dict[str, str]:
    names = ["embproj", "numpy", "pyarrow", "bokeh", "scikit-learn"]
    for algo in algos:
        names += [n for n in LIBRARIES.get(algo, ()) if n not in names]
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


def pinned(reproducible: bool) -> bool:
    return reproducible or source_date_epoch() is not None


def created_at(reproducible: bool) -> str:
    """Now, or SOURCE_DATE_EPOCH when set, or the epoch under --reproducible: the only time a report holds."""
    epoch = source_date_epoch()
    if epoch is not None:
        when = datetime.fromtimestamp(epoch, timezone.utc)
    elif reproducible:
        when = datetime.fromtimestamp(0, timezone.utc)
    else:
        when = datetime.now(timezone.utc).replace(microsecond=0)
    return when.isoformat().replace("+00:00", "Z")


def manifest(summary: RunSummary) -> dict:
    """What the page records about how it was made; timings only when the report is not pinned."""
    out: dict[str, Any] = {
        "created": summary.created,
        "command": summary.command,
        "seed": summary.seed,
        "versions": summary.versions,
        "source": summary.source,
        "rows_read": summary.rows.read,
        "rows_plotted": summary.rows.plotted,
        "points_on_page": summary.rows.on_page,
        "dropped": summary.rows.reasons,
        "columns": summary.columns,
        "scale": summary.scale["method"],
        "projections": [
            {"algo": p.algo, "params": p.params, "metrics": p.metrics, "fitted": p.fitted, "placed": p.placed}
            for p in summary.projections
        ],
    }
    if summary.compare is not None:
        out["compare"] = summary.compare.facts()
    if not summary.reproducible:
        out["seconds"] = summary.seconds
    return out


def json_summary(result) -> dict:
    """`--json`: one object for CI pipelines, from a pipeline `Result` (every stage's seconds, the page's and the
    write's too, and the files written)."""
    from embproj.fast.status import status as fast_status

    s: RunSummary = result.summary
    written = {w.kind: w for w in result.written}
    report, coords = written.get("report"), written.get("coords")
    out = {
        "input": s.source,
        "format": s.format,
        "rows": {
            "read": s.rows.read,
            "sampled": s.rows.sampled,
            "plotted": s.rows.plotted,
            "on_page": s.rows.on_page,
            "dropped": s.rows.dropped,
            "dropped_reasons": s.rows.reasons,
        },
        "columns": s.columns,
        "dims": s.dims,
        "scale": {"method": s.scale["method"], "reason": s.scale["reason"]},
        "algorithms": [
            {
                "algo": p.algo,
                "params": p.params,
                "seconds": p.seconds,
                "metrics": p.metrics,
                "fitted": p.fitted,
                "placed": p.placed,
                "cache": p.cached or "off",
            }
            for p in s.projections
        ],  # fmt: skip
        "neighbours": s.neighbours,
        "clusters": s.clusters,
        "labels": s.lenses.get("labels"),
        "trust": s.lenses.get("trust", {}),
        "lenses": {"notes": s.lenses.get("notes", [])},  # why a lens is missing
        "seed": s.seed,
        "engine": s.engine,
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
        "peak_rss_mb": peak_rss_mb(),
        "warnings": list(s.warnings),
        "image_bytes": s.images.bytes if s.images else 0,
        "images": asdict(s.images) if s.images else None,
        "output": str(report.path) if report else None,
        "bytes": report.bytes if report else 0,
        "coords_out": str(coords.path) if coords else None,
        "versions": s.versions,
        "command": s.command,
        "created": s.created,
    }
    if s.compare is not None:
        out["compare"] = s.compare.facts()
    out["fast"] = fast_status()  # the first thing to check when a run is slow or a page not the same bytes
    return out


def peak_rss_mb() -> int | None:
    """This process's peak resident memory in MB (2^20 bytes); None where the platform does not say."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round((peak if sys.platform == "darwin" else peak * 1024) / 2**20)


def one_line(summary: RunSummary, html: str) -> str:
    """`<embproj report of digits.parquet: UMAP map of 1,797 points, 4.2 MB, no warnings>`: a result's repr."""
    maps = " · ".join(p.name for p in summary.projections) + (" map" if len(summary.projections) == 1 else " maps")
    warned = len(summary.warnings)
    said = f"{warned} warning{'s' if warned != 1 else ''}" if warned else "no warnings"
    size = len(html.encode("utf-8", "replace")) / 1e6
    source = summary.source.replace("\\", "/").rsplit("/", 1)[-1] or summary.source
    return f"<embproj report of {source}: {maps} of {summary.rows.points_text}, {size:.1f} MB, {said}>"


def metrics_text(metrics: dict) -> str:
    parts = []
    if "explained_variance_ratio" in metrics:
        parts.append(f"explained variance {sum(metrics['explained_variance_ratio']):.1%}")
    if "trustworthiness" in metrics:
        parts.append(f"trustworthiness {metrics['trustworthiness']:.3f}")
    for key, value in metrics.items():
        if key.startswith("knn_recall@"):
            parts.append(f"kNN recall@{key.split('@')[1]} {value:.3f}")
    return " · ".join(parts)


def _fmt(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
