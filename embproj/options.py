"""Options: every choice a user can make, in one frozen dataclass shared by the CLI and the Python API."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

ALGOS = ("pca", "umap", "tsne")
FORMATS = ("csv", "tsv", "parquet", "json", "jsonl")
SAMPLE_METHODS = ("random", "stratified")

DEFAULT_MAX_POINTS = 5_000
DEFAULT_MAX_DIMS = 50
DEFAULT_SEED = 0
DEFAULT_THUMB_SIZE = 64
DEFAULT_NEIGHBOURS = 10  # nearest rows a click on a point rings
DEFAULT_MAX_HTML_MB = 50.0  # room for 5,000 points with 64 px photos (~20 MB); still opens in seconds


@dataclass(frozen=True)
class UmapParams:
    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "euclidean"


@dataclass(frozen=True)
class TsneParams:
    perplexity: float = 30.0
    learning_rate: float | None = None  # None: openTSNE's "auto" (n / exaggeration)
    iterations: int = 500
    early_exaggeration: float = 12.0
    metric: str = "euclidean"


@dataclass(frozen=True)
class PcaParams:
    whiten: bool = False


@dataclass(frozen=True)
class Options:
    data: Path | None = None
    output: Path | None = None
    format: str | None = None
    encoding: str | None = None
    metadata: Path | None = None  # per-row fields joined to the vectors (TensorBoard's metadata.tsv)
    algo: str = "umap"
    embedding: str | None = None
    columns: tuple[str, ...] = ()
    color: str | None = None
    label: str | None = None
    image: str | None = None
    hover: tuple[str, ...] | None = None
    no_images: bool = False
    thumb_size: int = DEFAULT_THUMB_SIZE
    image_shape: str | tuple[int, ...] | None = None  # flat pixel lists: "28x28", "32x32x3" or (28, 28)
    max_html_mb: float = DEFAULT_MAX_HTML_MB  # smaller thumbnails, then fewer images, to keep the file within
    max_points: int = DEFAULT_MAX_POINTS
    max_dims: int = DEFAULT_MAX_DIMS
    sample: str = "random"
    seed: int = DEFAULT_SEED
    title: str | None = None
    coords_out: Path | None = None
    metrics: bool = True
    neighbours: int = DEFAULT_NEIGHBOURS  # 0: no neighbour table
    reproducible: bool = False  # pin the manifest's time (as SOURCE_DATE_EPOCH does) and leave timings out of the page
    pca: PcaParams = field(default_factory=PcaParams)
    umap: UmapParams = field(default_factory=UmapParams)
    tsne: TsneParams = field(default_factory=TsneParams)

    def with_(self, **changes) -> Options:
        return replace(self, **changes)

    @property
    def algos(self) -> tuple[str, ...]:
        return ALGOS if self.algo == "all" else (self.algo,)

    def params_for(self, algo: str):
        return getattr(self, algo)
