"""What every `Source` guarantees the stages after it, whatever the file: unique, non-empty column names (renamed
as pandas renames them, with a note saying so) and no dictionary columns (pandas' Categorical: decoded to their
values) and no view columns, so no later stage meets a name it cannot look up or a type its kernels do not take."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from embproj.text.words import shortened


def unique_names(names: Sequence[str]) -> list[str]:
    """Column names as pandas makes them: a name seen before gets ".1", ".2", …; no name is "Unnamed: <index>"."""
    out: list[str | None] = [None] * len(names)
    taken: set[str] = set()
    for i, name in enumerate(names):  # the first of each name keeps it
        if name.strip() and name not in taken:
            taken.add(name)
            out[i] = name
    last: dict[str, int] = {}  # each base's last suffix: a name repeated r times costs r tries, not r²/2
    for i, name in enumerate(names):
        if out[i] is None:
            base = name if name.strip() else f"Unnamed: {i}"
            new, k = base, last.get(base, 0)
            while new in taken:
                k += 1
                new = f"{base}.{k}"
            taken.add(new)
            last[base] = k
            out[i] = new
    return [n for n in out if n is not None]


def rename_notes(old: Sequence[str], new: Sequence[str]) -> tuple[str, ...]:
    changes = [
        f'column {i + 1:,} ({_old_name(a)}) is "{shortened(b)}"'
        for i, (a, b) in enumerate(zip(old, new, strict=True))
        if a != b
    ]
    if not changes:
        return ()
    shown = "; ".join(changes[:5]) + (f"; and {len(changes) - 5:,} more" if len(changes) > 5 else "")
    return (f"renamed {len(changes):,} column{'s' if len(changes) != 1 else ''} as pandas does: {shown}",)


def _old_name(name: str) -> str:
    return f'"{shortened(name)}" again' if name.strip() else "no name"


def plain_type(t: pa.DataType) -> pa.DataType:
    """A dictionary column (pandas' Categorical) as its values; categories that are single values (numbers,
    dates) become text, as labels; lists and structs stay what they are (vectors, images), which text cannot hold.
    A view column (string_view, binary_view: what pyarrow reads back from a Parquet file it wrote from one) as its
    large type: few compute kernels take views yet (take, the regex matches)."""
    if _is_view(t, "string"):
        return pa.large_string()
    if _is_view(t, "binary"):
        return pa.large_binary()
    if not pa.types.is_dictionary(t):
        return t
    v = t.value_type
    return v if pa.types.is_string(v) or pa.types.is_large_string(v) or pa.types.is_nested(v) else pa.string()


def _is_view(t: pa.DataType, kind: str) -> bool:
    test = getattr(pa.types, f"is_{kind}_view", None)  # pyarrow 16 and later
    return bool(test and test(t))


def tidy_batches(inner, names: list[str], renamed: bool):
    def batches(columns):
        for batch in inner(None if renamed else columns):  # renamed: the reader knows only the old names
            if renamed:
                batch = batch.rename_columns(names)
            arrays = [_plain_array(a) for a in batch.columns]
            yield pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)

    return batches


def _plain_array(arr: pa.Array) -> pa.Array:
    plain = plain_type(arr.type)
    if plain == arr.type:
        return arr
    return (arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr).cast(plain)
