"""Images on hover: every kind of cell reaches the page as re-encoded pixels, within the --max-html-mb budget,
and nothing of the cell's own bytes or text comes along. Pixels are checked as the browser gets them: decoded
from the data URIs in the report's `points` source."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, PngImagePlugin

from conftest import blobs
from embproj.errors import OptionError
from embproj.images.cells import ImageCells, failure_warning
from embproj.options import Options, parse_image_shape
from embproj.pipeline import run
from embproj.plan.columns import describe_column
from reportdata import points

N = 24  # rows in the small tables: enough for PCA, fast to render


# -- helpers -------------------------------------------------------------------------------------------------


def quadrants(size: int = 16) -> np.ndarray:
    """A size×size RGB image of four flat colours: exact through PNG, GIF and lossless WebP; close in JPEG."""
    img = np.zeros((size, size, 3), np.uint8)
    h = size // 2
    img[:h, :h] = (255, 0, 0)
    img[:h, h:] = (0, 200, 0)
    img[h:, :h] = (0, 0, 255)
    img[h:, h:] = (250, 250, 250)
    return img


def encoded(arr: np.ndarray, fmt: str = "PNG", **save) -> bytes:
    buf = io.BytesIO()
    if fmt == "WEBP":
        save.setdefault("lossless", True)
    Image.fromarray(arr).save(buf, format=fmt, **save)
    return buf.getvalue()


def pixels_of(uri: str) -> np.ndarray:
    assert uri.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")), uri[:40]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def table_with(column: str, cells, type=None, n: int | None = None) -> pa.Table:
    n = len(cells) if n is None else n
    X, labels = blobs(n, dims=6, classes=3)
    return pa.table(
        {
            "label": pa.array(labels),
            "embedding": pa.array(list(X), type=pa.list_(pa.float32())),
            column: pa.array(cells, type=type),
        }
    )


def report(tmp_path, table: pa.Table, **options):
    """Write `table` as data.parquet and run PCA on it; returns (result, {row id: image data URI or ""})."""
    path = tmp_path / "data.parquet"
    pq.write_table(table, path)
    result = run(Options(data=path, algo="pca", **options))
    data = points(result.html)
    return result, dict(zip(data["row"].tolist(), data["img"], strict=True)) if "img" in data else {}


def page_images(result) -> list[str]:
    return [u for u in points(result.html)["img"] if u]


# -- every kind of source ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, dtype, expected",
    [
        (lambda r: r.integers(0, 256, (8, 8)), pa.uint8(), lambda a: a),  # grey ints 0..255
        (lambda r: r.random((8, 8)), pa.float32(), lambda a: np.rint(a * 255)),  # grey floats 0..1
        (lambda r: r.integers(0, 256, (8, 8, 3)), pa.int64(), lambda a: a),  # colour H×W×3
        (lambda r: r.random((8, 8, 4)), pa.float64(), lambda a: np.rint(a * 255)),  # colour with alpha
    ],
    ids=["grey-int", "grey-float", "rgb-int", "rgba-float"],
)
def test_pixel_arrays_show_their_pixels(tmp_path, make, dtype, expected):
    rng = np.random.default_rng(1)
    arrays = [make(rng) for _ in range(N)]
    type_ = pa.list_(pa.list_(dtype)) if arrays[0].ndim == 2 else pa.list_(pa.list_(pa.list_(dtype)))
    cells = [a.astype(np.float32 if dtype == pa.float32() else None).tolist() for a in arrays]
    table = table_with("image", cells, type_)
    result, imgs = report(tmp_path, table)
    assert result.plan.image.column == "image" and result.plan.image.kind == "pixels"
    for row in (0, 7, N - 1):
        got = pixels_of(imgs[row])
        assert got.shape[:2] == (64, 64)  # 8×8 pixel art enlarged 8 times, nearest neighbour
        want = expected(np.asarray(cells[row], dtype=np.float64))
        if want.ndim == 3 and want.shape[2] == 4:
            got = np.asarray(Image.open(io.BytesIO(base64.b64decode(imgs[row].split(",")[1]))).convert("RGBA"))
        np.testing.assert_allclose(got[::8, ::8], want, atol=1)


def test_digits_images_are_the_8x8_arrays(digits_table):
    info = describe_column("image", digits_table.column("image"))
    assert info.kind == "pixels" and info.shape == (8, 8)


def test_flat_pixel_lists_with_image_shape(tmp_path):
    rng = np.random.default_rng(2)
    flat = rng.integers(0, 256, (N, 28 * 28)).astype(np.uint8)
    table = table_with("pixels", list(flat), pa.list_(pa.uint8()))
    result, imgs = report(tmp_path, table, image_shape="28x28")
    assert result.plan.image.column == "pixels" and result.plan.image.shape == (28, 28)
    assert result.plan.embedding.columns == ("embedding",)  # the other vector column stays the embedding
    got = pixels_of(imgs[3])
    assert got.shape == (56, 56)  # 28 px × 2, whole factor
    np.testing.assert_array_equal(got[::2, ::2], flat[3].reshape(28, 28))


def test_flat_pixel_lists_can_be_image_and_embedding(tmp_path):
    rng = np.random.default_rng(3)
    flat = rng.random((N, 8 * 8 * 3)).astype(np.float32)
    table = pa.table({"label": [f"c{i % 3}" for i in range(N)], "pixels": pa.array(list(flat), pa.list_(pa.float32()))})
    result, imgs = report(tmp_path, table, image_shape=(8, 8, 3))
    assert result.plan.image.column == "pixels" and result.plan.embedding.columns == ("pixels",)
    got = pixels_of(imgs[5])
    np.testing.assert_allclose(got[::8, ::8], np.rint(flat[5].reshape(8, 8, 3) * 255), atol=1)


def test_image_shape_that_does_not_match_is_an_error(cli, tmp_path):
    flat = np.zeros((N, 784), np.uint8)
    pq.write_table(table_with("pixels", list(flat), pa.list_(pa.uint8())), tmp_path / "d.parquet")
    result = cli("project", tmp_path / "d.parquet", "--algo", "pca", "--image", "pixels", "--image-shape", "8x8")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        'Error: d.parquet: --image-shape 8x8 needs 64 values per cell, but column "pixels" has 784, '
        "use --image-shape 28x28"
    ).replace("d.parquet", str(tmp_path / "d.parquet"))
    assert not (tmp_path / "d.pca.html").exists()
    result = cli("project", tmp_path / "d.parquet", "--algo", "pca", "--image", "pixels")
    assert (
        result.exit_code == 2
        and "holds flat lists of 784 numbers, give their shape with --image-shape 28x28" in result.stderr
    )
    result = cli("project", tmp_path / "d.parquet", "--algo", "pca", "--image-shape", "8by8")
    assert result.exit_code == 2 and '--image-shape "8by8" is not HxW or HxWxC' in result.stderr


def test_parse_image_shape():
    assert parse_image_shape("28x28") == (28, 28)
    assert parse_image_shape("32X32x3") == (32, 32, 3)
    assert parse_image_shape((8, 8)) == (8, 8) and parse_image_shape(None) is None
    for bad in ("28", "0x5", "4x4x2", "axb"):
        with pytest.raises(OptionError):
            parse_image_shape(bad)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_binary_cells_of_each_format(tmp_path, fmt):
    cells = [encoded(np.roll(quadrants(), i, axis=1), fmt) for i in range(N)]
    result, imgs = report(tmp_path, table_with("photo", cells, pa.binary()))
    assert result.plan.image.column == "photo" and result.plan.image.kind == "image-bytes"
    got = pixels_of(imgs[4])[..., :3]
    want = np.roll(quadrants(), 4, axis=1).repeat(4, 0).repeat(4, 1)  # 16 px × 4 = 64
    tolerance = 40 if fmt == "JPEG" else 0
    centres = (slice(8, None, 16), slice(8, None, 16))  # away from the edges JPEG blurs
    np.testing.assert_allclose(got[centres].astype(int), want[centres].astype(int), atol=tolerance)


def test_relative_paths_resolve_against_the_data_folder(tmp_path, monkeypatch):
    (tmp_path / "imgs").mkdir()
    cells = []
    for i in range(N):
        name = f"imgs/{i}.png"
        Image.fromarray(np.full((16, 16), i * 10, np.uint8)).save(tmp_path / name)
        cells.append(name if i % 2 else str(tmp_path / name))  # relative and absolute paths
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result, imgs = report(tmp_path, table_with("file", cells))
    assert result.plan.image.kind == "image-path"
    assert not result.warnings
    for row in (3, 4):
        assert (pixels_of(imgs[row]) == row * 10).all()


def test_data_uris_and_bare_base64(tmp_path):
    pngs = [encoded(np.full((16, 16), 5 * i, np.uint8)) for i in range(N)]
    b64 = [base64.b64encode(p).decode() for p in pngs]
    table = table_with("uri", [f"data:image/png;base64,{t}" for t in b64]).append_column("thumb_b64", pa.array(b64))
    result, imgs = report(tmp_path, table)
    assert result.plan.image.column == "uri" and result.plan.image.kind == "image-uri"
    assert (pixels_of(imgs[6]) == 30).all()
    result, imgs = report(tmp_path, table, image="thumb_b64")
    kinds = {c.name: c.kind for c in result.plan.info}
    assert kinds["thumb_b64"] == "image-base64"
    assert (pixels_of(imgs[9]) == 45).all()


def test_hugging_face_image_structs(tmp_path):
    cells = [{"bytes": encoded(np.full((16, 16), 7 * i, np.uint8)), "path": f"{i}.png"} for i in range(N)]
    result, imgs = report(tmp_path, table_with("image", cells))
    assert result.plan.image.kind == "image-bytes"
    assert (pixels_of(imgs[2]) == 14).all()


def test_detection_is_by_content_not_only_by_name():
    png = encoded(quadrants())
    cases = {
        "blob": (pa.array([png] * 5, pa.binary()), "image-bytes"),
        "x": (pa.array([base64.b64encode(png).decode()] * 5), "image-base64"),
        # long and base64-like, but not an image once decoded
        "words": (pa.array(["abcdefghij" * 8 + str(i) for i in range(5)]), "text"),
        # one odd cell does not hide a column of paths
        "f": (pa.array(["a/b.JPG", "c.png", "d.webp", "e.gif", "missing"]), "image-path"),
        "u": (pa.array(["data:image/jpeg;base64,AAAA"] * 5), "image-uri"),
    }
    for name, (values, kind) in cases.items():
        assert describe_column(name, pa.chunked_array([values])).kind == kind, name


def test_no_images_leaves_them_out(tmp_path):
    cells = [encoded(quadrants()) for _ in range(N)]
    result, imgs = report(tmp_path, table_with("photo", cells, pa.binary()), no_images=True)
    assert imgs == {} and result.summary.images is None


# -- safety --------------------------------------------------------------------------------------------------

SCRIPT = "<script>window.__pwned=1</script>"


def hostile_png(value: int) -> bytes:
    """A valid PNG carrying a tEXt chunk, an ICC profile and trailing bytes, each with script in it."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT)
    arr = np.full((16, 16, 3), value, np.uint8)
    return encoded(arr, "PNG", pnginfo=info, icc_profile=SCRIPT.encode()) + b"JUNK" + SCRIPT.encode()


def test_only_reencoded_pixels_reach_the_page(tmp_path):
    cells = [hostile_png(10 * i) for i in range(N)]
    uris = [f"data:image/png;base64,{base64.b64encode(c).decode()}" for c in cells]
    table = table_with("photo", cells, pa.binary()).append_column("uri", pa.array(uris))
    for column in ("photo", "uri"):
        result, imgs = report(tmp_path, table, image=column)
        page = result.html
        assert SCRIPT not in page and "__pwned" not in page and "JUNK" not in page
        for row in range(N):
            original = base64.b64encode(cells[row]).decode()
            assert original[:200] not in page and imgs[row] != uris[row]
            raw = base64.b64decode(imgs[row].split(",", 1)[1])
            assert b"script" not in raw and b"tEXt" not in raw and b"iCCP" not in raw and b"JUNK" not in raw
            assert raw.endswith(b"IEND\xaeB`\x82")  # nothing after the PNG's end
        assert (pixels_of(imgs[3]) == 30).all()  # the image still shows


def huge_png_header(width: int = 20_000, height: int = 20_000) -> bytes:
    """A small PNG whose header claims width × height pixels (its data is one compressed row of zeros)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bombs_are_refused(tmp_path, monkeypatch):
    bomb = huge_png_header()
    assert len(bomb) < 1_000
    cells = [bomb, *[encoded(quadrants()) for _ in range(N - 1)]]
    result, imgs = report(tmp_path, table_with("photo", cells, pa.binary()))
    assert imgs[0] == "" and imgs[1]
    assert "1 of 24 images could not be read: 1 too large to decode safely" in result.warnings
    # Pillow's warning level (above MAX_IMAGE_PIXELS, below twice that) is refused too: a real image, cheaply
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 200)
    cells = [encoded(np.zeros((15, 20), np.uint8)), encoded(np.zeros((10, 10), np.uint8))]
    out, failures = ImageCells(pa.chunked_array([pa.array(cells, pa.binary())]), "image-bytes").encode(64)
    assert out[0] is None and out[1] and failures == Counter({"too-large": 1})


def test_unreadable_cells_get_no_image_and_a_counted_warning(tmp_path):
    (tmp_path / "ok.png").write_bytes(encoded(quadrants()))
    (tmp_path / "text.png").write_text("not a picture")
    (tmp_path / "cut.png").write_bytes(encoded(quadrants())[:60])
    (tmp_path / "folder.png").mkdir()
    cells = [
        "ok.png",
        "gone.png",
        "text.png",
        "cut.png",
        "folder.png",
        None,
        "https://example.com/a.png",
        "gone2.png",
    ]
    out, failures = ImageCells(pa.chunked_array([pa.array(cells)]), "image-path", base_dir=tmp_path).encode(64)
    assert out[0] and out[1:] == [None] * 7
    assert failures == Counter(missing=2, **{"not-image": 1, "corrupt": 1, "unreadable": 1, "empty": 1, "url": 1})
    assert failure_warning(failures, 8) == (
        "7 of 8 images could not be read: 2 missing files, 1 not an image, 1 corrupt image, "
        "1 unreadable file, 1 empty cell, 1 URL (not downloaded)"
    )
    bad = [[[1, 2], [3]], [[[1, 2, 3, 4, 5]]], b"junk", b"\x89PNG\r\n\x1a\nbroken"]
    for cell, reason in zip(bad, ["array", "array", "not-image", "corrupt"], strict=True):
        kind = "pixels" if isinstance(cell, list) else "image-bytes"
        cells = ImageCells(pa.chunked_array([pa.array([b""])]), kind)
        with pytest.raises(Exception) as err:
            cells.thumbnail(cell, 64)
        assert getattr(err.value, "reason", None) == reason, cell


def test_failures_are_warned_on_the_command_line(cli, tmp_path):
    for i in range(N):
        Image.fromarray(np.full((8, 8), i, np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "3.png").write_text("not an image")
    cells = [f"{i}.png" for i in range(N)]
    cells[5], cells[9] = "nowhere/5.png", "nowhere/9.png"
    pq.write_table(table_with("file", cells), tmp_path / "files.parquet")
    result = cli("project", tmp_path / "files.parquet", "--algo", "pca", "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.output
    assert "Warning: 3 of 24 images could not be read: 2 missing files, 1 not an image" in result.stderr
    page = (tmp_path / "r.html").read_text()
    imgs = dict(zip(points(page)["row"].tolist(), points(page)["img"], strict=True))
    assert imgs[3] == imgs[5] == imgs[9] == "" and imgs[4]
    assert "3 of 24 images could not be read" in page  # in the page header too


# -- the size budget -----------------------------------------------------------------------------------------


def noise_table(n: int, side: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    flat = pa.array(rng.integers(0, 256, n * side * side * 3, dtype=np.uint8))
    images = pa.FixedSizeListArray.from_arrays(
        pa.FixedSizeListArray.from_arrays(pa.FixedSizeListArray.from_arrays(flat, 3), side), side
    )
    X, labels = blobs(n, dims=8, classes=4, seed=seed)
    return pa.table({"label": labels, "embedding": pa.array(list(X), pa.list_(pa.float32())), "image": images})


def test_budget_shrinks_then_thins_images_to_fit_the_file(cli, tmp_path):
    pq.write_table(noise_table(3_000, 32), tmp_path / "noise.parquet")
    out = tmp_path / "noise.html"
    result = cli("project", tmp_path / "noise.parquet", "--algo", "pca", "--max-html-mb", "3", "-o", out)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size <= 3_000_000
    imgs = [u for u in points(out.read_text())["img"] if u]
    assert 100 < len(imgs) < 3_000
    assert (
        f"Warning: images shrunk from 64 to 32 px and kept for {len(imgs):,} of 3,000 points "
        "to fit --max-html-mb 3" in result.stderr
    )
    assert all(max(Image.open(io.BytesIO(base64.b64decode(u.split(",")[1]))).size) == 32 for u in imgs[:50])
    assert out.stat().st_size > 2_800_000  # the room was used, not wasted


def test_budget_shrinks_only_as_far_as_needed(tmp_path):
    table = noise_table(200, 64)
    full, _ = report(tmp_path, table)
    spent = full.summary.images.bytes
    assert spent == sum(len(u) for u in page_images(full)) and spent > 0
    # 48 px JPEGs take about 60% of the bytes of 64 px ones: a quarter less room needs 48 px, not 32 px
    limit = round((len(full.html.encode()) - 0.25 * spent) / 1e6, 3)
    result, _ = report(tmp_path, table, max_html_mb=limit)
    assert len(result.html.encode()) <= limit * 1e6
    assert result.warnings == (f"images shrunk from 64 to 48 px to fit --max-html-mb {limit:g}",)
    assert len(page_images(result)) == 200 and result.summary.images.size == 48
    assert "200 of 200 points, 48 px" in result.html  # the header says what the images cost


def test_budget_subset_is_seeded(tmp_path):
    table = noise_table(400, 16)
    full, _ = report(tmp_path, table, seed=3)
    # room for a tenth of the images' bytes: from the page's own size, which moves with what else the page carries
    limit = round((len(full.html.encode()) - 0.9 * full.summary.images.bytes) / 1e6, 3)
    first, a = report(tmp_path, table, max_html_mb=limit, seed=3)
    again, b = report(tmp_path, table, max_html_mb=limit, seed=3)
    assert a == b and 0 < sum(1 for u in a.values() if u) < 400
    _, c = report(tmp_path, table, max_html_mb=limit, seed=4)
    assert {r for r, u in c.items() if u} != {r for r, u in a.items() if u}


def test_over_budget_even_without_images_still_writes_the_report(tmp_path):
    result, imgs = report(tmp_path, noise_table(50, 16), max_html_mb=0.5)
    assert not any(imgs.values())
    (warning,) = [w for w in result.warnings if "max-html-mb" in w]
    assert warning.startswith("to fit --max-html-mb 0.5: images left out (50); the neighbour table left out (50 rows)")
    assert "; the report is still " in warning and warning.endswith(" MB; lower --max-points to make it smaller")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--max-html-mb", "0"], "Error: --max-html-mb 0 is out of range, give a number above 0"),
        (
            ["--thumb-size", "2"],
            "Error: --thumb-size 2 is out of range, give a whole number from 8 to 1024",
        ),
    ],
)
def test_budget_options_are_checked_first(cli, vectors_parquet, args, message):
    result = cli("project", vectors_parquet, "--algo", "pca", *args)
    assert result.exit_code == 2 and result.stderr.startswith(message)


def test_over_budget_without_an_image_column_says_so(tmp_path):
    result, imgs = report(tmp_path, table_with("note", [f"n{i}" for i in range(N)]), max_html_mb=0.5)
    assert imgs == {} and result.summary.images is None
    assert result.warnings[-1].startswith("to fit --max-html-mb 0.5: the neighbour table left out")
    assert (
        result.warnings[-1].endswith("; lower --max-points to make it smaller") and " is still " in result.warnings[-1]
    )


def test_flat_lists_named_like_images_get_a_hint():
    from embproj.plan.choose import make_plan

    head = table_with("pixels", list(np.zeros((N, 784), np.uint8)), pa.list_(pa.uint8()))
    plan = make_plan(head, Options())
    assert plan.image.column is None
    assert plan.image.reason == '"pixels" may be flat images: show them with --image-shape 28x28'
