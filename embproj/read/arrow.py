"""Arrow IPC files (`.arrow`, `.feather`, `.ipc`): the random-access file format (Feather V2), the stream format
(what Hugging Face datasets write) and Feather V1. The first two are memory-mapped and read batch by batch.
Columns that Hugging Face marks as a ClassLabel (its schema metadata) are read as their class names."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

from embproj.errors import InputError
from embproj.read.base import Source

FILE_MAGIC = b"ARROW1"
FEATHER_V1_MAGIC = b"FEA1"
MAX_METADATA = 16 << 20  # the schema's Hugging Face JSON (the features and a description): never near this


def open_arrow(path: Path, name: str, fmt: str = "arrow") -> Source:
    return stream_files([path], name, fmt)


def stream_files(paths: list[Path], name: str, fmt: str) -> Source:
    """One `Source` over Arrow files read one after another; every file must have the first one's columns."""
    openers = [_opener(p) for p in paths]
    schema = openers[0][0]
    for p, (other, _, _) in zip(paths[1:], openers[1:]):
        if not other.equals(schema, check_metadata=False):
            raise InputError(
                f"{p.name} has other columns than {paths[0].name}", "give files of one table", where=str(p.parent)
            )
    labels, unread = class_labels(schema)
    shown = labelled_schema(schema, labels)
    rows = sum(count for _, count, _ in openers)
    old = [p.name for p in paths if _head(p).startswith(FEATHER_V1_MAGIC)]
    notes = [f"{old[0]} is a Feather V1 file, which pyarrow has stopped writing: save it again as Feather V2 (the "
             "default of pyarrow and of pandas' to_feather)"] if old else []  # fmt: skip
    notes += [f"{paths[0].name}: {unread}"] if unread else []

    def batches(columns) -> Iterator[pa.RecordBatch]:
        for _, _, read in openers:
            for batch in read():
                yield with_labels(batch, labels) if labels else batch

    return Source(name, fmt, shown, rows, batches, tuple(notes), inputs=tuple(paths))


def _opener(path: Path) -> tuple[pa.Schema, int, Callable[[], Iterator[pa.RecordBatch]]]:
    """(schema, rows, a fresh batch reader) for one file of any of the three kinds."""
    try:
        head = _head(path)
        if head.startswith(FEATHER_V1_MAGIC):
            import pyarrow.feather as feather

            with warnings.catch_warnings():  # said as a note instead (pyarrow 25 deprecates V1)
                warnings.simplefilter("ignore", DeprecationWarning)
                table = feather.read_table(_source(path))
            return table.schema, table.num_rows, lambda: iter(table.to_batches())
        if head.startswith(FILE_MAGIC):
            reader = pa.ipc.open_file(_source(path))
            rows = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))

            def read_file():
                again = pa.ipc.open_file(_source(path))
                return (again.get_batch(i) for i in range(again.num_record_batches))

            return reader.schema, rows, read_file
        stream = pa.ipc.open_stream(_source(path))
        schema = stream.schema
        rows = sum(batch.num_rows for batch in stream)  # memory-mapped: counting reads no data
        return schema, rows, lambda: iter(pa.ipc.open_stream(_source(path)))
    except (pa.ArrowInvalid, OSError) as err:
        raise InputError(
            f"not an Arrow IPC or Feather file ({str(err).splitlines()[0][:200]})",
            "write it with pyarrow (pa.ipc, pyarrow.feather) or pandas' to_feather",
            where=str(path),
        ) from None


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(8)


def _source(path: Path):
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # pyarrow takes UTF-8 names only
        return pa.PythonFile(open(path, "rb"))  # noqa: SIM115 (closed with the reader)
    return pa.memory_map(str(path))


# -- Hugging Face's ClassLabel ------------------------------------------------------------------------------------


def class_labels(schema: pa.Schema) -> tuple[dict[str, list[str]], str | None]:
    """column → its class names, for the integer columns Hugging Face's metadata marks as a ClassLabel; and what
    kept the metadata from being read, if anything did (the columns are read all the same)."""
    raw = (schema.metadata or {}).get(b"huggingface")
    if not raw:
        return {}, None
    unread = "the schema's Hugging Face metadata is {}, so class labels are shown as numbers"
    if len(raw) > MAX_METADATA:
        return {}, unread.format(f"over {MAX_METADATA >> 20} MB")
    try:
        found = json.loads(raw)
    except RecursionError:  # nested past Python's limit
        return {}, unread.format("nested too deep to read")
    except ValueError:
        return {}, unread.format("not JSON")
    features = found.get("info") if isinstance(found, dict) else None
    return labels_of(features.get("features") if isinstance(features, dict) else None, schema), None


def labels_of(features, schema: pa.Schema) -> dict[str, list[str]]:
    found = {}
    for column, feature in (features or {}).items() if isinstance(features, dict) else ():
        if not isinstance(feature, dict) or feature.get("_type") != "ClassLabel":
            continue
        names = feature.get("names")
        if column in schema.names and pa.types.is_integer(schema.field(column).type) and isinstance(names, list):
            found[column] = [str(n) for n in names]
    return found


def labelled_schema(schema: pa.Schema, labels: dict[str, list[str]]) -> pa.Schema:
    fields = [f.with_type(pa.string()) if f.name in labels else f for f in schema]
    return pa.schema(fields, metadata=schema.metadata)


def with_labels(batch: pa.RecordBatch, labels: dict[str, list[str]]) -> pa.RecordBatch:
    import pyarrow.compute as pc

    arrays = []
    for name, array in zip(batch.schema.names, batch.columns):
        if name in labels:
            names = pa.array(labels[name], pa.string())
            known = pc.and_(pc.greater_equal(array, 0), pc.less(array, len(names)))  # -1: no label
            index = pc.if_else(known, array, pa.scalar(None, array.type))
            array = pc.take(names, index.cast(pa.int64()))
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
