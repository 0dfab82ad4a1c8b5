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


def _fit_both(X, y, dtype, epochs):
    """An MLPClassifier (1 + ``epochs`` epochs) and the equivalent Trainer run (``epochs``
    from the estimator's weights after its first); returns both weight lists."""
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
    tr.fit(X, y, epochs=epochs, batch_size=bs, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.set_params(max_iter=epochs).fit(X, y)
    return model.get_weights(), list(zip(clf.coefs_, clf.intercepts_))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_estimator_and_equivalent_trainer_give_identical_weights(dtype):
    X, y = _data()
    for (W, b), (Wc, bc) in zip(*_fit_both(X.astype(dtype), y, dtype, 3)):
        np.testing.assert_array_equal(W, Wc)
        np.testing.assert_array_equal(b, bc)


def test_estimator_and_trainer_share_one_class_weight_rule():
    # One rule (lepton._data.class_weights): the estimator keys by label, the Trainer by
    # class index.  A class without rows (possible for the Trainer; the estimators refuse
    # such a warm start, as scikit-learn does) keeps weight 1, and "balanced" normalises
    # over the classes present.
    from lepton._data import class_weights
    from lepton._sklcompat import compute_class_weight
    y = np.array([0, 0, 0, 1, 2, 2])
    labels = np.array(["a", "b", "c"])
    for cw, by_label in (("balanced", "balanced"), ({0: 2.0, 2: 0.5}, {"a": 2.0, "c": 0.5})):
        np.testing.assert_array_equal(compute_class_weight(by_label, labels, labels[y]),
                                      class_weights(cw, y, 3))
    np.testing.assert_allclose(class_weights("balanced", y, 3), 6 / (3 * np.array([3, 1, 2])))
    np.testing.assert_allclose(class_weights("balanced", y, 4), [6 / 9, 2, 1, 1])
    with pytest.raises(ValueError, match=r"class_weight\['d'\]|labels \['d'\]"):
        compute_class_weight({"d": 1.0}, labels, labels[y])


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
