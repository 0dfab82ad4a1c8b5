"""Training one object from several threads: calls are serialised, never interleaved, and the
native workspace is never shared or reallocated under a running call."""
import copy
import threading

import numpy as np
import pytest

import lepton
from lepton import Dense, Model, Trainer, _testing


def _data(n, seed, d=16):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    return X, rng.integers(0, 3, n), X @ rng.standard_normal(d).astype(np.float32)


def _weights(obj):
    if isinstance(obj, Trainer):
        return obj.model.params.copy(), obj.step_count
    return np.concatenate([c.ravel() for c in obj.coefs_ + obj.intercepts_]), obj.n_iter_


def _race(obj, calls):
    """Run each call(obj) in its own thread, started together."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        barrier.wait()
        try:
            call(obj)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def _make(kind):
    X1, y1, r1 = _data(3000, 1)
    X2, y2, r2 = _data(3000, 2)
    if kind == "classifier":
        est = lepton.MLPClassifier(hidden_layer_sizes=(64,), random_state=0, batch_size=64)
        est.partial_fit(X1[:64], y1[:64], classes=[0, 1, 2])
        return est, (lambda e: e.partial_fit(X1, y1)), (lambda e: e.partial_fit(X2, y2))
    if kind == "regressor":
        est = lepton.MLPRegressor(hidden_layer_sizes=(64,), random_state=0, batch_size=64)
        est.partial_fit(X1[:64], r1[:64])
        return est, (lambda e: e.partial_fit(X1, r1)), (lambda e: e.partial_fit(X2, r2))
    model = Model([Dense(64, activation="relu"), Dense(3, activation="softmax")],
                  input_dim=16, seed=0)
    tr = Trainer(model, lr=1e-2, seed=0)
    tr.partial_fit(X1[:64], y1[:64])
    return tr, (lambda t: t.fit(X1, y1, epochs=1, batch_size=64)), \
        (lambda t: t.fit(X2, y2, epochs=1, batch_size=64))


@pytest.mark.parametrize("kind", ["classifier", "regressor", "trainer"])
def test_concurrent_training_equals_one_order(kind):
    obj, a, b = _make(kind)
    orders = []
    for first, second in ((a, b), (b, a)):
        twin = copy.deepcopy(obj)
        first(twin)
        second(twin)
        orders.append(_weights(twin))
    for _ in range(6):
        twin = copy.deepcopy(obj)
        _race(twin, [a, b])
        w, count = _weights(twin)
        assert any(np.array_equal(w, o[0]) and count == o[1] for o in orders), \
            "two concurrent training calls interleaved"


def test_predict_keeps_working_during_training():
    X, y, _ = _data(20000, 3)
    clf = lepton.MLPClassifier(hidden_layer_sizes=(128,), max_iter=3, random_state=0)
    clf.fit(X[:500], y[:500])
    done = threading.Event()
    seen = []

    def predict_loop():
        while not done.is_set():
            seen.append(clf.predict_proba(X[:256]).shape)

    t = threading.Thread(target=predict_loop)
    t.start()
    try:
        clf.fit(X, y)
    finally:
        done.set()
        t.join()
    assert seen and all(s == (256, 3) for s in seen)


@pytest.mark.slow
def test_native_state_refuses_use_while_a_call_runs():
    # The cause of the heap corruption: reserve() reallocated the workspace while another
    # thread's nogil step still wrote to it.  A busy state now refuses every other call.
    X, y, _ = _data(60000, 4, d=256)
    model = Model([Dense(512, activation="relu"), Dense(3, activation="softmax")],
                  input_dim=256, seed=0)
    state = _testing.train_state(model, "softmax_cross_entropy", "sgd")
    state.reserve(1024)
    Y = np.eye(3, dtype=np.float32)[y]
    nb = 60000 // 1024
    started = threading.Event()

    def train():
        started.set()
        state.train(X, Y, None, None, 1024, 0, nb, np.full(nb, 1e-3), np.empty(nb), 1)

    t = threading.Thread(target=train)
    t.start()
    started.wait()
    refused = 0
    while t.is_alive():
        for call in (lambda: state.reserve(4096), state.reset,
                     lambda: state.evaluate(X[:8], Y[:8])):
            try:
                call()
            except RuntimeError as exc:
                assert "in use" in str(exc)
                refused += 1
    t.join()
    assert refused > 0
    state.reserve(8192)            # free again once the call returned
    assert state.capacity == 8192
