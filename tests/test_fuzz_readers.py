"""Other tools' files made at random, plausible and hostile (issue 25): W&B tables and pandas' table JSON,
TensorBoard log folders, Hugging Face `save_to_disk` folders, Arrow and Parquet files, NumPy arrays. Whatever a
file holds, reading it as `project` does (open, the first rows, every batch) gives a table or one `EmbprojError`
whose message is one short line, never another exception; `embproj inspect` answers with exit 0 or one `Error:`
line and exit 2; a quarter of the examples run `embproj project --algo pca` to the end, which writes a report or
nothing. `--hypothesis-show-statistics` shows how far the examples get (read, or refused by which check)."""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from embproj.errors import EmbprojError, InputError
from embproj.read.source import open_source
from embproj.read.tensorboard import parse_pbtxt
from reportdata import points

MAX_MESSAGE = 300  # characters of a reader's error message, the tests' own folder names left out
MAX_PLAN_MESSAGE = 600  # the plan's errors list the columns seen (here at most 4, each name cut at 80 characters)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no "explain": a minute per failure
)


class Raw(str):
    """JSON text written as it is: what Python's json cannot write (a number of 5,000 digits, nesting past its
    recursion limit)."""

    def __repr__(self) -> str:  # hypothesis shows strategies and failing examples by repr
        return f"Raw({str(self)[:12]!r}, {len(self):,} characters)" if len(self) > 40 else f"Raw({str(self)!r})"


def dumps(value) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(dumps, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {dumps(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


HUGE = ["9" * 5000, "-" + "9" * 5000, "1e400", "-1e400", "1e-400", str(2**64), str(2**24 + 1), "1." + "0" * 5000]
RAW_NUMBERS = st.sampled_from([Raw(n) for n in HUGE])
DEEP = st.sampled_from([Raw("[" * 3000 + "]" * 3000), Raw('{"a": ' * 3000 + "1" + "}" * 3000)])
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6) | RAW_NUMBERS
JSON = st.recursive(
    SCALARS,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3),
    max_leaves=8,
)


def mostly(usual: st.SearchStrategy, odd: st.SearchStrategy) -> st.SearchStrategy:
    """`odd` about one time in ten, else `usual`: enough plausible files get past one check to reach the next."""
    return st.integers(0, 9).flatmap(lambda k: odd if k == 7 else usual)  # 0 and 9 come more often than 1 in 10


def folder(tmp_path: Path) -> Path:
    """A fresh folder for one example (pytest's tmp_path is shared by all of a test's examples)."""
    return Path(tempfile.mkdtemp(dir=tmp_path))


def png(path: Path, size=(8, 8), grey=90) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, grey).save(path)


def read_through(path: Path, tmp_path: Path, table: str | None = None) -> str:
    """Open `path`, read its first rows and every batch: a table ("read"), or one EmbprojError of one short line
    ("refused")."""
    try:
        source = open_source(path, table=table)
        source.head(100)
        for batch in source.batches():
            assert batch.schema.names == source.schema.names
    except EmbprojError as err:
        short_line(str(err), tmp_path)
        # --hypothesis-show-statistics lists these: how far the examples get before they are refused
        event("refused: " + shape_of(err.what))
        return "refused"
    event("read")
    for note in source.notes:
        event("noted: " + shape_of(note))
    return "read"


def shape_of(message: str) -> str:
    """A message with its names and numbers left out: one event for each kind of message."""
    return re.sub(r"[0-9]+", "N", re.sub(r'"[^"]*"', "X", message))[:40]


def short_line(message: str, tmp_path: Path, limit: int = MAX_MESSAGE) -> None:
    assert "\n" not in message and "Traceback" not in message, message
    shown = message.replace(str(tmp_path.resolve()), "").replace(str(tmp_path), "")
    assert len(shown) <= limit, f"{len(shown)} characters: {shown[:1000]}"


def through_the_cli(cli, path: Path, tmp_path: Path, project: bool, *extra) -> list[int]:
    """`embproj inspect`, and `embproj project --algo pca` when `project`: exit 0, or exit 2 with one `Error:`
    line and no report; the exit codes."""
    out = tmp_path / "fuzz-report.html"
    out.unlink(missing_ok=True)
    codes = []
    for args in (["inspect", path, *extra], ["project", path, "--algo", "pca", "-o", out, *extra])[: 1 + project]:
        result = cli(*args)
        codes.append(result.exit_code)
        assert result.exit_code in (0, 2) and "Traceback" not in result.output, result.output
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert sum(line.startswith("Error") for line in lines) == 1 and lines[-1].startswith("Error: "), lines
            short_line(lines[-1], tmp_path, MAX_PLAN_MESSAGE)
            assert not out.exists()
        elif args[0] == "project":
            data = points(out.read_text(encoding="utf-8"))
            assert len(data["x_pca"]) and np.isfinite(data["x_pca"]).all() and np.isfinite(data["y_pca"]).all()
    return codes


# -- W&B tables and pandas' table JSON -------------------------------------------------------------------------

NAMES = st.sampled_from(["a", "a", "", "label", "embedding", "image", "index", "x y"]) | st.text(max_size=5)
PATHS = st.sampled_from(
    ["media/images/a.png", "media/images/missing.png", "../outside.png", "/etc/passwd", "", "media", "s.npz"]
)
IMAGE_CELL = st.fixed_dictionaries(
    {"_type": st.sampled_from(["image-file", "video-file", "image"]) | JSON},
    optional={"path": PATHS | JSON, "width": JSON, "height": JSON, "sha256": JSON, "artifact_path": JSON},
)
FLOATS = st.floats(-5, 5, width=32)
CELLS = {
    "number": FLOATS | st.integers(-10, 10) | st.floats() | RAW_NUMBERS,
    "text": st.sampled_from(["cat", "dog", "Image", "Audio", ""]) | st.text(max_size=6),
    "vector": st.lists(FLOATS, min_size=3, max_size=3)
    | st.lists(st.integers(-(2**63), 2**63 - 1), min_size=3, max_size=3)  # above 2^24: float32 loses digits
    | st.lists(st.integers(0, 9), max_size=4),
    "image": IMAGE_CELL | st.none(),
    "anything": JSON,
}
NPZ_KEYS = ["v", "wide", "zero", "scalar", "ints", "text", "objects", "missing"]
NPZ_PATHS = mostly(
    st.just("media/serialized_data/s.npz"),
    st.sampled_from(["media/serialized_data/pickled.npz", "media/serialized_data/none.npz", "../s.npz", "media"]),
)
WB_LEAF = st.fixed_dictionaries(
    {"wb_type": st.sampled_from(["number", "string", "none", "image-file", "list", "ndarray", "union"]) | JSON},
    optional={"params": JSON},
)
NPZ_WHERE = st.fixed_dictionaries({"path": mostly(NPZ_PATHS, JSON), "key": mostly(st.sampled_from(NPZ_KEYS), JSON)})
NDARRAY = st.fixed_dictionaries(  # a column wandb moved to an .npz file
    {
        "wb_type": st.just("ndarray"),
        "params": mostly(
            st.fixed_dictionaries({"serialization_path": mostly(NPZ_WHERE, JSON)}, optional={"shape": JSON}), JSON
        ),
    }
)
WB_TYPE = st.recursive(
    WB_LEAF | NDARRAY | JSON,
    lambda kids: st.fixed_dictionaries(
        {
            "wb_type": st.just("union"),
            "params": st.fixed_dictionaries({"allowed_types": st.lists(kids, max_size=3) | JSON}),
        }
    ),
    max_leaves=4,
)


def column_types(names: list) -> st.SearchStrategy:
    """wandb's typedDict of each column's type (an .npz column's among them), now and then malformed."""
    keys = st.sampled_from([str(n) for n in names]) if names else st.text(max_size=3)
    type_map = mostly(st.dictionaries(keys, mostly(NDARRAY, WB_TYPE), max_size=4), JSON)
    params = mostly(st.fixed_dictionaries({"type_map": type_map}), JSON)
    return mostly(st.fixed_dictionaries({"wb_type": st.just("typedDict"), "params": params}), JSON)


@st.composite
def wandb_tables(draw) -> dict:
    """A W&B artifact's table, a run's table or pandas' split JSON: plausible fields, now and then one of any
    JSON value, and cells of every kind wandb writes and some it does not."""
    names = draw(st.lists(NAMES, max_size=4) | st.lists(JSON, min_size=1, max_size=2))
    kinds = [draw(st.sampled_from(list(CELLS))) for _ in names]
    n = draw(st.integers(0, 6))
    rows: list = [[draw(CELLS[k]) for k in kinds] for _ in range(n)]
    if rows and draw(st.integers(0, 9)) == 0:
        rows[draw(st.integers(0, n - 1))] = draw(JSON)  # a row that is not one
    shape = draw(st.sampled_from(["artifact", "artifact", "run", "split"]))
    obj: dict = {"columns": names, "data": rows}
    if shape == "artifact":
        obj = {"_type": "table", "column_types": draw(column_types(names)), **obj, "ncols": len(names), "nrows": n}
    if shape == "split":
        obj["index"] = draw(st.lists(JSON, min_size=n, max_size=n) | JSON)
    if draw(st.booleans()):
        obj["log_mode"] = draw(st.sampled_from(["IMMUTABLE", "INCREMENTAL"]) | JSON)
    if draw(st.integers(0, 7)) == 0:
        obj[draw(st.sampled_from(sorted(obj)))] = draw(JSON | DEEP)
    return obj


FIELD = st.fixed_dictionaries(
    {"name": NAMES | JSON}, optional={"type": st.sampled_from(["integer", "number", "string", "any"]) | JSON}
)


@st.composite
def pandas_tables(draw) -> dict:
    """pandas' to_json(orient="table"): a schema of fields (some not objects, some names not text) and rows."""
    fields = draw(st.lists(FIELD | JSON, max_size=4) | JSON)
    listed = fields if isinstance(fields, list) else []
    named = [f["name"] for f in listed if isinstance(f, dict) and isinstance(f.get("name"), str)]
    keys = st.sampled_from([*named, "index", "other"])
    cell = st.sampled_from(list(CELLS)).flatmap(CELLS.get)
    rows = draw(st.lists(st.dictionaries(keys, cell, max_size=4), max_size=6))
    if rows and draw(st.integers(0, 9)) == 0:
        rows[0] = draw(JSON)
    schema = {"fields": fields, "primaryKey": draw(st.just(["index"]) | JSON), "pandas_version": "1.4.0"}
    return {"schema": schema, "data": rows}


def wandb_folder(tmp_path: Path, obj: dict) -> Path:
    """An artifact's folder as wandb downloads it: the table, an image, and an .npz of the arrays wandb moves
    out of the table (and arrays it would not write)."""
    root = folder(tmp_path)
    png(root / "media" / "images" / "a.png")
    rows = len(obj["data"]) if isinstance(obj.get("data"), list) else 3
    rng = np.random.default_rng(rows)
    arrays = {
        "v": rng.normal(size=(rows, 4)).astype(np.float32),
        "wide": np.zeros((rows, 0), np.float32),
        "zero": np.zeros(0),
        "scalar": np.float64(1.5),
        "ints": np.full((rows, 3), 2**40 + 1, np.int64),
        "text": np.array([f"t{i}" for i in range(rows)]),
    }
    (root / "media" / "serialized_data").mkdir()
    np.savez(root / "media" / "serialized_data" / "s.npz", **arrays)
    objects = np.array([{"a": 1}] * rows, dtype=object)  # what np.load refuses without allow_pickle
    np.savez(root / "media" / "serialized_data" / "pickled.npz", objects=objects, v=arrays["v"])
    (root / "t.table.json").write_text(dumps(obj))
    return root


@FUZZ
@given(obj=wandb_tables() | pandas_tables(), whole_folder=st.booleans(), end_to_end=st.integers(0, 3))
def test_random_wandb_and_pandas_tables(cli, tmp_path, obj, whole_folder, end_to_end):
    root = wandb_folder(tmp_path, obj)
    path = root if whole_folder else root / "t.table.json"
    assert read_through(path, tmp_path) in ("read", "refused")
    assert set(through_the_cli(cli, path, tmp_path, end_to_end == 0)) <= {0, 2}


# -- TensorBoard log folders ---------------------------------------------------------------------------------


PB_NUMBERS = st.sampled_from(
    ["8", "0", "-1", "2.5", "1f", "1e400", "-1e400", "1e-400", "9" * 5000, "1." + "0" * 5000, str(2**64), "nan", "inf"]
) | st.integers().map(str)
PB_ODD = st.sampled_from(["true", "x", "{ }", "< a: 1 >", "[1, 2]", "[", "]", "{", ":", '"', "'a'", '"\\x"', "#"])
PB_VALUES = PB_NUMBERS | PB_ODD | st.text("ab:{}[]<>;,\"' 0.9e-", max_size=6)
PB_PATHS = st.sampled_from(['"../x.tsv"', '"/etc/passwd"', '""', '"."', '"run"', '"sprite.png"'])
PB_FIELDS = {
    "tensor_name": (st.sampled_from(['"emb:00000"', '"emb:00001"', "'x'"]), PB_VALUES),
    "tensor_path": (st.sampled_from(['"tensors.tsv"', '"run/tensors.tsv"']), PB_PATHS | PB_VALUES),
    "metadata_path": (st.just('"metadata.tsv"'), PB_PATHS | PB_VALUES | st.just('"tensors.tsv"')),
    "tensor_shape": (st.sampled_from(["3", "4"]), PB_NUMBERS),
}
PB_SPRITES = (st.just('"sprite.png"'), st.sampled_from(['"tensors.tsv"', '"../sprite.png"']) | PB_VALUES)


@st.composite
def pbtxt(draw) -> str:
    """A projector config as add_embedding writes it, with now and then a field repeated or missing, a value of
    the wrong kind, a number of any size, odd sprite dimensions, a token out of place or a message not closed."""
    entries = []
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        fields = [
            f"{name}{draw(mostly(st.just(': '), st.sampled_from([' ', ':'])))}{draw(mostly(*values))}"
            for name, values in PB_FIELDS.items()
            for _ in range(draw(mostly(st.just(1), st.sampled_from([0, 2]))))
        ]
        if draw(st.booleans()):
            sprite = [f"image_path: {draw(mostly(*PB_SPRITES))}"]
            dims = mostly(st.sampled_from(["8", "4", "16"]), PB_NUMBERS)
            sprite += [f"single_image_dim: {draw(dims)}" for _ in range(draw(mostly(st.just(2), st.integers(0, 3))))]
            fields.append("sprite { " + " ".join(draw(st.permutations(sprite))) + " }")
        if draw(st.integers(0, 9)) == 0:
            fields.append(draw(PB_VALUES))
        ends = mostly(st.just(("{", "}")), st.sampled_from([("<", ">"), ("{", ""), (": {", "}"), ("{", "}}")]))
        opener, closer = draw(ends)
        entries.append(f"embeddings {opener}\n  " + "\n  ".join(draw(st.permutations(fields))) + f"\n{closer}")
    return "\n".join(entries)


TSV_CELLS = st.sampled_from(["nan", "inf", "", "x", "1e400", str(2**40), "9" * 40, "label"])
NUMBER_TEXT = FLOATS.map(lambda v: f"{v:.3f}")


@st.composite
def log_files(draw) -> tuple[str, str]:
    """tensors.tsv (numbers, now and then not) and metadata.tsv (a header, names repeated or empty, unless it has
    one column), mostly of as many rows."""
    n, width = draw(st.integers(0, 6)), draw(st.integers(1, 4))
    rows = [[draw(mostly(NUMBER_TEXT, TSV_CELLS)) for _ in range(width)] for _ in range(n)]
    if rows and draw(st.integers(0, 9)) == 0:
        rows[-1] = rows[-1][:-1]  # a row short of a value
    columns = draw(
        st.lists(st.sampled_from(["label", "label", "", "embedding", "image", "name"]), min_size=1, max_size=3)
    )
    m = draw(mostly(st.just(n), st.integers(0, 7)))
    meta = [[draw(mostly(st.sampled_from(["a", "b", "1"]), TSV_CELLS)) for _ in columns] for _ in range(m)]
    end = draw(st.sampled_from(["\n", "", "\n\n"]))
    table = "\n".join("\t".join(r) for r in ([columns] if len(columns) > 1 else []) + meta) + end
    return "\n".join("\t".join(r) for r in rows) + end, table


@FUZZ
@given(config=pbtxt(), files=log_files(), in_run=st.booleans(), end_to_end=st.integers(0, 3))
def test_random_tensorboard_log_folders(cli, tmp_path, config, files, in_run, end_to_end):
    tensors, meta = files
    logdir = folder(tmp_path)
    where = logdir / "run" if in_run else logdir  # a folder of runs lists its runs' embeddings
    (where / "run").mkdir(parents=True)
    (where / "projector_config.pbtxt").write_text(config)
    for sub in (where, where / "run"):
        (sub / "tensors.tsv").write_text(tensors)
        (sub / "metadata.tsv").write_text(meta)
        png(sub / "sprite.png", (16, 16))
    assert read_through(logdir, tmp_path) in ("read", "refused")
    assert read_through(where / "projector_config.pbtxt", tmp_path) in ("read", "refused")
    assert set(through_the_cli(cli, logdir, tmp_path, end_to_end == 0)) <= {0, 2}


# -- Hugging Face save_to_disk folders and Arrow files -----------------------------------------------------------

FEATURES = (
    st.fixed_dictionaries(
        {},
        optional={
            "label": mostly(
                st.fixed_dictionaries(
                    {"_type": st.just("ClassLabel")},
                    optional={"names": mostly(st.just(["zero", "one", "two"]), st.lists(JSON, max_size=4) | JSON)},
                ),
                JSON,
            ),
            "embedding": st.just({"_type": "List", "feature": {"dtype": "float32", "_type": "Value"}}) | JSON,
        },
    )
    | JSON
)
HF_METADATA = (
    st.none()
    | FEATURES.map(lambda f: dumps({"info": {"features": f}}))
    | JSON.map(dumps)
    | st.sampled_from([Raw("[" * 100_000), Raw('{"info": ' * 5000 + "{}" + "}" * 5000), Raw("\udcff{")])
)
DATA_FILES = st.sampled_from(["data-00000-of-00001.arrow", "missing.arrow", "../x.arrow", ".", "", "state.json"])


def arrow_table(n: int, kinds: list[str]) -> pa.Table:
    """A few rows of the column types Arrow files hold: vectors, class ids, large integers, dictionaries (of
    text, of numbers, of lists), structs, zero-width vectors."""
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    columns = {"embedding": pa.array(list(X), pa.list_(pa.float32())), "label": pa.array(np.arange(n) % 4 - 1)}
    make = {
        "big ints": lambda: pa.array([[2**40 + i, 2**24 + 1, -(2**62)] for i in range(n)], pa.list_(pa.int64())),
        "dictionary of text": lambda: pa.array([f"c{i % 2}" for i in range(n)]).dictionary_encode(),
        "dictionary of numbers": lambda: pa.array([i % 3 for i in range(n)]).dictionary_encode(),
        "dictionary of lists": lambda: pa.DictionaryArray.from_arrays(
            pa.array([i % 2 for i in range(n)], pa.int32()), pa.array([[1.0, 2.0], [3.0, 4.0]])
        ),
        "list of dictionaries": lambda: pa.ListArray.from_arrays(
            pa.array(range(n + 1), pa.int32()), pa.array([f"w{i}" for i in range(n)]).dictionary_encode()
        ),
        "struct": lambda: pa.array([{"bytes": None, "path": f"x{i}.png"} for i in range(n)]),
        "zero width": lambda: pa.array([[]] * n, pa.list_(pa.float32(), 0)),
        "nulls": lambda: pa.nulls(n),
    }
    for kind in kinds:
        columns[kind] = make[kind]()
    return pa.table(columns)


COLUMN_KINDS = st.lists(
    st.sampled_from(
        ["big ints", "dictionary of text", "dictionary of numbers", "dictionary of lists", "list of dictionaries"]
        + ["struct", "zero width", "nulls"]
    ),
    max_size=3,
    unique=True,
)


@st.composite
def hf_folders(draw) -> dict:
    """A saved Dataset (or a DatasetDict of one split): state.json, dataset_info.json and the Arrow data file,
    each field plausible or any JSON value, the Arrow schema's metadata as datasets writes it or hostile."""
    entry = st.fixed_dictionaries({"filename": mostly(st.just("data-00000-of-00001.arrow"), DATA_FILES | JSON)})
    files = draw(mostly(st.lists(entry, min_size=1, max_size=2), st.lists(entry | JSON, max_size=2) | JSON))
    state = draw(mostly(st.just({"_data_files": files, "_split": None}), JSON))
    info = draw(mostly(st.fixed_dictionaries({"features": FEATURES}), JSON))
    splits = draw(st.none() | mostly(st.just(["train"]), JSON))
    return {
        "state": state,
        "info": info,
        "splits": splits,
        "rows": draw(st.integers(0, 5)),
        "kinds": draw(COLUMN_KINDS),
        "metadata": draw(HF_METADATA),
        "writer": draw(st.sampled_from(["stream", "file", "cut short"])),
    }


def write_arrow(path: Path, table: pa.Table, metadata: str | None, writer: str) -> None:
    if metadata is not None:
        table = table.replace_schema_metadata({"huggingface": metadata.encode("utf-8", "surrogateescape")})
    sink = pa.BufferOutputStream()
    with (pa.ipc.new_file if writer == "file" else pa.ipc.new_stream)(sink, table.schema) as out:
        out.write_table(table, max_chunksize=3)
    data = sink.getvalue().to_pybytes()
    path.write_bytes(data[: len(data) // 2] if writer == "cut short" else data)


@FUZZ
@given(drawn=hf_folders(), end_to_end=st.integers(0, 3))
def test_random_hugging_face_folders(cli, tmp_path, drawn, end_to_end):
    root = folder(tmp_path)
    saved = root / "train" if drawn["splits"] is not None else root
    saved.mkdir(exist_ok=True)
    if drawn["splits"] is not None:
        (root / "dataset_dict.json").write_text(dumps({"splits": drawn["splits"]}))
    (saved / "state.json").write_text(dumps(drawn["state"]))
    (saved / "dataset_info.json").write_text(dumps(drawn["info"]))
    write_arrow(saved / "data-00000-of-00001.arrow", arrow_table(drawn["rows"], drawn["kinds"]), drawn["metadata"],
                drawn["writer"])  # fmt: skip
    assert read_through(root, tmp_path, "train" if drawn["splits"] is not None else None) in ("read", "refused")
    extra = ["--table", "train"] if drawn["splits"] else []
    assert set(through_the_cli(cli, root, tmp_path, end_to_end == 0, *extra)) <= {0, 2}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(1, 6),
    kinds=COLUMN_KINDS,
    key=st.sampled_from([b"pandas", b"huggingface", b"ARROW:schema"]),
    metadata=HF_METADATA,
    suffix=st.sampled_from(["parquet", "arrow", "feather"]),
    end_to_end=st.integers(0, 3),
)
def test_random_arrow_and_parquet_files(cli, tmp_path, n, kinds, key, metadata, suffix, end_to_end):
    """Arrow and Parquet files of every column type, their schema's metadata (pandas', datasets') nested or not
    JSON at all."""
    path = folder(tmp_path) / f"t.{suffix}"
    table = arrow_table(n, kinds)
    if metadata is not None:
        table = table.replace_schema_metadata({key: metadata.encode("utf-8", "surrogateescape")})
    if suffix == "parquet":
        try:
            pq.write_table(table, path, store_schema=key != b"ARROW:schema")
        except (pa.ArrowException, ValueError):  # a schema pyarrow will not write: nothing to read
            return
    else:
        write_arrow(path, table, None, "file")
    assert read_through(path, tmp_path) in ("read", "refused")
    assert set(through_the_cli(cli, path, tmp_path, end_to_end == 0)) <= {0, 2}


DTYPES = ["<f4", ">f8", "<f2", "<i8", ">u8", "?", "<c8", "<U3", "<M8[s]", "V4", [("a", "<f4"), ("b", "<i2")], "O"]


@st.composite
def numpy_arrays(draw, rows: int | None = None) -> np.ndarray:
    """An array of any of the dtypes np.save writes (records, objects, big-endian), of 0 to 3 dimensions, some
    of them 0, its integers now and then beyond float32's exact range; with `rows`, mostly a matrix of numbers
    of that many rows."""
    shape = tuple(draw(st.lists(st.sampled_from([0, 1, 3, 5]), max_size=3)))
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    if rows is not None and draw(mostly(st.just(True), st.just(False))):
        shape, dtype = (rows, draw(st.sampled_from([3, 4, 1, 0]))), np.dtype(draw(st.sampled_from(DTYPES[:6])))
    array = np.zeros(shape, dtype)
    if dtype.kind in "iuf" and array.size:
        value = draw(st.sampled_from([1, 2**24 + 1, 2**40 + 3, -7]))
        with np.errstate(over="ignore"):  # 2^40 in float16 is infinite, -7 in uint64 wraps around
            array[...] = np.array(value).astype(dtype)
    if dtype.kind == "O" and array.size:
        array[...] = draw(st.sampled_from([{"a": 1}, "text", 1.5]))
    return array


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    arrays=st.sampled_from([1, 3, 5]).flatmap(lambda n: st.lists(numpy_arrays(n), min_size=1, max_size=3)),
    npz=st.booleans(),
    end_to_end=st.integers(0, 3),
)
def test_random_numpy_files(cli, tmp_path, arrays, npz, end_to_end):
    """.npy and .npz files of every shape and dtype: read, or refused in one line (nothing is unpickled)."""
    path = folder(tmp_path) / ("a.npz" if npz else "a.npy")
    if npz:
        np.savez(path, **{f"k{i}": a for i, a in enumerate(arrays)})
    else:
        np.save(path, arrays[0])
    assert read_through(path, tmp_path) in ("read", "refused")
    assert set(through_the_cli(cli, path, tmp_path, end_to_end == 0)) <= {0, 2}


def test_projector_config_numbers_of_any_size():
    """What the fuzzing found in the config's numbers: too large a float is infinite (as protobuf reads it), an
    integer beyond 64 bits is an error that says where, and a bare \\x escape is the letter."""
    config = parse_pbtxt("a: 1e400 b: -1e400 c: 18446744073709551615 d: 1.5f e: '\\x'")
    assert config == {"a": [math.inf], "b": [-math.inf], "c": [2**64 - 1], "d": [1.5], "e": ["x"]}
    with pytest.raises(InputError, match="a number of 21 digits at line 2 of the config"):
        parse_pbtxt("a: 1\nb: " + "1" * 21)
