"""Layers and the Model: an MLP whose parameters live in one flat buffer.

A :class:`Model` is a stack of :class:`Dense` layers, each optionally followed by a
:class:`Dropout`.  All weights and biases sit in ONE contiguous array ``model.params``
(per Dense layer: W, ``n_in x n_out`` row-major, then b), so an optimizer step is a single
loop over one buffer and the native core (``lepton._core.Net``) runs the whole forward pass
in one call.
"""
import math
import warnings

import numpy as np

from lepton import _data, _names
from lepton._steps import CarriesPreprocessing
from lepton import _validation as _v
from lepton._native.dispatch import core as _core
from lepton.io import register as _register

__all__ = ["Dense", "Dropout", "Model", "INITS"]

INITS = ("auto", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
         "lecun_uniform", "lecun_normal", "sklearn")
_HE_ACTS = ("relu", "leaky_relu", "elu", "gelu")
_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}


def _check_dtype(dtype):
    # np.dtype(None) is float64: None is refused rather than silently meaning float64.
    try:
        dt = None if dtype is None else np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in _DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return dt


class Dense:
    """Fully connected layer ``a = f(x @ W + b)``.

    Parameters
    ----------
    units : int
        Number of outputs (>= 1).
    activation : str, default "identity"
        One of identity, sigmoid, tanh, relu, leaky_relu, elu, gelu, softplus, softmax
        (aliases: linear, logistic).  softmax only on the last Dense layer.
    init : str, default "auto"
        Weight initialisation: "auto" (he_uniform for relu/leaky_relu/elu/gelu,
        glorot_uniform otherwise), "glorot_uniform", "glorot_normal", "he_uniform",
        "he_normal", "lecun_uniform", "lecun_normal" (zero biases), or "sklearn"
        (scikit-learn's MLP initialisation, biases included).
    use_bias : bool, default True
        Without bias, b is kept at zero and never updated.
    alpha : float, optional
        The activation's parameter, for the activations that have one: leaky_relu's slope
        for negative inputs (default 0.01, PyTorch's ``negative_slope``) and elu's scale of
        the negative branch (default 1.0, PyTorch's ``alpha``).  Others take none.
    """

    def __init__(self, units, activation="identity", init="auto", use_bias=True, alpha=None):
        units = _v.check_int(units, "units", min=1, max=_v.MAX_UNITS)
        if not isinstance(init, str) or init not in INITS:
            raise ValueError(f"unknown init {init!r}; expected one of {list(INITS)}")
        use_bias = _v.check_bool(use_bias, "use_bias")
        activation = _names.activation_name(activation)
        if alpha is not None:
            if activation not in _names.ACTIVATION_PARAM:
                raise ValueError(f"activation {activation!r} takes no alpha; only "
                                 f"{sorted(_names.ACTIVATION_PARAM)} have one")
            alpha = _v.check_real(alpha, "alpha")
        self.units = units
        self.activation = activation
        self.init = init
        self.use_bias = use_bias
        self.alpha = alpha

    @property
    def activation_param(self):
        """The activation's parameter in effect (``alpha`` or its default; 0 if none)."""
        if self.alpha is not None:
            return self.alpha
        return _names.ACTIVATION_PARAM.get(self.activation, 0.0)

    def config(self):
        """JSON-able description of this layer."""
        cfg = {"type": "Dense", "units": self.units, "activation": self.activation,
               "init": self.init, "use_bias": self.use_bias}
        if self.alpha is not None:
            cfg["alpha"] = self.alpha
        return cfg

    def __repr__(self):
        extra = "" if self.init == "auto" else f", init={self.init!r}"
        extra += "" if self.use_bias else ", use_bias=False"
        extra += "" if self.alpha is None else f", alpha={self.alpha!r}"
        return f"Dense({self.units}, activation={self.activation!r}{extra})"

    def __eq__(self, other):
        return type(other) is Dense and other.config() == self.config()

    __hash__ = None


class Dropout:
    """Inverted dropout on the output of the preceding Dense layer (training only).

    Parameters
    ----------
    rate : float
        Fraction of units zeroed, ``0 <= rate < 1``; kept units are scaled by
        ``1 / (1 - rate)``.  Masks come from a counter-based RNG keyed by (trainer seed,
        step, layer, index), identical for any thread count.
    """

    def __init__(self, rate):
        self.rate = _v.check_real(rate, "rate", min=0, max=1, max_open=True)

    def config(self):
        """JSON-able description of this layer."""
        return {"type": "Dropout", "rate": self.rate}

    def __repr__(self):
        return f"Dropout({self.rate})"

    def __eq__(self, other):
        return type(other) is Dropout and other.rate == self.rate

    __hash__ = None


def _layer_from_config(cfg):
    if not isinstance(cfg, dict) or cfg.get("type") not in ("Dense", "Dropout"):
        raise ValueError(f"not a layer config: {cfg!r}")
    kw = {k: v for k, v in cfg.items() if k != "type"}
    try:
        return Dense(**kw) if cfg["type"] == "Dense" else Dropout(**kw)
    except TypeError as exc:
        raise ValueError(f"bad layer config {cfg!r}: {exc}") from None


def _init_layer(scheme, act, fan_in, fan_out, rng, sk_rng, sk_factor, dtype):
    """(W, b) for one Dense layer, drawn in float64 then cast (like scikit-learn)."""
    if scheme == "auto":
        scheme = "he_uniform" if act in _HE_ACTS else "glorot_uniform"
    if scheme == "sklearn":
        # scikit-learn's MLP _init_coef: one RandomState stream, W then b per layer.
        bound = math.sqrt(sk_factor / (fan_in + fan_out))
        W = sk_rng.uniform(-bound, bound, (fan_in, fan_out))
        b = sk_rng.uniform(-bound, bound, fan_out)
        return W.astype(dtype), b.astype(dtype)
    family, dist = scheme.split("_")
    var = {"glorot": 2.0 / (fan_in + fan_out), "he": 2.0 / fan_in, "lecun": 1.0 / fan_in}[family]
    if dist == "uniform":
        bound = math.sqrt(3.0 * var)
        W = rng.uniform(-bound, bound, (fan_in, fan_out))
    else:
        W = rng.normal(0.0, math.sqrt(var), (fan_in, fan_out))
    return W.astype(dtype), np.zeros(fan_out, dtype=dtype)


@_register("model")
class Model(CarriesPreprocessing):
    """A multilayer perceptron with its parameters in one flat buffer.

    Parameters
    ----------
    layers : list of Dense and Dropout
        At least one Dense; each Dropout follows a Dense (not the last one).
    input_dim : int
        Number of input features.
    dtype : {"float32", "float64"}, default "float32"
    seed : int, default 0
        Seed of the weight initialisation (``numpy.random.default_rng``; layers with
        ``init="sklearn"`` use ``numpy.random.RandomState(seed)`` like scikit-learn).

    Attributes
    ----------
    params : ndarray, shape (n_params,)
        The flat parameter buffer (per Dense layer: W row-major, then b).  Written in place
        by training and :meth:`set_weights`; never reallocated.
    layers : list
        The layer objects.
    input_dim, output_dim, n_params : int
    dtype : numpy.dtype
    preprocessing : list
        Fitted input transformers (e.g. :class:`lepton.StandardScaler`), applied in order to
        X by :meth:`predict` and by :class:`lepton.Trainer` before the network; empty by
        default.  Saved and loaded with the model.
    target_preprocessing : list
        Fitted target transformers (regression): the Trainer trains on their
        ``transform`` of y, and :meth:`predict` returns outputs mapped back through their
        ``inverse_transform`` (in reverse order).  Saved and loaded with the model.

    Examples
    --------
    >>> import lepton
    >>> model = lepton.Model([lepton.Dense(64, activation="relu"), lepton.Dropout(0.2),
    ...                       lepton.Dense(10, activation="softmax")], input_dim=784)
    >>> model.predict(np.zeros((2, 784), dtype=np.float32)).shape
    (2, 10)
    """

    def __init__(self, layers, input_dim, dtype="float32", seed=0):
        if isinstance(layers, (Dense, Dropout)):
            layers = [layers]
        try:
            layers = list(layers)
        except TypeError:
            raise TypeError(f"layers must be a list of Dense/Dropout layers, got "
                            f"{type(layers).__name__}") from None
        for i, layer in enumerate(layers):
            if not isinstance(layer, (Dense, Dropout)):
                raise TypeError(f"layers[{i}] is a {type(layer).__name__}, expected Dense or "
                                f"Dropout")
        input_dim = _v.check_int(input_dim, "input_dim", min=1, max=_v.MAX_UNITS)
        seed = _v.check_seed(seed)
        self._dtype = _check_dtype(dtype)
        self.layers = layers
        self.input_dim = input_dim
        self.seed = seed
        dense, drops, prev = [], [], None
        for i, layer in enumerate(layers):
            if isinstance(layer, Dropout):
                if not isinstance(prev, Dense):
                    raise ValueError(f"layers[{i}]: a Dropout must follow a Dense layer")
                drops[-1] = layer.rate
            else:
                dense.append(layer)
                drops.append(0.0)
            prev = layer
        if not dense:
            raise ValueError("a Model needs at least one Dense layer")
        if isinstance(layers[-1], Dropout):
            raise ValueError("the last layer must be a Dense layer, not a Dropout")
        for layer in dense[:-1]:
            if layer.activation == "softmax":
                raise ValueError("softmax is only supported on the last Dense layer")
        self._dense = dense
        self._dims = [self.input_dim] + [layer.units for layer in dense]
        self._offsets = []
        off = 0
        for n_in, n_out in zip(self._dims[:-1], self._dims[1:]):
            self._offsets.append((off, off + n_in * n_out))
            off += n_in * n_out + n_out
        self._params = np.zeros(off, dtype=self._dtype)
        self._init_params()
        acts = [layer.activation for layer in dense]
        self._net = _core.Net(
            self._dims, [_names.ACTIVATIONS[a] for a in acts],
            [layer.activation_param for layer in dense], drops,
            [layer.use_bias for layer in dense], self._params)

    def _init_params(self):
        rng = np.random.default_rng(self.seed)
        sk_rng = np.random.RandomState(self.seed)
        # scikit-learn scales every layer by its hidden activation: factor 2 for logistic.
        sk_factor = 2.0 if self._dense[0].activation == "sigmoid" else 6.0
        for i, layer in enumerate(self._dense):
            W, b = _init_layer(layer.init, layer.activation, self._dims[i], self._dims[i + 1],
                               rng, sk_rng, sk_factor, self._dtype)
            Wv, bv = self.layer_weights(i)
            Wv[...] = W
            bv[...] = b if layer.use_bias else 0

    # ------------------------------------------------------------------ structure
    @property
    def params(self):
        """The flat parameter buffer (write into it in place; it cannot be replaced)."""
        return self._params

    @property
    def dtype(self):
        """numpy dtype of the parameters and of predictions."""
        return self._dtype

    @property
    def output_dim(self):
        """Number of outputs (units of the last Dense layer)."""
        return self._dims[-1]

    @property
    def n_params(self):
        """Total number of parameters (weights and biases)."""
        return self.params.shape[0]

    @property
    def n_dense(self):
        """Number of Dense layers."""
        return len(self._dense)

    @property
    def output_activation(self):
        """Activation name of the last Dense layer."""
        return self._dense[-1].activation

    def layer_weights(self, i):
        """Views ``(W, b)`` into ``params`` for Dense layer ``i`` (W is n_in x n_out).

        Writing into the views changes the model.
        """
        i = _v.check_int(i, "layer index", max=None)
        n = len(self._dense)
        if not -n <= i < n:
            raise IndexError(f"Dense layer index {i} out of range for {n} Dense layers")
        i = int(i) % n
        w0, b0 = self._offsets[i]
        n_in, n_out = self._dims[i], self._dims[i + 1]
        return self.params[w0:b0].reshape(n_in, n_out), self.params[b0:b0 + n_out]

    @property
    def coefs_(self):
        """List of weight-matrix views, one per Dense layer (scikit-learn's name)."""
        return [self.layer_weights(i)[0] for i in range(len(self._dense))]

    @property
    def intercepts_(self):
        """List of bias views, one per Dense layer (scikit-learn's name)."""
        return [self.layer_weights(i)[1] for i in range(len(self._dense))]

    def get_weights(self):
        """Copies of the parameters: a list of ``(W, b)``, one pair per Dense layer."""
        return [(W.copy(), b.copy()) for W, b in
                (self.layer_weights(i) for i in range(len(self._dense)))]

    def set_weights(self, weights):
        """Set every Dense layer's ``(W, b)`` (validated first; nothing changes on error).

        Parameters
        ----------
        weights : list of (W, b)
            One pair per Dense layer, W of shape (n_in, n_out) and b of shape (n_out,),
            finite values (converted to the model dtype).  A layer with ``use_bias=False``
            needs b all zero (or None).
        """
        try:
            pairs = list(weights)
        except TypeError:
            raise TypeError("weights must be a list of (W, b) pairs") from None
        if len(pairs) != len(self._dense):
            raise ValueError(f"expected {len(self._dense)} (W, b) pairs, got {len(pairs)}")
        staged = []
        for i, pair in enumerate(pairs):
            try:
                W, b = pair
            except (TypeError, ValueError):
                raise TypeError(f"weights[{i}] must be a (W, b) pair") from None
            n_in, n_out = self._dims[i], self._dims[i + 1]
            W = np.asarray(W)
            b = np.zeros(n_out) if b is None else np.asarray(b)
            for name, arr, shape in (("W", W, (n_in, n_out)), ("b", b, (n_out,))):
                if arr.dtype.kind not in "fiub":
                    raise TypeError(f"layer {i} {name} has dtype {arr.dtype}, expected numbers")
                if arr.shape != shape:
                    raise ValueError(f"layer {i} {name} has shape {arr.shape}, expected {shape}")
                if not np.all(np.isfinite(arr)):
                    raise ValueError(f"layer {i} {name} contains NaN or infinity")
            if not self._dense[i].use_bias and np.any(b != 0):
                raise ValueError(f"layer {i} has use_bias=False; its bias must be zero")
            staged.append((W, b))
        for i, (W, b) in enumerate(staged):
            Wv, bv = self.layer_weights(i)
            Wv[...] = W
            bv[...] = b

    # ------------------------------------------------------------------ preprocessing
    def _step_dims(self):
        return self.input_dim, self.output_dim

    # ------------------------------------------------------------------ inference
    def predict(self, X, batch_size=None, n_threads=None):
        """Output activations of the network (probabilities for softmax/sigmoid heads).

        One native call for the whole network, no dropout.  X first goes through
        :attr:`preprocessing`, and the outputs through the inverse of
        :attr:`target_preprocessing`, when the model has them.

        Parameters
        ----------
        X : array-like of shape (n_samples, input_dim)
            Raw inputs (before the model's preprocessing); converted to the model dtype
            (C-contiguous) if needed; must be finite.
        batch_size : int, optional
            Rows per native work unit (default 256); results do not depend on it except
            through rounding.
        n_threads : int, optional
            Threads to use (default: :func:`lepton.get_num_threads`).  Work too small to
            gain from threads (a few rows) runs on one thread regardless.  The result does
            not depend on it.

        Returns
        -------
        ndarray of shape (n_samples, output_dim), the model dtype

        Warns
        -----
        RuntimeWarning
            "overflow encountered in predict" when an output is not finite (the input is
            always finite, so the network's values exceeded the dtype's range), as NumPy
            warns on overflow.
        """
        if batch_size is not None:
            batch_size = _v.check_int(batch_size, "batch_size", min=1)
        X = self._transform_inputs(X)
        try:
            out = self._net.predict(X, batch_size, n_threads)
        except TypeError:
            # Not yet a C-contiguous 2-D array of the model dtype: convert, then retry.
            X = _data.as_matrix(X, self.input_dim, self._dtype)
            out = self._net.predict(X, batch_size, n_threads)
        if not _core.all_finite_array(out):
            warnings.warn(f"overflow encountered in predict: finite input gave non-finite "
                          f"outputs ({self._dtype.name} range exceeded); scale the inputs or "
                          f"use dtype='float64'", RuntimeWarning, stacklevel=2)
        if self.target_preprocessing:
            out = np.ascontiguousarray(self._restore_targets(out), dtype=self._dtype)
        return out

    # ------------------------------------------------------------------ description
    def summary(self):
        """A table of the layers, their output shapes and parameter counts."""
        rows = [("Layer", "Output", "Params")]
        di = 0
        for layer in self.layers:
            if isinstance(layer, Dense):
                n_in = self._dims[di]
                p = n_in * layer.units + layer.units
                rows.append((f"Dense ({layer.activation})", str(layer.units), f"{p:,}"))
                di += 1
            else:
                rows.append((f"Dropout ({layer.rate:g})", str(self._dims[di]), "0"))
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        line = "-" * (sum(widths) + 6)
        fmt = lambda r: f"{r[0]:<{widths[0]}}   {r[1]:>{widths[1]}}   {r[2]:>{widths[2]}}"  # noqa: E731
        out = [f"Model: input_dim={self.input_dim}, dtype={self._dtype.name}", line,
               fmt(rows[0]), line] + [fmt(r) for r in rows[1:]]
        out += [line, f"Total params: {self.n_params:,}"]
        return "\n".join(out)

    def __repr__(self):
        layers = ", ".join(repr(layer) for layer in self.layers)
        return (f"Model([{layers}], input_dim={self.input_dim}, dtype={self._dtype.name!r}, "
                f"seed={self.seed})")

    def config(self):
        """JSON-able description (layers, input_dim, dtype, seed); see :meth:`from_config`."""
        return {"layers": [layer.config() for layer in self.layers],
                "input_dim": self.input_dim, "dtype": self._dtype.name, "seed": self.seed}

    @classmethod
    def from_config(cls, cfg):
        """A new Model (freshly initialised from ``cfg["seed"]``) from :meth:`config`."""
        if not isinstance(cfg, dict):
            raise TypeError(f"config must be a dict, got {type(cfg).__name__}")
        missing = {"layers", "input_dim"} - set(cfg)
        if missing:
            raise ValueError(f"model config is missing {sorted(missing)}")
        layers = cfg["layers"]
        if not isinstance(layers, (list, tuple)):
            raise ValueError("model config 'layers' must be a list")
        return cls([_layer_from_config(c) for c in layers], cfg["input_dim"],
                   dtype=cfg.get("dtype", "float32"), seed=cfg.get("seed", 0))

    # ------------------------------------------------------------------ persistence
    def __getstate__(self):
        return {"config": self.config(), "params": self.params.copy(),
                "preprocessing": list(self.preprocessing),
                "target_preprocessing": list(self.target_preprocessing)}

    def __setstate__(self, state):
        other = type(self).from_config(state["config"])
        params = np.asarray(state["params"])
        if params.shape != other.params.shape:
            raise ValueError(f"pickled params have shape {params.shape}, the model needs "
                             f"{other.params.shape}")
        other.params[...] = params
        other.preprocessing = state.get("preprocessing")
        other.target_preprocessing = state.get("target_preprocessing")
        self.__dict__.update(other.__dict__)

    def _lepton_state(self):
        """``(config, arrays)`` for :func:`lepton.save`."""
        return self.config(), {"params": self.params.copy()}

    @classmethod
    def _from_lepton_state(cls, config, arrays):
        """Rebuild a Model saved by :meth:`_lepton_state` (shapes and values validated).

        The sizes the config declares are checked against limits and against ``params``
        before the Model (and its buffers) is built.
        """
        from lepton import io

        io._require_keys(config, ("layers", "input_dim"), ("dtype", "seed"))
        io._require_keys(arrays, ("params",), (), "array")
        layers = io._require_list(config, "layers", dict, min_len=1,
                                  max_len=2 * io.MAX_LAYERS)
        n_in = io._require_config(config, "input_dim", int, low=1, high=io.MAX_UNITS)
        dtype = io._require_config(config, "dtype", str, optional=True, default="float32",
                                   choices=tuple(_DTYPES))
        io._require_config(config, "seed", int, optional=True, low=0)
        n_params = 0
        for i, layer in enumerate(layers):
            where = f"layers[{i}] entry"
            kind = io._require_config(layer, "type", str, choices=("Dense", "Dropout"))
            if kind == "Dropout":
                io._require_keys(layer, ("type", "rate"), (), where)
                io._require_config(layer, "rate", (int, float), low=0, high=1)
                continue
            io._require_keys(layer, ("type", "units"),
                             ("activation", "init", "use_bias", "alpha"), where)
            units = io._require_config(layer, "units", int, low=1, high=io.MAX_UNITS)
            io._require_config(layer, "activation", str, optional=True)
            io._require_config(layer, "init", str, optional=True)
            io._require_config(layer, "use_bias", bool, optional=True)
            io._require_config(layer, "alpha", (int, float), optional=True)
            n_params += n_in * units + units
            n_in = units
        params = io._require(arrays, "params", shape=(n_params,), dtype=dtype, finite=True)
        model = cls.from_config(config)
        model.params[...] = params
        return model

    def copy(self):
        """An independent copy (same config, weights and preprocessing steps)."""
        import copy

        other = type(self).from_config(self.config())
        other.params[...] = self.params
        other.preprocessing = copy.deepcopy(self.preprocessing)
        other.target_preprocessing = copy.deepcopy(self.target_preprocessing)
        return other
