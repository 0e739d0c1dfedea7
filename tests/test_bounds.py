"""Hostile input, round three (issue 25): bounded everything. The members of an .npz are bounded in total
before any is decompressed; a table of many columns is read in time linear in them. Each hostile file is made
here in a few lines, small on disk, and would take gigabytes once decompressed; where memory is cheap to measure
(a fresh process's peak RSS), the test measures it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

import embproj
from conftest import ROOT, blobs
from embproj.formats import numpy_files

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


# -- 1. .npz archives ---------------------------------------------------------------------------------------


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


# -- 2. many columns ----------------------------------------------------------------------------------------


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
    names = embproj.tidy.unique_names([f"a{i % 7}" for i in range(columns)])
    assert len(set(names)) == columns and names[-1] == f"a{(columns - 1) % 7}.{(columns - 1) // 7}"
