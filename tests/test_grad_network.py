"""Whole-network backprop (forward, loss, backward, dropout, L2) against central finite
differences in float64, and the fused update step against a hand-computed one."""
import itertools

import numpy as np
import pytest

import lepton
from lepton import _names

HIDDEN = [a for a in _names.ACTIVATIONS if a != "softmax"]
LOSSES = list(_names.LOSSES)
N, D, H, K = 6, 5, 7, 3


def _head(loss, act):
    if loss == "softmax_cross_entropy":
        return "softmax"
    if loss == "binary_cross_entropy":
        return "sigmoid"
    return act   # regression: the last layer's activation backward is exercised too


def _targets(loss, rng):
    if loss == "softmax_cross_entropy":
        return rng.integers(0, K, N)
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, (N, K)).astype(float)
    return rng.standard_normal((N, K))


def _setup(act, loss, dropout=0.3, l2=0.1, seed=0, head=None):
    rng = np.random.default_rng(seed)
    layers = [lepton.Dense(H, activation=act)]
    if dropout:
        layers.append(lepton.Dropout(dropout))
    layers.append(lepton.Dense(K, activation=head or _head(loss, act), init="glorot_normal"))
    model = lepton.Model(layers, input_dim=D, dtype="float64", seed=seed)
    # Non-zero biases so every parameter matters.
    model.params[...] += 0.1 * rng.standard_normal(model.n_params)
    X = rng.standard_normal((N, D))
    y = _targets(loss, rng)
    sw = rng.uniform(0.5, 2.0, N)
    loss_param = 0.5 if loss == "huber" else None
    tr = lepton.Trainer(model, loss=loss, optimizer="sgd", lr=0.1, l2=l2, loss_param=loss_param,
                        seed=seed)
    return model, tr, X, y, sw


def _fd_check(model, tr, X, y, sw, h=1e-6):
    loss, g = tr._gradients(X, y, sw, step=7)
    p0 = model.params.copy()
    fd = np.empty_like(g)
    for i in range(model.n_params):
        model.params[i] = p0[i] + h
        lp, _ = tr._gradients(X, y, sw, step=7)
        model.params[i] = p0[i] - h
        lm, _ = tr._gradients(X, y, sw, step=7)
        model.params[i] = p0[i]
        fd[i] = (lp - lm) / (2 * h)
    assert np.isfinite(loss)
    err = np.linalg.norm(g - fd) / max(np.linalg.norm(fd), 1e-12)
    return err, g, fd


@pytest.mark.parametrize("act,loss", list(itertools.product(HIDDEN, LOSSES)))
def test_network_gradient_matches_finite_differences(act, loss):
    model, tr, X, y, sw = _setup(act, loss)
    err, g, fd = _fd_check(model, tr, X, y, sw)
    assert err < 1e-7, (act, loss, err)
    assert np.linalg.norm(g) > 1e-3   # not trivially zero


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_softmax_head_with_regression_loss(loss):
    model, tr, X, y, sw = _setup("tanh", loss, head="softmax")
    err, _, _ = _fd_check(model, tr, X, y, sw)
    assert err < 1e-7


def test_deeper_network_no_bias_and_loss_scale():
    rng = np.random.default_rng(3)
    model = lepton.Model([lepton.Dense(6, activation="elu"), lepton.Dropout(0.5),
                          lepton.Dense(5, activation="gelu", use_bias=False),
                          lepton.Dense(4, activation="tanh"), lepton.Dropout(0.2),
                          lepton.Dense(K, activation="softmax")],
                         input_dim=D, dtype="float64", seed=3)
    X = rng.standard_normal((N, D))
    y = rng.integers(0, K, N)
    tr = lepton.Trainer(model, optimizer="sgd", l2=0.05, loss_scale=0.5)
    err, g, _ = _fd_check(model, tr, X, y, None)
    assert err < 1e-7
    # The layer without bias keeps a zero bias gradient (so its bias is never updated).
    _, b0 = model._offsets[1]
    assert np.all(g[b0:b0 + 5] == 0)


def test_dropout_masks_depend_on_step_and_seed():
    model, tr, X, y, sw = _setup("relu", "mse", dropout=0.5, l2=0.0)
    l1, _ = tr._gradients(X, y, step=1)
    l1b, _ = tr._gradients(X, y, step=1)
    l2, _ = tr._gradients(X, y, step=2)
    l_eval, _ = tr._gradients(X, y, train=False)
    assert l1 == l1b and l1 != l2 and l_eval not in (l1, l2)
    # evaluate() is inference mode: no dropout
    assert tr.evaluate(X, y)["loss"] == pytest.approx(l_eval, rel=1e-12)


@pytest.mark.parametrize("clip", [None, 0.05])
def test_fused_sgd_step_equals_gradient_step(clip):
    model, tr, X, y, sw = _setup("tanh", "softmax_cross_entropy", dropout=0.0, l2=0.1)
    tr = lepton.Trainer(model, optimizer="sgd", lr=0.3, l2=0.1, clip_norm=clip)
    loss, g = tr._gradients(X, y, sw)
    g_data = g - 0.1 * model.params * tr._state.is_weight
    scale = 1.0
    if clip is not None and np.linalg.norm(g_data) > clip:
        scale = clip / np.linalg.norm(g_data)
    want = model.params - 0.3 * (scale * g_data + 0.1 * model.params * tr._state.is_weight)
    tr.fit(X, y, epochs=1, batch_size=N, shuffle=False, sample_weight=sw)
    assert tr.step_count == 1
    np.testing.assert_allclose(model.params, want, rtol=1e-12, atol=1e-14)
    assert tr.history.history["loss"][0] == pytest.approx(loss, rel=1e-12)


def test_weight_decay_is_decoupled_and_skips_biases():
    model, tr, X, y, sw = _setup("relu", "mse", dropout=0.0, l2=0.0)
    tr = lepton.Trainer(model, optimizer="sgd", lr=0.1, weight_decay=0.5)
    _, g = tr._gradients(X, y)
    w = tr._state.is_weight
    p = model.params.copy()
    want = p - 0.1 * 0.5 * p * w - 0.1 * g
    tr.fit(X, y, epochs=1, batch_size=N, shuffle=False)
    np.testing.assert_allclose(model.params, want, rtol=1e-12, atol=1e-14)


def test_single_sigmoid_neuron_textbook_example():
    # One sigmoid neuron, x = [1, 2, 3, 4], target 1, gradient descent on cross-entropy.
    model = lepton.Model([lepton.Dense(1, activation="sigmoid")], input_dim=4,
                         dtype="float64", seed=0)
    tr = lepton.Trainer(model, loss="binary_cross_entropy", optimizer="sgd", lr=0.1)
    X = np.array([[1.0, 2.0, 3.0, 4.0]])
    hist = tr.fit(X, [1], epochs=50, batch_size=1)
    losses = hist.history["loss"]
    assert losses[-1] < 0.01
    assert all(b <= a for a, b in zip(losses, losses[1:]))
    assert model.predict(X)[0, 0] > 0.99
