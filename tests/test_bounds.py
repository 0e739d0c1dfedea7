"""Hostile input, round three (issue 25): bounded everything. An image is refused from its header when its first
frame (the only one decoded) would take too much memory at its bit depth, sprites included; the members of an
.npz are bounded in total before any is decompressed; a table of many columns is read in time linear in them.
Each hostile file is made here in a few lines, small on disk, and would take gigabytes once decoded; where memory is
cheap to measure (a fresh process's peak RSS), the test measures it."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

import embproj
from conftest import ROOT, blobs
from embproj.images.cells import ImageCells
from embproj.read import numpy_files
from reportdata import points

MB = 1 << 20
PEAK_RSS = (  # runs argv as its one child, then prints the child's peak RSS (kB) on the last line of stderr
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print('peak', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def run_with_peak(*args) -> tuple[subprocess.CompletedProcess, float]:
    """`embproj ARGS` in a fresh process: its result, and its peak RSS in MB."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "embproj", *map(str, args)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)
    lines = done.stderr.strip().splitlines()
    return done, int(lines[-1].split()[1]) / 1024


def png_of_zeros(path: Path, width: int, height: int, bits: int = 16, colour: int = 0) -> Path:
    """A PNG of zeros (colour type 0 grey, 2 RGB) compressed a row at a time: under 1 MB on disk, however large."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = bytes(1 + width * {0: 1, 2: 3}[colour] * bits // 8)
    z = zlib.compressobj(1)
    idat = b"".join([z.compress(row) for _ in range(height)] + [z.flush()])
    ihdr = struct.pack(">IIBBBBB", width, height, bits, colour, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def tiff_of_frames(path: Path, frames: list[tuple[int, int, int, int]], rows: int = 64) -> Path:
    """A TIFF of frames (width, height, bits per sample, sample format: 1 unsigned, 3 float), each a grey value
    of its index × 50, in strips of `rows` rows that all point at one deflated strip: a few KB on disk however
    large the frames are."""
    out = bytearray(b"II*\0\0\0\0\0")
    link = 4  # where the offset of the next frame's directory goes
    for index, (width, height, bits, fmt) in enumerate(frames):
        value = np.full(width * rows, index * 50, {(8, 1): "<u1", (16, 1): "<u2", (32, 3): "<f4"}[bits, fmt])
        strip = zlib.compress(value.tobytes())
        at = len(out)
        out += strip + b"\0" * (len(strip) % 2)
        count = -(-height // rows)
        offsets, sizes = at, len(strip)  # one strip: the values themselves; more: where their arrays are
        if count > 1:
            offsets, sizes = len(out), len(out) + 4 * count
            out += struct.pack(f"<{count}I", *[at] * count) + struct.pack(f"<{count}I", *[len(strip)] * count)
        tags = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, bits), (259, 3, 1, 8), (262, 3, 1, 1),
                (273, 4, count, offsets), (277, 3, 1, 1), (278, 4, 1, rows), (279, 4, count, sizes),
                (339, 3, 1, fmt)]  # fmt: skip
        struct.pack_into("<I", out, link, len(out))
        out += struct.pack("<H", len(tags))
        for tag, kind, n, value in tags:
            packed = struct.pack("<HH", value, 0) if kind == 3 and n == 1 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, n) + packed
        link = len(out)
        out += b"\0\0\0\0"
    path.write_bytes(bytes(out))
    return path


def image_table(cells: list[str], path: Path, repeat: int = 4) -> Path:
    X, labels = blobs(len(cells) * repeat, dims=4, classes=2)
    files = [cells[i % len(cells)] for i in range(len(X))]
    pq.write_table(pa.table({"label": labels, **{f"d{j}": X[:, j] for j in range(4)}, "file": files}), path)
    return path


def shown(page: str, cells: list[str]) -> dict[str, set[str]]:
    """The data URIs each file's rows show ("" for none), for an `image_table` of `cells`."""
    data = points(page)
    out: dict[str, set[str]] = {}
    for row, uri in zip(data["row"].tolist(), data["img"], strict=True):
        out.setdefault(cells[row % len(cells)], set()).add(uri)
    return out


def decoded(uri: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


# -- 1. images: bytes, not pixels ---------------------------------------------------------------------------


def test_an_image_is_counted_at_its_bit_depth(monkeypatch):
    """The same pixels at 16 bits take twice the bytes of 8: with room for the 8-bit image and not for the
    16-bit one, the 16-bit one is refused before it is decoded."""
    grey8, grey16 = io.BytesIO(), io.BytesIO()
    Image.new("L", (300, 200), 40).save(grey8, format="PNG")
    Image.new("I;16", (300, 200), 40_000).save(grey16, format="PNG")
    monkeypatch.setattr(embproj.images.cells, "MAX_IMAGE_BYTES", 300 * 200 * 3 // 2)
    column = pa.chunked_array([pa.array([grey8.getvalue(), grey16.getvalue()], pa.binary())])
    uris, failures = ImageCells(column, "image-bytes").encode(64)
    assert uris[0] and uris[1] is None and failures == Counter({"too-large": 1})
    monkeypatch.setattr(embproj.images.cells, "MAX_IMAGE_BYTES", 300 * 200 * 2)
    uris, failures = ImageCells(column, "image-bytes").encode(64)
    assert uris[0] and uris[1] and not failures


def test_large_images_of_every_mode_shrink_to_their_thumbnail():
    """Shrunk a strip at a time, in whatever mode: 16-bit grey, floats, a palette and 1-bit come out as the
    thumbnail of their pixels (a left-to-right ramp stays a ramp)."""
    ramp = np.tile(np.linspace(0, 1, 2400), (1800, 1))
    images = {
        "I;16": Image.fromarray((ramp * 60_000).astype(np.uint16)),
        "F": Image.fromarray(ramp.astype(np.float32)),
        "P": Image.fromarray((ramp * 255).astype(np.uint8)).convert("P"),
        "1": Image.fromarray(ramp > 0.5),
    }
    for mode, image in images.items():
        buf = io.BytesIO()
        image.save(buf, format="TIFF")
        uris, failures = ImageCells(pa.chunked_array([pa.array([buf.getvalue()])]), "image-bytes").encode(64)
        thumb = np.asarray(decoded(uris[0]).convert("L"))
        assert thumb.shape == (48, 64), mode
        assert thumb[24, 2] < 40 and thumb[24, -3] > 215 and (np.diff(thumb[24].astype(int)) >= -2).all(), mode


def test_hostile_images_are_decoded_within_bounded_memory(tmp_path):
    """A 16-bit PNG of 9000×9000 (162 MB decoded, a file under 1 MB) took ~1.9 GB to make a thumbnail of, a
    float TIFF of the same size ~2.2 GB: the PNG now takes what it decodes to, the TIFF is refused from its
    header (324 MB, twice that through libtiff), and of a TIFF of several frames only the first is read."""
    png_of_zeros(tmp_path / "deep.png", 9000, 9000)
    tiff_of_frames(tmp_path / "float.tif", [(9000, 9000, 32, 3)])
    tiff_of_frames(tmp_path / "frames.tif", [(64, 64, 8, 1), *[(9000, 9000, 16, 1)] * 3])
    assert sum(f.stat().st_size for f in tmp_path.iterdir()) < 2 * MB
    cells = ["deep.png", "float.tif", "frames.tif"]
    done, peak_mb = run_with_peak("project", image_table(cells, tmp_path / "t.parquet"), "--algo", "pca", "-o",
                                  tmp_path / "r.html")  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Warning: 4 of 12 images could not be read: 4 too large to decode safely" in done.stderr
    by_file = shown((tmp_path / "r.html").read_text(), cells)
    assert by_file["float.tif"] == {""} and len(by_file["deep.png"]) == len(by_file["frames.tif"]) == 1
    (first,) = by_file["frames.tif"]  # the first frame's zeros, not a later frame's 50, 100 or 150
    assert decoded(first).size == (64, 64) and set(np.asarray(decoded(first).convert("L")).ravel()) == {0}
    assert peak_mb < 700, f"peak RSS {peak_mb:.0f} MB"


def test_a_huge_array_cell_is_refused(monkeypatch):
    monkeypatch.setattr(embproj.images.cells, "MAX_IMAGE_BYTES", 4 * 100 * 100)
    cells = [np.zeros((100, 100), np.float32), np.zeros((101, 100), np.float32)]
    column = pa.chunked_array([pa.array([c.tolist() for c in cells], pa.list_(pa.list_(pa.float32())))])
    uris, failures = ImageCells(column, "pixels").encode(64)
    assert uris[0] and uris[1] is None and failures == Counter({"too-large": 1})


# -- 2. the sprite -------------------------------------------------------------------------------------------


def tensorboard_folder(folder: Path, sprite: Path | None = None, rows: int = 20) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    X, _ = blobs(rows, dims=4)
    (folder / "tensors.tsv").write_text("".join("\t".join(f"{v:.4f}" for v in row) + "\n" for row in X))
    config = 'embeddings { tensor_name: "x" tensor_path: "tensors.tsv"'
    if sprite is not None:
        config += f' sprite {{ image_path: "{sprite.name}" single_image_dim: 32 single_image_dim: 32 }}'
    (folder / "projector_config.pbtxt").write_text(config + " }\n")
    return folder


def test_a_huge_sprite_is_refused_before_it_is_decoded(tmp_path):
    """A 9000×9000 colour sprite of zeros (~1 MB) took 1.2 GB to cut: it is refused from its header, and the map
    is made without images."""
    (tmp_path / "logs").mkdir()
    sprite = png_of_zeros(tmp_path / "logs" / "sprite.png", 9000, 9000, bits=8, colour=2)
    folder = tensorboard_folder(tmp_path / "logs", sprite)
    done, peak_mb = run_with_peak("project", folder, "--algo", "pca", "-o", tmp_path / "r.html")
    assert done.returncode == 0, done.stderr[-3000:]
    note = (
        f"Warning: {sprite}: the sprite is 9,000×9,000 pixels, 324 MB once decoded, more than embproj decodes of one "
        "image (300 MB), so the map has no images (write a smaller sprite: TensorBoard's projector shows sprites up "
        "to 8192×8192)"
    )
    assert note in done.stderr
    assert peak_mb < 500, f"peak RSS {peak_mb:.0f} MB"


def test_a_sprite_is_cut_a_row_of_images_at_a_time(cli, tmp_path):
    """Grey and colour sprites, each image its own value: every row shows its own image."""
    for mode in ("L", "RGB"):
        sprite = np.zeros((5 * 32, 4 * 32, 3), np.uint8)
        for i in range(20):
            sprite[(i // 4) * 32 : (i // 4 + 1) * 32, (i % 4) * 32 : (i % 4 + 1) * 32] = (i * 10, i * 5, 200)
        path = tmp_path / mode / "sprite.png"
        path.parent.mkdir()
        Image.fromarray(sprite).convert(mode).save(path)
        folder = tensorboard_folder(tmp_path / mode, path)
        out = tmp_path / f"{mode}.html"
        result = cli("project", folder, "--algo", "pca", "-o", out)
        assert result.exit_code == 0, result.output
        saved = np.asarray(Image.open(path))
        data = points(out.read_text())
        assert sorted(data["row"].tolist()) == list(range(20))
        for row, uri in zip(data["row"].tolist(), data["img"], strict=True):
            image = np.asarray(decoded(uri))
            own = saved[(row // 4) * 32, (row % 4) * 32]
            assert image.shape[2:] == saved.shape[2:] and (image == own).all(), f"{mode} row {row}"


# -- 3. .npz archives ---------------------------------------------------------------------------------------


def npz_of_zeros(path: Path, members: dict[str, tuple[int, ...]]) -> Path:
    """An .npz whose members are float32 zeros of the given shapes, deflated as they are written."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, shape in members.items():
            head = io.BytesIO()
            np.lib.format.write_array_header_1_0(head, {"descr": "<f4", "fortran_order": False, "shape": shape})
            with archive.open(f"{name}.npy", "w", force_zip64=True) as f:
                f.write(head.getvalue())
                left = 4 * int(np.prod(shape))
                while left:
                    f.write(bytes(min(left, 16 * MB)))
                    left -= min(left, 16 * MB)
    return path


def test_an_npz_of_compressed_zeros_is_refused_before_it_is_decompressed(tmp_path):
    """Three members of 120 MB of zeros, in under 1 MB: they would take 360 MB together, ~1,000 times what the
    archive stores (a real array compresses a few times)."""
    path = npz_of_zeros(tmp_path / "zeros.npz", {name: (30_000, 1_000) for name in ("embedding", "a", "b")})
    assert path.stat().st_size < MB
    done, peak_mb = run_with_peak("inspect", path)
    assert done.returncode == 2, done.stderr[-3000:]
    line = done.stderr.strip().splitlines()[-2]
    assert line.startswith(f"Error: {path}: the arrays to load would decompress to 360.0 MB from 0.")
    assert line.endswith(
        "(arrays of real data compress a few times; more than 100 times and 256 MB is refused), save them with "
        "np.savez (not np.savez_compressed), or as .npy or Parquet"
    )
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB"


def test_npz_members_are_bounded_in_total(cli, tmp_path, monkeypatch):
    """Each member within the bound, all of them together over it: refused before any is loaded."""
    X, labels = blobs(2_000, dims=50)
    np.savez(tmp_path / "two.npz", embedding=X, other=X + 1, label=labels)
    monkeypatch.setattr(numpy_files, "MAX_ARRAY_BYTES", 600_000)  # each matrix is 400,000 bytes
    loaded = []
    monkeypatch.setattr(numpy_files, "_load", lambda read: loaded.append(1) or read())
    result = cli("inspect", tmp_path / "two.npz")
    assert result.exit_code == 2 and not loaded
    assert result.stderr.strip() == (
        f"Error: {tmp_path / 'two.npz'}: the arrays to load take 0.8 MB once decompressed, more than embproj loads "
        "from .npz archives (0.6 MB), save the embedding as .npy (read memory-mapped) or Parquet"
    )
    monkeypatch.setattr(numpy_files, "MAX_ARRAY_BYTES", 900_000)
    assert cli("inspect", tmp_path / "two.npz").exit_code == 0


def test_an_npz_member_shorter_than_its_header_says(cli, tmp_path):
    """A header claiming 10^9 values in a member of a few bytes: refused before numpy allocates them."""
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "<f4", "fortran_order": False, "shape": (1_000_000, 1_000)})
    with zipfile.ZipFile(tmp_path / "short.npz", "w") as archive:
        archive.writestr("embedding.npy", head.getvalue() + bytes(64))
    result = cli("inspect", tmp_path / "short.npz")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f'Error: {tmp_path / "short.npz"}: array "embedding" is cut short: its header claims more data than the '
        "archive holds, write it again with np.savez"
    )


def test_a_wandb_tables_npz_columns_are_bounded_together(cli, tmp_path, monkeypatch):
    """Two columns wandb moved to .npz files, each within the bound, together over it."""
    X, labels = blobs(400, dims=50)
    media = tmp_path / "media" / "serialized_data"
    media.mkdir(parents=True)
    types = {}
    for column in ("a", "b"):
        np.savez_compressed(media / f"{column}.npz", **{column: X})
        where = {"path": f"media/serialized_data/{column}.npz", "key": column}
        types[column] = {"wb_type": "ndarray", "params": {"serialization_path": where}}
    table = {
        "_type": "table", "columns": ["label", "a", "b"], "data": [[str(v), None, None] for v in labels],
        "column_types": {"wb_type": "typedDict", "params": {"type_map": types}},
    }  # fmt: skip
    (tmp_path / "t.table.json").write_text(json.dumps(table))
    assert cli("inspect", tmp_path / "t.table.json").exit_code == 0
    monkeypatch.setattr(numpy_files, "MAX_ARRAY_BYTES", 120_000)  # each column is 80,000 bytes
    result = cli("inspect", tmp_path / "t.table.json")
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(
        f'Error: {tmp_path / "t.table.json"}: column "b" (media/serialized_data/b.npz): the arrays to load take '
        "0.2 MB once decompressed, more than embproj loads from .npz archives (0.1 MB)"
    )


# -- 4. many columns ----------------------------------------------------------------------------------------


def test_many_columns_that_share_a_few_names_are_read_in_linear_time(cli, tmp_path):
    """20,000 columns named a0 … a6 over and over: each repeat of a name used to try every suffix before its own
    (~28 million tries here; 100,000 columns took ~3 minutes); now ~2 s."""
    columns = 20_000
    X = np.random.default_rng(0).normal(size=(4, columns)).round(3)
    path = tmp_path / "wide.csv"
    lines = [",".join(f"a{i % 7}" for i in range(columns))] + [",".join(map(str, row)) for row in X]
    path.write_text("\n".join(lines) + "\n")
    result = cli("inspect", path)
    assert result.exit_code == 0, result.output
    assert 'renamed 19,993 columns as pandas does: column 8 ("a0" again) is "a0.1";' in result.stdout
    names = embproj.read.tidy.unique_names([f"a{i % 7}" for i in range(columns)])
    assert len(set(names)) == columns and names[-1] == f"a{(columns - 1) % 7}.{(columns - 1) // 7}"
