"""Checks of scalar arguments and sample weights, shared by the whole Python layer.

Every public entry point checks its int / real / bool / choice arguments here BEFORE any
native code runs, so a bad value raises an error that names the argument, the value and
what is accepted, instead of a raw ``OverflowError`` from the native layer.

A value of the wrong type raises :class:`ArgumentTypeError`, a ``TypeError`` that is also a
``ValueError`` (like scikit-learn's ``InvalidParameterError``), so ``except ValueError``
written against earlier lepton versions keeps working; a value out of range raises
``ValueError``.
"""
import math
import numbers

import numpy as np

# Counts handed to the native core (batch sizes, epochs, iterations) are C ints.
INT_MAX = 2**31 - 1
# Layer widths and input features: far beyond any dense MLP, small enough that the product
# of two widths (a weight matrix) never overflows the native index types.  The same limit
# as lepton.io's for files (_io_checks.MAX_UNITS), so what can be built can be saved.
MAX_UNITS = 2**26
# numpy.random.RandomState takes seeds in [0, 2**32 - 1] (scikit-learn's random_state).
SEED_MAX = 2**32 - 1
# Optimizer step counts are C long long.
STEP_MAX = 2**63 - 1


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (also a ValueError, as scikit-learn's errors are)."""


def _show(value):
    """repr(value), with huge ints summarised (str() of one refuses > 4300 digits)."""
    if isinstance(value, numbers.Integral) and abs(value) >= 10**30:
        return f"an int of {int(value).bit_length()} bits"
    return repr(value)


def _interval(min, max, min_open, max_open, finite):
    lo = "[" if min is not None and not min_open else "("
    hi = "]" if (max is not None and not max_open) or (max is None and not finite) else ")"
    return f"{lo}{'-inf' if min is None else min}, {'inf' if max is None else max}{hi}"


def expect_int(min=None, max=INT_MAX, allow_none=False):
    """What :func:`check_int` accepts, in words: "an int in [1, 2147483647]"."""
    words = f"an int in {_interval(min, max, False, False, True)}"
    return "None or " + words if allow_none else words


def expect_real(min=None, max=None, min_open=False, max_open=False, finite=True,
                allow_none=False):
    """What :func:`check_real` accepts, in words: "a number in (0, inf)"."""
    if min is None and max is None:
        words = "a finite number" if finite else "a number (not NaN)"
    else:
        words = f"a number in {_interval(min, max, min_open, max_open, finite)}"
    return "None or " + words if allow_none else words


def check_int(value, name, *, min=None, max=INT_MAX, allow_none=False):
    """``value`` as a Python int in ``[min, max]`` (bools are not ints here).

    ``max`` defaults to the largest C int, the limit of every count the native core takes.
    """
    if value is None and allow_none:
        return None
    expected = expect_int(min, max, allow_none)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"{name} must be {expected}, got {_show(value)}")
    value = int(value)
    if (min is not None and value < min) or (max is not None and value > max):
        raise ValueError(f"{name} must be {expected}, got {_show(value)}")
    return value


def check_real(value, name, *, min=None, max=None, min_open=False, max_open=False,
               finite=True, allow_none=False):
    """``value`` as a float in the interval (bounds closed unless ``*_open``).

    NaN is always rejected; infinities unless ``finite=False``.  Strings, complex numbers,
    bools and None (unless ``allow_none``) are type errors.
    """
    if value is None and allow_none:
        return None
    expected = expect_real(min, max, min_open, max_open, finite, allow_none)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"{name} must be {expected}, got {_show(value)}")
    try:
        x = float(value)
    except OverflowError:  # an int beyond the float range
        x = math.inf if value > 0 else -math.inf
    bad = (math.isnan(x) or (finite and math.isinf(x))
           or (min is not None and (x < min or (min_open and x == min)))
           or (max is not None and (x > max or (max_open and x == max))))
    if bad:
        raise ValueError(f"{name} must be {expected}, got {_show(value)}")
    return x


def check_bool(value, name, *, allow_none=False):
    """``value`` as a bool; only True / False (NumPy's too) are accepted, not 0 / 1."""
    if value is None and allow_none:
        return None
    if not isinstance(value, (bool, np.bool_)):
        what = "None, True or False" if allow_none else "True or False"
        raise ArgumentTypeError(f"{name} must be {what}, got {_show(value)}")
    return bool(value)


def check_choice(value, name, choices):
    """``value`` if it is one of ``choices`` (compared with ==), else ValueError."""
    for choice in choices:
        if value is choice:
            return value
        # Same kind only: True is not the choice 1, an array is compared with nothing.
        if isinstance(value, type(choice)) and isinstance(value, bool) == isinstance(choice, bool):
            try:
                if value == choice:
                    return value
            except (TypeError, ValueError):
                pass
    raise ValueError(f"{name} must be one of {list(choices)!r}, got {_show(value)}")


def check_seed(value, name="seed"):
    """A seed for NumPy's generators: an int in [0, 2**32 - 1]."""
    return check_int(value, name, min=0, max=SEED_MAX)


def check_random_state(seed, name="random_state"):
    """scikit-learn's ``random_state``: None (NumPy's global RandomState), an int seed or a
    ``numpy.random.RandomState``; returns the RandomState to draw from."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if isinstance(seed, np.random.RandomState):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)):
        return np.random.RandomState(check_seed(seed, name))
    raise ArgumentTypeError(f"{name}={_show(seed)} cannot be used to seed a "
                            f"numpy.random.RandomState instance; expected None, "
                            f"{expect_int(0, SEED_MAX)} or a RandomState.")


# ---------------------------------------------------------------------------- weights
def check_sample_weight(sample_weight, n_samples, *, dtype=np.float64, name="sample_weight"):
    """Validated per-sample weights: a new array of shape (n_samples,), or None.

    ``sample_weight`` is None, a non-negative real number (the same weight for every
    sample) or an array-like of n_samples numbers.  The weights must be finite, >= 0 and not
    all zero, and representable in ``dtype`` (see :func:`check_weight_values`).
    ``dtype=None`` keeps the weights' own dtype (integer weights stay integers).
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number) and not isinstance(sample_weight, np.ndarray):
        sw = np.full(n_samples, check_real(sample_weight, name, min=0))
        return check_weight_values(sw, dtype, name)
    if hasattr(sample_weight, "to_numpy"):  # pandas
        sample_weight = sample_weight.to_numpy()
    try:
        sw = np.array(sample_weight)  # a copy: the caller's array is never written to
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if sw.dtype == object:
        try:
            sw = sw.astype(np.float64)
        except (TypeError, ValueError):
            raise ArgumentTypeError(f"{name} must hold real numbers") from None
    if sw.dtype.kind == "c":
        raise ArgumentTypeError(f"{name} must hold real numbers, got complex values")
    if sw.dtype.kind not in "biuf":
        raise ArgumentTypeError(f"{name} must hold real numbers, got dtype {sw.dtype}")
    if sw.shape != (n_samples,):
        raise ValueError(f"{name} must have shape ({n_samples},), one weight per sample, got "
                         f"shape {sw.shape}")
    return check_weight_values(sw, dtype, name)


def check_weight_values(sw, dtype, name="sample_weight"):
    """The values of 1-D weights ``sw`` (after any combination, e.g. with class weights):
    finite, >= 0, not all zero, with a finite sum in float64, and representable in
    ``dtype`` (no weight overflows to infinity, not all of them round to zero).  Returns
    ``sw`` cast to ``dtype`` (kept as is for None)."""
    if sw.dtype.kind == "f" and not np.isfinite(sw).all():
        raise ValueError(f"Input {name} contains {'NaN' if np.isnan(sw).any() else 'infinity'}.")
    if sw.size and sw.min() < 0:
        raise ValueError(f"{name} must be non-negative (>= 0), got {sw.min().item()!r}")
    if not sw.any():
        raise ValueError(f"{name} must contain at least one non-zero weight; got all zeros.")
    with np.errstate(over="ignore"):
        total = np.sum(sw, dtype=np.float64)
    if not math.isfinite(total):
        raise ValueError(f"{name} is too large: the weights sum to infinity in float64. "
                         f"Divide them by a common factor.")
    if dtype is None:
        return sw
    with np.errstate(over="ignore"):
        out = sw.astype(dtype, copy=False)
    if out.dtype.kind == "f":
        if not np.isfinite(out).all():
            raise ValueError(f"{name} is too large for {out.dtype}: its largest weight "
                             f"{sw.max().item()!r} overflows. Divide the weights by a common "
                             f"factor.")
        if not out.any():
            raise ValueError(f"{name} is too small for {out.dtype}: every weight rounds to "
                             f"zero. Multiply the weights by a common factor.")
    return out


# ---------------------------------------------------------------------------- targets
def _is_integral(a):
    return a.dtype.kind in "biu" or (a.dtype.kind == "f" and np.all(a == np.round(a)))


def type_of_target(y):
    """scikit-learn's target types for a 1-D/2-D dense ``y``.

    'binary', 'multiclass', 'multilabel-indicator', 'multiclass-multioutput',
    'continuous', 'continuous-multioutput' or 'unknown'.
    """
    y = np.asarray(y)
    if y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] == 0) or y.size == 0:
        return "unknown"
    if y.dtype == object and not all(isinstance(v, str) for v in y.ravel()):
        return "unknown"
    multi = y.ndim == 2 and y.shape[1] > 1
    if multi and y.dtype.kind in "biuf":
        labels = np.unique(y)
        if len(labels) < 3 and _is_integral(labels):
            return "multilabel-indicator"
    if y.dtype.kind == "f" and not _is_integral(y):
        return "continuous-multioutput" if multi else "continuous"
    suffix = "-multioutput" if multi else ""
    n_unique = max(len(np.unique(col)) for col in (y.T if y.ndim == 2 else [y]))
    if multi or n_unique > 2:
        return "multiclass" + suffix
    return "binary"
