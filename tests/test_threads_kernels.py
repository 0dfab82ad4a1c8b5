"""Kernel results are bitwise identical for any thread count (each threaded call is checked
to have run a multi-threaded region, see ``lepton._testing.expect_threads``), and concurrent
calls do not interfere."""
import contextlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from lepton import _names, kernels as K
from lepton._testing import expect_threads

DTYPES = [np.float32, np.float64]
THREADS = [2, 3]


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def act_inputs():
    # odd sizes: thread chunks end mid-vector and mid-row; > 3 x 65536 elements so even the
    # cheapest activation runs on 3 threads
    r = np.random.default_rng(1)
    z = 3 * r.standard_normal((521, 509))
    da = r.standard_normal(z.shape)
    return {dt: (z.astype(dt), da.astype(dt)) for dt in DTYPES}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", sorted(_names.ACTIVATIONS))
def test_activations(act, dtype, act_inputs):
    z, da = act_inputs[dtype]
    a1 = K.activation_forward(z, act, n_threads=1)
    d1 = K.activation_backward(z, a1, da, act, n_threads=1)
    for nt in THREADS:
        with expect_threads():
            assert same_bits(K.activation_forward(z, act, n_threads=nt), a1)
        with expect_threads():
            assert same_bits(K.activation_backward(z, a1, da, act, n_threads=nt), d1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", sorted(_names.LOSSES))
@pytest.mark.parametrize("shape", [(5003, 10), (41, 2001)], ids=str)
def test_loss_value_and_grad(loss, dtype, shape, rng):
    z = (3 * rng.standard_normal(shape)).astype(dtype)
    y = rng.random(shape).astype(dtype)
    sw = rng.random(shape[0]).astype(dtype)
    v1, g1 = K.loss_grad(z, y, loss, sample_weight=sw, n_threads=1)
    for nt in THREADS:
        with expect_threads():
            v, g = K.loss_grad(z, y, loss, sample_weight=sw, n_threads=nt)
        assert v == v1 and same_bits(g, g1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1000, 300), (701, 777), (50_000, 3)], ids=str)
def test_col_sum_and_sq_norm(dtype, shape, rng):
    x = rng.standard_normal(shape).astype(dtype)
    s1 = K.col_sum(x, n_threads=1)
    n1 = K.sq_norm(x, n_threads=1)
    for nt in THREADS:
        # columns are split between threads (rows stay in order): 3 columns make one block
        with expect_threads() if shape[1] > 3 else contextlib.nullcontext():
            assert same_bits(K.col_sum(x, n_threads=nt), s1)
        with expect_threads():
            assert K.sq_norm(x, n_threads=nt) == n1
    big = rng.standard_normal(300_007).astype(dtype)
    with expect_threads():
        assert K.sq_norm(big, n_threads=2) == K.sq_norm(big, n_threads=1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", sorted(_names.OPTIMIZERS))
def test_optimizer_step(opt, dtype, rng):
    n = 100_003
    w0 = rng.standard_normal(n).astype(dtype)
    grads = [rng.standard_normal(n).astype(dtype) for _ in range(3)]
    isw = rng.random(n) < 0.8
    results = []
    for nt in [1] + THREADS:
        w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
        for t, g in enumerate(grads, 1):
            with (expect_threads() if nt > 1 else contextlib.nullcontext()):
                K.optimizer_step(opt, w, g, m, v, is_weight=isw, lr=0.01, l2=1e-3,
                                 weight_decay=1e-2, grad_scale=0.5, t=t, n_threads=nt)
        results.append((w, m, v))
    for w, m, v in results[1:]:
        assert same_bits(w, results[0][0]) and same_bits(m, results[0][1])
        assert same_bits(v, results[0][2])


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout(dtype, rng):
    x = rng.standard_normal((301, 333)).astype(dtype)
    d1 = K.dropout(x, 0.4, seed=9, step=3, layer=2, n_threads=1)
    for nt in THREADS:
        with expect_threads():
            assert same_bits(K.dropout(x, 0.4, seed=9, step=3, layer=2, n_threads=nt), d1)


def test_concurrent_calls_from_python_threads(rng):
    z = rng.standard_normal((400, 300))
    y = rng.random((400, 300))
    want = [K.activation_forward(z, "gelu", n_threads=1),
            K.loss_grad(z, y, "binary_cross_entropy", n_threads=1)[1],
            K.col_sum(z, n_threads=1)]

    def work(_):
        return [K.activation_forward(z, "gelu", n_threads=2),
                K.loss_grad(z, y, "binary_cross_entropy", n_threads=2)[1],
                K.col_sum(z, n_threads=2)]

    with ThreadPoolExecutor(4) as pool:
        for got in pool.map(work, range(8)):
            assert all(same_bits(g, w) for g, w in zip(got, want))
