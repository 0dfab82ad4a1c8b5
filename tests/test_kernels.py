"""Native kernels vs the NumPy oracle (lepton.ops), float32 and float64, odd shapes."""
import functools

import numpy as np
import pytest

from lepton import _names, kernels as K, ops
from lepton._testing import core, fast_math

from _helpers import randn, targets

DTYPES = [np.float32, np.float64]
ACTIVATIONS = sorted(_names.ACTIVATIONS)
LOSSES = sorted(_names.LOSSES)
OPTIMIZERS = sorted(_names.OPTIMIZERS)
SHAPES = [(0, 5), (3, 0), (1, 1), (1, 7), (13, 17), (97, 3), (500, 777)]


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


@functools.lru_cache(maxsize=None)
def cached_randn(seed, shape, dtype):
    """Read-only test input, generated once per (seed, shape, dtype)."""
    x = randn(np.random.default_rng(seed), shape, dtype)
    x.flags.writeable = False
    return x


# ---------------------------------------------------------------- activations
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_activation_forward_matches_ops(act, dtype, shape):
    z = cached_randn(0, shape, dtype)
    a = K.activation_forward(z, act)
    assert a.dtype == dtype and a.shape == shape
    np.testing.assert_allclose(a, ops.activation_forward(z, act), **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(0, 4), (1, 1), (13, 17), (127, 301)], ids=str)
def test_activation_backward_matches_ops(act, dtype, shape):
    rng = np.random.default_rng(1)
    z = randn(rng, shape, dtype)
    a = K.activation_forward(z, act)
    da = randn(rng, shape, dtype, 1.0)
    dz = K.activation_backward(z, a, da, act)
    np.testing.assert_allclose(dz, ops.activation_backward(z, a, da, act), **tol(dtype))
    # a=None recomputes the forward pass
    np.testing.assert_array_equal(K.activation_backward(z, None, da, act), dz)


@pytest.mark.parametrize("act,param", [("leaky_relu", 0.2), ("elu", 0.5)])
def test_activation_param(act, param):
    z = np.linspace(-4, 4, 101).reshape(1, -1)
    a = K.activation_forward(z, act, param=param)
    np.testing.assert_allclose(a, ops.activation_forward(z, act, param=param), rtol=1e-12)
    assert not np.allclose(a, K.activation_forward(z, act))
    da = np.ones_like(z)
    np.testing.assert_allclose(K.activation_backward(z, a, da, act, param=param),
                               ops.activation_backward(z, a, da, act, param=param),
                               rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_activation_in_place_and_1d(act, dtype):
    rng = np.random.default_rng(2)
    z = randn(rng, (7, 9), dtype)
    expected = K.activation_forward(z, act)
    zz = z.copy()
    assert K.activation_forward(zz, act, out=zz) is zz
    np.testing.assert_array_equal(zz, expected)
    # a 1-D array is one row
    np.testing.assert_array_equal(K.activation_forward(z[3], act), expected[3])
    da = randn(rng, (7, 9), dtype)
    dz = K.activation_backward(z, expected, da, act)
    dd = da.copy()
    assert K.activation_backward(z, expected, dd, act, out=dd) is dd
    np.testing.assert_array_equal(dd, dz)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_activation_extreme_inputs(act, dtype):
    z = np.array([[-1e4, -100.0, -30.0, -1e-30, 0.0, 1e-30, 30.0, 100.0, 1e4]], dtype)
    a = K.activation_forward(z, act)
    assert np.all(np.isfinite(a))
    np.testing.assert_allclose(a, ops.activation_forward(z, act), **tol(dtype))
    dz = K.activation_backward(z, a, np.ones_like(z), act)
    assert np.all(np.isfinite(dz))
    np.testing.assert_allclose(dz, ops.activation_backward(z, a, np.ones_like(z), act),
                               **tol(dtype))


def test_softmax_rows_sum_to_one_and_shift_invariant():
    rng = np.random.default_rng(3)
    z = randn(rng, (50, 10), np.float64, 20.0)
    a = K.activation_forward(z, "softmax")
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(K.activation_forward(z + 1000.0, "softmax"), a, rtol=1e-12,
                               atol=1e-300)


def test_nan_propagates_through_activations():
    z = np.array([[np.nan, 1.0]], np.float32)
    for act in ACTIVATIONS:
        if act != "softmax":
            assert np.isnan(K.activation_forward(z, act)[0, 0]), act


# ---------------------------------------------------------------- losses
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (13, 17), (67, 301)], ids=str)
def test_loss_grad_matches_ops(loss, dtype, weighted, shape):
    rng = np.random.default_rng(4)
    z = randn(rng, shape, dtype)
    y = targets(rng, loss, shape, dtype)
    sw = rng.random(shape[0]).astype(dtype) * 2 if weighted else None
    value, dz = K.loss_grad(z, y, loss, sample_weight=sw, scale=0.7)
    ref_value, ref_dz = ops.loss_grad(z, y, loss, sample_weight=sw, scale=0.7)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert isinstance(value, float)
    assert value == pytest.approx(ref_value, rel=rtol, abs=1e-12)
    assert dz.dtype == dtype and dz.shape == shape
    np.testing.assert_allclose(dz, ref_dz, rtol=rtol, atol=1e-7 if dtype == np.float32 else 1e-15)
    value2, none = K.loss_grad(z, y, loss, sample_weight=sw, scale=0.7, grad=False)
    assert none is None and value2 == value


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0)], ids=str)
def test_loss_of_nothing_is_an_error(loss, shape):
    # A mean over no rows or no outputs is undefined: not a silent 0.0 (kernel and oracle).
    z = np.zeros(shape, np.float32)
    for fn in (K.loss_grad, ops.loss_grad):
        with pytest.raises(ValueError, match="at least one row and one column"):
            fn(z, z.copy(), loss)


@pytest.mark.parametrize("dtype", DTYPES)
def test_huber_delta_and_soft_targets(dtype):
    rng = np.random.default_rng(5)
    z = randn(rng, (31, 4), dtype)
    y = randn(rng, (31, 4), dtype)
    for delta in (0.1, 1.0, 10.0):
        v, dz = K.loss_grad(z, y, "huber", param=delta)
        rv, rdz = ops.loss_grad(z, y, "huber", param=delta)
        assert v == pytest.approx(rv, rel=1e-5)
        np.testing.assert_allclose(dz, rdz, rtol=1e-5, atol=1e-7)
    # probability targets (label smoothing) for the cross-entropy
    p = rng.random((31, 4))
    p = (p / p.sum(axis=1, keepdims=True)).astype(dtype)
    v, dz = K.loss_grad(z, p, "softmax_cross_entropy")
    rv, rdz = ops.loss_grad(z, p, "softmax_cross_entropy")
    assert v == pytest.approx(rv, rel=1e-5)
    np.testing.assert_allclose(dz, rdz, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "binary_cross_entropy"])
def test_extreme_logits_give_finite_loss_and_grad(loss, dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [-1e4, -1e4, -1e4]], dtype)
    y = np.array([[1, 0, 0], [1, 0, 0], [0, 0, 1]], dtype)
    value, dz = K.loss_grad(z, y, loss)
    assert np.isfinite(value) and np.all(np.isfinite(dz))
    ref_value, ref_dz = ops.loss_grad(z, y, loss)
    assert value == pytest.approx(ref_value, rel=1e-6)
    np.testing.assert_allclose(dz, ref_dz, rtol=1e-6, atol=1e-7)
    # a confident correct prediction costs ~0, a confident wrong one ~1e4
    assert K.loss_grad(z[:1, :2], y[:1, :2], loss)[0] < 1e-3
    # (CE: lse - z_0 = 2e4; BCE: 1e4 per wrong column)
    assert K.loss_grad(z[1:2, :2], y[1:2, :2], loss)[0] == pytest.approx(2e4, rel=1e-6)


@pytest.mark.parametrize("shape", [(9, 5), (3, 300)], ids=str)   # grouped / per-row paths
def test_loss_gradient_may_overwrite_logits(shape):
    rng = np.random.default_rng(6)
    for loss in LOSSES:
        z = randn(rng, shape, np.float64)
        y = targets(rng, loss, shape, np.float64)
        v, dz = K.loss_grad(z, y, loss)
        zz = z.copy()
        v2, dz2 = K.loss_grad(zz, y, loss, out=zz)
        assert dz2 is zz and v2 == v
        np.testing.assert_array_equal(zz, dz)


def test_sample_weight_semantics():
    rng = np.random.default_rng(7)
    z = randn(rng, (6, 3), np.float64)
    y = targets(rng, "mse", (6, 3), np.float64)
    ones = K.loss_grad(z, y, "mse", sample_weight=np.ones(6))
    plain = K.loss_grad(z, y, "mse")
    assert ones[0] == plain[0]
    np.testing.assert_array_equal(ones[1], plain[1])
    # weight 2 on a row == that row twice, normalised by the original row count
    w = np.array([2.0, 1, 1, 1, 1, 1])
    v = K.loss_grad(z, y, "mse", sample_weight=w)[0]
    v_dup = K.loss_grad(np.vstack([z, z[:1]]), np.vstack([y, y[:1]]), "mse")[0] * 7 / 6
    assert v == pytest.approx(v_dup, rel=1e-14)


# ---------------------------------------------------------------- reductions
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES + [(3, 5000), (2000, 1)], ids=str)
def test_col_sum_and_sq_norm_match_ops(dtype, shape):
    x = cached_randn(8, shape, dtype)
    s = K.col_sum(x)
    assert s.dtype == dtype and s.shape == (shape[1],)
    np.testing.assert_allclose(s, ops.col_sum(x), rtol=1e-6 if dtype == np.float32 else 1e-12,
                               atol=1e-4 if dtype == np.float32 else 1e-11)
    out = np.full(shape[1], np.nan, dtype)
    assert K.col_sum(x, out=out) is out
    np.testing.assert_array_equal(out, s)
    assert K.sq_norm(x) == pytest.approx(ops.sq_norm(x), rel=1e-12)
    assert K.sq_norm(x.ravel()) == K.sq_norm(x)


def test_sq_norm_accumulates_in_double():
    # in float32, 2**24 + 1 rounds back to 2**24: the thousand ones would vanish
    x = np.ones(1001, np.float32)
    x[0] = 2.0 ** 12
    assert K.sq_norm(x) == 2.0 ** 24 + 1000
    assert K.col_sum(np.ones((3, 2), np.float32)).tolist() == [3.0, 3.0]


# ---------------------------------------------------------------- optimizers
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", OPTIMIZERS)
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("n", [0, 1, 1003, 20_011])
def test_optimizer_steps_match_ops(opt, dtype, masked, n):
    rng = np.random.default_rng(9)
    w = randn(rng, n, dtype, 1.0)
    isw = rng.random(n) < 0.7 if masked else None
    state = [w.copy(), np.zeros_like(w), np.zeros_like(w)]
    ref = [w.astype(np.float64), np.zeros(n), np.zeros(n)]
    hp = dict(lr=0.05, momentum=0.8, beta1=0.85, beta2=0.99, eps=1e-7, l2=0.01,
              weight_decay=0.02, grad_scale=0.9)
    for t in range(1, 4):
        g = randn(rng, n, dtype, 1.0)
        assert K.optimizer_step(opt, state[0], g, state[1], state[2], is_weight=isw, t=t,
                                **hp) is None
        ops.optimizer_step(opt, ref[0], g, ref[1], ref[2], is_weight=isw, t=t, **hp)
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-13)
    for got, want in zip(state, ref):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def test_is_weight_exempts_biases_from_decay():
    w = np.ones(4)
    g = np.zeros(4)
    isw = np.array([True, False, True, False])
    K.optimizer_step("sgd", w, g, is_weight=isw, lr=0.1, l2=1.0, weight_decay=1.0)
    assert w.tolist() == [0.8, 1.0, 0.8, 1.0]
    K.optimizer_step("sgd", w, g, is_weight=isw.astype(np.uint8), lr=0.1, weight_decay=1.0)
    assert w[1] == 1.0 and w[0] == pytest.approx(0.72)


def test_adam_first_step_is_lr_times_sign():
    # bias correction makes the first Adam step ~lr * sign(g) whatever |g| is
    w = np.zeros(3)
    g = np.array([1e-3, -5.0, 200.0])
    K.optimizer_step("adam", w, g, np.zeros(3), np.zeros(3), lr=0.01, eps=1e-12, t=1)
    np.testing.assert_allclose(w, [-0.01, 0.01, -0.01], rtol=1e-6)


# ---------------------------------------------------------------- dropout and Philox
def test_philox_known_answers():
    # Random123's kat_vectors for philox4x32-10
    kat = [
        ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
        ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
        ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
         [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
    ]
    for ctr, key, want in kat:
        assert ops.philox4x32(ctr, key).tolist() == want


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0, 3), (1, 1), (3, 5), (37, 53), (400, 333)], ids=str)
def test_dropout_matches_ops_exactly(dtype, shape):
    rng = np.random.default_rng(10)
    x = randn(rng, shape, dtype)
    for rate, seed, step, layer in [(0.3, 5, 2, 1), (0.5, 2**40 + 3, 2**33 + 1, 7),
                                    (0.9, 0, 0, 0)]:
        got = K.dropout(x, rate, seed=seed, step=step, layer=layer)
        want = ops.dropout(x, rate, seed=seed, step=step, layer=layer)
        np.testing.assert_array_equal(got, want)


def test_dropout_mask_properties():
    x = np.ones((500, 400), np.float32)
    d = K.dropout(x, 0.25, seed=1)
    kept = d != 0
    assert abs(kept.mean() - 0.75) < 0.005
    np.testing.assert_allclose(d[kept], 1 / 0.75, rtol=1e-7)
    # the key selects the mask; the same key gives the same mask (backward pass)
    assert np.array_equal(K.dropout(x, 0.25, seed=1) != 0, kept)
    for other in (dict(seed=2), dict(seed=1, step=1), dict(seed=1, layer=1)):
        assert (K.dropout(x, 0.25, **other) != 0).mean() != pytest.approx(1.0)
        assert not np.array_equal(K.dropout(x, 0.25, **other) != 0, kept)
    # rate 0 is the identity; in place works
    np.testing.assert_array_equal(K.dropout(x, 0.0, seed=3), x)
    y = x.copy()
    assert K.dropout(y, 0.25, seed=1, out=y) is y
    np.testing.assert_array_equal(y, d)


# ---------------------------------------------------------------- fast math accuracy
def ulp_error(got, ref, dtype):
    """|got - ref| in units of the spacing of ref rounded to dtype (ref in float64)."""
    with np.errstate(over="ignore"):
        r = ref.astype(dtype)
    spacing = np.spacing(np.abs(r)).astype(np.float64)
    spacing[r == 0] = np.finfo(dtype).smallest_subnormal
    both_nan = np.isnan(got) & np.isnan(ref)
    same = (got.astype(np.float64) == ref) | both_nan | ((got == r) & np.isinf(r))
    with np.errstate(invalid="ignore"):
        err = np.abs(got.astype(np.float64) - ref) / spacing
    return np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))


MATH = {
    "exp": (np.exp, (-110.0, 90.0), (-750.0, 711.0)),
    "log": (np.log, (1e-44, 3e38), (1e-320, 1e308)),
    "log1p": (np.log1p, (-0.999, 1e30), (-0.999999, 1e300)),
    "expm1": (np.expm1, (-20.0, 20.0), (-40.0, 40.0)),
    "sigmoid": (ops._sigmoid, (-100.0, 40.0), (-740.0, 40.0)),
    "tanh": (np.tanh, (-12.0, 12.0), (-25.0, 25.0)),
    "softplus": (lambda x: np.logaddexp(0.0, x), (-100.0, 100.0), (-700.0, 700.0)),
}


@pytest.mark.parametrize("func", sorted(MATH))
def test_fast_math_float32_within_few_ulp(func):
    ref_f, (lo, hi), _ = MATH[func]
    rng = np.random.default_rng(11)
    if func == "log":
        x = np.exp(rng.uniform(np.log(lo), np.log(hi), 100_000)).astype(np.float32)
    elif func == "log1p":
        x = np.concatenate([rng.uniform(lo, 1, 50_000),
                            np.exp(rng.uniform(-60, np.log(hi), 50_000))]).astype(np.float32)
    else:
        x = rng.uniform(lo, hi, 100_000).astype(np.float32)
        x = np.concatenate([x, (x / 1e4).astype(np.float32)])
    got = fast_math(func, x)
    with np.errstate(all="ignore"):
        ref = ref_f(x.astype(np.float64))
    assert ulp_error(got, ref, np.float32).max() <= 4


@pytest.mark.parametrize("func", sorted(MATH))
def test_fast_math_float64_within_few_ulp(func):
    ref_f, _, (lo, hi) = MATH[func]
    rng = np.random.default_rng(12)
    if func == "log":
        x = np.exp(rng.uniform(np.log(lo), np.log(hi), 100_000))
    elif func == "log1p":
        x = np.concatenate([rng.uniform(lo, 1, 50_000),
                            np.exp(rng.uniform(-600, np.log(hi), 50_000))])
    else:
        x = rng.uniform(lo, hi, 100_000)
        x = np.concatenate([x, x / 1e4])
    got = fast_math(func, x)
    with np.errstate(all="ignore"):
        ref = ref_f(x)
    # numpy's float64 functions are themselves within ~1 ulp
    assert ulp_error(got, ref, np.float64).max() <= 5


@pytest.mark.parametrize("dtype", DTYPES)
def test_fast_math_special_values(dtype):
    info = np.finfo(dtype)
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, info.max, info.tiny,
                  info.smallest_subnormal, -1.0, 1.0], dtype)
    with np.errstate(all="ignore"):
        for func in ("exp", "log", "log1p", "expm1"):
            got = fast_math(func, x)
            want = getattr(np, func)(x.astype(np.float64))
            assert ulp_error(got, want, dtype).max() <= 2, func
            # NaN where numpy has NaN, infinities and signed zeros exactly
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want.astype(dtype)))
            special = np.isinf(want) | (want == 0)
            np.testing.assert_array_equal(got[special], want[special].astype(dtype))
            np.testing.assert_array_equal(np.signbit(got[special]), np.signbit(want[special]))
    # exp over/underflow thresholds: inf / subnormals rounded, not flushed
    big = np.log(info.max).astype(dtype)
    e = fast_math("exp", np.array([big, np.nextafter(big, dtype(0)), big * 1.01,
                                         np.log(info.smallest_subnormal) + 0.1,
                                         np.log(info.tiny) - 3], dtype))
    with np.errstate(all="ignore"):
        ref = np.exp(np.array([big, np.nextafter(big, dtype(0)), big * 1.01,
                               np.log(info.smallest_subnormal) + 0.1,
                               np.log(info.tiny) - 3], dtype))
    assert np.isinf(e[2]) and np.isinf(ref[2])
    assert ulp_error(e[[0, 1, 3, 4]], ref[[0, 1, 3, 4]].astype(np.float64), dtype).max() <= 1
    assert 0 < e[3] < info.tiny


# ---------------------------------------------------------------- gemm oracle sanity
@pytest.mark.parametrize("dtype", DTYPES)
def test_ops_gemm_agrees_with_native(dtype):
    rng = np.random.default_rng(13)
    a, b, c = randn(rng, (7, 5), dtype), randn(rng, (11, 5), dtype), randn(rng, (7, 11), dtype)
    got = K.gemm(a, b, c.copy(), trans_b=True, alpha=0.5, beta=2.0)
    want = ops.gemm(a, b, c.copy(), trans_b=True, alpha=0.5, beta=2.0)
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-5 if dtype == np.float32 else 1e-12)


# ---------------------------------------------------------------- the native contract
@pytest.mark.parametrize("enum,prefix,table", [("Activation", "ACT_", "ACTIVATIONS"),
                                               ("Loss", "LOSS_", "LOSSES"),
                                               ("Optimizer", "OPT_", "OPTIMIZERS")])
def test_name_tables_are_the_pxd_enums(enum, prefix, table):
    members = getattr(core, enum).__members__
    count = int(members[prefix + "COUNT"])
    want = {k[len(prefix):].lower(): int(v) for k, v in members.items() if k != prefix + "COUNT"}
    assert getattr(_names, table) == want
    assert sorted(want.values()) == list(range(count))


def test_unknown_codes_raise_in_the_core():
    dims, params = [3, 2], np.zeros(8, np.float64)
    n_act, n_loss, n_opt = (int(getattr(core, e).__members__[p + "COUNT"])
                            for e, p in (("Activation", "ACT_"), ("Loss", "LOSS_"),
                                         ("Optimizer", "OPT_")))
    for bad in (n_act, -1):
        with pytest.raises(ValueError, match="unknown activation code"):
            core.Net(dims, [bad], [0.0], [0.0], [True], params)
    net = core.Net(dims, [_names.ACTIVATIONS["identity"]], [0.0], [0.0], [True], params)
    with pytest.raises(ValueError, match="unknown loss code"):
        core.TrainState(net, n_loss, _names.OPTIMIZERS["sgd"])
    with pytest.raises(ValueError, match="unknown optimizer code"):
        core.TrainState(net, _names.LOSSES["mse"], n_opt)


def test_oracle_rejects_unknown_names():
    z = np.ones((2, 3))
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        ops.activation_forward(z, "swish")
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        ops.loss_grad(z, z, "hinge")
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        ops.optimizer_step("rmsprop", z.copy(), z, lr=0.1)


def test_core_imports_no_module_of_the_package():
    # Loaded on its own (not as lepton._core_<isa>), the compiled core must not pull in any
    # lepton Python module: the Python layer calls the core, never the other way round.
    import glob
    import importlib.util
    import os
    import subprocess
    import sys

    (path,) = glob.glob(os.path.join(os.path.dirname(core.__file__), "_core_baseline*.so"))
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('_core_baseline', {path!r})\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            "m.set_num_threads(1); assert m.get_num_threads() == 1\n"
            "assert m.name_tables()['activations']['relu'] == m.Activation.ACT_RELU\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] == 'lepton'\n"
            "             and not k.startswith('lepton._core_')))\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=os.path.dirname(path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    assert importlib.util.find_spec("lepton._native.threads") is not None
