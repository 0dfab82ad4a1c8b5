"""Hooks into lepton's internals for the test suite (and for debugging); nothing in lepton
imports this module.

The tests reach the native core, its training state and a Trainer's engine only through
here, so moving an internal module or attribute changes this file, not the test suite.
"""
import contextlib

import numpy as np

from lepton import _names
from lepton._native.dispatch import core
from lepton._native.threads import fork_serial, resolve_threads

__all__ = ["core", "TrainState", "fast_math", "train_state", "native_state", "weight_mask",
           "native_loss_grad", "gradients", "expect_threads"]

#: The native training state class (``lepton._native.dispatch.core.TrainState``).
TrainState = core.TrainState
#: The core's own fast exp/log/tanh/... (``core._fast_math(name, x)``), tested against NumPy.
fast_math = core._fast_math


def train_state(model, loss, optimizer="sgd", *, rows=None, **config):
    """A fresh native ``TrainState`` of ``model`` for ``loss`` and ``optimizer``.

    ``config`` goes to ``TrainState.configure`` (loss_param, loss_scale, l2, seed, ...);
    ``rows`` reserves a workspace for that many rows per call.
    """
    state = TrainState(model._net, _names.LOSSES[_names.loss_name(loss)],
                       _names.OPTIMIZERS[_names.optimizer_name(optimizer)])
    if config:
        state.configure(**config)
    if rows:
        state.reserve(rows)
    return state


def native_state(trainer):
    """The native ``TrainState`` a :class:`lepton.Trainer` trains through."""
    return trainer._engine._state


def weight_mask(model):
    """uint8 mask over ``model.params``: 1 for weights, 0 for biases (from the layout)."""
    mask = np.zeros(model.n_params, dtype=np.uint8)
    off = 0
    for i in range(model.n_dense):
        W, b = model.layer_weights(i)
        mask[off:off + W.size] = 1
        off += W.size + b.size
    return mask


def native_loss_grad(model, X, Y, loss, *, sample_weight=None, train=True, step=0,
                     n_threads=None, **config):
    """``(loss, flat float64 gradient)`` of ``TrainState.loss_and_grad`` on a fresh state.

    ``X``, ``Y`` (encoded as the loss kernel takes them) and ``sample_weight`` are converted
    to the model dtype.  Dropout masks are keyed ``(config["seed"], step, layer)``, the
    defaults of :func:`lepton.ops.network_loss_grad` included.  The gradient includes the L2
    term (the native one does not), so it is the gradient of the returned loss, like the
    oracle's.
    """
    dt = model.dtype
    X = np.ascontiguousarray(X, dtype=dt)
    Y = np.ascontiguousarray(Y, dtype=dt)
    sw = None if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=dt)
    state = train_state(model, loss, rows=X.shape[0], **config)
    value = state.loss_and_grad(X, Y, sw, train=train, step=step, n_threads=n_threads)
    g = state.grads.astype(np.float64)
    g += config.get("l2", 0.0) * model.params * state.is_weight
    return float(value), g


def gradients(trainer, X, y, sample_weight=None, *, train=True, step=None):
    """(loss, gradient) of ``trainer``'s training objective at the current weights; no update.

    ``X``, ``y`` and ``sample_weight`` as ``Trainer.fit`` takes them.  The gradient is a
    float64 copy, flat like ``model.params``, L2 term included.  Dropout (if ``train``) uses
    the masks of optimizer step ``step`` (default: the next one).
    """
    X, Y, sw, _ = trainer._prepare(X, y, sample_weight)
    return trainer._engine.loss_and_grad(X, Y, sw, resolve_threads(trainer.n_threads),
                                         train=train, step=step)


@contextlib.contextmanager
def expect_threads():
    """Fail unless lepton's kernels open a multi-threaded region inside the block.

    For tests of thread-count independence: they must exercise the threaded branch, which
    private work thresholds decide; this asserts that it ran rather than trusting sizes.
    A serial build (no OpenMP) or a process forked after lepton ran threaded (serial by
    design) runs no region, and the check is skipped there.
    """
    before = core.parallel_regions()
    yield
    if core.openmp_enabled() and not fork_serial():
        opened = core.parallel_regions() - before
        assert opened > 0, "the block ran no multi-threaded region: its inputs are too small " \
                           "for lepton to use threads"
