"""String names <-> native codes for activations, losses and optimizers.

The tables are the compiled core's (``_native/names.pxi``), built there from the ``cpdef
enum`` values in ``_core.pxd``, the ONE source of the codes; this module only re-exports
them.  Every public entry point takes the strings and turns them into codes through these
lookups, so an unknown name fails in one place with one message.
"""
from lepton._native.dispatch import core as _core

_TABLES = _core.name_tables()

ACTIVATIONS = _TABLES["activations"]
# scikit-learn spells identity "identity" and sigmoid "logistic"; accept both.
ACTIVATION_ALIASES = _TABLES["activation_aliases"]
LOSSES = _TABLES["losses"]
LOSS_ALIASES = _TABLES["loss_aliases"]
OPTIMIZERS = _TABLES["optimizers"]
# Default extra parameter of parametrised activations (leaky_relu slope, elu alpha).
ACTIVATION_PARAM = _TABLES["activation_param"]

#: Canonical activation name for a name or alias (TypeError / ValueError if unknown).
activation_name = _core.activation_name
#: Canonical loss name for a name or alias (TypeError / ValueError if unknown).
loss_name = _core.loss_name
#: Canonical optimizer name (TypeError / ValueError if unknown).
optimizer_name = _core.optimizer_name


def loss_code(name):
    """Native code of a loss name."""
    return LOSSES[loss_name(name)]


def optimizer_code(name):
    """Native code of an optimizer name."""
    return OPTIMIZERS[optimizer_name(name)]
