"""Trainer: mini-batch training of a :class:`~lepton.Model` with one native call per epoch.

The Trainer is lepton's policy (schedules, callbacks, early stopping, validation) over the
training engine (:mod:`lepton.engine`): it validates everything once per ``fit`` and computes
the learning rate of every step of an epoch; the engine then runs the epoch's mini-batches
(gather, forward, loss, backward, clipping, optimizer update) in one nogil call.  Only a
callback that overrides ``on_batch_end`` brings control back to Python after each batch.
"""
import math
import time

import numpy as np

from lepton import _data, _names
from lepton import _validation as _v
from lepton import metrics as _m
from lepton._serial import serialised
from lepton._native.threads import validate as _validate_threads, resolve_threads
from lepton.callbacks import Callback, EarlyStopping, History, _wants_batches
from lepton.engine import HYPER_DEFAULTS, Engine
from lepton.exceptions import DivergenceError
from lepton.model import Model
from lepton.schedules import get_schedule

__all__ = ["Trainer", "DivergenceError"]



# Training calls on one model run one at a time (several Trainers may share a model).
_on_model = serialised(lambda trainer: trainer.model)


def _auto_loss(model):
    act = model.output_activation
    return {"softmax": _data.CE, "sigmoid": _data.BCE}.get(act, "mse")


def _hyper_checks():
    def real(**limits):
        return lambda v, name: _v.check_real(v, name, **limits)

    positive = real(min=0, min_open=True)
    unit = real(min=0, max=1, max_open=True)

    def threads(v, name):
        _validate_threads(v, name)
        return v

    return {
        "lr": positive, "momentum": unit, "beta1": unit, "beta2": unit, "eps": positive,
        "l2": real(min=0), "weight_decay": real(min=0),
        "clip_norm": real(min=0, min_open=True, allow_none=True),
        "loss_scale": positive,
        # huber's delta; None means 1.0
        "loss_param": lambda v, n: _v.check_real(v, "loss_param (huber delta)", min=0,
                                                 min_open=True, allow_none=True),
        "n_threads": lambda v, n: None if v is None else threads(v, n),
        "seed": _v.check_seed,
    }


_HYPER = _hyper_checks()


def _check_hyper(name, value):
    return _HYPER[name](value, name)


def _task(loss):
    return "classification" if loss in (_data.CE, _data.BCE) else "regression"


def _metrics(loss, out, Y, labels):
    """Task metrics (lepton.metrics, scikit-learn's definitions) from the outputs ``out``."""
    if loss in (_data.CE, _data.BCE):
        if loss == _data.CE:
            true, pred = labels, np.argmax(out, axis=1)
        elif out.shape[1] == 1:
            true, pred = labels, (out[:, 0] > 0.5).astype(np.int64)
        else:   # multi-label: subset accuracy, scores averaged over labels
            true, pred = (Y > 0.5).astype(np.int64), (out > 0.5).astype(np.int64)
        kw = {"average": "macro", "zero_division": 0.0}
        return {"accuracy": float(_m.accuracy_score(true, pred)),
                "precision": float(_m.precision_score(true, pred, **kw)),
                "recall": float(_m.recall_score(true, pred, **kw)),
                "f1": float(_m.f1_score(true, pred, **kw))}
    Y64, out64 = Y.astype(np.float64), out.astype(np.float64)
    return {"mse": float(_m.mean_squared_error(Y64, out64)),
            "mae": float(_m.mean_absolute_error(Y64, out64)),
            "r2": float(_m.r2_score(Y64, out64))}


class Trainer:
    """Trains a :class:`~lepton.Model` with mini-batch gradient descent.

    Parameters
    ----------
    model : Model
    loss : str, default "auto"
        "softmax_cross_entropy" (needs a softmax head), "binary_cross_entropy" (needs a
        sigmoid head), "mse", "mae", "huber", or aliases; "auto" picks from the head:
        softmax -> softmax_cross_entropy, sigmoid -> binary_cross_entropy, else mse.
    optimizer : str, default "adam"
        "sgd", "momentum", "nesterov", "adam", "adamw".
    lr : float, default 1e-3
        Base learning rate (> 0); ``schedule`` derives the rate of every step from it.
    momentum : float, default 0.9
        For "momentum" / "nesterov", in [0, 1).
    beta1, beta2, eps : float
        Adam / AdamW moments (in [0, 1)) and denominator epsilon (> 0).
    l2 : float, default 0
        L2 penalty ``0.5 * l2 * ||W||^2`` on weights (not biases): gradient += l2 * W.  It is
        included in the reported losses.
    weight_decay : float, default 0
        Decoupled decay ``W -= lr * weight_decay * W`` on weights, for any optimizer
        ("adamw" is Adam with it).
    clip_norm : float, optional
        Rescale the loss gradient to this global L2 norm when it is larger (applied before
        the L2 term and weight decay).
    schedule : None, "constant", "invscaling" or a lepton.schedules.Schedule
        "invscaling" is :class:`lepton.schedules.InverseScaling`, ``lr / t ** 0.5`` per
        optimizer step (not scikit-learn's per-epoch, samples-seen rule).
    loss_param : float, optional
        Huber's delta (default 1.0); other losses take none.
    loss_scale : float, default 1.0
        Multiplies the loss and its gradient (0.5 with "mse" gives scikit-learn's
        squared_error).
    n_threads : int, optional
        Threads for training (default: :func:`lepton.get_num_threads`).  Results are bitwise
        identical for any thread count.
    seed : int, default 0
        Seeds the shuffling and the dropout masks.

    Attributes
    ----------
    step_count : int
        Optimizer steps taken (Adam's t).
    history : History or None
        Of the last ``fit``.
    stop_training : bool
        Set to True (e.g. from a callback) to stop after the current epoch.
    """

    def __init__(self, model, loss="auto", optimizer="adam", lr=1e-3, *, momentum=0.9,
                 beta1=0.9, beta2=0.999, eps=1e-8, l2=0.0, weight_decay=0.0, clip_norm=None,
                 schedule=None, loss_param=None, loss_scale=1.0, n_threads=None, seed=0):
        if not isinstance(model, Model):
            raise TypeError(f"model must be a lepton.Model, got {type(model).__name__}")
        loss = _auto_loss(model) if isinstance(loss, str) and loss.strip().lower() == "auto" \
            else _names.loss_name(loss)
        head = model.output_activation
        if loss == _data.CE and head != "softmax":
            raise ValueError(f"softmax_cross_entropy needs a softmax output layer, the model's "
                             f"last activation is {head!r}")
        if loss == _data.BCE and head != "sigmoid":
            raise ValueError(f"binary_cross_entropy needs a sigmoid output layer, the model's "
                             f"last activation is {head!r}")
        optimizer = _names.optimizer_name(optimizer)
        if loss_param is not None and loss != "huber":
            raise ValueError(f"loss_param is only used by the 'huber' loss, not {loss!r}")
        given = dict(lr=lr, momentum=momentum, beta1=beta1, beta2=beta2, eps=eps, l2=l2,
                     weight_decay=weight_decay, clip_norm=clip_norm, loss_scale=loss_scale,
                     loss_param=loss_param, n_threads=n_threads, seed=seed)
        hyper = {k: _check_hyper(k, v) for k, v in given.items()}
        schedule = get_schedule(schedule)

        object.__setattr__(self, "_hyper", hyper)
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.schedule = schedule
        self._engine = Engine(model, loss, optimizer, **self._engine_hyper())
        self._rng = np.random.default_rng(self.seed)
        self.batch_size = 32
        self.shuffle = True
        self.history = None
        self.stop_training = False
        self.epochs_done = 0

    # ------------------------------------------------------------------ hyper-parameters
    def __getattr__(self, name):
        hyper = self.__dict__.get("_hyper")
        if hyper is not None and name in hyper:
            return hyper[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name, value):
        # Hyper-parameters may be changed between fits; they are validated and handed to
        # the native state at once.  (lr is read at the start of every epoch.)
        if name in _HYPER:
            value = _check_hyper(name, value)
            self._hyper[name] = value
            if name in HYPER_DEFAULTS:
                self._engine.configure(**{name: value})
            if name == "seed":
                self._rng = np.random.default_rng(value)
            return
        object.__setattr__(self, name, value)

    def _engine_hyper(self):
        return {k: v for k, v in self._hyper.items() if k in HYPER_DEFAULTS}

    def __getstate__(self):
        return {"model": self.model, "loss": self.loss, "optimizer": self.optimizer,
                "schedule": self.schedule, "hyper": dict(self._hyper),
                "opt_state": self.optimizer_state(), "rng": self._rng.bit_generator.state,
                "epochs_done": self.epochs_done, "batch_size": self.batch_size,
                "shuffle": self.shuffle, "history": self.history}

    def __setstate__(self, state):
        h = dict(state["hyper"])
        lr, seed = h.pop("lr"), h.pop("seed")
        other = Trainer(state["model"], state["loss"], state["optimizer"], lr,
                        schedule=state["schedule"], seed=seed, **h)
        other.set_optimizer_state(state["opt_state"])
        other._rng.bit_generator.state = state["rng"]
        for key in ("epochs_done", "batch_size", "shuffle", "history"):
            setattr(other, key, state[key])
        self.__dict__.update(other.__dict__)

    # ------------------------------------------------------------------ state
    @property
    def step_count(self):
        """Optimizer steps taken so far (Adam's t)."""
        return self._engine.step_count

    @property
    def task(self):
        """"classification" or "regression" (from the loss)."""
        return _task(self.loss)

    def optimizer_state(self):
        """Copies of the optimizer state: ``{"t": int, "m": ndarray, "v": ndarray}`` (flat,
        laid out like ``model.params``)."""
        return self._engine.optimizer_state()

    @_on_model
    def set_optimizer_state(self, state):
        """Restore :meth:`optimizer_state` (validated first)."""
        self._engine.set_optimizer_state(state)

    @_on_model
    def reset(self):
        """Forget optimizer state, epoch count and shuffling stream (weights untouched)."""
        self._engine.reset()
        self._rng = np.random.default_rng(self.seed)
        self.epochs_done = 0
        self.schedule.reset()

    def config(self):
        """JSON-able hyper-parameters of this trainer."""
        keys = ("loss", "optimizer", "lr", "momentum", "beta1", "beta2", "eps", "l2",
                "weight_decay", "clip_norm", "loss_param", "loss_scale", "n_threads", "seed")
        return {k: getattr(self, k) for k in keys} | {"schedule": self.schedule.config()}

    def __repr__(self):
        return (f"Trainer(loss={self.loss!r}, optimizer={self.optimizer!r}, lr={self.lr!r}, "
                f"step_count={self.step_count})")

    # ------------------------------------------------------------------ data
    def _prepare(self, X, y, sample_weight=None, class_weight=None, name="X"):
        """Validated (X, Y, sw, labels) after the model's preprocessing; raises before
        anything is modified."""
        model = self.model
        X = _data.as_matrix(model._transform_inputs(X), model.input_dim, model.dtype, name)
        yname = "y" if name == "X" else f"y of {name}"
        Y, labels = _data.targets(y, X.shape[0], self.loss, model.output_dim, model.dtype, yname)
        if model.target_preprocessing:
            Y = _data.as_matrix(model._transform_targets(Y), model.output_dim, model.dtype,
                                yname)
        n_classes = model.output_dim if self.loss == _data.CE else 2
        sw = _data.sample_weights(sample_weight, class_weight, labels, X.shape[0], n_classes,
                                  model.dtype)
        return X, Y, sw, labels

    def _prepare_validation(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (X_val, y_val) or "
                             "(X_val, y_val, sample_weight_val)")
        sw = validation_data[2] if len(validation_data) == 3 else None
        return self._prepare(validation_data[0], validation_data[1], sw, name="X_val")

    # ------------------------------------------------------------------ training
    @_on_model
    def fit(self, X, y, epochs=10, batch_size=32, shuffle=True, validation_data=None,
            validation_split=0.0, callbacks=None, sample_weight=None, class_weight=None,
            early_stopping=None, verbose=0):
        """Train for ``epochs`` passes over (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, input_dim)
        y : array-like
            softmax_cross_entropy: class indices 0..K-1 of shape (n,) or a one-hot /
            probability matrix (n, K); binary_cross_entropy: 0/1 (or probabilities) of shape
            (n,) or (n, K); regression: (n,) or (n, K).
        epochs : int, default 10
        batch_size : int, default 32
            Clipped to n_samples.
        shuffle : bool, default True
            Shuffle rows every epoch (seeded by the trainer's ``seed``).
        validation_data : tuple, optional
            ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``; overrides
            ``validation_split``.
        validation_split : float, default 0
            Fraction in [0, 1) of the LAST rows of X (before shuffling) held out.
        callbacks : list of Callback, optional
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights.
        class_weight : "balanced" or dict, optional
            Weight per class index (classification only), multiplied into sample_weight.
        early_stopping : EarlyStopping, optional
            Shorthand for adding it to ``callbacks``.
        verbose : int, default 0
            1 or more shows a tqdm progress bar over epochs.

        Returns
        -------
        History

        Raises
        ------
        DivergenceError
            If a loss becomes NaN or infinite; the model keeps the last finite weights.
        """
        epochs = _v.check_int(epochs, "epochs", min=0)
        batch_size = _v.check_int(batch_size, "batch_size", min=1)
        shuffle = _v.check_bool(shuffle, "shuffle")
        verbose = _v.check_int(verbose, "verbose", min=0)
        split = _v.check_real(validation_split, "validation_split", min=0, max=1, max_open=True)
        callbacks = self._check_callbacks(callbacks, early_stopping)
        X, Y, sw, labels = self._prepare(X, y, sample_weight, class_weight)
        val = None
        if validation_data is not None:
            val = self._prepare_validation(validation_data)
        elif split > 0:
            n_val = int(X.shape[0] * split)
            if n_val < 1 or n_val >= X.shape[0]:
                raise ValueError(f"validation_split={split} leaves {n_val} validation rows of "
                                 f"{X.shape[0]}; need at least 1 of each")
            cut = X.shape[0] - n_val
            val = (X[cut:], Y[cut:], None if sw is None else sw[cut:],
                   None if labels is None else labels[cut:])
            X, Y = X[:cut], Y[:cut]
            sw = None if sw is None else sw[:cut]
        for cb in callbacks:
            monitor = getattr(cb, "monitor", "")
            if isinstance(cb, EarlyStopping) and monitor.startswith("val_") and val is None:
                raise ValueError(f"EarlyStopping monitors {monitor!r} but fit() has no "
                                 f"validation data; pass validation_data or validation_split, "
                                 f"or monitor='loss'")

        # ---- everything is valid: train
        self.batch_size, self.shuffle = batch_size, bool(shuffle)
        self.stop_training = False
        history = History()
        self.history = history
        nt = resolve_threads(self.n_threads)
        bs = min(batch_size, X.shape[0])
        per_batch = [cb for cb in callbacks if _wants_batches(cb)]
        bar = None
        if verbose:
            from tqdm.auto import tqdm
            bar = tqdm(total=epochs, unit="epoch", desc="fit")
        try:
            for cb in callbacks:
                cb.on_train_begin(self)
            for _ in range(epochs):
                epoch = self.epochs_done
                t0 = time.perf_counter()
                loss, lr = self._epoch(X, Y, sw, bs, self.shuffle, per_batch, nt, epoch)
                logs = {"loss": loss}
                if val is not None:
                    res = self._evaluate_prepared(*val, nt)
                    logs.update({f"val_{k}": v for k, v in res.items()})
                logs["lr"] = lr
                logs["time"] = time.perf_counter() - t0
                history._append(epoch, logs)
                self.epochs_done += 1
                self.schedule.on_epoch_end(epoch, logs)
                stop = [cb.on_epoch_end(self, epoch, logs) for cb in callbacks]
                if bar is not None:
                    bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()
                                     if k in ("loss", "val_loss", "val_accuracy", "val_r2")})
                    bar.update(1)
                if any(stop) or self.stop_training:
                    break
            for cb in callbacks:
                cb.on_train_end(self)
        finally:
            if bar is not None:
                bar.close()
        return history

    @_on_model
    def partial_fit(self, X, y, sample_weight=None):
        """One pass over (X, y) in batches of the last ``fit``'s ``batch_size`` (default
        32), keeping the optimizer state; returns the mean training loss."""
        # batch_size and shuffle are plain attributes a user may have set: checked here too.
        bs = _v.check_int(self.batch_size, "batch_size", min=1)
        shuffle = _v.check_bool(self.shuffle, "shuffle")
        X, Y, sw, _ = self._prepare(X, y, sample_weight)
        nt = resolve_threads(self.n_threads)
        bs = min(bs, X.shape[0])
        epoch = self.epochs_done
        loss, lr = self._epoch(X, Y, sw, bs, shuffle, [], nt, epoch)
        self.epochs_done += 1
        self.schedule.on_epoch_end(epoch, {"loss": loss, "lr": lr})
        return loss

    def _epoch(self, X, Y, sw, bs, shuffle, per_batch, nt, epoch):
        """Run one pass; returns (mean loss, lr of the last step).  Raises DivergenceError."""
        n = X.shape[0]
        nb = -(-n // bs)
        perm = self._rng.permutation(n) if shuffle else None
        lrs = np.empty(nb)
        self.schedule.fill(self.lr, epoch, self._engine.step_count + 1, lrs)
        on_batch = None
        if per_batch:
            def on_batch(b, loss):
                logs = {"loss": loss, "size": min(bs, n - b * bs)}
                for cb in per_batch:
                    cb.on_batch_end(self, b, logs)
                return self.stop_training
        hint = (f"Try a smaller learning rate (lr={self.lr}), scaling the inputs, or "
                f"clip_norm.")
        losses = self._engine.run(X, Y, sw, perm, bs, 0, nb, lrs, nt, on_batch=on_batch,
                                  where=f" of epoch {epoch}", hint=hint)
        nb = len(losses)
        sizes = np.minimum(bs, n - bs * np.arange(nb)).astype(np.float64)
        # Not np.dot: a BLAS call wakes OpenBLAS's threads, which then spin on the cores
        # lepton's own threads need.
        return float((losses * sizes).sum() / sizes.sum()), float(lrs[nb - 1])

    @staticmethod
    def _check_callbacks(callbacks, early_stopping):
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        else:
            try:
                callbacks = list(callbacks)
            except TypeError:
                raise TypeError("callbacks must be a list of lepton.callbacks.Callback") from None
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be lepton.callbacks.Callback instances, got "
                                f"{type(cb).__name__}")
        if early_stopping is not None:
            if not isinstance(early_stopping, EarlyStopping):
                raise TypeError("early_stopping must be a lepton.callbacks.EarlyStopping")
            if early_stopping not in callbacks:
                callbacks.append(early_stopping)
        return callbacks

    # ------------------------------------------------------------------ evaluation
    @_on_model
    def evaluate(self, X, y, sample_weight=None):
        """Loss and task metrics on (X, y), in inference mode (no dropout).

        Returns
        -------
        dict
            "loss" (including the L2 penalty, like training) and, for classification,
            "accuracy", "precision", "recall", "f1" (macro); for regression "mse", "mae",
            "r2".
        """
        X, Y, sw, labels = self._prepare(X, y, sample_weight)
        return self._evaluate_prepared(X, Y, sw, labels, resolve_threads(self.n_threads))

    def _evaluate_prepared(self, X, Y, sw, labels, nt):
        out = np.empty_like(Y)
        loss = self._engine.evaluate(X, Y, sw, out, nt)
        res = {"loss": float(loss)}
        if math.isfinite(loss):
            res.update(_metrics(self.loss, out, Y, labels))
        return res
