"""Divergence never leaves non-finite weights: the step that diverges (a non-finite loss, or
an update that overflows) is not applied, in every training path and for every optimizer."""
import warnings

import numpy as np
import pytest

import lepton
from lepton import Dense, Model, Trainer, ops
from lepton import kernels as K
from lepton.callbacks import Callback

OPTIMIZERS = ["sgd", "momentum", "nesterov", "adam", "adamw"]


def _problem(dtype, n=96):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 4)).astype(dtype)
    y = (X @ np.array([1, -2, 3, 0.5], dtype) * 1000).astype(dtype)
    return X, y


def _model(dtype):
    return Model([Dense(8, activation="relu"), Dense(1)], input_dim=4, dtype=dtype, seed=0)


def _state(tr):
    st = tr.optimizer_state()
    return (tr.model.params.copy(), st["m"], st["v"], st["t"])


def _assert_same(a, b):
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(x, y)
    assert a[3] == b[3]


# A learning rate whose first update overflows the dtype: the loss itself stays finite.
_HUGE_LR = {np.float32: 1e39, np.float64: 1e306}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_overflowing_update_is_rolled_back(optimizer, dtype):
    X, y = _problem(dtype)
    kw = {"weight_decay": 1e300} if dtype == np.float64 and optimizer.startswith("adam") else {}
    tr = Trainer(_model(dtype), optimizer=optimizer, lr=_HUGE_LR[dtype], **kw)
    before = _state(tr)
    with pytest.raises(lepton.DivergenceError, match="not applied") as info:
        tr.partial_fit(X, y)
    assert isinstance(info.value, FloatingPointError) and isinstance(info.value, ValueError)
    _assert_same(_state(tr), before)


class _Snapshots(Callback):
    """Keeps the training state after every applied batch."""

    def __init__(self):
        self.states = []

    def on_batch_end(self, trainer, batch, logs):
        self.states.append(_state(trainer))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_divergence_mid_run_keeps_the_last_finite_step(optimizer):
    # Diverges after some batches.  The batch-by-batch path (a batch callback) ends on the
    # state of the last applied batch, and the fused path (many batches per native call)
    # ends on exactly the same state.
    rng = np.random.default_rng(1)
    X = (rng.standard_normal((256, 4)) * 30).astype(np.float32)
    y = (rng.standard_normal(256) * 3e4).astype(np.float32)
    lr = {"sgd": 3.0, "momentum": 3.0, "nesterov": 3.0, "adam": 1e37, "adamw": 1e37}[optimizer]
    finals = []
    for snaps in (_Snapshots(), None):
        tr = Trainer(_model(np.float32), optimizer=optimizer, lr=lr, seed=3)
        first = _state(tr)
        with pytest.raises(lepton.DivergenceError):
            tr.fit(X, y, epochs=30, batch_size=16, callbacks=[snaps] if snaps else None)
        finals.append(_state(tr))
        if snaps is not None:
            _assert_same(finals[0], (snaps.states or [first])[-1])
    assert all(np.all(np.isfinite(a)) for a in finals[1][:3])
    _assert_same(finals[1], finals[0])


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("Est", [lepton.MLPRegressor, lepton.MLPClassifier])
def test_estimators_roll_back_too(Est, solver):
    X, y = _problem(np.float64)
    est = Est(hidden_layer_sizes=(8,), solver=solver, random_state=0, batch_size=len(X),
              max_iter=1, warm_start=True)
    if Est is lepton.MLPClassifier:
        y = (y > 0).astype(int)
    with pytest.warns(Warning):          # one iteration: ConvergenceWarning
        est.fit(X, y)
    if Est is lepton.MLPClassifier:
        X = X * 1e150
    # Huge steps (a warm-started fit restarts from learning_rate_init): some fit diverges;
    # every fit before it left finite weights, and the diverging one changes nothing.
    est.set_params(learning_rate_init=1e307)
    for _ in range(20):
        before = [a.copy() for a in est.coefs_ + est.intercepts_]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(X, y)
        except lepton.DivergenceError as exc:
            assert isinstance(exc, ValueError)   # scikit-learn's exception type
            after = est.coefs_ + est.intercepts_
            assert all(np.array_equal(a, b) for a, b in zip(before, after))
            break
        assert all(np.all(np.isfinite(a)) for a in est.coefs_ + est.intercepts_)
    else:
        pytest.fail("training never diverged")
    assert all(np.all(np.isfinite(a)) for a in est.coefs_ + est.intercepts_)


def test_kernel_optimizer_step_is_all_or_nothing():
    w = np.array([1.0, 2.0, 3.0e38], np.float32)
    g = np.array([1.0, 1.0, -1.0], np.float32)
    m = np.zeros(3, np.float32)
    v = np.zeros(3, np.float32)
    for opt in OPTIMIZERS:
        ref = (w.copy(), m.copy(), v.copy())
        with pytest.raises(FloatingPointError, match="nothing was written"):
            lepton.kernels.optimizer_step(opt, w, g, m, v, lr=1e38)
        for a, b in zip((w, m, v), ref):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="g contains NaN"):
        lepton.kernels.optimizer_step("sgd", w, np.array([np.nan, 0, 0], np.float32), lr=0.1)
    np.testing.assert_array_equal(w, ref[0])


def test_adam_finite_step_beyond_the_quick_bound_is_applied():
    # |step| * |m| / eps exceeds the quick check's bound (lr 1e-3, eps 1e-300, g 1e12), but
    # sqrt(v) keeps the true step near 1e-3: the exact check must let it through.
    for opt in ("adam", "adamw"):
        w = np.array([1.0, -2.0, 0.5])
        g = np.array([1e12, -1e12, 0.0])
        m, v = np.zeros(3), np.zeros(3)
        ref = [w.copy(), m.copy(), v.copy()]
        K.optimizer_step(opt, w, g, m, v, lr=1e-3, eps=1e-300, t=1)
        ops.optimizer_step(opt, ref[0], g, ref[1], ref[2], lr=1e-3, eps=1e-300, t=1)
        assert np.all(np.isfinite(w)) and not np.array_equal(w, [1.0, -2.0, 0.5])
        for got, want in zip((w, m, v), ref):
            np.testing.assert_allclose(got, want, rtol=1e-12)
