# String names <-> native codes of the activations, losses and optimizers (GIL side).
#
# Design:
#   1. ONE source.  The cpdef enums of _core.pxd (Activation, Loss, Optimizer) define the
#      codes; each table here is built from an enum at import: a member ACT_LEAKY_RELU is the
#      name "leaky_relu" with its code, the count sentinel (ACT_COUNT, ...) is left out, and
#      the codes must be exactly 0 .. COUNT-1.  lepton._names re-exports these tables
#      (name_tables()); nothing copies a code by hand.
#   2. Spellings.  Accepted aliases (scikit-learn's "logistic", "log_loss", ...) and the
#      default extra parameter of parametrised activations live next to the tables; lookups
#      strip and lower-case the name, and an unknown name raises ValueError listing the
#      known ones, in one place (_lookup) with one message.
#   3. A new activation / loss / optimizer is one enum member (before the COUNT sentinel),
#      its kernel branch (for an activation also what its backward reads,
#      activations_py.pxi), and its formula in lepton.ops; its name follows from the member.


cdef dict _enum_table(object enum, str prefix, int count):
    """{name: code} of a cpdef enum's members (prefix dropped, lower case), by code."""
    cdef dict table = {}
    for member_name, member in enum.__members__.items():
        if member_name != prefix + "COUNT":
            table[member_name[len(prefix):].lower()] = int(member)
    if sorted(table.values()) != list(range(count)):
        raise ImportError(f"lepton: the codes of {enum.__name__} must be 0..{count - 1}, "
                          f"got {table}")
    return dict(sorted(table.items(), key=lambda item: item[1]))


cdef dict _ACTIVATIONS = _enum_table(Activation, "ACT_", ACT_COUNT)
cdef dict _LOSSES = _enum_table(Loss, "LOSS_", LOSS_COUNT)
cdef dict _OPTIMIZERS = _enum_table(Optimizer, "OPT_", OPT_COUNT)

# scikit-learn spells identity "identity" and sigmoid "logistic"; accept both.
cdef dict _ACTIVATION_ALIASES = {"linear": "identity", "logistic": "sigmoid", "none": "identity"}
cdef dict _LOSS_ALIASES = {
    "cross_entropy": "softmax_cross_entropy", "categorical_cross_entropy": "softmax_cross_entropy",
    "log_loss": "softmax_cross_entropy", "bce": "binary_cross_entropy",
    "mean_squared_error": "mse", "mean_absolute_error": "mae",
}
cdef dict _OPTIMIZER_ALIASES = {}

# Default extra parameter of parametrised activations (leaky_relu slope, elu alpha).
cdef dict _ACTIVATION_PARAM = {"leaky_relu": 0.01, "elu": 1.0}


cdef str _lookup(str kind, dict table, dict aliases, object name):
    """The canonical name of ``name`` in ``table`` (TypeError / ValueError if none)."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a string, got {type(name).__name__}: {name!r}")
    key = name.strip().lower()
    key = aliases.get(key, key)
    if key not in table:
        raise ValueError(f"unknown {kind} {name!r}; expected one of {sorted(table)}")
    return key


cdef inline str _activation_name(object name):
    return _lookup("activation", _ACTIVATIONS, _ACTIVATION_ALIASES, name)


cdef inline str _loss_name(object name):
    return _lookup("loss", _LOSSES, _LOSS_ALIASES, name)


cdef inline str _optimizer_name(object name):
    return _lookup("optimizer", _OPTIMIZERS, _OPTIMIZER_ALIASES, name)


cdef double _act_param(str act, object param) except? -1.0:
    """The extra parameter of ``act`` (leaky_relu slope, elu alpha), default if None."""
    if act in _ACTIVATION_PARAM:
        if param is None:
            return _ACTIVATION_PARAM[act]
        return _real(param, f"param ({act})", -INFINITY, INFINITY, True, True)
    if param is not None:
        raise ValueError(f"activation {act!r} takes no param, got param={param!r}; only "
                         f"{sorted(_ACTIVATION_PARAM)} have one")
    return 0.0


def activation_name(name):
    """Canonical activation name for ``name`` (raises ValueError if unknown)."""
    return _activation_name(name)


def loss_name(name):
    """Canonical loss name for ``name`` (raises ValueError if unknown)."""
    return _loss_name(name)


def optimizer_name(name):
    """Canonical optimizer name for ``name`` (raises ValueError if unknown)."""
    return _optimizer_name(name)


def name_tables():
    """Fresh copies of the name tables: ``{"activations": {name: code}, "losses": ...,
    "optimizers": ..., "activation_aliases": {alias: name}, "loss_aliases": ...,
    "optimizer_aliases": ..., "activation_param": {name: default}}``."""
    return {
        "activations": dict(_ACTIVATIONS), "losses": dict(_LOSSES),
        "optimizers": dict(_OPTIMIZERS), "activation_aliases": dict(_ACTIVATION_ALIASES),
        "loss_aliases": dict(_LOSS_ALIASES), "optimizer_aliases": dict(_OPTIMIZER_ALIASES),
        "activation_param": dict(_ACTIVATION_PARAM),
    }
