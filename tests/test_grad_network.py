"""Whole-network backprop (forward, loss, backward, dropout, L2) against central finite
differences in float64, and the fused update step against a hand-computed one; the
whole-network oracle (``lepton.ops.network_loss_grad``) against finite differences and
against the native training step."""
import itertools

import numpy as np
import pytest

import lepton
from lepton import _names, _testing, ops

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
    loss, g = _testing.gradients(tr, X, y, sw, step=7)
    p0 = model.params.copy()
    fd = np.empty_like(g)
    for i in range(model.n_params):
        model.params[i] = p0[i] + h
        lp, _ = _testing.gradients(tr, X, y, sw, step=7)
        model.params[i] = p0[i] - h
        lm, _ = _testing.gradients(tr, X, y, sw, step=7)
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
    l1, _ = _testing.gradients(tr, X, y, step=1)
    l1b, _ = _testing.gradients(tr, X, y, step=1)
    l2, _ = _testing.gradients(tr, X, y, step=2)
    l_eval, _ = _testing.gradients(tr, X, y, train=False)
    assert l1 == l1b and l1 != l2 and l_eval not in (l1, l2)
    # evaluate() is inference mode: no dropout
    assert tr.evaluate(X, y)["loss"] == pytest.approx(l_eval, rel=1e-12)


@pytest.mark.parametrize("clip", [None, 0.05])
def test_fused_sgd_step_equals_gradient_step(clip):
    model, tr, X, y, sw = _setup("tanh", "softmax_cross_entropy", dropout=0.0, l2=0.1)
    tr = lepton.Trainer(model, optimizer="sgd", lr=0.3, l2=0.1, clip_norm=clip)
    loss, g = _testing.gradients(tr, X, y, sw)
    w = _testing.weight_mask(model)
    g_data = g - 0.1 * model.params * w
    scale = 1.0
    if clip is not None and np.linalg.norm(g_data) > clip:
        scale = clip / np.linalg.norm(g_data)
    want = model.params - 0.3 * (scale * g_data + 0.1 * model.params * w)
    tr.fit(X, y, epochs=1, batch_size=N, shuffle=False, sample_weight=sw)
    assert tr.step_count == 1
    np.testing.assert_allclose(model.params, want, rtol=1e-12, atol=1e-14)
    assert tr.history.history["loss"][0] == pytest.approx(loss, rel=1e-12)


def test_weight_decay_is_decoupled_and_skips_biases():
    model, tr, X, y, sw = _setup("relu", "mse", dropout=0.0, l2=0.0)
    tr = lepton.Trainer(model, optimizer="sgd", lr=0.1, weight_decay=0.5)
    _, g = _testing.gradients(tr, X, y)
    w = _testing.weight_mask(model)
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


# ---------------------------------------------------------------- the oracle (lepton.ops)
def _oracle(model, tr, X, y, sw, **kw):
    """``ops.network_loss_grad`` of ``tr``'s training objective: (loss, flat gradient)."""
    Y = np.eye(model.output_dim)[y] if tr.loss == "softmax_cross_entropy" else y
    return ops.network_loss_grad(model, X, Y, tr.loss, sample_weight=sw,
                                 loss_param=tr.loss_param, loss_scale=tr.loss_scale,
                                 l2=tr.l2, seed=tr.seed, flat=True, **kw)


def _fd(f, p0, h=1e-6):
    """Central differences of the scalar ``f(params)[0]`` at ``p0``."""
    fd = np.empty_like(p0)
    for i in range(p0.size):
        p = p0.copy()
        p[i] = p0[i] + h
        lp = f(p)[0]
        p[i] = p0[i] - h
        fd[i] = (lp - f(p)[0]) / (2 * h)
    return fd


@pytest.mark.parametrize("act,loss", list(itertools.product(HIDDEN, LOSSES)))
def test_oracle_gradient_matches_finite_differences(act, loss):
    model, tr, X, y, sw = _setup(act, loss)
    f = lambda p: _oracle(model, tr, X, y, sw, step=7, params=p)  # noqa: E731
    value, g = f(model.params)
    fd = _fd(f, model.params.copy())
    assert np.isfinite(value)
    assert np.linalg.norm(g - fd) / max(np.linalg.norm(fd), 1e-12) < 1e-7, (act, loss)
    assert np.linalg.norm(g) > 1e-3   # not trivially zero


@pytest.mark.parametrize("act,loss", list(itertools.product(HIDDEN, LOSSES)))
def test_native_training_objective_equals_the_oracle(act, loss):
    model, tr, X, y, sw = _setup(act, loss)
    for kw in (dict(step=7), dict(step=8), dict(train=False)):
        got_loss, got = _testing.gradients(tr, X, y, sw, **kw)
        want_loss, want = _oracle(model, tr, X, y, sw, **kw)
        assert got_loss == pytest.approx(want_loss, rel=1e-12), kw
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13, err_msg=str(kw))


def test_oracle_deeper_network_no_bias_and_loss_scale():
    rng = np.random.default_rng(3)
    model = lepton.Model([lepton.Dense(6, activation="elu"), lepton.Dropout(0.5),
                          lepton.Dense(5, activation="gelu", use_bias=False),
                          lepton.Dense(4, activation="tanh"), lepton.Dropout(0.2),
                          lepton.Dense(K, activation="softmax")],
                         input_dim=D, dtype="float64", seed=3)
    model.params[...] += 0.1 * rng.standard_normal(model.n_params)
    model.layer_weights(1)[1][...] = 0     # use_bias=False: b stays zero
    X = rng.standard_normal((N, D))
    y = rng.integers(0, K, N)
    tr = lepton.Trainer(model, optimizer="sgd", l2=0.05, loss_scale=0.5, seed=11)
    f = lambda p: _oracle(model, tr, X, y, None, step=3, params=p)  # noqa: E731
    value, g = f(model.params)
    fd = _fd(f, model.params.copy())
    assert np.linalg.norm(g - fd) / np.linalg.norm(fd) < 1e-7
    got_loss, got = _testing.gradients(tr, X, y, step=3)
    assert got_loss == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(got, g, rtol=1e-10, atol=1e-13)
    # The per-layer form: the layer without bias has a zero bias gradient.
    _, pairs = ops.network_loss_grad(model, X, np.eye(K)[y], "softmax_cross_entropy",
                                     l2=0.05, loss_scale=0.5, seed=11, step=3)
    assert [dW.shape for dW, _ in pairs] == [(D, 6), (6, 5), (5, 4), (4, K)]
    assert np.all(pairs[1][1] == 0)


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 2e-5)])
def test_native_train_state_equals_the_oracle(dtype, tol):
    rng = np.random.default_rng(5)
    model = lepton.Model([lepton.Dense(9, activation="gelu"), lepton.Dropout(0.25),
                          lepton.Dense(6, activation="leaky_relu", alpha=-0.3),
                          lepton.Dropout(0.4), lepton.Dense(4, activation="sigmoid")],
                         input_dim=D, dtype=dtype, seed=5)
    X = rng.standard_normal((40, D)).astype(dtype)
    Y = rng.integers(0, 2, (40, 4)).astype(dtype)
    sw = rng.uniform(0.5, 2.0, 40).astype(dtype)
    kw = dict(sample_weight=sw, l2=0.01, loss_scale=2.0, seed=2**40 + 3)
    for step in (1, 2**33 + 5):
        got_loss, got = _testing.native_loss_grad(model, X, Y, "binary_cross_entropy",
                                                  step=step, **kw)
        want_loss, want = ops.network_loss_grad(model, X, Y, "binary_cross_entropy",
                                                step=step, flat=True, **kw)
        assert got_loss == pytest.approx(want_loss, rel=tol)
        np.testing.assert_allclose(got, want, rtol=tol * 10, atol=tol * np.abs(want).max())


def test_oracle_takes_a_layer_list_and_checks_its_arguments():
    model, tr, X, y, sw = _setup("tanh", "mse", dropout=0.0)
    layers = [(W, b, d.activation) for (W, b), d in
              zip(model.get_weights(), [layer for layer in model.layers if
                                        isinstance(layer, lepton.Dense)])]
    out, zs, acts = ops.network_forward(layers, X, return_all=True)
    np.testing.assert_array_equal(out, ops.network_forward(model, X))
    np.testing.assert_allclose(zs[0], X @ layers[0][0] + layers[0][1], rtol=1e-15)
    np.testing.assert_array_equal(acts[0], ops.activation_forward(zs[0], "tanh"))
    flat = ops.network_loss_grad(layers, X, y, "mse", flat=True)
    np.testing.assert_array_equal(flat[1], ops.network_loss_grad(model, X, y, "mse",
                                                                 flat=True)[1])
    with pytest.raises(ValueError, match="softmax output"):
        ops.network_loss_grad(model, X, np.eye(K)[[0] * N], "softmax_cross_entropy")
    with pytest.raises(ValueError, match="y has shape"):
        ops.network_loss_grad(model, X, y[:, :2], "mse")
    with pytest.raises(TypeError, match="params="):
        ops.network_forward(layers, X, params=model.params)
    with pytest.raises(ValueError, match="params has shape"):
        ops.network_forward(model, X, params=model.params[:-1])
