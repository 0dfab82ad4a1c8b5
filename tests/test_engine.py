"""One training engine: Trainer and the estimators are two policies over the same engine."""
import warnings

import numpy as np
import pytest

import lepton
from lepton.engine import Engine


def _data(n=300, d=12, k=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.standard_normal((n, d)) + 1.5 * np.eye(k, d)[y]
    return X, y


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_estimator_and_equivalent_trainer_give_identical_weights(dtype):
    X, y = _data()
    X = X.astype(dtype)
    bs, alpha, lr = 50, 1e-3, 0.05
    clf = lepton.MLPClassifier(hidden_layer_sizes=(16,), solver="sgd", momentum=0.0,
                               learning_rate_init=lr, alpha=alpha, batch_size=bs,
                               shuffle=False, max_iter=1, tol=0.0, n_iter_no_change=10**6,
                               warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)                               # scikit-learn's initialisation + 1 epoch
    model = lepton.Model([lepton.Dense(16, activation="relu"),
                          lepton.Dense(4, activation="softmax")], input_dim=12, dtype=dtype)
    model.set_weights([(W.copy(), b.copy()) for W, b in zip(clf.coefs_, clf.intercepts_)])
    # The estimator's policy: loss + alpha / (2 * batch rows) * ||W||^2, constant rate, data
    # in order.  The same configuration written for the Trainer:
    tr = lepton.Trainer(model, loss="softmax_cross_entropy", optimizer="sgd", lr=lr,
                        l2=alpha / bs)
    tr.fit(X, y, epochs=3, batch_size=bs, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.set_params(max_iter=3).fit(X, y)
    for (W, b), Wc, bc in zip(model.get_weights(), clf.coefs_, clf.intercepts_):
        np.testing.assert_array_equal(W, Wc)
        np.testing.assert_array_equal(b, bc)


def test_engine_is_the_only_owner_of_native_state():
    # Neither policy holds the native TrainState itself.
    X, y = _data()
    tr = lepton.Trainer(lepton.Model([lepton.Dense(4, activation="softmax")], input_dim=12))
    clf = lepton.MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, y)
    assert isinstance(tr._engine, Engine) and isinstance(clf._net.engine, Engine)
    assert not hasattr(tr, "_state") and not hasattr(clf._net, "_state")


def test_engine_run_stops_where_on_batch_asks_and_reports_divergence():
    X, y = _data(n=64)
    model = lepton.Model([lepton.Dense(4, activation="softmax")], input_dim=12, seed=0,
                         dtype="float64")
    eng = Engine(model, "softmax_cross_entropy", "sgd")
    Y = np.eye(4)[y]
    seen = []
    losses = eng.run(X, Y, None, None, 8, 0, 8, np.full(8, 0.1), 1,
                     on_batch=lambda b, loss: seen.append(b) or b == 2)
    assert seen == [0, 1, 2] and len(losses) == 3 and eng.step_count == 3
    before = model.params.copy()
    with pytest.raises(lepton.DivergenceError, match="batch 0 of epoch 7 (overflowed|became)"):
        eng.run(X * 1e300, Y, None, None, 8, 0, 8, np.full(8, 1e300), 1, where=" of epoch 7")
    np.testing.assert_array_equal(model.params, before)
    assert eng.step_count == 3


def test_one_not_fitted_error_for_estimators_and_transformers():
    from lepton.exceptions import NotFittedError
    X, y = _data(20)
    for obj, call in ((lepton.MLPClassifier(), lambda o: o.predict(X)),
                      (lepton.StandardScaler(), lambda o: o.transform(X))):
        with pytest.raises(NotFittedError):
            call(obj)
    assert lepton.preprocessing.NotFittedError is NotFittedError
