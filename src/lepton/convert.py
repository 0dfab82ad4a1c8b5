"""Import (and export) weights of networks trained with scikit-learn or PyTorch.

:func:`from_sklearn` turns a fitted ``sklearn.neural_network.MLPClassifier`` /
``MLPRegressor`` into a lepton :class:`~lepton.model.Model` (``MLPClassifier.from_sklearn``
gives a fitted lepton estimator instead); :func:`from_torch` turns a ``torch.nn.Sequential``
of ``Linear`` layers and supported activations into a Model, and :func:`to_torch` goes back.
Neither library is imported unless the function that needs it is called.

Weight layout: scikit-learn's ``coefs_[i]`` is (n_in, n_out), lepton's W too; PyTorch's
``Linear.weight`` is (n_out, n_in) and is transposed.
"""
import numpy as np

__all__ = ["from_sklearn", "from_torch", "to_torch"]

# scikit-learn's activation names -> lepton's.
_SK_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh",
                   "relu": "relu", "softmax": "softmax"}


def _sklearn_parts(est):
    """(hidden activation, output activation, coefs, intercepts) of a fitted sklearn MLP."""
    kind = type(est).__name__
    if kind not in ("MLPClassifier", "MLPRegressor") or not type(est).__module__.startswith(
            "sklearn."):
        raise TypeError(f"from_sklearn expects a fitted sklearn.neural_network.MLPClassifier "
                        f"or MLPRegressor, got {type(est).__module__}.{kind}")
    if not hasattr(est, "coefs_"):
        raise ValueError(f"This {kind} instance is not fitted yet; call fit first.")
    if est.activation not in _SK_ACTIVATIONS:
        raise ValueError(f"{kind} has activation={est.activation!r}, which lepton cannot "
                         f"represent; supported: {sorted(_SK_ACTIVATIONS)}")
    out = est.out_activation_
    if out not in _SK_ACTIVATIONS:
        raise ValueError(f"{kind} has output activation {out!r} (loss={est.loss!r}); lepton "
                         "supports 'identity' (squared_error), 'logistic' and 'softmax'.")
    return (_SK_ACTIVATIONS[est.activation], _SK_ACTIVATIONS[out], list(est.coefs_),
            list(est.intercepts_))


def _resolve_dtype(dtype, like):
    if dtype is None:
        return np.float32 if np.asarray(like).dtype == np.float32 else np.float64
    if dtype not in ("float32", "float64", np.float32, np.float64):
        raise ValueError(f"dtype must be None, 'float32' or 'float64', got {dtype!r}")
    return np.dtype(dtype).type


def from_sklearn(est, *, dtype=None):
    """A lepton Model with the architecture and weights of a fitted scikit-learn MLP.

    Parameters
    ----------
    est : sklearn.neural_network.MLPClassifier or MLPRegressor
        A fitted estimator (any solver).
    dtype : {None, 'float32', 'float64'}, default=None
        Precision of the Model; None keeps that of ``est.coefs_``.

    Returns
    -------
    model : lepton.Model
        ``model.predict(X)`` equals the output layer of ``est``: ``est.predict_proba(X)``
        for multiclass, its second column for binary classification (one logistic output),
        ``est.predict(X)`` (as a column) for regression.

    Examples
    --------
    >>> from sklearn.neural_network import MLPClassifier          # doctest: +SKIP
    >>> sk = MLPClassifier(max_iter=50).fit(X, y)                 # doctest: +SKIP
    >>> model = lepton.convert.from_sklearn(sk)                   # doctest: +SKIP
    >>> np.allclose(model.predict(X), sk.predict_proba(X))        # doctest: +SKIP
    True
    """
    from lepton.model import Dense, Model

    act, out, coefs, intercepts = _sklearn_parts(est)
    dt = _resolve_dtype(dtype, coefs[0])
    layers = [Dense(W.shape[1], activation=act) for W in coefs[:-1]]
    layers.append(Dense(coefs[-1].shape[1], activation=out))
    model = Model(layers, input_dim=coefs[0].shape[0], dtype=np.dtype(dt).name)
    model.set_weights(list(zip(coefs, intercepts)))
    return model


def estimator_from_sklearn(cls, est, *, dtype=None):
    """A fitted lepton estimator of class ``cls`` equivalent to the fitted sklearn ``est``."""
    from lepton import _sklcompat as skc

    act, out, coefs, intercepts = _sklearn_parts(est)
    want = "MLPClassifier" if cls._estimator_type == "classifier" else "MLPRegressor"
    if type(est).__name__ != want:
        raise TypeError(f"{cls.__name__}.from_sklearn needs a scikit-learn {want}, got "
                        f"{type(est).__name__}")
    mine = set(cls._get_param_names())
    params = {k: v for k, v in est.get_params(deep=False).items() if k in mine}
    if params.get("solver") == "lbfgs":
        params["solver"] = "adam"  # lepton cannot continue lbfgs training; adam can
    dt = _resolve_dtype(dtype, coefs[0])
    new = cls(**params, dtype=np.dtype(dt).name)
    if want == "MLPClassifier":
        lb = skc.LabelBinarizer()
        lb.y_type_ = est._label_binarizer.y_type_
        lb.classes_ = np.asarray(est.classes_)
        new._label_binarizer = lb
        new.classes_ = lb.classes_
    new._adopt_weights(coefs, intercepts, act, out, dt)
    new.n_features_in_ = coefs[0].shape[0]
    if hasattr(est, "feature_names_in_"):
        new.feature_names_in_ = np.asarray(est.feature_names_in_, dtype=object)
    for name in ("n_iter_", "t_", "loss_", "best_loss_", "loss_curve_", "validation_scores_",
                 "best_validation_score_"):
        value = getattr(est, name, None)
        setattr(new, name, list(value) if isinstance(value, list) else value)
    if new.loss_curve_ is None:  # lbfgs records no curve
        new.loss_curve_ = []
    if new.best_loss_ is None and new.validation_scores_ is None:
        new.best_loss_ = np.inf
    return new


# ---------------------------------------------------------------------------- PyTorch
def _torch_activation(module, nn):
    """(lepton activation name, its alpha or None) for a torch activation module, or raise
    ValueError."""
    name = type(module).__name__
    if isinstance(module, nn.ReLU):
        return "relu", None
    if isinstance(module, nn.Tanh):
        return "tanh", None
    if isinstance(module, nn.Sigmoid):
        return "sigmoid", None
    if isinstance(module, nn.LeakyReLU):
        return "leaky_relu", float(module.negative_slope)
    if isinstance(module, nn.ELU):
        return "elu", float(module.alpha)
    if isinstance(module, nn.GELU):
        if module.approximate != "tanh":
            raise ValueError(f"GELU(approximate={module.approximate!r}) is not supported: "
                             "lepton's gelu is the tanh approximation; use "
                             "nn.GELU(approximate='tanh')")
        return "gelu", None
    if isinstance(module, nn.Softplus):
        if module.beta != 1:
            raise ValueError(f"Softplus(beta={module.beta}) is not supported: lepton's "
                             "softplus has beta=1")
        return "softplus", None
    if isinstance(module, nn.Softmax):
        if module.dim not in (-1, 1):
            raise ValueError(f"Softmax(dim={module.dim}) is not supported: only the softmax "
                             "over features (dim=-1 or dim=1) on the output layer")
        return "softmax", None
    raise ValueError(f"unsupported module {name}")


def _flatten(seq, nn):
    for m in seq:
        if isinstance(m, nn.Sequential):
            yield from _flatten(m, nn)
        else:
            yield m


def from_torch(seq, input_dim=None, *, dtype=None):
    """A lepton Model with the architecture and weights of a PyTorch ``nn.Sequential``.

    Parameters
    ----------
    seq : torch.nn.Sequential
        ``Linear`` layers, each optionally followed by one activation (``ReLU``, ``Tanh``,
        ``Sigmoid``, ``LeakyReLU`` and ``ELU`` (any slope / alpha), ``GELU(approximate='tanh')``,
        ``Softplus(beta=1)``, ``Softmax(dim=-1)`` on the last layer) and/or ``Dropout``;
        ``Identity`` modules are skipped and nested ``Sequential`` flattened.
    input_dim : int, optional
        Number of input features; checked against the first ``Linear`` if given.
    dtype : {None, 'float32', 'float64'}, default=None
        Precision of the Model; None follows the torch parameters (float64 stays float64,
        anything else becomes float32).

    Returns
    -------
    model : lepton.Model

    Raises
    ------
    ValueError
        For a module lepton cannot represent, naming it and its position.
    """
    import torch
    from torch import nn

    from lepton.model import Dense, Dropout, Model

    if isinstance(seq, nn.Linear):
        seq = nn.Sequential(seq)
    if not isinstance(seq, nn.Sequential):
        raise TypeError(f"from_torch expects a torch.nn.Sequential, got {type(seq).__name__}")
    specs, weights, torch_dtype = [], [], None  # specs: [units, activation, dropout]
    for pos, m in enumerate(_flatten(seq, nn)):
        where = f"module {pos} ({m!r})"
        if isinstance(m, nn.Identity):
            continue
        if isinstance(m, nn.modules.lazy.LazyModuleMixin) and m.has_uninitialized_params():
            raise ValueError(f"{where} is an uninitialised lazy module; run a forward pass "
                             "first")
        if isinstance(m, nn.Linear):
            if specs and specs[-1][1] == "softmax":
                raise ValueError(f"{where}: softmax is only supported on the last layer")
            W = m.weight.detach().cpu()
            torch_dtype = W.dtype if torch_dtype is None else torch_dtype
            b = None if m.bias is None else m.bias.detach().cpu().to(torch.float64).numpy()
            n_in = W.shape[1]
            prev = specs[-1][0] if specs else input_dim
            if prev is not None and n_in != prev:
                what = "input_dim" if not specs else "the previous layer's outputs"
                raise ValueError(f"{where} takes {n_in} inputs but {what} is {prev}")
            specs.append([W.shape[0], "identity", 0.0, b is not None, None])
            weights.append((W.to(torch.float64).numpy().T.copy(), b))
            continue
        if not specs:
            raise ValueError(f"{where}: the network must start with a Linear layer")
        if isinstance(m, nn.Dropout):
            specs[-1][2] = float(m.p)
            continue
        try:
            act = _torch_activation(m, nn)   # (name, alpha)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}. Supported: Linear, ReLU, Tanh, Sigmoid, "
                             "LeakyReLU, ELU, GELU(approximate='tanh'), Softplus, "
                             "Softmax(dim=-1), Identity, Dropout.") from None
        if specs[-1][1] != "identity":
            raise ValueError(f"{where}: two activations in a row after one Linear layer "
                             "cannot be represented")
        if specs[-1][2] > 0:
            raise ValueError(f"{where}: Dropout must come after the activation, not before")
        specs[-1][1], specs[-1][4] = act
    if not specs:
        raise ValueError("the Sequential holds no Linear layer")
    if specs[-1][2] > 0:
        specs[-1][2] = 0.0  # dropout after the output layer: a no-op at inference
    if dtype is None:
        dtype = "float64" if torch_dtype == torch.float64 else "float32"
    layers = []
    for units, act, drop, use_bias, alpha in specs:
        layers.append(Dense(units, activation=act, use_bias=use_bias, alpha=alpha))
        if drop > 0:
            layers.append(Dropout(drop))
    model = Model(layers, input_dim=weights[0][0].shape[0], dtype=_resolve_dtype(dtype, 0.0)
                  .__name__)
    model.set_weights(weights)
    return model


_TORCH_MODULES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "softplus": "Softplus"}


def to_torch(model):
    """A ``torch.nn.Sequential`` computing the same function as a lepton Model.

    Parameters
    ----------
    model : lepton.Model

    Returns
    -------
    seq : torch.nn.Sequential
        ``Linear`` layers (weights copied, in the Model's dtype) with their activations and
        ``Dropout`` modules, in eval mode (dropout off, like ``Model.predict``; call
        ``.train()`` to fine-tune); ``from_torch(to_torch(model))`` rebuilds the same Model.
    """
    import torch
    from torch import nn

    from lepton.model import Dense, Dropout

    dt = torch.float64 if np.dtype(model.dtype) == np.float64 else torch.float32
    mods, n_in, i = [], model.input_dim, 0
    weights = model.get_weights()
    for layer in model.layers:
        if isinstance(layer, Dropout):
            mods.append(nn.Dropout(layer.rate))
            continue
        assert isinstance(layer, Dense)
        W, b = weights[i]
        lin = nn.Linear(n_in, layer.units, bias=layer.use_bias, dtype=dt)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            if layer.use_bias:
                lin.bias.copy_(torch.from_numpy(np.asarray(b)))
        mods.append(lin)
        act = layer.activation
        if act == "leaky_relu":
            mods.append(nn.LeakyReLU(layer.activation_param))
        elif act == "elu":
            mods.append(nn.ELU(layer.activation_param))
        elif act == "gelu":
            mods.append(nn.GELU(approximate="tanh"))
        elif act == "softmax":
            mods.append(nn.Softmax(dim=-1))
        elif act != "identity":
            mods.append(getattr(nn, _TORCH_MODULES[act])())
        n_in, i = layer.units, i + 1
    return nn.Sequential(*mods).eval()
