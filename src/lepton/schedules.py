"""Learning-rate schedules for :class:`lepton.Trainer` (any optimizer).

A schedule turns the trainer's base ``lr`` into the learning rate of every optimizer step.
Epoch-wise schedules give one rate per epoch; :class:`InverseScaling` gives one per step.
The trainer fills an array with the rates of a whole epoch and hands it to the native
training loop, so a schedule costs nothing per step.
"""
import math

import numpy as np

from lepton import _validation as _v

__all__ = ["Schedule", "Constant", "StepDecay", "ExponentialDecay", "CosineAnnealing",
           "InverseScaling", "ReduceLROnPlateau", "get_schedule"]


class Schedule:
    """Base class: ``lr(base_lr, epoch)`` is the rate of every step of 0-based ``epoch``.

    Subclasses override :meth:`lr`, or :meth:`fill` for per-step rates.  Stateful schedules
    (:class:`ReduceLROnPlateau`) also react in :meth:`on_epoch_end`.
    """

    def lr(self, base_lr, epoch):
        """Learning rate of the steps of epoch ``epoch`` (0-based)."""
        return base_lr

    def fill(self, base_lr, epoch, first_step, out):
        """Write into ``out[i]`` the rate of optimizer step ``first_step + i`` (1-based)."""
        out.fill(self.lr(base_lr, epoch))

    def on_epoch_end(self, epoch, logs):
        """Called with the epoch's logs (loss, val_loss, ...) after each epoch."""

    def reset(self):
        """Forget any state (called when a fit starts from scratch)."""

    def config(self):
        """JSON-able description."""
        return {"type": type(self).__name__,
                **{k: v for k, v in vars(self).items() if not k.startswith("_")}}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """The base learning rate at every step."""


class StepDecay(Schedule):
    """``lr * gamma ** (epoch // step_size)``."""

    def __init__(self, step_size, gamma=0.1):
        self.step_size = _v.check_int(step_size, "step_size", min=1)
        self.gamma = _v.check_real(gamma, "gamma", min=0, min_open=True)

    def lr(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    """``lr * gamma ** epoch``."""

    def __init__(self, gamma):
        self.gamma = _v.check_real(gamma, "gamma", min=0, min_open=True)

    def lr(self, base_lr, epoch):
        return base_lr * self.gamma ** epoch


class CosineAnnealing(Schedule):
    """``eta_min + (lr - eta_min) * (1 + cos(pi * min(epoch, t_max) / t_max)) / 2``.

    Reaches ``eta_min`` at epoch ``t_max`` and stays there.
    """

    def __init__(self, t_max, eta_min=0.0):
        self.t_max = _v.check_int(t_max, "t_max", min=1)
        self.eta_min = _v.check_real(eta_min, "eta_min", min=0)

    def lr(self, base_lr, epoch):
        e = min(epoch, self.t_max)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * e / self.t_max)) / 2


class InverseScaling(Schedule):
    """``lr / t ** power_t`` at optimizer step ``t`` (1-based): decays every step.

    Not scikit-learn's ``learning_rate="invscaling"``, which divides by the number of
    SAMPLES seen plus one and changes once per epoch; lepton's estimators implement that
    rule with ``learning_rate="invscaling"``, exactly as scikit-learn does.
    """

    def __init__(self, power_t=0.5):
        self.power_t = _v.check_real(power_t, "power_t", min=0)

    def lr(self, base_lr, epoch):
        raise NotImplementedError("InverseScaling is per step: use fill()")

    def fill(self, base_lr, epoch, first_step, out):
        t = np.arange(first_step, first_step + out.shape[0], dtype=np.float64)
        np.power(t, -self.power_t, out=out)
        out *= base_lr


class ReduceLROnPlateau(Schedule):
    """Multiply the rate by ``factor`` when ``monitor`` stops improving for ``patience`` epochs.

    Parameters
    ----------
    factor : float, default 0.2
        In (0, 1).
    patience : int, default 10
        Reduce after this many epochs in a row without an improvement larger than
        ``min_delta`` (Keras' convention).
    min_delta : float, default 1e-4
    monitor : str, default "val_loss"
        A key of the epoch logs; falls back to "loss" when there is no validation data.
        Scores (accuracy, f1, r2, ...) must increase, losses decrease.
    min_lr : float, default 0
        The rate never goes below this.
    """

    def __init__(self, factor=0.2, patience=10, min_delta=1e-4, monitor="val_loss", min_lr=0.0):
        self.factor = _v.check_real(factor, "factor", min=0, max=1, min_open=True,
                                    max_open=True)
        self.patience = _v.check_int(patience, "patience", min=0)
        self.min_delta = _v.check_real(min_delta, "min_delta", min=0)
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a string, got {monitor!r}")
        self.monitor = monitor
        self.min_lr = _v.check_real(min_lr, "min_lr", min=0)
        self.reset()

    def reset(self):
        self._scale = 1.0
        self._best = None
        self._wait = 0

    def lr(self, base_lr, epoch):
        return max(base_lr * self._scale, min(self.min_lr, base_lr))

    def on_epoch_end(self, epoch, logs):
        from lepton.callbacks import _monitored, _improved
        key, value, higher = _monitored(self.monitor, logs)
        if value is None:
            return
        if self._best is None or _improved(value, self._best, self.min_delta, higher):
            self._best = value
            self._wait = 0
            return
        self._wait += 1
        if self._wait >= self.patience:
            self._scale *= self.factor
            self._wait = 0


_BY_NAME = {"constant": Constant, "invscaling": InverseScaling,
            "inverse_scaling": InverseScaling}


def get_schedule(schedule):
    """A Schedule from None, a name ("constant", "invscaling") or a Schedule instance."""
    if schedule is None:
        return Constant()
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, str) and schedule.strip().lower() in _BY_NAME:
        return _BY_NAME[schedule.strip().lower()]()
    raise ValueError(f"schedule must be None, 'constant', 'invscaling' or a "
                     f"lepton.schedules.Schedule instance, got {schedule!r}")
