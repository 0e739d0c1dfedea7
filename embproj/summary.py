"""The facts a report's header and footer (and `--json`) give: what was read, kept, dropped, and how to redo it."""

from __future__ import annotations

import os
import shlex
from datetime import datetime, timezone
from importlib import metadata

from .options import Options

LIBRARIES = {"pca": ("scikit-learn",), "umap": ("umap-learn", "numba", "pynndescent"), "tsne": ("openTSNE",)}


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


def describe_run(opts: Options, source, plan, sample, matrix, projections, seconds, warnings) -> dict:
    e = plan.embedding
    dims = f"{matrix.dims} dims"
    if matrix.reduced_to:
        dims += f", PCA to {matrix.reduced_to} first ({matrix.reduced_variance:.1%} of variance kept)"
    what = f'"{e.columns[0]}"' if e.kind == "list" else f"{len(e.columns)} numeric columns"
    sampled = None
    if sample.rows_read > sample.table.num_rows:
        sampled = f"{sample.method}, {sample.table.num_rows:,} of {sample.rows_read:,} rows, seed {opts.seed}"
    return {
        "source": source.name,
        "format": source.format,
        "rows_read": sample.rows_read,
        "rows_sampled": sample.table.num_rows,
        "rows_plotted": len(matrix.keep),
        "rows_dropped": matrix.n_dropped,
        "dropped": dict(matrix.dropped),
        "sampled": sampled,
        "embedding": f"{what}, {dims}",
        "dims": matrix.dims,
        "color": plan.color.column and f'"{plan.color.column}" ({plan.color.kind})',
        "projections": [
            {
                "algo": p.algo,
                "name": p.name,
                "params": p.params,
                "params_text": _params_text(p.params),
                "seconds": round(p.seconds, 3),
                "metrics": p.metrics,
                "metrics_text": metrics_text(p.metrics),
            }
            for p in projections
        ],
        "seed": opts.seed,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "versions": versions_used(opts.algos),
        "warnings": list(warnings),
        "command": reproduce_command(opts, source.name),
        "columns": {
            "embedding": list(e.columns),
            "color": plan.color.column,
            "label": plan.label.column,
            "image": plan.image.column,
            "hover": list(plan.hover),
        },
        "created": created_at(opts.reproducible),
        "reproducible": pinned(opts.reproducible),
    }


def pinned(reproducible: bool) -> bool:
    return reproducible or bool(os.environ.get("SOURCE_DATE_EPOCH"))


def created_at(reproducible: bool) -> str:
    """Now, or SOURCE_DATE_EPOCH when set, or the epoch under --reproducible: the only time a report holds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        when = datetime.fromtimestamp(int(epoch), timezone.utc)
    elif reproducible:
        when = datetime.fromtimestamp(0, timezone.utc)
    else:
        when = datetime.now(timezone.utc).replace(microsecond=0)
    return when.isoformat().replace("+00:00", "Z")


def manifest(summary: dict) -> dict:
    """What the page records about how it was made; timings only when the report is not pinned."""
    keys = ("created", "command", "seed", "versions", "source", "rows_read", "rows_plotted", "dropped", "columns")
    out = {k: summary[k] for k in keys}
    out["projections"] = [{k: p[k] for k in ("algo", "params", "metrics")} for p in summary["projections"]]
    if not summary["reproducible"]:
        out["seconds"] = summary["seconds"]
    return out


def json_summary(summary: dict, output, bytes_written: int, coords_out=None) -> dict:
    """`--json`: one object for CI pipelines."""
    return {
        "input": summary["source"],
        "format": summary["format"],
        "rows": {
            "read": summary["rows_read"],
            "sampled": summary["rows_sampled"],
            "plotted": summary["rows_plotted"],
            "dropped": summary["rows_dropped"],
            "dropped_reasons": summary["dropped"],
        },
        "columns": summary["columns"],
        "dims": summary["dims"],
        "algorithms": [
            {"algo": p["algo"], "params": p["params"], "seconds": p["seconds"], "metrics": p["metrics"]}
            for p in summary["projections"]
        ],
        "seed": summary["seed"],
        "seconds": summary["seconds"],
        "worker": summary.get("worker", False),  # projected in the forked worker (compute.py)
        "peak_rss_mb": _peak_rss(summary.get("worker_peak_rss")),
        "warnings": summary["warnings"],
        "image_bytes": summary.get("image_bytes", 0),
        "output": str(output) if output else None,
        "bytes": bytes_written,
        "coords_out": str(coords_out) if coords_out else None,
        "versions": summary["versions"],
        "command": summary["command"],
        "created": summary["created"],
        **_umap_cache(summary),
    }


def _peak_rss(worker: int | None) -> dict:
    """Peak memory of this process and of the worker (MB, 2^20 bytes); they run at once, so a machine needs
    up to their sum."""
    from .compute import peak_rss

    main = peak_rss()
    mb = lambda b: round(b / 2**20) if b else None  # noqa: E731
    return {"main": mb(main), "worker": mb(worker)}


def _umap_cache(summary: dict) -> dict:
    """Where UMAP's compiled kernels are cached, or why not: the first thing to check when UMAP is slow."""
    if not any(p["algo"] == "umap" for p in summary["projections"]):
        return {}
    if "umap_kernel_cache" in summary:  # the run's own word: the worker that projected knows
        return {"umap_kernel_cache": summary["umap_kernel_cache"]}
    from .umap_fast import kernel_cache_status

    return {"umap_kernel_cache": kernel_cache_status()}


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


def _shape(shape) -> str | None:
    return shape if isinstance(shape, str) or shape is None else "x".join(map(str, shape))


def _params_text(params: dict) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in params.items())


def _fmt(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def reproduce_command(opts: Options, data: str) -> str:
    """The command line that makes this report again (defaults left out)."""
    default = Options()
    args = ["embproj", "project", data, "--algo", opts.algo, "--seed", str(opts.seed)]
    pairs = [
        ("--format", opts.format, default.format),
        ("--encoding", opts.encoding, default.encoding),
        ("--metadata", opts.metadata, default.metadata),
        ("--embedding", opts.embedding, default.embedding),
        ("--columns", ",".join(opts.columns) or None, None),
        ("--color", opts.color, default.color),
        ("--label", opts.label, default.label),
        ("--image", opts.image, default.image),
        ("--hover", ",".join(opts.hover) if opts.hover is not None else None, None),
        ("--max-points", opts.max_points, default.max_points),
        ("--max-dims", opts.max_dims, default.max_dims),
        ("--sample", opts.sample, default.sample),
        ("--thumb-size", opts.thumb_size, default.thumb_size),
        ("--image-shape", _shape(opts.image_shape), None),
        ("--max-html-mb", f"{opts.max_html_mb:g}", f"{default.max_html_mb:g}"),
        ("--neighbours", opts.neighbours, default.neighbours),
    ]
    for algo in opts.algos:
        if algo == "pca":
            continue
        for name, value in vars(opts.params_for(algo)).items():
            pairs.append((f"--{name.replace('_', '-')}", value, getattr(default.params_for(algo), name)))
    if opts.pca.whiten:
        args.append("--whiten")
    if opts.no_images:
        args.append("--no-images")
    if not opts.metrics:
        args.append("--no-metrics")
    for flag, value, dflt in pairs:
        if value is not None and value != dflt:
            args += [flag, str(value)]
    return shlex.join(args)
