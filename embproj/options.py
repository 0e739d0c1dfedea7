"""Every option, declared once: a field of `Options` whose metadata says its flags, help, range or choices, which
algorithms it applies to and which commands take it. The Typer commands (cli.py), the Python API's keyword check
(keywords.py), the checks (`validate`), the parameters in `--json` (`params_for`) and the page's "to make it again"
command (`command_line`) are all derived from these declarations. Adding an option is one field here plus its use.
"""

from __future__ import annotations

import contextvars
import json
import math
import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from embproj.errors import OptionError
from embproj.text.words import closest, guessed

ALGOS = ("pca", "umap", "tsne")
ALGO_NAMES = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
ALGO_ALIASES = {"t-sne": "tsne", "t_sne": "tsne"}  # besides any case: UMAP, PCA, T-SNE
DEFAULT_ALGO = "umap"  # when --algo is not given,
SMALL_TABLE_ALGO = "pca"  # or this instead, for a table too small for it (project.runnable)
FORMATS = ("csv", "tsv", "parquet", "json", "jsonl")
SAMPLE_METHODS = ("random", "stratified")
ENGINES = ("local", "dask")
UMAP_METRICS = ("euclidean", "cosine", "manhattan", "correlation", "chebyshev", "minkowski")
TSNE_METRICS = ("euclidean", "cosine", "manhattan", "correlation")
COORDS_SUFFIXES = (".parquet", ".csv")
CLUSTERS = ("auto", "none")
SCALES = ("auto", "none", "standard", "robust")
MISSING_CHOICES = ("auto", "drop", "fill")
# --scale auto standardises many numeric columns when the most spread one's standard deviation is this many times
# the median column's: swiss's six percentages are within 4.3×, iris's four lengths in cm 2.3×, an embedding's
# dimensions or the digits' pixels under 2×; USArrests' rates differ 8.9× (assaults hold 96% of the variance),
# penguins' measurements 147× (vectors/scaling.py)
SPREAD_RATIO = 5.0
# … or when, of three or more columns, the most spread one would hold this share of the variance as read, though the
# spreads are closer: texmex's winter air (O3, NO2, NO, SO2, PM10) are within 4.9×, and NO alone holds 88%
DOMINANT_SHARE = 0.85
CLUSTER_MIN_ROWS = 200  # --clusters auto finds clusters from this many plotted rows on
# --min-cluster-size's default, × √points: the digits' ten digits as ten clusters (benchmarks/explain.py)
MIN_CLUSTER_SCALE = 1.5
MAX_CHARTS = 6
MAX_NEIGHBOURS = 100  # a click rings at most this many; the page carries n × k int32
# the page's gear maps its sample again in the browser: 2,000 rows take seconds there (render/gear.py); 10,000
# rows of 50 dimensions add ~2 MB to the page and UMAP on them takes about a minute in a worker
PAGE_SAMPLE = 2_000
MAX_PAGE_SAMPLE = 10_000
GEAR_METRICS = ("euclidean", "cosine")  # the metrics the page's projector computes
MAPS = ("project", "compare")  # the commands that make a report
BOTH = (*MAPS, "inspect")  # and the one that only reads


@dataclass(frozen=True)
class Declared:
    """What an option is, beside its name, type and default (the dataclass field's own)."""

    flags: tuple[str, ...]  # empty for the positional DATA argument
    help: str
    commands: tuple[str, ...] = MAPS
    algos: tuple[str, ...] = ()  # the algorithms it applies to; () for every run
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the range excludes `low`
    integer: bool = False
    choices: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)  # other names for choices, e.g. t-sne → tsne
    algo_choices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # narrower choices per algorithm
    suffixes: tuple[str, ...] = ()  # a path option: the name must end so
    listed: bool = False  # comma-separated on the command line, a tuple here
    repeated: bool = False  # given once per value on the command line (paths, which may hold commas), a tuple here
    folders: bool = False  # each value must be an existing folder
    words: dict[str, Any] = field(default_factory=dict)  # words the command line takes for values: "all" → None
    in_command: bool = True  # part of "to make it again"
    param: bool = True  # with `algos`: a parameter of those algorithms' projectors (not only a step before them)
    metavar: str = "DATA"  # a positional argument's name

    @property
    def flag(self) -> str:
        """The option's name as the user types it: `--max-points`, `--no-metrics`'s `--metrics`; an argument's
        name in the help (DATA, AFTER)."""
        return self.flags[0].split("/")[0] if self.flags else self.metavar

    def help_text(self) -> str:
        """Help as `--help` shows it: which algorithm, what it does, and its range or choices."""
        text = self.help
        if self.algos and set(self.algos) != set(ALGOS):
            text = f"{' and '.join(ALGO_NAMES[a] for a in self.algos)}: {text}"
        limits = self.range_text() or (" | ".join(self.choices) if self.choices else "")
        return f"{text} ({limits})." if limits else f"{text}."

    def range_text(self) -> str:
        """`from 2 to 1000`, `above 0, up to 1000`, `1 or more`, `above 0`, `up to 10`."""
        if self.low is None:
            return "" if self.high is None else f"up to {_number(self.high)}"
        low = _number(self.low)
        if self.high is None:
            return f"above {low}" if self.low_open else f"{low} or more"
        return f"above {low}, up to {_number(self.high)}" if self.low_open else f"from {low} to {_number(self.high)}"

    def canonical(self, value: str) -> str:
        """A choice as declared, from any case or an alias (`UMAP`, `t-SNE`); anything else as given, for
        `validate` to refuse."""
        folded = value.strip().lower()
        folded = self.aliases.get(folded, folded)
        return folded if folded in self.choices else value


def _number(value: float) -> str:
    return f"{int(value):d}" if float(value).is_integer() else f"{value:g}"


def option(default: Any, *flags: str, help: str, **declared: Any) -> Any:
    """A field of `Options`: its default and its declaration (typed as Any so that a field reads as its value)."""
    return field(default=default, metadata={"declared": Declared(flags, help, **declared)})


@dataclass(frozen=True)
class Options:
    data: Path | None = option(None, help="CSV, TSV, Parquet (file or folder), JSON or JSON Lines table", commands=BOTH)
    after: Path | None = option(
        None, help="The AFTER table: the same rows embedded another way, matched by --key; leave it out to compare "
        "two vector columns of one table (--against)", commands=("compare",), metavar="AFTER",
    )  # fmt: skip
    against: str | None = option(
        None, "--against", help="The AFTER embedding's column: in the one table given, or in AFTER when its name is "
        "not --embedding's", commands=("compare",),
    )  # fmt: skip
    key: str | None = option(
        None, "--key", help="Column that names each row in both tables [default: a column of unique identifiers "
        "in both, else the row order when the row counts are equal]", commands=("compare",),
    )  # fmt: skip
    max_change: float | None = option(
        None, "--max-change", help="Exit with code 3 (the report written all the same) when the mean neighbourhood "
        "change is above this: a CI gate", low=0, high=1, commands=("compare",),
    )  # fmt: skip
    output: Path | None = option(
        None, "--output", "-o", help="Report path [default: DATA-STEM.ALGO.html here, compare's BEFORE-STEM.compare."
        "html]; a pipe or device such as /dev/stdout is written into, a file is replaced whole",
    )  # fmt: skip
    algo: str | None = option(
        None, "--algo", "-a", help=f"The map, or all three side by side [default: {DEFAULT_ALGO}, or pca for a table "
        "too small for it]", choices=(*ALGOS, "all"), aliases=ALGO_ALIASES,
    )  # fmt: skip
    format: str | None = option(None, "--format", help="Read as this format, whatever the suffix", choices=FORMATS,
                                commands=BOTH)  # fmt: skip
    encoding: str | None = option(None, "--encoding", help="Text encoding of CSV/TSV/JSON files (default UTF-8)",
                                  commands=BOTH)  # fmt: skip
    table: str | None = option(
        None, "--table", help="Which table to read from a folder of several: a W&B run's or artifact's table key, a "
        "TensorBoard embedding's tag, a saved DatasetDict's split (the error lists them)", commands=BOTH,
    )  # fmt: skip
    metadata: Path | None = option(
        None, "--metadata", help="TSV of per-row fields for a headerless vectors file (TensorBoard's metadata.tsv)",
        commands=BOTH,
    )  # fmt: skip
    embedding: str | None = option(None, "--embedding", "-e", help='Column of vectors (lists, arrays or "[…]" text)',
                                   commands=BOTH)  # fmt: skip
    columns: tuple[str, ...] = option((), "--columns", help="Numeric columns as dimensions, by globs: 'dim_*,f?'",
                                      commands=BOTH, listed=True)  # fmt: skip
    color: str | None = option(None, "--color", "-c", help="Column to colour by; '' for none", commands=BOTH)
    label: str | None = option(None, "--label", help="Column shown as each point's title on hover", commands=BOTH)
    scale: str = option(
        "auto", "--scale", help="Rescale each numeric column before the maps and the neighbours: standard (mean 0, "
        "standard deviation 1), robust (median 0, interquartile range 1), none; auto standardises columns whose "
        f"spreads differ {SPREAD_RATIO:g}× or more (grams beside millimetres) or of which one would hold "
        f"{DOMINANT_SHARE:.0%} of the variance, never one column of vectors",
        choices=SCALES, commands=BOTH,
    )  # fmt: skip
    missing: str = option(
        "auto", "--missing", help="Rows missing a number in a numeric column of the embedding: auto leaves out the "
        "columns missing most when over a fifth of the first rows miss one (as many as keep the most numbers) and "
        "drops the rest; drop keeps every column and drops those rows; fill fills each gap with its column's "
        "median in the first rows",
        choices=MISSING_CHOICES, commands=BOTH,
    )  # fmt: skip
    image: str | None = option(None, "--image", help="Column of images: pixel arrays, bytes, paths, base64",
                               commands=BOTH)  # fmt: skip
    hover: tuple[str, ...] | None = option(None, "--hover", help="Columns shown on hover, comma-separated",
                                           commands=BOTH, listed=True)  # fmt: skip
    charts: tuple[str, ...] | None = option(
        None, "--charts", help=f"Columns charted beside the map (histograms, top-category bars), at most {MAX_CHARTS}, "
        "comma-separated; '' for none [default: label-like and numeric columns]", commands=BOTH, listed=True,
    )  # fmt: skip
    clusters: str = option("auto", "--clusters", help="Find clusters with HDBSCAN and label them on the map; auto: "
                           f"from {CLUSTER_MIN_ROWS} points", choices=CLUSTERS)  # fmt: skip
    min_cluster_size: int | None = option(None, "--min-cluster-size", help="Fewest points a cluster holds [default: "
                                          f"{MIN_CLUSTER_SCALE:g} × √points]", low=2, integer=True)  # fmt: skip
    text: str | None = option(None, "--text", help="Column of text: name each cluster by its most distinctive "
                              "words [default: the label column's majority value]", commands=BOTH)  # fmt: skip
    no_images: bool = option(False, "--no-images", help="Leave images out of the report", commands=BOTH)
    image_roots: tuple[Path, ...] = option(
        (), "--image-root", help="Also read image files inside this folder (repeat for more); otherwise image paths "
        "are read only inside the data file's folder", commands=BOTH, repeated=True, folders=True,
    )  # fmt: skip
    follow_symlinks: bool = option(
        False, "--follow-symlinks", help="Read the files that symlinks in the data folder lead to outside it (a "
        "folder of links into a cache, such as a Hugging Face hub snapshot or a DVC checkout); otherwise such a "
        "link is refused", commands=BOTH,
    )  # fmt: skip
    thumb_size: int = option(64, "--thumb-size", help="Longest side of hover images, in pixels", low=8, high=1024,
                             integer=True)  # fmt: skip
    image_shape: str | tuple[int, ...] | None = option(
        None, "--image-shape", help="Shape of flat pixel lists: HxW or HxWxC, e.g. 28x28 or 32x32x3", commands=BOTH
    )
    # room for 5,000 points with 64 px photos (~20 MB); still opens in seconds
    max_html_mb: float = option(
        50.0, "--max-html-mb", low=0, low_open=True,
        help="Keep the report within this many MB (10^6 bytes): smaller images first (down to 32 px), then images "
        "for a seeded subset of points, then no neighbour table, then a seeded subset of the hover fields, then of "
        "the points. Over even so: written anyway, with a warning (18 sends by mail)",
    )  # fmt: skip
    # 5,000: UMAP answers in seconds and the page stays light
    max_points: int | None = option(
        5_000, "--max-points", "-n", help="Rows to plot at most, a seeded sample beyond; 'all' for every row",
        low=1, integer=True, commands=BOTH, words={"all": None},
    )  # fmt: skip
    # 20,000: UMAP's fit of 20,000 rows takes seconds, and placing the rest keeps the map's quality (RESULTS.md)
    fit_points: int = option(
        20_000, "--fit-points", help="Rows UMAP and t-SNE are fitted on (a seeded sample of the plotted rows); the "
        "other plotted rows are placed by the fitted model, in batches", low=100, integer=True,
    )  # fmt: skip
    max_dims: int = option(50, "--max-dims", help="PCA pre-reduction to this many dimensions first", low=2,
                           integer=True, algos=("umap", "tsne"), param=False, commands=BOTH)  # fmt: skip
    sample: str = option("random", "--sample", help="How rows are sampled; stratified keeps every colour class",
                         choices=SAMPLE_METHODS, commands=BOTH)  # fmt: skip
    seed: int = option(0, "--seed", help="Seed for sampling and projection", low=0, high=2**32 - 1, integer=True,
                       commands=BOTH)  # fmt: skip
    title: str | None = option(None, "--title", help="Report title [default: file name and algorithm]")
    n_neighbors: int = option(15, "--n-neighbors", help="neighbourhood size", low=2, high=1000, integer=True,
                              algos=("umap",))  # fmt: skip
    min_dist: float = option(0.1, "--min-dist", help="how tightly points pack", low=0, high=1, algos=("umap",))
    metric: str = option(
        "euclidean", "--metric", help="distance between vectors, also for the neighbours and quality numbers",
        choices=UMAP_METRICS, algo_choices={"tsne": TSNE_METRICS}, algos=("umap", "tsne"),
    )  # fmt: skip
    perplexity: float = option(30.0, "--perplexity", help="effective neighbours", low=0, high=1000, low_open=True,
                               algos=("tsne",))  # fmt: skip
    learning_rate: float | None = option(None, "--learning-rate", help="step size [default: auto, n/12]", low=0,
                                         low_open=True, algos=("tsne",))  # fmt: skip
    iterations: int = option(500, "--iterations", help="optimisation steps after early exaggeration", low=10,
                             high=100_000, integer=True, algos=("tsne",))  # fmt: skip
    early_exaggeration: float = option(12.0, "--early-exaggeration", help="early exaggeration factor", low=1,
                                       high=1000, algos=("tsne",))  # fmt: skip
    whiten: bool = option(False, "--whiten", help="scale components to unit variance", algos=("pca",))
    page_sample: int = option(
        PAGE_SAMPLE, "--page-sample", help="Rows the page carries for its gear, which maps them again in the browser "
        "with another algorithm, parameters or columns (a seeded sample of the plotted rows); 0 for no gear",
        low=0, high=MAX_PAGE_SAMPLE, integer=True, commands=("project",),
    )  # fmt: skip
    coords_out: Path | None = option(
        None, "--coords-out", help="Also write row, x, y per algorithm and the label (.parquet or .csv); compare: "
        "each row's key, both maps' x and y (AFTER's aligned to BEFORE's) and its change", suffixes=COORDS_SUFFIXES,
        commands=MAPS,
    )  # fmt: skip
    metrics: bool = option(True, "--metrics/--no-metrics", help="Measure trustworthiness and kNN recall")
    lenses: bool = option(
        True, "--lenses/--no-lenses", help="Read each point's neighbours for the page: label agreement and the "
        "suspect labels (with a label column), each map's trust per point, and the images drawn on the map",
    )  # fmt: skip
    neighbours: int = option(
        10, "--neighbours", help="Nearest rows a click on a point rings (by --metric; approximate above ~45,000 "
        "rows); compare: the neighbourhood whose change is measured", low=0, high=MAX_NEIGHBOURS, integer=True,
    )  # fmt: skip
    neighbour_rows: int = option(
        1_000_000, "--neighbour-rows", help="Up to how many points the page gets its neighbour table; above the "
        "exact search's ~45,000 rows an approximate one finds them, its recall measured (1,000,000 × 128: ~2 "
        "minutes, kept in the projection cache)",
        low=0, high=1_000_000, integer=True,  # knn.TABLE_ROWS
    )  # fmt: skip
    cache: bool = option(
        True, "--cache/--no-cache", help="Reuse the coordinates of an earlier run on the same vectors with the same "
        "projection options (~/.cache/embproj/projections)", in_command=False, commands=MAPS,
    )  # fmt: skip
    # where the batch steps run; the same coordinates either way, so none of these is in "to make it again"
    engine: str = option(
        "local", "--engine", help="Where reading, sampling and placing rows run: this process, or a Dask cluster "
        "(pip install 'embproj[dask]'); the same map either way", choices=ENGINES, in_command=False,
    )  # fmt: skip
    scheduler: str | None = option(
        None, "--scheduler", help="With --engine dask: the scheduler's address, e.g. tcp://10.0.0.5:8786 [default: "
        "DASK_SCHEDULER_ADDRESS, else a cluster on this machine]", in_command=False, commands=("project",),
    )  # fmt: skip
    timeout: float = option(
        600.0, "--timeout", help="With --engine dask: give up when the scheduler does not answer, or a task of the "
        "run is still not done, after this many seconds of waiting", low=0, low_open=True, in_command=False,
        commands=("project",),
    )  # fmt: skip
    reproducible: bool = option(
        False, "--reproducible", help="Byte-identical output: pin the time (or set SOURCE_DATE_EPOCH), no timings in "
        "the page",
    )  # fmt: skip

    def __post_init__(self) -> None:
        for f, d in declared():  # `--algo UMAP` and `algo="t-SNE"` mean umap and tsne, whichever way in
            value = getattr(self, f.name)
            if d.choices and isinstance(value, str):
                object.__setattr__(self, f.name, d.canonical(value))

    def with_(self, **changes) -> Options:
        return replace(self, **changes)

    @property
    def algos(self) -> tuple[str, ...]:
        """The algorithms asked for (DEFAULT_ALGO when none was); `project.runnable` says which the rows allow."""
        return ALGOS if self.algo == "all" else (self.algo or DEFAULT_ALGO,)

    def params_for(self, algo: str) -> dict[str, Any]:
        """The options that apply to `algo`, by name: what its projector takes and `--json` reports."""
        return {f.name: getattr(self, f.name) for f, d in declared() if algo in d.algos and d.param}


def declared(command: str | None = None) -> Iterator[tuple[Field, Declared]]:
    """Every option's field and declaration, in order; only `command`'s when given."""
    for f in fields(Options):
        d: Declared = f.metadata["declared"]
        if command is None or command in d.commands:
            yield f, d


DEFAULTS = Options()


# -- how messages name an option ------------------------------------------------------------------------------

_PYTHON_NAMES = contextvars.ContextVar("embproj_python_names", default=False)
NOTHING: Any = object()  # `say` without a value


@contextmanager
def python_names() -> Iterator[None]:
    """Within it, messages name options as the Python API's keywords (`algo="pca"`), not as flags (`--algo pca`):
    the API runs the pipeline inside it."""
    token = _PYTHON_NAMES.set(True)
    try:
        yield
    finally:
        _PYTHON_NAMES.reset(token)


def say(name: str, value: Any = NOTHING, *, quote: bool = False, bare: bool = False, short: bool = False) -> str:
    """Option `name` (a field of `Options`), with `value`, the way the user gives it: `--algo pca` on the command
    line, `algo="pca"` in Python; without a value `--color` or `color=...`. `quote` shows a value as typed, in
    quotes (`--algo "nope"`); `bare` as typed, unquoted (a reason to read, `--columns dim_*`, not a command to
    paste); otherwise it is quoted only where a shell needs it. `short`: the one-letter flag (`-o`) on the
    command line."""
    d = next(d for f, d in declared() if f.name == name)
    if _PYTHON_NAMES.get():
        return f"{name}=..." if value is NOTHING else f"{name}={python_literal(value)}"
    flag = next((f for f in d.flags if not f.startswith("--")), d.flag) if short else d.flag
    if value is NOTHING:
        return flag
    words = _flag_words(d, value)
    flags = {d.flag, *d.flags[0].split("/")} if d.flags else set()
    shown = (w if w in flags or bare else f'"{w}"' if quote else shlex.quote(w) for w in words)
    return " ".join(flag if w == d.flag else w for w in shown)


def python_literal(value) -> str:
    """A value as Python source: strings and paths in double quotes, lists in brackets, floats exactly."""
    if isinstance(value, (str, Path)):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(python_literal, value)) + "]"
    return _text(value) if isinstance(value, float) else repr(value)


# -- checks ---------------------------------------------------------------------------------------------------


def validate(opts: Options) -> Options:
    """Every value in its range and among its choices, before any work: `OptionError` naming the option (as
    `say` does) and the range otherwise. Ranges hold whether the algorithm runs or not (a typo is a typo);
    choices narrower for one algorithm (t-SNE's metrics) hold where it runs."""
    for f, d in declared():
        value = getattr(opts, f.name)
        if value is None:
            continue
        if d.choices and value not in d.choices:
            raise _not_supported(f.name, value, d.choices)
        for algo, narrower in d.algo_choices.items():
            if algo in opts.algos and value not in narrower:
                raise _not_supported(f.name, value, narrower, by=ALGO_NAMES[algo])
        if d.low is not None or d.high is not None:
            _check_range(f.name, d, value)
        if d.suffixes and Path(value).suffix.lower() not in d.suffixes:
            raise OptionError(f"{say(f.name, value)}: unknown suffix", f"end the name in {' or '.join(d.suffixes)}")
        for folder in value if d.folders else ():
            if not Path(folder).is_dir():
                raise OptionError(f"{say(f.name, (folder,), quote=True)} is not a folder",
                                  "give a folder that holds the images")  # fmt: skip
    parse_image_shape(opts.image_shape)
    return opts


def _check_range(name: str, d: Declared, value) -> None:
    number = float(value)
    below = d.low is not None and (number <= d.low if d.low_open else number < d.low)
    above = d.high is not None and number > d.high
    if not math.isfinite(number) or below or above or (d.integer and int(number) != number):
        kind = "a whole number" if d.integer else "a number"
        then = "," if d.low is not None and d.high is None and not d.low_open else ""  # "a whole number, 2 or more"
        raise OptionError(f"{say(name, value)} is out of range", f"give {kind}{then} {d.range_text()}")


def _not_supported(name: str, value, choices, by: str | None = None) -> OptionError:
    what = f"{say(name, value, quote=True)} is not supported" + (f" by {by}" if by else "")
    guess = closest(str(value), choices)
    return OptionError(what, guessed(guess and say(name, guess), f"use one of {', '.join(choices)}"))


# -- "to make it again" -------------------------------------------------------------------------------------


def command_line(opts: Options) -> str | None:
    """The command that makes this report again, from the folder it was made in (options left at their default
    are left out): `embproj project`, or `embproj compare` for two embeddings; None when the data was not a file
    (a table handed to the Python API)."""
    if opts.data is None:
        return None
    command = "compare" if opts.after is not None or opts.against is not None else "project"
    args = ["embproj", command, *(str(path) for path in (opts.data, opts.after) if path is not None)]
    may_run = {*opts.algos, SMALL_TABLE_ALGO} if opts.algo is None else set(opts.algos)
    for f, d in declared(command):
        value = getattr(opts, f.name)
        if not d.flags or not d.in_command or (d.algos and not set(d.algos) & may_run):
            continue
        if value is None and not d.words:  # None: not given (a word stands for it where one is declared)
            continue
        if f.name in ("algo", "seed") or value != _default(f):
            args += _flag_words(d, value)
    return shlex.join(args)


def _flag_words(d: Declared, value) -> list[str]:
    word = next((w for w, v in d.words.items() if v == value), None)
    if word is not None:
        return [d.flag, word]
    if isinstance(value, bool):
        on, _, off = d.flags[0].partition("/")
        return [on] if value else [off] if off else []
    if d.listed:
        return [d.flag, ",".join(value)]
    if d.repeated:
        return [word for item in value for word in (d.flag, str(item))]
    if isinstance(value, tuple):  # an image shape given as (28, 28)
        return [d.flag, "x".join(map(str, value))]
    return [d.flag, _text(value)]


def _text(value) -> str:
    """A value as the command line takes it back: floats exactly (0.1, not 0.1000000000000000055)."""
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def _default(f: Field):
    return f.default if f.default is not MISSING else None


__all__ = [
    "ALGOS",
    "DEFAULTS",
    "Options",
    "command_line",
    "declared",
    "python_names",
    "say",
    "validate",
]


IMAGE_SHAPE = re.compile(r"^\s*(\d+)\s*[x×*,]\s*(\d+)\s*(?:[x×*,]\s*(\d+)\s*)?$", re.I)


def parse_image_shape(value) -> tuple[int, ...] | None:
    """`28x28` or `32x32x3` (or a tuple) → (28, 28) / (32, 32, 3); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        match = IMAGE_SHAPE.match(value)
        shape = tuple(int(g) for g in match.groups() if g is not None) if match else ()
    else:
        shape = tuple(int(v) for v in value)
    if len(shape) not in (2, 3) or 0 in shape or (len(shape) == 3 and shape[2] not in (1, 3, 4)):
        shown = value if isinstance(value, str) else "x".join(map(str, value))
        raise OptionError(
            f"{say('image_shape', shown, quote=True)} is not HxW or HxWxC",
            "give height x width, and x3 or x4 for colour, for example "
            f"{say('image_shape', '28x28')} or {say('image_shape', '32x32x3')}",
        )
    return shape
