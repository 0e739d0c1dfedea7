"""What each speed path of fast/ did in this process, for `--json`: its fast way and where, or the public way
and why, or "not used". A command-line run is one process, so this is the run's."""

from __future__ import annotations

from embproj.fast import bokeh_ids, umap_kernels, umap_search, umap_transform


def status() -> dict[str, str]:
    """One line per speed path, keyed by its module's name (fast/versions.py's PATHS)."""
    return {
        "umap_kernels": umap_kernels.status(),
        "umap_search": umap_search.status(),
        "umap_transform": umap_transform.status(),
        "bokeh_ids": bokeh_ids.status(),
    }
