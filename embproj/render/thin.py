"""The report's points thinned to a seeded subset, when the size budget (images/budget.py) must leave points out:
every per-point array of the report taken at the kept points, and whatever numbers points (the fitted rows, a
comparison's movers, the gear's sample) renumbered. The rows the page cannot lose stay: the gear's sample and a
comparison's movers. The clusters keep the sizes they were found with, over every point."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa

from embproj.render.data import ReportData
from embproj.render.gear import renumbered, sample_rows


def needed_points(gear, compare) -> np.ndarray:
    """The points the page never leaves out: the gear's sample (render/gear.py) and a comparison's movers."""
    needed = [np.zeros(0, np.int64)]
    if gear is not None:
        needed.append(sample_rows(gear).astype(np.int64))
    if compare is not None:
        needed.append(np.asarray(compare.movers, np.int64))
    return np.unique(np.concatenate(needed))


def kept_points(keep: np.ndarray, gear, compare) -> np.ndarray:
    """The points a page thinned to `keep` holds, ascending: those and the ones it never leaves out."""
    return np.union1d(np.asarray(keep, np.int64), needed_points(gear, compare))


def keep_points(data: ReportData, keep: np.ndarray) -> ReportData:
    """`data` with only the points at positions `keep` (and those it cannot lose), in their order; no neighbour
    table (its rows would refer to points left out)."""
    n = len(data.row_ids)
    kept = kept_points(keep, data.gear, data.compare)
    position = np.full(n, -1, np.int64)
    position[kept] = np.arange(len(kept))

    def renumber(rows):
        if rows is None:
            return None
        at = position[np.asarray(rows, np.int64)]
        return at[at >= 0]

    structure = data.structure
    if structure is not None and structure.codes is not None:
        structure = replace(structure, codes=structure.codes[kept])
    compare = data.compare
    if compare is not None:
        change = np.asarray(compare.change)[kept]
        compare = replace(compare, change=change, movers=renumber(compare.movers), after=None)
    lenses = data.lenses
    if lenses is not None:
        labels = lenses.labels
        if labels is not None:
            labels = replace(labels, codes=labels.codes[kept], agreement=labels.agreement[kept],
                             majority=labels.majority[kept], share=labels.share[kept],
                             suspects=renumber(labels.suspects))  # fmt: skip
        trust = {key: replace(t, kept=t.kept[kept]) for key, t in lenses.trust.items()}
        lenses = replace(lenses, labels=labels, trust=trust)
    return replace(
        data,
        lenses=lenses,
        projections=tuple(replace(p, xy=p.xy[kept], fit=renumber(p.fit)) for p in data.projections),
        table=data.table.take(pa.array(kept)) if data.table.num_columns else data.table,
        row_ids=np.asarray(data.row_ids)[kept],
        images=None if data.images is None else [data.images[i] for i in kept],
        fit=renumber(data.fit),
        structure=structure,
        compare=compare,
        gear=None if data.gear is None else renumbered(data.gear, position),
        neighbours=None,
    )
