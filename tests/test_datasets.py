"""lepton.datasets: the bundled digits data."""
import os

import numpy as np
import pytest

import lepton
from lepton.datasets import Bunch, load_digits


def test_digits_arrays():
    X, y = load_digits(return_X_y=True)
    assert X.shape == (1797, 64) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.array_equal(X, np.round(X))
    np.testing.assert_array_equal(np.unique(y), np.arange(10))
    assert np.bincount(y).min() >= 170  # about 180 per class
    X32, y32 = load_digits(return_X_y=True, as_float32=True)
    assert X32.dtype == np.float32
    np.testing.assert_array_equal(X32, X)
    np.testing.assert_array_equal(y32, y)


def test_digits_bunch():
    d = load_digits()
    assert isinstance(d, Bunch) and isinstance(d, dict)
    assert d.data is d["data"] and d.target.shape == (1797,)
    assert d.images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(d.images[5].ravel(), d.data[5])
    assert d.feature_names[:2] == ["pixel_0_0", "pixel_0_1"] and len(d.feature_names) == 64
    np.testing.assert_array_equal(d.target_names, np.arange(10))
    assert ("Optical Recognition of Handwritten Digits, E. Alpaydin and C. Kaynak, UCI Machine "
            "Learning Repository, https://doi.org/10.24432/C50P49, CC BY 4.0") in \
        " ".join(d.DESCR.split())
    with pytest.raises(AttributeError):
        d.no_such_field
    d.extra = 1
    assert d["extra"] == 1


def test_digits_file_is_compact_and_pickle_free():
    path = os.path.join(os.path.dirname(lepton.__file__), "data", "digits.npz")
    assert os.path.getsize(path) < 64 * 1024
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["data", "target"]
        assert npz["data"].dtype == np.uint8 and npz["target"].dtype == np.uint8


def test_digits_equal_scikit_learn():
    sk = pytest.importorskip("sklearn.datasets")
    ours, theirs = load_digits(), sk.load_digits()
    np.testing.assert_array_equal(ours.data, theirs.data)
    np.testing.assert_array_equal(ours.target, theirs.target)
    np.testing.assert_array_equal(ours.images, theirs.images)
    assert ours.feature_names == list(theirs.feature_names)
    np.testing.assert_array_equal(ours.target_names, theirs.target_names)
    assert ours.data.dtype == theirs.data.dtype and ours.target.dtype == theirs.target.dtype
