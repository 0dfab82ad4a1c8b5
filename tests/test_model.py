"""Model, Dense, Dropout: layout, init schemes, predict, weights, config, pickling."""
import pickle
import threading

import numpy as np
import pytest

import lepton
from lepton import Dense, Dropout, Model, _names, _testing, ops


def _mnist_model(dtype="float32", seed=0):
    return Model([Dense(256, activation="relu"), Dropout(0.2), Dense(128, activation="relu"),
                  Dense(10, activation="softmax")], input_dim=784, dtype=dtype, seed=seed)


def test_flat_layout_and_views():
    m = _mnist_model()
    assert m.n_params == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert m.params.dtype == np.float32 and m.params.flags.c_contiguous
    assert (m.input_dim, m.output_dim, m.n_dense) == (784, 10, 3)
    W, b = m.layer_weights(0)
    assert W.shape == (784, 256) and b.shape == (256,)
    assert np.shares_memory(W, m.params) and np.shares_memory(b, m.params)
    # W then b, layer after layer
    assert np.array_equal(m.params[:784 * 256], W.ravel())
    assert np.array_equal(m.params[784 * 256:784 * 256 + 256], b)
    W2, b2 = m.layer_weights(-1)
    assert W2.shape == (128, 10)
    assert np.array_equal(m.params[-10:], b2)
    assert [c.shape for c in m.coefs_] == [(784, 256), (256, 128), (128, 10)]
    with pytest.raises(IndexError):
        m.layer_weights(3)


@pytest.mark.parametrize("scheme,limit", [
    ("glorot_uniform", np.sqrt(6 / (300 + 200))), ("he_uniform", np.sqrt(6 / 300)),
    ("lecun_uniform", np.sqrt(3 / 300)),
])
def test_uniform_inits(scheme, limit):
    m = Model([Dense(200, activation="tanh", init=scheme)], input_dim=300, seed=1,
              dtype="float64")
    W, b = m.layer_weights(0)
    assert np.all(np.abs(W) <= limit) and np.abs(W).max() > 0.95 * limit
    assert np.all(b == 0)
    assert W.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)


@pytest.mark.parametrize("scheme,std", [
    ("glorot_normal", np.sqrt(2 / (300 + 200))), ("he_normal", np.sqrt(2 / 300)),
    ("lecun_normal", np.sqrt(1 / 300)),
])
def test_normal_inits(scheme, std):
    m = Model([Dense(200, init=scheme)], input_dim=300, seed=1, dtype="float64")
    W, _ = m.layer_weights(0)
    assert W.std() == pytest.approx(std, rel=0.02) and abs(W.mean()) < 0.1 * std


def test_auto_init_depends_on_activation():
    relu = Model([Dense(50, activation="relu")], input_dim=100, seed=0)
    tanh = Model([Dense(50, activation="tanh")], input_dim=100, seed=0)
    assert np.abs(relu.params[:5000]).max() > np.sqrt(6 / 150)   # he bound is wider
    assert np.abs(tanh.params[:5000]).max() <= np.sqrt(6 / 150)


@pytest.mark.parametrize("act", ["relu", "sigmoid"])
def test_sklearn_init_matches_scikit_learn(act):
    sk = pytest.importorskip("sklearn.neural_network")
    clf = sk.MLPClassifier(hidden_layer_sizes=(8, 5), random_state=4,
                           activation={"sigmoid": "logistic"}.get(act, act))
    # What fit() does first: a RandomState(random_state), then _init_coef layer by layer.
    clf._random_state = np.random.RandomState(4)
    clf.coefs_, clf.intercepts_ = zip(*[clf._init_coef(a, b, np.float64)
                                        for a, b in ((6, 8), (8, 5), (5, 3))])
    m = Model([Dense(8, activation=act, init="sklearn"), Dense(5, activation=act, init="sklearn"),
               Dense(3, activation="softmax", init="sklearn")], input_dim=6, dtype="float64",
              seed=4)
    for i in range(3):
        W, b = m.layer_weights(i)
        np.testing.assert_array_equal(W, clf.coefs_[i])
        np.testing.assert_array_equal(b, clf.intercepts_[i])


def test_seed_determines_weights():
    a, b, c = _mnist_model(seed=3), _mnist_model(seed=3), _mnist_model(seed=4)
    assert np.array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_matches_numpy(dtype):
    m = _mnist_model(dtype)
    m.params[...] += 0.01   # non-zero biases
    X = np.random.default_rng(0).standard_normal((300, 784)).astype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    want = ops.network_forward(m, X)
    got = m.predict(X)
    assert got.dtype == np.dtype(dtype) and got.shape == (300, 10)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(m.predict(X[:1]), want[:1], rtol=tol, atol=tol)
    np.testing.assert_allclose(m.predict(X, batch_size=7), want, rtol=tol, atol=tol)
    # array-likes, other dtypes, non-contiguous input are converted
    np.testing.assert_allclose(m.predict(X[:3].tolist()), want[:3], rtol=tol, atol=tol)
    Xf = np.asfortranarray(X[:5].astype(np.float64 if dtype == "float32" else np.float32))
    np.testing.assert_allclose(m.predict(Xf), ops.network_forward(m, Xf), rtol=tol * 10,
                               atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("act", sorted(_names.ACTIVATIONS))
def test_predict_matches_the_oracle_for_every_activation(act, dtype):
    hidden = "tanh" if act == "softmax" else act
    m = Model([Dense(13, activation=hidden), Dropout(0.5),
               Dense(7, activation=hidden, use_bias=False), Dense(5, activation=act)],
              input_dim=11, dtype=dtype, seed=2)
    m.params[...] += 0.05            # non-zero biases ...
    m.layer_weights(1)[1][...] = 0   # ... except where use_bias=False
    X = np.random.default_rng(3).standard_normal((37, 11)).astype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(m.predict(X), ops.network_forward(m, X), rtol=tol, atol=tol)


def test_predict_bitwise_same_for_any_thread_count():
    m = _mnist_model()
    X = np.random.default_rng(1).standard_normal((1000, 784)).astype(np.float32)
    with _testing.expect_threads():
        two = m.predict(X, n_threads=2)
    assert np.array_equal(m.predict(X, n_threads=1), two)
    x1 = X[:1]
    assert np.array_equal(m.predict(x1, n_threads=1), m.predict(x1, n_threads=2))


def test_predict_repeated_calls_reuse_workspace_and_concurrent_calls_are_safe():
    m = _mnist_model()
    rng = np.random.default_rng(2)
    Xs = [rng.standard_normal((n, 784)).astype(np.float32) for n in (1, 40, 300)]
    want = [m.predict(X, n_threads=1) for X in Xs]
    errors = []

    def work():
        for _ in range(20):
            for X, w in zip(Xs, want):
                if not np.array_equal(m.predict(X, n_threads=1), w):
                    errors.append(1)
    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


@pytest.mark.parametrize("X,err,match", [
    (np.zeros((2, 5)), ValueError, "5 features, but the model expects 4"),
    (np.zeros(4), ValueError, "Expected 2D array"),
    (np.zeros((0, 4)), ValueError, "0 samples"),
    (np.array([[1.0, np.nan, 0, 0]]), ValueError, "NaN"),
    (np.array([[1.0, np.inf, 0, 0]], dtype=np.float32), ValueError, "NaN or infinity"),
    (np.array([["a", "b", "c", "d"]]), TypeError, "numbers"),
])
def test_predict_rejects_bad_input(X, err, match):
    m = Model([Dense(3, activation="relu"), Dense(2)], input_dim=4)
    with pytest.raises(err, match=match):
        m.predict(X)


def test_get_set_weights_roundtrip_and_validation():
    m = _mnist_model()
    w = m.get_weights()
    assert len(w) == 3 and w[0][0].shape == (784, 256)
    w[0][0][0, 0] = 123.0            # copies: the model is untouched
    assert m.layer_weights(0)[0][0, 0] != 123.0
    m2 = _mnist_model(seed=9)
    m2.set_weights(w)
    assert np.array_equal(m2.layer_weights(0)[0], w[0][0])
    before = m2.params.copy()
    bad = [(w[0][0], w[0][1]), (w[1][0].T, w[1][1]), w[2]]
    with pytest.raises(ValueError, match="shape"):
        m2.set_weights(bad)
    with pytest.raises(ValueError, match="expected 3"):
        m2.set_weights(w[:2])
    nan = [(np.full_like(w[0][0], np.nan), w[0][1]), w[1], w[2]]
    with pytest.raises(ValueError, match="NaN"):
        m2.set_weights(nan)
    assert np.array_equal(m2.params, before)


def test_config_roundtrip_summary_repr():
    m = Model([Dense(16, activation="leaky_relu", init="he_normal"), Dropout(0.1),
               Dense(1, activation="sigmoid", use_bias=False)], input_dim=8, dtype="float64",
              seed=5)
    cfg = m.config()
    import json
    assert json.loads(json.dumps(cfg)) == cfg
    m2 = Model.from_config(cfg)
    assert np.array_equal(m2.params, m.params) and m2.layers == m.layers
    assert m2.dtype == np.float64
    s = m.summary()
    assert "Dense (leaky_relu)" in s and "Dropout (0.1)" in s and f"{m.n_params:,}" in s
    assert repr(m).startswith("Model([Dense(16, activation='leaky_relu'")
    assert np.all(m.layer_weights(1)[1] == 0)


def test_pickle_roundtrip():
    m = _mnist_model()
    m.params[...] += 0.5
    m2 = pickle.loads(pickle.dumps(m))
    assert np.array_equal(m2.params, m.params)
    X = np.random.default_rng(0).standard_normal((4, 784)).astype(np.float32)
    assert np.array_equal(m2.predict(X), m.predict(X))
    before = m2.predict(X)
    m2.params[0] = 7   # independent buffers, and the native net reads the new one
    assert m.params[0] != 7
    assert not np.array_equal(m2.predict(X), before)


def test_lepton_state_protocol():
    m = _mnist_model()
    cfg, arrays = m._lepton_state()
    m2 = Model._from_lepton_state(cfg, arrays)
    assert np.array_equal(m2.params, m.params)
    with pytest.raises(ValueError):
        Model._from_lepton_state(cfg, {"params": arrays["params"][:-1]})
    with pytest.raises(ValueError):
        Model._from_lepton_state(cfg, {})


@pytest.mark.parametrize("make,err", [
    (lambda: Model([], input_dim=3), ValueError),
    (lambda: Model([Dropout(0.5), Dense(2)], input_dim=3), ValueError),
    (lambda: Model([Dense(2), Dropout(0.5)], input_dim=3), ValueError),
    (lambda: Model([Dense(2, activation="softmax"), Dense(2)], input_dim=3), ValueError),
    (lambda: Model([Dense(2)], input_dim=0), ValueError),
    (lambda: Model([Dense(2)], input_dim=3, dtype="float16"), ValueError),
    (lambda: Model(["dense"], input_dim=3), TypeError),
    (lambda: Dense(0), ValueError),
    (lambda: Dense(2.5), TypeError),
    (lambda: Dense(2, activation="swish"), ValueError),
    (lambda: Dense(2, init="zeros"), ValueError),
    (lambda: Dropout(1.0), ValueError),
    (lambda: Dropout(-0.1), ValueError),
])
def test_bad_construction(make, err):
    with pytest.raises(err):
        make()


def test_save_load_roundtrip(tmp_path):
    m = _mnist_model()
    m.params[...] += 0.25
    path = tmp_path / "model.npz"
    lepton.save(m, path)
    m2 = lepton.load(path)
    assert isinstance(m2, Model) and m2.config() == m.config()
    assert np.array_equal(m2.params, m.params)


@pytest.mark.parametrize("act,alpha", [("leaky_relu", 0.2), ("leaky_relu", -0.5),
                                       ("elu", 0.3), ("elu", 2.0)])
def test_dense_alpha_sets_the_activation_parameter(act, alpha, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((37, 5))
    model = Model([Dense(7, activation=act, alpha=alpha), Dense(2)], input_dim=5,
                  dtype="float64", seed=1)
    (W1, b1), (W2, b2) = model.get_weights()
    hidden = ops.activation_forward(X @ W1 + b1, act, param=alpha)
    np.testing.assert_allclose(model.predict(X), hidden @ W2 + b2, rtol=1e-12, atol=1e-12)
    default = Model([Dense(7, activation=act), Dense(2)], input_dim=5, dtype="float64", seed=1)
    assert not np.allclose(default.predict(X), model.predict(X))
    # The parameter travels with the model: config, save/load, training.
    assert model.layers[0].config()["alpha"] == alpha
    lepton.save(model, tmp_path / "m.npz")
    again = lepton.load(tmp_path / "m.npz")
    assert again.layers[0].alpha == alpha
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    tr = lepton.Trainer(model, loss="mse", optimizer="sgd", lr=1e-3)
    loss, grad = _testing.gradients(tr, X, X[:, :2])
    eps = 1e-6
    i = 3   # a first-layer weight: its gradient goes through the activation's alpha
    model.params[i] += eps
    up = _testing.gradients(tr, X, X[:, :2])[0]
    model.params[i] -= 2 * eps
    down = _testing.gradients(tr, X, X[:, :2])[0]
    assert grad[i] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "identity", "softplus", "gelu"])
def test_dense_alpha_only_for_activations_that_have_one(act):
    with pytest.raises(ValueError, match="takes no alpha"):
        Dense(3, activation=act, alpha=0.1)
    with pytest.raises(ValueError, match="alpha"):
        Dense(3, activation="elu", alpha=float("nan"))
