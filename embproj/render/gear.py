"""The gear: the page maps a sample of its rows again, in the browser, with the algorithm, parameters and columns
the reader chooses (templates/js/gear.js draws the panel; templates/js/worker/projector.js computes, in a Web
Worker started from a Blob URL of its text, after the vendored umap-js of templates/vendor/).

The page carries `--page-sample` of the plotted rows (a seeded sample: the sample is in file order, so its first
rows would be the file's first), as the maps saw them: a table of a few numeric columns sends its columns as
scaled, so that the reader may choose among them (the worker pre-reduces them by PCA as the report does); one
column of vectors sends the report's pre-reduction to --max-dims. Each value is a 16-bit code of its column's
range (the sample's 15 nearest neighbours stay the same for 99.99% of them; 8 bits kept 95 to 98%, measured on
20 blobs, a Gaussian and a heavy-tailed table of 2,000 × 50), sent column by column as byte planes (the low bytes
first), deflated and base85 encoded as the neighbour table is (render/neighbours.py)."""

from __future__ import annotations

import shlex
import zlib
from dataclasses import dataclass, field, fields

import numpy as np

from embproj.options import ALGO_NAMES, DEFAULTS, GEAR_METRICS, Options, command_line, declared
from embproj.render.names import x_column, y_column
from embproj.render.neighbours import B85, SENT, base85

ALGO = "page"  # the gear's map, as names.py names maps: its figure "map_page", its columns "x_page", "y_page"
COLUMNS_MAX = 256  # a table of at most this many numeric columns sends them, for the reader to choose among
PLANES = 2  # bytes a value
VENDORED = "vendor/umap-js.min.js"  # (templates/): umap-js 1.4.0, the bundle its authors publish
WORKER = "js/worker/projector.js"
# What the page says of the vendored code it carries (the licences are in templates/vendor/licenses/)
NOTICE = (
    "/* umap-js 1.4.0 (PAIR-code/umap-js), Apache License 2.0; its bundle holds ml-levenberg-marquardt, ml-matrix, "
    "ml-array-max, ml-array-min, ml-array-rescale and is-any-array (mljs, cheminfo), MIT License. */"
)


@dataclass(frozen=True)
class PageVectors:
    """The rows the gear maps again, as the pipeline gathered them from the engine."""

    X: np.ndarray  # float32, a row per row of `rows`
    rows: np.ndarray  # each one's index among the plotted rows ("points"), ascending
    columns: tuple[str, ...]  # their names when the reader may choose among them, else ()
    about: str  # what they are, in words: "the 64 columns as scaled"


@dataclass(frozen=True)
class PageSample:
    """The rows the gear maps again, encoded: `text` goes into the page as it is, `meta` into its JSON."""

    text: str
    meta: dict


def page_rows(plotted: int, wanted: int, seed: int) -> np.ndarray | None:
    """The plotted rows the page carries: every one when they are few, else a seeded `wanted` of them; None for
    no gear (--page-sample 0, or a map of fewer than 3 rows)."""
    if wanted <= 0 or plotted < 3:
        return None
    if plotted <= wanted:
        return np.arange(plotted)
    return np.sort(np.random.default_rng([seed, 2]).choice(plotted, wanted, replace=False))


def sends_columns(kind: str, dims: int) -> bool:
    """Whether the page gets the embedding's columns themselves (and checkboxes to choose among them)."""
    return kind == "columns" and dims <= COLUMNS_MAX


def encode_sample(vectors: PageVectors, opts: Options, algo: str, used: dict) -> PageSample:
    """The sample in the page's code, and what the page's JSON says of the gear (`gear_meta`)."""
    X = np.asarray(vectors.X, dtype=np.float64)
    low = X.min(axis=0) if len(X) else np.zeros(X.shape[1])
    span = (X.max(axis=0) - low) if len(X) else np.zeros(X.shape[1])
    top = (1 << (8 * PLANES)) - 1
    step = np.where(span > 0, span / top, 1.0)
    codes = np.rint((X - low) / step).clip(0, top).astype(np.uint32).T  # column by column
    planes = [((codes >> np.uint32(8 * b)) & np.uint32(255)).astype(np.uint8).tobytes() for b in range(PLANES)]
    text = base85(zlib.compress(b"".join(planes), 6))
    code = {
        "rows": int(X.shape[0]),
        "dims": int(X.shape[1]),
        "planes": PLANES,
        "low": [float(v) for v in low],
        "step": [float(v) for v in step],
        "alphabet": B85.translate(SENT),
    }
    return PageSample(text, gear_meta(vectors, code, len(text), opts, algo, used))


def gear_meta(vectors: PageVectors, code: dict, size: int, opts: Options, algo: str, used: dict) -> dict:
    """The page's JSON for the gear: the sample's code and rows, the panel's defaults (the report's parameters,
    `used` as its first map used them), and how to say the equivalent command for the whole table."""
    defaults = {name: used.get(name, getattr(opts, name)) for name in _param_names()}
    if defaults.get("metric") not in GEAR_METRICS:
        defaults["metric"] = GEAR_METRICS[0]
    if not isinstance(defaults.get("learning_rate"), (int, float)):  # openTSNE's "auto": the panel's empty field
        defaults["learning_rate"] = None
    return {
        "code": code,
        "bytes": size,
        "columns": list(vectors.columns),
        "about": vectors.about,
        "n": int(len(vectors.rows)),
        "rows": _runs(vectors.rows),
        "algo": algo,
        "algos": {a: ALGO_NAMES[a] for a in ALGO_NAMES},
        "map": ALGO,
        "defaults": {**defaults, "seed": opts.seed},
        "cli_defaults": {name: getattr(DEFAULTS, name) for name in _param_names()},
        "metrics": list(GEAR_METRICS),
        "max_dims": opts.max_dims,
        "flags": {name: _flag(name) for name in (*_param_names(), "seed", "columns")},
        "command": _commands(opts),
    }


def _param_names() -> tuple[str, ...]:
    """The projectors' parameters the panel sets (the page's PCA does not whiten)."""
    wanted = ("n_neighbors", "min_dist", "metric", "perplexity", "learning_rate", "iterations", "early_exaggeration")
    return tuple(f.name for f in fields(Options) if f.name in wanted)


def _commands(opts: Options) -> dict | None:
    """Per algorithm, `embproj project` for the whole table with the report's other options and that algorithm's
    parameters at their defaults ("all"), and the same without --columns ("chosen": the page adds the columns the
    reader kept); the page adds the parameters the reader changed. None for a table the Python API was given."""
    reset = {f.name: getattr(DEFAULTS, f.name) for f, d in declared() if d.algos and d.param}
    out = {}
    for a in ALGO_NAMES:
        base = opts.with_(**reset, algo=a, output=None)  # not onto the report the reader holds
        if opts.data is None:
            return None
        out[a] = {"all": _without_seed(base), "chosen": _without_seed(base.with_(columns=()))}
    return out


def _without_seed(opts: Options) -> str:
    """The command line that makes `opts`'s report, less its seed (the page adds the reader's)."""
    words = shlex.split(command_line(opts) or "")
    at = words.index(_flag("seed"))
    return shlex.join(words[:at] + words[at + 2 :])


def _flag(name: str) -> str:
    """Option `name`'s flag on the command line (the page's command is one, whichever way the report was made)."""
    return next(d.flag for f, d in declared() if f.name == name)


def _runs(rows: np.ndarray) -> list[int]:
    """The rows as [start, length, start, length, …]: every row is one run, a sample a few thousand."""
    out: list[int] = []
    for r in rows.tolist():
        if out and out[-2] + out[-1] == r:
            out[-1] += 1
        else:
            out += [r, 1]
    return out


def gear_columns(n: int) -> dict:
    """The gear map's coordinates in "points": none yet (NaN), filled by the page."""
    empty = np.full(n, np.nan, dtype=np.float32)
    return {x_column(ALGO): empty, y_column(ALGO): empty.copy()}


@dataclass(frozen=True)
class GearMap:
    """The gear's map as figure.py builds maps: hidden and empty until the page computes it."""

    algo: str = ALGO
    xy: np.ndarray = field(default_factory=lambda: np.zeros((1, 2), np.float32))
    name: str = ""  # its figure's title: none until the page computes the map

    @property
    def key(self) -> str:
        """The map's name in the page, as `Projection.key`: its figure map_page, its columns x_page, y_page."""
        return self.algo


def sample_rows(sample: PageSample) -> np.ndarray:
    """The plotted rows (their indices among "points") the sample holds, ascending."""
    runs = sample.meta["rows"]
    parts = [np.arange(s, s + n) for s, n in zip(runs[::2], runs[1::2], strict=True)]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def renumbered(sample: PageSample, position: np.ndarray) -> PageSample:
    """The sample once the page keeps fewer points (render/thin.py): `position`, each plotted row's index among
    those kept (every row of the sample is kept)."""
    return PageSample(sample.text, {**sample.meta, "rows": _runs(position[sample_rows(sample).astype(np.int64)])})
