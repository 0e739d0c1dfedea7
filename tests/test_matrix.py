"""Stage 4: the float32 matrix; bad rows dropped and counted; PCA pre-reduction."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from embproj.errors import EmbprojError
from embproj.plan.choose import Embedding
from embproj.vectors.matrix import build_matrix

LIST = Embedding("list", ("v",), None, "")
TEXT = Embedding("list", ("v",), None, "", text=True)


def test_list_column_to_float32():
    table = pa.table({"v": pa.array([[1, 2, 3], [4, 5, 6]], type=pa.list_(pa.int64()))})
    X, _ = build_matrix(table, LIST)
    assert X.dtype == np.float32 and X.tolist() == [[1, 2, 3], [4, 5, 6]]


@pytest.mark.parametrize("value_type", [pa.float16(), pa.float32(), pa.float64(), pa.int8()])
def test_fixed_size_and_large_lists(value_type):
    values = pa.array([1, 2, 3, 4], type=value_type)
    for arr in (pa.FixedSizeListArray.from_arrays(values, 2), pa.LargeListArray.from_arrays([0, 2, 4], values)):
        X, _ = build_matrix(pa.table({"v": arr}), LIST)
        assert X.tolist() == [[1, 2], [3, 4]]


def test_sliced_list_arrays_keep_their_offsets():
    arr = pa.array([[9, 9], [1, 2], [3, 4]], type=pa.list_(pa.float32())).slice(1)
    assert build_matrix(pa.table({"v": arr}), LIST)[0].tolist() == [[1, 2], [3, 4]]


def test_bad_rows_are_dropped_and_counted():
    rows = [[1.0, 2.0], None, [], [1.0, 2.0, 3.0], [float("nan"), 1.0], [float("inf"), 0.0], [5.0, 6.0]]
    X, m = build_matrix(pa.table({"v": pa.array(rows, type=pa.list_(pa.float64()))}), LIST)
    assert X.tolist() == [[1, 2], [5, 6]]
    assert m.keep.tolist() == [0, 6]
    assert m.dropped == {
        "missing vectors": 1,
        "empty vectors": 1,
        "vectors not of length 2": 1,
        "NaN or infinite values": 2,
    }


def test_text_vectors_parse_and_flag_non_numbers():
    cells = ["[0.5, 1]", " [2,3e1] ", "[a, 1]", "[]", None, "[1, 2, 3]"]
    X, m = build_matrix(pa.table({"v": cells}), TEXT)
    assert X.tolist() == [[0.5, 1.0], [2.0, 30.0]]
    assert m.dropped == {
        "missing vectors": 1,
        "empty vectors": 1,
        "vectors not of length 2": 1,
        "vectors holding text that is not a number": 1,
    }


def test_columns_with_nulls_drop_the_row():
    table = pa.table({"a": [1.0, None, 3.0], "b": [1, 2, 3]})
    X, m = build_matrix(table, Embedding("columns", ("a", "b"), 2, ""))
    assert X.tolist() == [[1, 1], [3, 3]] and m.dropped == {"missing numbers": 1} and m.gaps == (1, 0)


def test_all_rows_bad_is_an_error():
    table = pa.table({"v": pa.array([[float("nan")], [float("nan")]])})
    with pytest.raises(EmbprojError, match=r"no usable rows: every vector was dropped \(2 NaN or infinite values\)"):
        build_matrix(table, LIST)


def test_pca_pre_reduction_is_seeded():
    from embproj.vectors.matrix import pre_reduce

    X = np.random.default_rng(0).normal(size=(300, 80)).astype(np.float32)
    a, k, kept = pre_reduce(X, 50, seed=3)
    assert a.shape == (300, 50) and k == 50
    assert 0 < kept < 1
    np.testing.assert_array_equal(a, pre_reduce(X, 50, seed=3)[0])
    assert pre_reduce(X, 100, seed=3)[0].shape == (300, 80)


@pytest.mark.parametrize("rows", [300, 9_000])  # one block, and several (the covariance is summed per block)
def test_pre_reduction_is_the_pca_scikit_learn_computes(rows):
    from sklearn.decomposition import PCA

    from embproj.vectors.matrix import pre_reduce

    rng = np.random.default_rng(1)
    X = (rng.normal(size=(rows, 80)) * np.linspace(1, 6, 80) + 3.0).astype(np.float32)
    Y, k, kept = pre_reduce(X, 50, seed=0)
    pca = PCA(n_components=50, svd_solver="full").fit(X.astype(np.float64))
    expected = pca.transform(X.astype(np.float64))
    assert Y.dtype == np.float32 and Y.shape == (rows, 50) and k == 50
    np.testing.assert_allclose(Y, expected, rtol=0, atol=1e-3 * np.abs(expected).max())  # signs included
    assert kept == pytest.approx(pca.explained_variance_ratio_.sum(), rel=1e-6)


def test_pre_reduction_leaves_narrow_or_short_matrices_alone():
    from embproj.vectors.matrix import pre_reduce

    X = np.ones((10, 8), dtype=np.float32)
    assert pre_reduce(X, 50, 0) == (X, None, None)  # already narrow
    two = np.random.default_rng(0).normal(size=(2, 60)).astype(np.float32)
    assert pre_reduce(two, 50, 0)[1:] == (None, None)  # two rows hold one component: nothing to reduce to
    three = np.random.default_rng(0).normal(size=(3, 60)).astype(np.float32)
    assert pre_reduce(three, 50, 0)[0].shape == (3, 2)  # n - 1 components at most
