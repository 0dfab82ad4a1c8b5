"""Training callbacks and the History record of :meth:`lepton.Trainer.fit`.

A callback that overrides :meth:`Callback.on_batch_end` makes the trainer return to Python
after every mini-batch; without one, a whole epoch runs in one native call.
"""
import math

from lepton import _validation as _v

__all__ = ["Callback", "EarlyStopping", "LambdaCallback", "History"]

# Log keys that are scores (higher is better); everything else is a loss.
_SCORES = ("accuracy", "precision", "recall", "f1", "r2")


def _higher_is_better(key):
    base = key[4:] if key.startswith("val_") else key
    return base in _SCORES


def _monitored(monitor, logs):
    """(key, value, higher_is_better) of ``monitor`` in ``logs``; "val_x" falls back to "x"."""
    key = monitor
    if key not in logs and key.startswith("val_") and key[4:] in logs:
        key = key[4:]
    value = logs.get(key)
    if value is None or not math.isfinite(value):
        return key, None, _higher_is_better(key)
    return key, float(value), _higher_is_better(key)


def _improved(value, best, min_delta, higher):
    return value > best + min_delta if higher else value < best - min_delta


class Callback:
    """Base class of training callbacks; override the hooks you need.

    Every hook receives the :class:`~lepton.Trainer`; set ``trainer.stop_training = True``
    (or return True from :meth:`on_epoch_end`) to stop after the current epoch.
    """

    def on_train_begin(self, trainer):
        """Called once when ``fit`` starts."""

    def on_epoch_end(self, trainer, epoch, logs):
        """Called after each epoch with its logs (loss, val_loss, metrics, lr, time).

        Returns
        -------
        bool or None
            True stops training.
        """

    def on_batch_end(self, trainer, batch, logs):
        """Called after each mini-batch with ``{"loss": ..., "size": ...}``.

        Overriding it makes training return to Python after every batch (slower).
        """

    def on_train_end(self, trainer):
        """Called once when ``fit`` ends (also after early stopping)."""


def _wants_batches(callback):
    """True if ``callback`` overrides on_batch_end (needs Python after every batch)."""
    if isinstance(callback, LambdaCallback):
        return callback._batch_hook is not None
    return type(callback).on_batch_end is not Callback.on_batch_end


class EarlyStopping(Callback):
    """Stop when a monitored value stops improving.

    Parameters
    ----------
    monitor : str, default "val_loss"
        A key of the epoch logs: "loss", "val_loss" or a validation metric such as
        "val_accuracy" / "val_f1" / "val_r2" (scores must increase, losses decrease).
    patience : int, default 10
        Stop after this many epochs in a row without an improvement larger than
        ``min_delta``.
    min_delta : float, default 1e-4
    restore_best_weights : bool, default True
        At the end of training, put back the weights of the best epoch.

    Attributes
    ----------
    best : float or None
        Best monitored value seen.
    best_epoch : int or None
    stopped_epoch : int or None
        Epoch after which training stopped, or None.
    """

    def __init__(self, monitor="val_loss", patience=10, min_delta=1e-4,
                 restore_best_weights=True):
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a string, got {monitor!r}")
        self.patience = _v.check_int(patience, "patience", min=0)
        self.min_delta = _v.check_real(min_delta, "min_delta", min=0)
        self.restore_best_weights = _v.check_bool(restore_best_weights, "restore_best_weights")
        self.monitor = monitor
        self._best_params = None
        self.best = self.best_epoch = self.stopped_epoch = None
        self._wait = 0

    def on_train_begin(self, trainer):
        self.best = self.best_epoch = self.stopped_epoch = None
        self._wait = 0

    def on_epoch_end(self, trainer, epoch, logs):
        _, value, higher = _monitored(self.monitor, logs)
        if value is None:
            return None
        if self.best is None or _improved(value, self.best, self.min_delta, higher):
            self.best, self.best_epoch, self._wait = value, epoch, 0
            if self.restore_best_weights:
                params = trainer.model.params
                if self._best_params is None or self._best_params.shape != params.shape \
                        or self._best_params.dtype != params.dtype:
                    self._best_params = params.copy()
                else:
                    self._best_params[...] = params
            return None
        self._wait += 1
        if self._wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return None

    def on_train_end(self, trainer):
        if self.restore_best_weights and self._best_params is not None \
                and self.best_epoch is not None:
            trainer.model.params[...] = self._best_params


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=f, ...)``."""

    def __init__(self, on_train_begin=None, on_epoch_end=None, on_batch_end=None,
                 on_train_end=None):
        self._train_begin = on_train_begin
        self._epoch_end = on_epoch_end
        self._batch_hook = on_batch_end
        self._train_end = on_train_end

    def on_train_begin(self, trainer):
        if self._train_begin:
            self._train_begin(trainer)

    def on_epoch_end(self, trainer, epoch, logs):
        return self._epoch_end(trainer, epoch, logs) if self._epoch_end else None

    def on_batch_end(self, trainer, batch, logs):
        if self._batch_hook:
            self._batch_hook(trainer, batch, logs)

    def on_train_end(self, trainer):
        if self._train_end:
            self._train_end(trainer)


class History:
    """What :meth:`~lepton.Trainer.fit` returns.

    Attributes
    ----------
    history : dict of lists
        Per epoch: "loss", "lr", "time" (seconds) and, with validation data, "val_loss" and
        the validation metrics ("val_accuracy", "val_f1", ... or "val_mse", "val_r2", ...).
    epoch : list of int
        Epoch numbers (counting across calls to ``fit`` on the same trainer).
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def _append(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        keys = ", ".join(self.history)
        return f"History({len(self)} epochs: {keys})"
