"""Small datasets shipped with lepton, for examples, tests and benchmarks."""
from importlib import resources

import numpy as np

from lepton import _validation as _v

__all__ = ["Bunch", "load_digits", "split_indices"]

_DIGITS_DESCR = """\
Optical recognition of handwritten digits dataset
--------------------------------------------------

:Number of Instances: 1797 (about 180 per class)
:Number of Attributes: 64, an 8x8 image of integer pixels in the range 0..16
:Classes: 10 (the digits 0-9)
:Missing Attribute Values: None
:Creators: E. Alpaydin and C. Kaynak

The test set of the UCI handwritten digits data: 32x32 bitmaps of digits written by
43 people, divided into non-overlapping 4x4 blocks in which the "on" pixels are counted,
giving an 8x8 image with values 0..16. The same data as ``sklearn.datasets.load_digits``.

Source and licence
------------------
Optical Recognition of Handwritten Digits, E. Alpaydin and C. Kaynak, UCI Machine Learning
Repository, https://doi.org/10.24432/C50P49, CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). lepton ships it unchanged, stored as
uint8 arrays.
"""


class Bunch(dict):
    """A dict whose keys can also be read and written as attributes (``b.data``)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value

    def __dir__(self):
        return list(self.keys())


def load_digits(*, return_X_y=False, as_float32=False):
    """Load the UCI handwritten digits dataset (1797 samples, 64 features, 10 classes).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a :class:`Bunch`.
    as_float32 : bool, default=False
        Return ``X`` (and ``images``) as float32 instead of float64.

    Returns
    -------
    data : Bunch
        ``data`` (X, shape (1797, 64), pixel values 0..16), ``target`` (y, int64 digits
        0..9), ``images`` (X reshaped to (1797, 8, 8)), ``feature_names``
        (``"pixel_<row>_<col>"``), ``target_names`` (0..9) and ``DESCR`` (description,
        source and CC BY 4.0 attribution).
    (X, y) : tuple of ndarray
        If ``return_X_y`` is True.

    Examples
    --------
    >>> from lepton.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> X.shape, y.shape
    ((1797, 64), (1797,))
    """
    return_X_y = _v.check_bool(return_X_y, "return_X_y")
    as_float32 = _v.check_bool(as_float32, "as_float32")
    ref = resources.files("lepton").joinpath("data").joinpath("digits.npz")
    with ref.open("rb") as f, np.load(f, allow_pickle=False) as npz:
        pixels, labels = npz["data"], npz["target"]
    if pixels.shape != (1797, 64) or labels.shape != (1797,):
        raise RuntimeError("lepton's bundled digits.npz is damaged; reinstall lepton")
    X = pixels.astype(np.float32 if as_float32 else np.float64)
    y = labels.astype(np.int64)
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        images=X.reshape(-1, 8, 8),
        feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
        target_names=np.arange(10),
        DESCR=_DIGITS_DESCR,
    )


def split_indices(n_samples, fraction, rng, stratify=None):
    """Shuffled (stratified when ``stratify`` labels are given) train / held-out indices.

    The held-out part has ``ceil(fraction * n_samples)`` samples, like scikit-learn's
    ``train_test_split``; with stratification each class gets its share by largest
    remainder, and at least one sample of every class stays in the training part (a class
    with a single sample is never held out).  The estimators' ``early_stopping`` split and
    the ``lepton`` command's splits use it.

    Parameters
    ----------
    n_samples : int
    fraction : float
        Held-out fraction in [0, 1); 0 holds out nothing (training indices in order).
    rng : numpy.random.RandomState or numpy.random.Generator
        Source of the shuffles (anything with ``permutation``).
    stratify : array-like of shape (n_samples,), optional
        Class labels to stratify by.

    Returns
    -------
    train, held_out : ndarray of int
    """
    if fraction <= 0:
        return np.arange(n_samples), np.arange(0)
    n_val = int(np.ceil(fraction * n_samples))
    if stratify is None:
        perm = rng.permutation(n_samples)
        return perm[n_val:], perm[:n_val]
    classes, inv = np.unique(stratify, return_inverse=True)
    counts = np.bincount(inv)
    exact = counts * (n_val / n_samples)
    take = np.floor(exact).astype(int)
    order = np.argsort(-(exact - take), kind="stable")
    take[order[: n_val - take.sum()]] += 1
    take = np.minimum(take, counts - 1).clip(min=0)
    train, val = [], []
    for k in range(len(classes)):
        idx = rng.permutation(np.flatnonzero(inv == k))
        val.append(idx[: take[k]])
        train.append(idx[take[k]:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(val))
