"""The training engine: the one owner of a model's native training state.

:class:`~lepton.Trainer` (lepton's policy: schedules, callbacks, early stopping) and the
scikit-learn estimators (scikit-learn's policy: initialisation, batch order, loss scaling,
stopping rule) both train through an :class:`Engine`; neither touches the native state.

Design:
  1. An Engine owns the native ``TrainState`` of one (model, loss, optimizer): the workspace
     (:meth:`reserve`, grow-only), the hyper-parameters handed to the native step
     (:meth:`configure`), the optimizer state (moments and step count) and its pickling.
  2. :meth:`run` applies a range of mini-batches: slices of up to ``SLICE`` batches per nogil
     call (Ctrl-C is seen between slices), or one batch per call when the policy needs
     Python after each batch (``on_batch``).
  3. Divergence is detected natively: a batch whose loss is not finite, or whose update
     would make a parameter or moment non-finite, is not applied.  :meth:`run` then raises
     :class:`~lepton.DivergenceError` naming the batch; the model keeps the last finite
     weights and optimizer state, whichever policy trains it.
  4. Training calls on one model are serialised (``lepton._serial``): an Engine may be used
     from several threads, one call at a time.
"""
import math

import numpy as np

from lepton import _names
from lepton import _validation as _v
from lepton._native.dispatch import core as _core
from lepton._serial import training_lock
from lepton.exceptions import DivergenceError

__all__ = ["Engine", "SLICE"]

# Mini-batches per native training call (Ctrl-C is checked between calls).
SLICE = 256

# Hyper-parameters of the native step and their defaults (validated by the policies).
# ``loss_scale`` multiplies the data loss and its gradient; ``report_scale`` only the data
# term of the losses reported (a policy's loss convention, e.g. scikit-learn's squared error).
HYPER_DEFAULTS = dict(loss_param=None, loss_scale=1.0, momentum=0.9, beta1=0.9, beta2=0.999,
                      eps=1e-8, l2=0.0, weight_decay=0.0, clip_norm=None, seed=0,
                      report_scale=1.0)


class Engine:
    """Native training state of ``model`` for one loss and optimizer (internal).

    Parameters
    ----------
    model : lepton.Model
    loss, optimizer : str
        Canonical names (``lepton._names``).
    **hyper
        Any of ``HYPER_DEFAULTS`` (already validated by the caller).
    """

    def __init__(self, model, loss, optimizer, **hyper):
        self.model = model
        self.loss = _names.loss_name(loss)
        self.optimizer = _names.optimizer_name(optimizer)
        self._state = _core.TrainState(model._net, _names.LOSSES[self.loss],
                                       _names.OPTIMIZERS[self.optimizer])
        self.hyper = dict(HYPER_DEFAULTS)
        self.configure(**hyper)

    # ------------------------------------------------------------------ configuration
    def configure(self, **hyper):
        """Set hyper-parameters of the native step (names of ``HYPER_DEFAULTS``)."""
        unknown = set(hyper) - set(HYPER_DEFAULTS)
        if unknown:
            raise TypeError(f"unknown engine hyper-parameters {sorted(unknown)}")
        new = dict(self.hyper, **hyper)
        with training_lock(self.model):
            self._state.configure(
                loss_param=1.0 if new["loss_param"] is None else new["loss_param"],
                loss_scale=new["loss_scale"], momentum=new["momentum"], beta1=new["beta1"],
                beta2=new["beta2"], eps=new["eps"], l2=new["l2"],
                weight_decay=new["weight_decay"], clip_norm=new["clip_norm"],
                seed=new["seed"], report_scale=new["report_scale"])
        self.hyper = new

    def reserve(self, rows):
        """Make the workspace hold ``rows`` rows per native call (grow-only)."""
        with training_lock(self.model):
            self._state.reserve(rows)

    # ------------------------------------------------------------------ optimizer state
    @property
    def step_count(self):
        """Optimizer steps applied so far (Adam's t)."""
        return self._state.step_count

    @property
    def is_weight(self):
        """uint8 mask over the flat parameters: 1 for weights, 0 for biases."""
        return self._state.is_weight

    def optimizer_state(self):
        """Copies: ``{"t": int, "m": ndarray, "v": ndarray}`` (flat, like ``model.params``)."""
        return {"t": self._state.step_count, "m": self._state.m.copy(),
                "v": self._state.v.copy()}

    def set_optimizer_state(self, state):
        """Restore :meth:`optimizer_state` (validated before anything is written)."""
        n = self.model.n_params
        t = _v.check_int(state["t"], "t", min=0, max=_v.STEP_MAX)
        arrs = []
        for key in ("m", "v"):
            a = np.asarray(state[key])
            if a.shape != (n,) or a.dtype.kind != "f" or not np.all(np.isfinite(a)):
                raise ValueError(f"optimizer state {key!r} must be {n} finite floats")
            arrs.append(a)
        with training_lock(self.model):
            self._state.m[...] = arrs[0]
            self._state.v[...] = arrs[1]
            self._state.step_count = t

    def reset(self):
        """Forget the optimizer state: zero moments, step count 0."""
        with training_lock(self.model):
            self._state.reset()

    # ------------------------------------------------------------------ training
    def run(self, X, Y, sw, perm, batch_size, b0, nb, lrs, n_threads, *, on_batch=None,
            where="", hint=""):
        """Apply mini-batches ``b0 .. b0+nb-1`` of (X, Y, sw), rows in ``perm`` order.

        Parameters
        ----------
        X, Y, sw : ndarray
            C-contiguous, of the model's dtype; ``sw`` may be None.
        perm : ndarray of intp or None
            Row order (None: in order).  Batch b holds rows
            ``perm[b * batch_size : (b + 1) * batch_size]``.
        lrs : ndarray of float64, shape (nb,)
            Learning rate of each batch.
        n_threads : int
        on_batch : callable, optional
            ``on_batch(b, loss)`` after each applied batch; returning True stops the run
            there.  Without it, slices of ``SLICE`` batches go in one native call each.
        where, hint : str
            For the DivergenceError message: after "batch b" (e.g. " of epoch 3") and
            appended (the policy's advice).

        Returns
        -------
        losses : ndarray of float64
            One per applied batch (fewer than ``nb`` only when ``on_batch`` stopped).

        Raises
        ------
        DivergenceError
            When a batch's loss or update is not finite; that batch is not applied.
        """
        losses = np.empty(nb)
        state = self._state
        with training_lock(self.model):
            state.reserve(batch_size)
            done = 0
            step = 1 if on_batch is not None else SLICE
            while done < nb:
                k = min(step, nb - done)
                got = state.train(X, Y, sw, perm, batch_size, b0 + done, k,
                                  lrs[done:done + k], losses[done:done + k], n_threads)
                if got < k:
                    self._diverged(b0 + done + got, losses[done + got], where, hint)
                done += k
                if on_batch is not None and on_batch(b0 + done - 1, float(losses[done - 1])):
                    break
        return losses[:done]

    @staticmethod
    def _diverged(batch, loss, where, hint):
        what = (f"the update of batch {batch}{where} overflowed (its loss was {loss:.6g})"
                if math.isfinite(loss) else f"the loss of batch {batch}{where} became {loss}")
        raise DivergenceError(
            f"training diverged: {what}. That step was not applied: the model keeps the last "
            f"finite weights." + (f" {hint}" if hint else ""))

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, X, Y, sw, out, n_threads, chunk_rows=256):
        """Mean loss (+ L2 penalty) of (X, Y) in inference mode; outputs into ``out``."""
        with training_lock(self.model):
            self._state.reserve(chunk_rows)
            return float(self._state.evaluate(X, Y, sw, out, n_threads))

    def loss_and_grad(self, X, Y, sw, n_threads, *, train=True, step=None):
        """(loss, gradient) of the objective at the current weights, no update.

        The gradient is a float64 copy, flat like ``model.params``, L2 term included.
        Dropout (if ``train``) uses the masks of optimizer step ``step`` (default: next).
        """
        with training_lock(self.model):
            self._state.reserve(X.shape[0])
            loss = self._state.loss_and_grad(X, Y, sw, train=train, step=step,
                                             n_threads=n_threads)
            g = self._state.grads.astype(np.float64)
        if self.hyper["l2"]:
            g += self.hyper["l2"] * self.model.params * self._state.is_weight
        return float(loss), g

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        return {"model": self.model, "loss": self.loss, "optimizer": self.optimizer,
                "hyper": dict(self.hyper), "opt_state": self.optimizer_state()}

    def __setstate__(self, state):
        self.__init__(state["model"], state["loss"], state["optimizer"], **state["hyper"])
        self.set_optimizer_state(state["opt_state"])
