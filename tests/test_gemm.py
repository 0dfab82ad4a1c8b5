"""lepton.gemm against a float64 NumPy reference: dtypes x transposes x awkward shapes."""
import contextlib
import itertools
import threading

import numpy as np
import pytest

import lepton
from lepton import ops
from lepton._testing import core, expect_threads

DTYPES = [np.float32, np.float64]
TOL = {np.float32: 2e-5, np.float64: 1e-12}
BLOCK = core.build_info()["gemm_f32"]

# 0, 1, primes, sizes around MR/NR/KC/MC multiples, and one large case.
SHAPES = [
    (0, 5, 3), (4, 0, 3), (3, 5, 0), (1, 1, 1), (1, 7, 1), (2, 3, 5), (7, 13, 11),
    (BLOCK["MR"] + 1, BLOCK["KC"] + 1, BLOCK["NR"] + 1),
    (BLOCK["MC"] + 5, 2 * BLOCK["KC"] - 3, 2 * BLOCK["NR"] - 1),
    (37, 291, 53), (128, 784, 256), (128, 128, 10), (1000, 777, 513),
    # few-row path (B streamed, not packed), including its parallel split
    (1, 784, 256), (3, 300, 1001), (4, 5, 70), (5, 100, 40),
]


def _operands(rng, m, k, n, ta, tb, dtype):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    return a, b


def _ref(a, b, ta, tb, alpha=1.0, beta=0.0, c=None):
    # The NumPy oracle, computed in float64 and kept there for a tight comparison.
    out = None if c is None else c.astype(np.float64)
    return ops.gemm(a.astype(np.float64), b.astype(np.float64), out, trans_a=ta, trans_b=tb,
                    alpha=alpha, beta=beta)


def _close(got, want, dtype, k):
    scale = np.sqrt(max(k, 1)) * (np.abs(want).max() if want.size else 1.0) + 1e-30
    assert got.shape == want.shape
    assert np.all(np.abs(got - want) <= TOL[dtype] * scale), np.abs(got - want).max() / scale


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("m,k,n", SHAPES)
def test_gemm_matches_reference(m, k, n, ta, tb, dtype):
    rng = np.random.default_rng(m * 1000003 + k * 1009 + n)
    a, b = _operands(rng, m, k, n, ta, tb, dtype)
    out = lepton.gemm(a, b, trans_a=ta, trans_b=tb)
    assert out.dtype == dtype and out.flags.c_contiguous
    _close(out, _ref(a, b, ta, tb), dtype, k)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (0.5, -2.0), (2.0, 0.0), (0.0, 3.0), (0.0, 0.0)])
def test_gemm_alpha_beta_out(alpha, beta, dtype):
    rng = np.random.default_rng(1)
    a, b = _operands(rng, 45, 67, 89, False, True, dtype)
    c = rng.standard_normal((45, 89)).astype(dtype)
    want = _ref(a, b, False, True, alpha, beta, c)
    got = lepton.gemm(a, b, c, trans_b=True, alpha=alpha, beta=beta)
    assert got is c
    _close(c, want, dtype, 67)


@pytest.mark.parametrize("dtype", DTYPES)
def test_beta_zero_never_reads_out(dtype):
    rng = np.random.default_rng(2)
    a, b = _operands(rng, 9, 10, 11, False, False, dtype)
    c = np.full((9, 11), np.nan, dtype=dtype)
    lepton.gemm(a, b, c, beta=0.0)
    assert np.isfinite(c).all()
    _close(c, _ref(a, b, False, False), dtype, 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_k_zero_scales_out(dtype):
    a = np.zeros((3, 0), dtype)
    b = np.zeros((0, 4), dtype)
    c = np.ones((3, 4), dtype)
    lepton.gemm(a, b, c, beta=2.0)
    assert np.array_equal(c, np.full((3, 4), 2.0, dtype))
    assert np.array_equal(lepton.gemm(a, b), np.zeros((3, 4), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fortran_operands_are_transposes(dtype):
    rng = np.random.default_rng(6)
    f = np.asfortranarray(rng.standard_normal((31, 17)).astype(dtype))
    b = rng.standard_normal((23, 17)).astype(dtype)
    _close(lepton.gemm(f, b.T), f.astype(np.float64) @ b.T.astype(np.float64), dtype, 17)
    _close(lepton.gemm(f, f, trans_a=True), f.T.astype(np.float64) @ f, dtype, 31)


def test_out_aliasing_input_is_safe():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((50, 50))
    want = a @ a
    lepton.gemm(a, a, a)  # out is both inputs: inputs are copied first
    np.testing.assert_allclose(a, want, rtol=1e-12, atol=1e-12)


def test_nan_propagates_like_numpy():
    a = np.ones((8, 8))
    a[3, 4] = np.nan
    out = lepton.gemm(a, np.ones((8, 8)))
    assert np.isnan(out[3]).all() and np.isfinite(np.delete(out, 3, axis=0)).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
def test_one_vs_two_threads_bitwise(ta, tb, dtype):
    rng = np.random.default_rng(4)
    for m, k, n in [(128, 784, 256), (784, 128, 256), (300, 500, 7), (1000, 777, 513),
                    (1, 784, 256), (3, 1000, 333)]:
        a, b = _operands(rng, m, k, n, ta, tb, dtype)
        one = lepton.gemm(a, b, trans_a=ta, trans_b=tb, n_threads=1)
        with expect_threads() if m * k * n >= 10**7 else contextlib.nullcontext():
            two = lepton.gemm(a, b, trans_a=ta, trans_b=tb, n_threads=2)
            three = lepton.gemm(a, b, trans_a=ta, trans_b=tb, n_threads=3)
        assert np.array_equal(one, two) and np.array_equal(one, three)


def test_concurrent_calls_from_python_threads():
    rng = np.random.default_rng(5)
    pairs = [(rng.standard_normal((200, 300)).astype(np.float32),
              rng.standard_normal((300, 150)).astype(np.float32)) for _ in range(4)]
    want = [lepton.gemm(a, b, n_threads=1) for a, b in pairs]
    got = [None] * len(pairs)
    errors = []

    def work(i):
        try:
            for _ in range(20):
                got[i] = lepton.gemm(*pairs[i], n_threads=2)
                assert np.array_equal(got[i], want[i])
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# ---------------------------------------------------------------- bad input
def _ab(dtype=np.float64):
    return np.ones((3, 4), dtype), np.ones((4, 5), dtype)


@pytest.mark.parametrize("a,b,exc,match", [
    ([[1.0]], np.ones((1, 1)), TypeError, "numpy.ndarray"),
    (np.ones((3, 4)), np.ones((4, 5), np.float32), TypeError, "dtype"),
    (np.ones((3, 4), np.int64), np.ones((4, 5), np.int64), TypeError, "float32 or float64"),
    (np.ones((3, 4), object), np.ones((4, 5)), TypeError, "float32 or float64"),
    (np.ones(4), np.ones((4, 5)), ValueError, "2-D"),
    (np.ones((3, 4, 1)), np.ones((4, 5)), ValueError, "2-D"),
    (np.ones((3, 4)), np.ones((5, 5)), ValueError, "inner dimensions"),
    (np.ones((3, 8))[:, ::2], np.ones((4, 5)), ValueError, "C-contiguous"),
])
def test_bad_operands(a, b, exc, match):
    with pytest.raises(exc, match=match):
        lepton.gemm(a, b)


@pytest.mark.parametrize("out,exc,match", [
    (np.zeros((3, 6)), ValueError, r"shape \(3, 6\), expected \(3, 5\)"),
    (np.zeros((3, 5), np.float32), TypeError, "dtype"),
    (np.zeros((5, 3)).T, ValueError, "C-contiguous"),
    (np.zeros(15), ValueError, "2-D"),
])
def test_bad_out_is_untouched(out, exc, match):
    a, b = _ab()
    before = out.copy()
    with pytest.raises(exc, match=match):
        lepton.gemm(a, b, out, beta=1.0)
    assert np.array_equal(out, before)


def test_read_only_out():
    a, b = _ab()
    out = np.zeros((3, 5))
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        lepton.gemm(a, b, out)
    assert not out.any()


@pytest.mark.parametrize("n_threads,exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError),
                                           ("2", TypeError), (True, TypeError)])
def test_bad_thread_count(n_threads, exc):
    a, b = _ab()
    with pytest.raises(exc, match="n_threads"):
        lepton.gemm(a, b, n_threads=n_threads)


def test_bad_scalars():
    a, b = _ab()
    with pytest.raises(TypeError, match="alpha"):
        lepton.gemm(a, b, alpha="x")
