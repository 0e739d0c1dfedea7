"""Hostile input, round three (issue 25): bounded everything. A table of many columns is read in time linear in
them."""

from __future__ import annotations

import numpy as np

import embproj

# -- many columns ----------------------------------------------------------------------------------------


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
