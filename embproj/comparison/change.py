"""The score of a row that does not depend on any map: how much its neighbourhood changed between the two
embeddings. For row i, with N_before(i) and N_after(i) its k nearest other rows in each original space (found by
the report's own search, neighbours/search.py), the change is 1 − |N_before(i) ∩ N_after(i)| / |N_before(i) ∪
N_after(i)|: 0 when it has the same neighbours, 1 when it shares none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from embproj.options import say


def neighbourhood_change(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Each row's change (float32, 0 to 1) from its neighbours before and after (n × k row numbers each, k the
    same, distinct within a row)."""
    n, k = before.shape
    if k == 0:
        return np.zeros(n, np.float32)
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    edges_before = rows * n + before.ravel().astype(np.int64)
    edges_after = np.sort(rows * n + after.ravel().astype(np.int64))
    at = np.minimum(np.searchsorted(edges_after, edges_before), len(edges_after) - 1)
    shared = np.bincount(rows[edges_after[at] == edges_before], minlength=n)
    return (1.0 - shared / (2 * k - shared)).astype(np.float32)


SHARE_ABOVE = 0.5  # a row "changed" when over half of its neighbourhood is new (the share --json and the page give)
MOVERS = 100  # the rows that changed most that --json lists and the page's movers table shows


def movers(change: np.ndarray, top: int = MOVERS) -> np.ndarray:
    """The rows that changed most, most first (ties in row order)."""
    order = np.lexsort((np.arange(len(change)), -change.astype(np.float64)))
    return order[:top]


@dataclass(frozen=True)
class ChangeSummary:
    """The numbers of a comparison: for `--json`'s "compare", the page's header and the `--max-change` gate."""

    rows: int  # compared (plotted): matched, sampled, with a usable vector on both sides
    k: int
    metric: str
    mean_change: float
    median_change: float
    share_changed: float  # the share of rows whose change is above SHARE_ABOVE
    per_class: dict[str, dict[str, Any]]  # class of the colour column → rows, mean_change, share_changed
    class_column: str | None
    movers: tuple[tuple[Any, float], ...]  # (key, change) of the rows that changed most, most first
    matching: dict[str, Any]  # match.Matching.facts()
    sides: dict[str, str]  # "before" and "after": the table and embedding of each, in words
    aligned: str  # how the AFTER map was aligned to the BEFORE map, in words

    @property
    def matched(self) -> int:
        return int(self.matching["matched"])

    @property
    def changed_above(self) -> float:
        return SHARE_ABOVE

    def facts(self) -> dict:
        """`--json`'s "compare" block."""
        m = self.matching
        return {
            "rows": self.rows,
            "matched": m["matched"],
            "only_before": m["only_before"],
            "only_after": m["only_after"],
            "k": self.k,
            "metric": self.metric,
            "mean_change": self.mean_change,
            "median_change": self.median_change,
            "share_changed": self.share_changed,
            "changed_above": SHARE_ABOVE,
            "per_class": self.per_class,
            "class_column": self.class_column,
            "movers": [{"key": key, "change": change} for key, change in self.movers],
            "matching": {k: v for k, v in m.items() if k not in ("matched", "only_before", "only_after")},
            "before": self.sides["before"],
            "after": self.sides["after"],
            "aligned": self.aligned,
        }

    def over(self, limit: float | None) -> str | None:
        """The one line of a `--max-change` gate the mean change is above, or None."""
        if limit is None or not self.mean_change > limit:
            return None
        return (
            f"Changed: the mean neighbourhood change {self.mean_change:.4f} is above {say('max_change', limit)} "
            f"({self.rows:,} rows, {self.share_changed:.1%} changed over half their {self.k} nearest); the report "
            "is written"
        )

    @property
    def text(self) -> str:
        """The header's "change" fact."""
        return (
            f"mean {self.mean_change:.3f} · median {self.median_change:.3f} · {self.share_changed:.1%} of rows above "
            f"{SHARE_ABOVE:g} (of each row's {self.k} nearest neighbours by {self.metric} distance, the share not "
            "in both embeddings' lists)"
        )


def summarise(change: np.ndarray, keys: list, classes: list[str] | None, class_column: str | None, **facts):
    """The summary of per-row `change`: `keys` name the rows (for the movers), `classes` each row's class of the
    colour column (None without a categorical one)."""
    per_class: dict[str, dict[str, Any]] = {}
    if classes is not None:
        labels = np.asarray(classes, dtype=object)
        for name in dict.fromkeys(classes):
            of = change[labels == name]
            per_class[name] = {"rows": len(of), **_numbers(of)}
    top = movers(change)
    numbers = _numbers(change)
    return ChangeSummary(
        rows=len(change), mean_change=numbers["mean_change"], median_change=numbers["median_change"],
        share_changed=numbers["share_changed"], per_class=per_class, class_column=class_column,
        movers=tuple((keys[i], round(float(change[i]), 4)) for i in top), **facts,
    )  # fmt: skip


def _numbers(change: np.ndarray) -> dict[str, float]:
    if not len(change):
        return {"mean_change": 0.0, "median_change": 0.0, "share_changed": 0.0}
    return {
        "mean_change": round(float(np.mean(change, dtype=np.float64)), 4),
        "median_change": round(float(np.median(change)), 4),
        "share_changed": round(float(np.mean(change > SHARE_ABOVE)), 4),
    }
