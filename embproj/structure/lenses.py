"""What the neighbour graph says about each point, read from the graph the run already has (neighbours/search.py's
`original`: every plotted row's nearest rows in the space the vectors were read in); no second search.

- **Label agreement**: the share of a row's K nearest neighbours that carry its label, and the label most of them
  carry. A row whose neighbours mostly carry one other label is a suspect: a likely label error or an ambiguous
  example (the k-nearest-neighbour idea behind data-centric tools such as cleanlab). On the digits with 5% of the
  labels changed at random, the first (changed count) suspects hold ~96% of the changed rows (benchmarks/lenses.py).
- **Map trust**: per map, the share of a point's neighbours in the original space that are also among its nearest
  on the map: the per-point kNN recall (project/metrics.py), whose mean is the reported one (measured on the same
  rows: every row up to metrics.MAX_ROWS, a seeded subset above, where the mean here is over every row).

The third lens, images drawn on the map, is the page's (render/lenses.py): it needs nothing computed here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embproj.options import Options, say
from embproj.project.metrics import K, depth, kept, map_neighbours

ROWS = 100  # `--json`'s labels.rows: the worst suspects
PAIRS = 10  # the most confused pairs of classes
MISSING = -1  # a row's label code when it has none


@dataclass(frozen=True)
class ClassAgreement:
    label: str
    rows: int
    agreement: float  # the mean share of its rows' neighbours that carry its label
    suspects: int


@dataclass(frozen=True)
class Confusion:
    """Two classes whose rows are often each other's neighbours: `links` of the graph's edges join them."""

    labels: tuple[str, str]
    links: int
    share: float  # of the edges that leave either class's rows


@dataclass(frozen=True)
class Labels:
    """Each plotted row's agreement with its neighbours' labels, and the rows whose neighbours disagree."""

    column: str
    k: int
    labels: tuple[str, ...]  # the codes' labels, by code
    codes: np.ndarray  # int32 a row: its label's code, MISSING without one
    agreement: np.ndarray  # float32 a row: the share of its k neighbours that carry its label; NaN without one
    majority: np.ndarray  # int32 a row: the code of the label most of its neighbours carry, MISSING for none
    share: np.ndarray  # float32 a row: the share of its neighbours that carry `majority`
    suspects: np.ndarray  # the rows whose neighbours mostly carry one other label, worst first
    classes: tuple[ClassAgreement, ...]
    confused: tuple[Confusion, ...]

    @property
    def mean(self) -> float:
        return round(float(np.nanmean(self.agreement)), 4)  # (find_lenses keeps no lens of no label)

    def facts(self, row_ids: np.ndarray, rows: int = ROWS) -> dict:
        """`--json`'s labels: the overall agreement, the suspects (the worst `rows` of them row by row), each
        class's agreement and the most confused pairs."""
        return {
            "column": self.column,
            "k": self.k,
            "agreement": self.mean,
            "suspects": len(self.suspects),
            "classes": [asdict(c) for c in self.classes],
            "confused_pairs": [asdict(c) for c in self.confused],
            "rows": [
                {
                    "row": int(row_ids[i]),
                    "label": self.labels[self.codes[i]],
                    "neighbours_label": self.labels[self.majority[i]],
                    "share": round(float(self.share[i]), 4),
                    "agreement": round(float(self.agreement[i]), 4),
                }
                for i in self.suspects[:rows]
            ],
        }


@dataclass(frozen=True)
class Trust:
    """One map's trust per point: the share of its k original-space neighbours that are its neighbours there."""

    key: str  # the map's (Projection.key): its algorithm in a report
    k: int
    kept: np.ndarray  # float32 a point

    @property
    def mean(self) -> float:
        return round(float(self.kept.mean()), 4)


@dataclass(frozen=True)
class Lenses:
    labels: Labels | None
    trust: dict[str, Trust] = field(default_factory=dict)  # a map's key → its trust
    on: bool = True  # --lenses: also the page's images on the map
    notes: tuple[str, ...] = ()  # why a lens is missing, in words

    def facts(self, row_ids: np.ndarray) -> dict:
        """`--json`: the label lens under "labels", each map's trust under "trust"."""
        out: dict = {"labels": self.labels.facts(row_ids) if self.labels is not None else None}
        out["trust"] = {key: {"k": t.k, "mean": t.mean} for key, t in self.trust.items()}
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def wanted(opts: Options) -> int:
    """How deep the lenses read the graph over every row (the neighbours stage searches it that deep)."""
    return K if opts.lenses else 0


def find_lenses(opts: Options, plan, sample, matrix, projections, graphs) -> Lenses:
    """The label lens (with a label-like column: plan.purity) and every map's trust, from the run's graph over
    every plotted row."""
    if not opts.lenses:
        return Lenses(None, on=False, notes=(f"no lenses: {say('lenses', False)}",))
    graph = graphs.original if graphs is not None else None
    n = len(matrix.keep)
    k = min(K, n - 1, graph.k if graph is not None else 0)
    if graph is None or k < 1:
        why = (
            f"they read the neighbour graph ({graphs.table_note})" if graphs and graphs.table_note else "too few points"
        )
        return Lenses(None, notes=(f"no label agreement nor map trust: {why}",))
    near = graph.take(k).indices
    trust = map_trust(graph, projections)
    column = plan.purity
    if column is None:
        return Lenses(None, trust, notes=(f"no label agreement: no label-like column (name one with {say('color')})",))
    table = sample.table.select([column])
    table = table.take(pa.array(matrix.keep)) if len(matrix.keep) < table.num_rows else table
    labels = label_agreement(column, table.column(column), near)
    if not labels.labels:
        return Lenses(None, trust, notes=(f'no label agreement: "{column}" is empty in every plotted row',))
    return Lenses(labels, trust)


def map_trust(graph, projections) -> dict[str, Trust]:
    """Each map's trust per point, at the depth of the kNN recall the quality numbers report (metrics.depth)."""
    k = min(depth(len(graph.indices)), graph.k)
    if k < 1:
        return {}
    near = graph.take(k).indices
    return {p.key: Trust(p.key, k, kept(near, map_neighbours(p.xy, k))) for p in projections}


def label_agreement(column: str, values: pa.ChunkedArray, near: np.ndarray) -> Labels:
    """Each row's agreement with the labels of its neighbours `near` (n × k row positions)."""
    labels, codes = _codes(values)
    n, k = near.shape
    if not labels:  # no row has a label
        nothing = np.full(n, MISSING, np.int32)
        return Labels(column, k, (), codes, np.full(n, np.nan, np.float32), nothing, np.zeros(n, np.float32),
                      np.zeros(0, np.int64), (), ())  # fmt: skip
    own, majority, most, other, pairs = _votes(codes, near, len(labels))
    labelled = codes >= 0
    agreement = np.where(labelled, own / k, np.nan).astype(np.float32)
    share = (most / k).astype(np.float32)
    suspect = np.flatnonzero(labelled & (other > own))  # one other label outnumbers its own among its neighbours
    # worst first: the fewest neighbours that agree, then the most that carry that one other label
    worst = suspect[np.lexsort((suspect, -other[suspect], own[suspect]))]
    classes, confused = _classes(labels, codes, agreement, worst), _confused(labels, pairs)
    return Labels(column, k, labels, codes, agreement, majority, share, worst, classes, confused)


def _votes(codes: np.ndarray, near: np.ndarray, c: int, block: int = 65_536):
    """Per row, from its neighbours' labels (the codes of the rows `near`, n × k): how many carry its own label,
    the label most carry (MISSING when none has one) and how many, and how many carry the most common label other
    than its own; and `pairs[a, b]`, the edges from a row of class a to one of class b ≠ a. A block of rows at a
    time: the counts per label are rows × c, bounded whatever n."""
    n = len(codes)
    own, most, other = (np.zeros(n, np.int32) for _ in range(3))
    majority = np.full(n, MISSING, np.int32)
    pairs = np.zeros(c * c, np.int64)
    for start in range(0, n, block):
        mine, votes = codes[start : start + block], codes[near[start : start + block]]
        rows = np.arange(len(mine))
        counts = np.bincount((rows[:, None] * c + votes)[votes >= 0], minlength=len(mine) * c).reshape(-1, c)
        top = counts.argmax(axis=1)
        most[start : start + block] = counts[rows, top]
        majority[start : start + block] = np.where(counts[rows, top] > 0, top, MISSING)
        labelled = mine >= 0
        own[start : start + block] = np.where(labelled, counts[rows, np.maximum(mine, 0)], 0)
        counts[rows[labelled], mine[labelled]] = -1  # the others: all but its own
        other[start : start + block] = counts.max(axis=1)
        across = labelled[:, None] & (votes >= 0) & (votes != mine[:, None])
        pairs += np.bincount((mine[:, None] * c + votes)[across], minlength=c * c)
    return own, majority, most, other, pairs.reshape(c, c)


def _codes(values: pa.ChunkedArray) -> tuple[tuple[str, ...], np.ndarray]:
    """The labels as text (each once, in order of first appearance) and each row's code; a null or an empty
    label is MISSING."""
    encoded = pc.dictionary_encode(values.combine_chunks())
    texts = [_text(v) for v in encoded.dictionary.to_pylist()]
    position: dict[str, int] = {}
    for t in texts:
        if t != "":
            position.setdefault(t, len(position))
    same = np.array([position.get(t, MISSING) for t in texts] + [MISSING], dtype=np.int32)
    index = encoded.indices.fill_null(len(texts)).to_numpy(zero_copy_only=False).astype(np.int64)
    return tuple(position), same[index]


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _classes(labels, codes: np.ndarray, agreement: np.ndarray, suspects: np.ndarray) -> tuple[ClassAgreement, ...]:
    """Each class's rows, mean agreement and suspects, the least agreeing class first."""
    found = []
    flagged = np.bincount(codes[suspects], minlength=len(labels))
    for code, label in enumerate(labels):
        mine = codes == code
        mean = round(float(agreement[mine].mean()), 4)
        found.append(ClassAgreement(label, int(mine.sum()), mean, int(flagged[code])))
    return tuple(sorted(found, key=lambda c: (c.agreement, c.label)))


def _confused(labels, pairs: np.ndarray, top: int = PAIRS) -> tuple[Confusion, ...]:
    """The pairs of classes joined by the most edges of the graph (`pairs[a, b]`: from a row of a to one of b),
    each with its share of the edges that leave either class."""
    c = len(labels)
    if c < 2:
        return ()
    joined = np.triu(pairs + pairs.T, 1)
    leaving = pairs.sum(axis=1) + pairs.sum(axis=0)  # the edges out of a class's rows, and into them
    order = np.argsort(-joined, axis=None, kind="stable")[:top]
    out = []
    for flat in order:
        a, b = divmod(int(flat), c)
        if joined[a, b] == 0:
            break
        share = joined[a, b] / (leaving[a] + leaving[b] - joined[a, b])  # the a-b edges leave both: counted once
        out.append(Confusion((labels[a], labels[b]), int(joined[a, b]), round(float(share), 4)))
    return tuple(out)
