"""Trainer: convergence on real data, reproducibility, bad input, schedules, callbacks,
early stopping, divergence, memory."""
import tracemalloc

import numpy as np
import pytest

import lepton
from lepton import Dense, Dropout, Model, Trainer, _testing
from lepton.callbacks import Callback, EarlyStopping, LambdaCallback
from lepton.schedules import (CosineAnnealing, ExponentialDecay, InverseScaling,
                              ReduceLROnPlateau, StepDecay)

from _helpers import blobs, classifier


def test_digits_reach_95_percent(digits_split):
    Xtr, Xte, ytr, yte = digits_split
    model = Model([Dense(128, activation="relu"), Dense(10, activation="softmax")],
                  input_dim=64, seed=0)
    tr = Trainer(model, optimizer="adam", lr=1e-3)
    hist = tr.fit(Xtr, ytr, epochs=20, batch_size=32, validation_data=(Xte, yte))
    res = tr.evaluate(Xte, yte)
    assert res["accuracy"] >= 0.95
    assert set(res) == {"loss", "accuracy", "precision", "recall", "f1"}
    assert hist.history["val_accuracy"][-1] == res["accuracy"]
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert len(hist) == 20 and hist.epoch == list(range(20))


def test_nonlinear_regression_r2():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (1000, 2))
    y = np.sin(1.5 * X[:, 0]) * np.cos(X[:, 1]) + 0.3 * X[:, 0] ** 2
    model = Model([Dense(64, activation="tanh"), Dense(64, activation="tanh"), Dense(1)],
                  input_dim=2, seed=0)
    tr = Trainer(model, optimizer="adam", lr=3e-3)
    tr.fit(X[:800], y[:800], epochs=60, batch_size=32)
    res = tr.evaluate(X[800:], y[800:])
    assert set(res) == {"loss", "mse", "mae", "r2"}
    assert res["r2"] >= 0.95


@pytest.mark.parametrize("opt", ["sgd", "momentum", "nesterov", "adam", "adamw"])
def test_every_optimizer_learns(opt):
    X, y = blobs()
    lr = 0.05 if opt in ("sgd", "momentum", "nesterov") else 0.01
    tr = Trainer(classifier(), optimizer=opt, lr=lr,
                 weight_decay=0.01 if opt == "adamw" else 0.0)
    hist = tr.fit(X, y, epochs=15, batch_size=16)
    assert hist.history["loss"][-1] < 0.6 * hist.history["loss"][0]
    assert tr.evaluate(X, y)["accuracy"] > 0.85


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_regression_losses_decrease(loss):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 3))
    Y = np.stack([X @ [1.0, -2.0, 0.5], np.tanh(X[:, 0])], axis=1)
    model = Model([Dense(16, activation="gelu"), Dense(2)], input_dim=3, seed=1)
    hist = Trainer(model, loss=loss, lr=1e-2).fit(X, Y, epochs=20, batch_size=20)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]


def test_multilabel_bce():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 4))
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0], axis=1).astype(float)
    model = Model([Dense(16, activation="relu"), Dense(2, activation="sigmoid")], input_dim=4)
    tr = Trainer(model, lr=1e-2)
    assert tr.loss == "binary_cross_entropy"
    tr.fit(X, Y, epochs=30, batch_size=16)
    assert tr.evaluate(X, Y)["accuracy"] > 0.85


def _mnist_like(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((300, 784)).astype(np.float32)
    y = rng.integers(0, 10, 300)
    return X, y


def _train_mnist_like(n_threads, seed=0):
    X, y = _mnist_like()
    model = Model([Dense(256, activation="relu"), Dropout(0.2), Dense(128, activation="tanh"),
                   Dense(10, activation="softmax")], input_dim=784, seed=seed)
    tr = Trainer(model, optimizer="adam", lr=1e-3, clip_norm=5.0, l2=1e-4, n_threads=n_threads,
                 seed=seed)
    tr.fit(X, y, epochs=2, batch_size=128)
    return model.params.copy()


def test_bitwise_identical_for_one_and_two_threads():
    a = _train_mnist_like(1)
    with _testing.expect_threads():
        b = _train_mnist_like(2)
    assert np.array_equal(a, b)
    assert np.array_equal(a, _train_mnist_like(1))       # and run to run
    assert not np.array_equal(a, _train_mnist_like(1, seed=1))


def test_batch_callbacks_take_the_same_path_bitwise():
    X, y = blobs()
    seen = []
    runs = []
    for cbs in ([], [LambdaCallback(on_batch_end=lambda t, b, logs: seen.append(logs["loss"]))]):
        model = classifier(dropout=0.3)
        tr = Trainer(model, lr=0.01)
        hist = tr.fit(X, y, epochs=3, batch_size=25, callbacks=cbs)
        runs.append((model.params.copy(), hist.history["loss"]))
    assert np.array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert len(seen) == 3 * 5


def test_partial_fit_continues_like_fit():
    X, y = blobs()
    a, b = classifier(), classifier()
    ta, tb = Trainer(a, lr=0.01), Trainer(b, lr=0.01)
    ta.fit(X, y, epochs=3, batch_size=16)
    tb.fit(X, y, epochs=1, batch_size=16)
    tb.partial_fit(X, y)
    loss = tb.partial_fit(X, y)
    assert np.array_equal(a.params, b.params)
    assert ta.step_count == tb.step_count == 3 * 8
    assert loss == pytest.approx(ta.history.history["loss"][-1])


def test_class_weight_equals_sample_weight():
    X, y = blobs()
    runs = []
    for kw in ({"class_weight": {0: 3.0, 2: 0.5}},
               {"sample_weight": np.array([3.0, 1.0, 0.5])[y]}):
        model = classifier()
        Trainer(model, lr=0.01).fit(X, y, epochs=2, batch_size=16, **kw)
        runs.append(model.params.copy())
    assert np.array_equal(runs[0], runs[1])
    model = classifier()
    Trainer(model, lr=0.01).fit(X, y, epochs=1, class_weight="balanced")


def test_validation_split_holds_out_last_rows():
    X, y = blobs(100)
    tr = Trainer(classifier(), lr=0.01)
    hist = tr.fit(X, y, epochs=2, validation_split=0.2)
    assert "val_loss" in hist.history and "val_accuracy" in hist.history
    assert hist.history["val_loss"][-1] == pytest.approx(tr.evaluate(X[80:], y[80:])["loss"])
    assert tr.step_count == 2 * 3   # 80 training rows, batches of 32


def test_schedules_set_the_rate_of_every_epoch():
    X, y = blobs(64)
    cases = [
        (StepDecay(2, 0.5), [0.1, 0.1, 0.05, 0.05, 0.025]),
        (ExponentialDecay(0.5), [0.1, 0.05, 0.025, 0.0125, 0.00625]),
        (CosineAnnealing(4, eta_min=0.0), [0.1, 0.1 * (1 + np.cos(np.pi / 4)) / 2, 0.05,
                                           0.1 * (1 + np.cos(3 * np.pi / 4)) / 2, 0.0]),
        ("constant", [0.1] * 5),
    ]
    for sched, want in cases:
        tr = Trainer(classifier(), optimizer="momentum", lr=0.1, schedule=sched)
        hist = tr.fit(X, y, epochs=5, batch_size=32)
        np.testing.assert_allclose(hist.history["lr"], want, rtol=1e-12, atol=1e-15)


def test_inverse_scaling_is_per_step():
    X, y = blobs(64)
    tr = Trainer(classifier(), optimizer="sgd", lr=0.1, schedule=InverseScaling(0.5))
    hist = tr.fit(X, y, epochs=2, batch_size=16)
    assert hist.history["lr"] == pytest.approx([0.1 / 4 ** 0.5, 0.1 / 8 ** 0.5])
    # the same as running one step at a time with the rate given by hand
    ref = classifier()
    tr2 = Trainer(ref, optimizer="sgd", lr=1.0)
    for t in range(1, 9):
        tr2.lr = 0.1 / t ** 0.5
        tr2.fit(X[(t - 1) % 4 * 16:][:16], y[(t - 1) % 4 * 16:][:16], epochs=1, batch_size=16,
                shuffle=False)
    tr3 = Trainer(m3 := classifier(), optimizer="sgd", lr=0.1, schedule="invscaling")
    tr3.fit(X, y, epochs=2, batch_size=16, shuffle=False)
    np.testing.assert_allclose(m3.params, ref.params, rtol=1e-6, atol=1e-7)


def test_reduce_on_plateau():
    X, y = blobs(64)
    sched = ReduceLROnPlateau(factor=0.5, patience=1, monitor="loss", min_delta=10.0)
    tr = Trainer(classifier(), optimizer="sgd", lr=0.1, schedule=sched)
    hist = tr.fit(X, y, epochs=4, batch_size=32)
    # min_delta is huge: never an improvement after the first epoch, halve every epoch
    assert hist.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.025])


def test_early_stopping_restores_best_weights():
    X, y = blobs(90)
    Xv, yv = blobs(60, seed=5)
    snaps = {}

    class Snap(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            snaps[epoch] = (logs["val_loss"], trainer.model.params.copy())

    es = EarlyStopping(patience=2, min_delta=0.0)
    tr = Trainer(classifier(), optimizer="sgd", lr=2.0)   # lr too large: val_loss bounces
    hist = tr.fit(X, y, epochs=40, validation_data=(Xv, yv), callbacks=[Snap()],
                  early_stopping=es)
    assert len(hist) < 40 and es.stopped_epoch == hist.epoch[-1]
    best = min(snaps, key=lambda e: snaps[e][0])
    assert es.best_epoch == best
    assert np.array_equal(tr.model.params, snaps[best][1])


def test_early_stopping_on_a_metric_and_stop_training_flag():
    X, y = blobs(90)
    es = EarlyStopping(monitor="val_accuracy", patience=0, restore_best_weights=False)
    hist = Trainer(classifier(), lr=1e-4).fit(X, y, epochs=30, validation_split=0.3,
                                         early_stopping=es)
    assert len(hist) < 30

    class Stop(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            if epoch == 1:
                trainer.stop_training = True
    assert len(Trainer(classifier()).fit(X, y, epochs=10, callbacks=[Stop()])) == 2


def test_divergence_keeps_finite_weights():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)) * 100
    y = rng.standard_normal(64) * 1e4
    model = Model([Dense(8, activation="relu"), Dense(1)], input_dim=4, seed=0)
    tr = Trainer(model, optimizer="sgd", lr=1e3)
    with pytest.raises(lepton.DivergenceError, match="diverged") as info:
        tr.fit(X, y, epochs=50, batch_size=8)
    assert isinstance(info.value, FloatingPointError)
    assert np.all(np.isfinite(model.params))
    assert np.all(np.isfinite(tr.optimizer_state()["m"]))


def test_verbose_progress_bar(capsys):
    X, y = blobs(40)
    Trainer(classifier()).fit(X, y, epochs=2, verbose=1)
    err = capsys.readouterr().err
    assert "2/2" in err and "loss" in err


@pytest.mark.slow
def test_memory_flat_across_epochs():
    X, y = _mnist_like()
    model = Model([Dense(64, activation="relu"), Dropout(0.1), Dense(10, activation="softmax")],
                  input_dim=784, seed=0)
    tr = Trainer(model, lr=1e-3)
    tr.fit(X, y, epochs=1, validation_split=0.2)   # workspace and buffers allocated once
    sizes = []

    class Mem(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            sizes.append(tracemalloc.get_traced_memory())

    tracemalloc.start()
    try:
        tr.fit(X, y, epochs=12, validation_split=0.2, callbacks=[Mem()])
    finally:
        tracemalloc.stop()
    current = [c for c, _ in sizes]
    peaks = [p for _, p in sizes]
    assert max(current[2:]) - min(current[2:]) < 16_000
    assert peaks[-1] - peaks[2] < 16_000


def test_evaluate_and_gradients_do_not_train():
    X, y = blobs(50)
    model = classifier(dropout=0.5)
    tr = Trainer(model)
    p = model.params.copy()
    tr.evaluate(X, y)
    _testing.gradients(tr, X, y)
    assert np.array_equal(model.params, p) and tr.step_count == 0


# ---------------------------------------------------------------- bad input
X4, y4 = blobs(40)
BAD_FIT = [
    ("nan X", dict(X=np.where(np.arange(160).reshape(40, 4) == 7, np.nan, X4)), ValueError, "NaN"),
    ("inf X", dict(X=np.where(np.arange(160).reshape(40, 4) == 7, np.inf, X4)), ValueError,
     "infinity"),
    ("features", dict(X=X4[:, :3]), ValueError, "3 features, but the model expects 4"),
    ("1-D X", dict(X=X4[:, 0]), ValueError, "Expected 2D array"),
    ("empty X", dict(X=X4[:0], y=y4[:0]), ValueError, "0 samples"),
    ("lengths", dict(y=y4[:-1]), ValueError, "40 samples, but y has 39"),
    ("label too big", dict(y=np.where(np.arange(40) == 3, 3, y4)), ValueError, "class index 3"),
    ("negative label", dict(y=np.where(np.arange(40) == 3, -1, y4)), ValueError, "class index -1"),
    ("float label", dict(y=y4 + 0.5), ValueError, "integer class"),
    ("nan y", dict(y=np.where(np.arange(40) == 3, np.nan, y4)), ValueError, "NaN"),
    ("string y", dict(y=np.array(["a"] * 40)), TypeError, "numbers"),
    ("one-hot width", dict(y=np.eye(4)[y4]), ValueError, "4 columns"),
    ("batch_size 0", dict(batch_size=0), ValueError, "batch_size"),
    ("batch_size -1", dict(batch_size=-1), ValueError, "batch_size"),
    ("batch_size float", dict(batch_size=3.5), TypeError, "batch_size"),
    ("epochs", dict(epochs=-1), ValueError, "epochs"),
    ("sample_weight len", dict(sample_weight=np.ones(39)), ValueError, "sample_weight"),
    ("sample_weight neg", dict(sample_weight=-np.ones(40)), ValueError, ">= 0"),
    ("sample_weight nan", dict(sample_weight=np.full(40, np.nan)), ValueError, "NaN"),
    ("class_weight key", dict(class_weight={5: 1.0}), ValueError, "class index"),
    ("class_weight str", dict(class_weight="auto"), ValueError, "balanced"),
    ("validation features", dict(validation_data=(X4[:, :3], y4)), ValueError, "3 features"),
    ("validation labels", dict(validation_data=(X4, y4 + 3)), ValueError, "class index"),
    ("validation tuple", dict(validation_data=X4), ValueError, "validation_data"),
    ("validation_split", dict(validation_split=1.0), ValueError, "validation_split"),
    ("early stopping w/o val", dict(early_stopping=EarlyStopping()), ValueError,
     "no validation data"),
    ("callbacks", dict(callbacks=[print]), TypeError, "Callback"),
]


@pytest.mark.parametrize("name,kw,err,match", BAD_FIT, ids=[b[0] for b in BAD_FIT])
def test_bad_fit_input_raises_before_training(name, kw, err, match):
    model = classifier(dropout=0.2)
    tr = Trainer(model)
    tr.fit(X4, y4, epochs=1)   # some optimizer state to protect
    st = tr.optimizer_state()
    state = (model.params.copy(), st["m"], st["v"], tr.step_count)
    args = dict(X=X4, y=y4, epochs=2)
    args.update(kw)
    with pytest.raises(err, match=match):
        tr.fit(args.pop("X"), args.pop("y"), **args)
    assert np.array_equal(model.params, state[0])
    st = tr.optimizer_state()
    assert np.array_equal(st["m"], state[1]) and np.array_equal(st["v"], state[2])
    assert tr.step_count == state[3]


def test_bad_targets_for_bce_and_regression():
    bce = Model([Dense(4, activation="relu"), Dense(1, activation="sigmoid")], input_dim=4)
    tr = Trainer(bce)
    p = bce.params.copy()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        tr.fit(X4, np.where(np.arange(40) == 0, 2, 1))
    with pytest.raises(ValueError, match="1-D, but the model has 2 outputs"):
        Trainer(Model([Dense(2)], input_dim=4)).fit(X4, np.ones(40))
    with pytest.raises(ValueError, match="class_weight needs class labels"):
        Trainer(Model([Dense(1)], input_dim=4)).fit(X4, np.ones(40), class_weight="balanced")
    with pytest.raises(ValueError, match="sum to 1"):
        Trainer(classifier()).fit(X4, np.full((40, 3), 0.5))
    assert np.array_equal(bce.params, p)


@pytest.mark.parametrize("kw,err", [
    (dict(loss="hinge"), ValueError), (dict(loss=3), TypeError),
    (dict(optimizer="rmsprop"), ValueError), (dict(lr=0.0), ValueError),
    (dict(lr=float("nan")), ValueError), (dict(lr="0.1"), TypeError),
    (dict(momentum=1.0), ValueError), (dict(beta1=-0.1), ValueError),
    (dict(beta2=1.5), ValueError), (dict(eps=0.0), ValueError), (dict(l2=-1.0), ValueError),
    (dict(weight_decay=-0.1), ValueError), (dict(clip_norm=0.0), ValueError),
    (dict(loss_scale=0.0), ValueError), (dict(loss="mse", loss_param=1.0), ValueError),
    (dict(loss="huber", loss_param=-1.0), ValueError), (dict(n_threads=0), ValueError),
    (dict(seed=-1), ValueError), (dict(schedule="warmup"), ValueError),
    (dict(loss="binary_cross_entropy"), ValueError), (dict(loss="mse"), None),
])
def test_bad_trainer_arguments(kw, err):
    if err is None:
        Trainer(classifier(), **kw)
        return
    with pytest.raises(err):
        Trainer(classifier(), **kw)
    with pytest.raises(ValueError, match="softmax output"):
        Trainer(Model([Dense(3)], input_dim=4), loss="cross_entropy")


def test_trainer_pickles_and_continues_identically():
    import pickle
    X, y = blobs()
    a = Trainer(classifier(dropout=0.2), optimizer="adam", lr=0.01, clip_norm=3.0, seed=4)
    a.fit(X, y, epochs=2, batch_size=16)
    b = pickle.loads(pickle.dumps(a))
    assert b.step_count == a.step_count and b.clip_norm == 3.0 and b.epochs_done == 2
    a.partial_fit(X, y)
    b.partial_fit(X, y)
    assert np.array_equal(a.model.params, b.model.params)
    assert b.model is not a.model


def test_hyper_parameters_can_change_between_fits():
    X, y = blobs()
    tr = Trainer(classifier(), optimizer="momentum", lr=0.01)
    tr.momentum = 0.5
    tr.lr = 0.05
    assert (tr.momentum, tr.lr) == (0.5, 0.05)
    with pytest.raises(ValueError):
        tr.momentum = 1.5
    assert tr.momentum == 0.5
    ref = Trainer(ref_model := classifier(), optimizer="momentum", lr=0.05, momentum=0.5)
    tr.fit(X, y, epochs=2)
    ref.fit(X, y, epochs=2)
    assert np.array_equal(tr.model.params, ref_model.params)


def test_stop_from_batch_callback_mid_epoch():
    X, y = blobs(100)

    class StopAt(Callback):
        def on_batch_end(self, trainer, batch, logs):
            if batch == 1:
                trainer.stop_training = True
    tr = Trainer(classifier())
    hist = tr.fit(X, y, epochs=5, batch_size=32, callbacks=[StopAt()])
    assert len(hist) == 1 and tr.step_count == 2
    assert np.isfinite(hist.history["loss"][0])


def test_model_params_cannot_be_replaced():
    m = classifier()
    with pytest.raises(AttributeError):
        m.params = np.zeros(m.n_params, dtype=np.float32)
    import copy
    m2 = copy.deepcopy(m)
    X, _ = blobs(5)
    assert np.array_equal(m2.predict(X), m.predict(X))


def test_flushed_subnormals_do_not_leak_into_the_caller():
    # The network runs with subnormals flushed to zero (they made converged training 2-3x
    # slower); the caller's floating-point mode must come back unchanged, worker threads'
    # too (checked through a NumPy computation after a 2-thread fit).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 8)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = lepton.Model([lepton.Dense(8, activation="relu"),
                          lepton.Dense(2, activation="softmax")], input_dim=8, seed=0)
    lepton.Trainer(model, optimizer="sgd", lr=0.1, n_threads=2).fit(X, y, epochs=2)
    model.predict(X)
    tiny = np.array([1e-40], dtype=np.float32)
    assert tiny[0] != 0 and (tiny * np.float32(2))[0] != 0


def test_native_train_rejects_a_bad_row_index_before_any_update():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((16, 8)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = lepton.Model([lepton.Dense(2, activation="softmax")], input_dim=8, seed=0)
    trainer = lepton.Trainer(model, optimizer="sgd", lr=0.1)
    trainer.fit(X, y, epochs=1, batch_size=4)
    Y = np.eye(2, dtype=np.float32)[y]
    perm = np.arange(16, dtype=np.intp)
    perm[5] = 16  # read by batch 1
    before = model.params.copy()
    lrs, losses = np.full(2, 0.1), np.empty(2)
    with pytest.raises(ValueError, match=r"perm\[5\] = 16 is not a row index"):
        _testing.native_state(trainer).train(X, Y, None, perm, 4, 0, 2, lrs, losses)
    assert np.array_equal(model.params, before)
    # Batches that do not read the bad entry run.
    assert _testing.native_state(trainer).train(X, Y, None, perm, 4, 2, 2, lrs, losses) == 2
