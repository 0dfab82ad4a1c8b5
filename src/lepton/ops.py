"""Plain-NumPy reference implementations of every native kernel: the test oracle.

Each function computes what the kernel of the same name in :mod:`lepton.kernels` computes
(same arguments as far as sensible), written for clarity, not speed: in float64 internally
and returned in the input dtype.  Tests compare the native kernels against these; nothing in
lepton's training path calls them.  Names resolve through :mod:`lepton._names` (the enum
tables of the native core); every name has its own branch, and an unknown one raises
ValueError (a name the core knows but this oracle has no formula for, too).

Functions
---------
gemm, activation_forward, activation_backward, loss_grad, col_sum, sq_norm,
optimizer_step, dropout, dropout_mask, philox4x32, network_forward, network_loss_grad
(the whole network, in float64, built from the kernels above)
"""
import numpy as np

from lepton import _names

__all__ = ["gemm", "activation_forward", "activation_backward", "loss_grad", "col_sum",
           "sq_norm", "optimizer_step", "dropout", "dropout_mask", "philox4x32",
           "network_forward", "network_loss_grad"]

_GELU_C = np.sqrt(2.0 / np.pi)
_GELU_A = 0.044715


def _f64(x):
    return np.asarray(x, dtype=np.float64)


def _store(result, like, out):
    result = np.asarray(result).astype(np.asarray(like).dtype, copy=False)
    if out is None:
        return result
    out[...] = result
    return out


# ---------------------------------------------------------------- GEMM
def gemm(a, b, out=None, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0):
    """``out := alpha * op(a) @ op(b) + beta * out`` (beta ignored when out is None)."""
    a64 = _f64(a).T if trans_a else _f64(a)
    b64 = _f64(b).T if trans_b else _f64(b)
    r = alpha * (a64 @ b64)
    if out is not None and beta != 0:
        r = r + beta * _f64(out)
    return _store(r, a, out)


# ---------------------------------------------------------------- activations
def _param(act, param):
    return _names.ACTIVATION_PARAM.get(act, 0.0) if param is None else float(param)


def _sigmoid(z):
    e = np.exp(-np.abs(z))                   # never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(z):
    if z.size == 0:
        return z.copy()
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def activation_forward(z, activation, out=None, *, param=None):
    """``f(z)``; softmax over the last axis."""
    act = _names.activation_name(activation)
    p = _param(act, param)
    z64 = _f64(z)
    with np.errstate(over="ignore", invalid="ignore"):
        if act == "identity":
            r = z64
        elif act == "sigmoid":
            r = _sigmoid(z64)
        elif act == "tanh":
            r = np.tanh(z64)
        elif act == "relu":
            r = np.maximum(z64, 0.0)
        elif act == "leaky_relu":
            r = np.where(z64 > 0, z64, p * z64)
        elif act == "elu":
            r = np.where(z64 > 0, z64, p * np.expm1(np.minimum(z64, 0.0)))
        elif act == "gelu":
            r = 0.5 * z64 * (1.0 + np.tanh(_GELU_C * (z64 + _GELU_A * z64 ** 3)))
        elif act == "softplus":
            r = np.logaddexp(0.0, z64)
        elif act == "softmax":
            r = _softmax(z64)
        else:
            raise ValueError(f"ops.activation_forward has no formula for activation {act!r}")
    return _store(r, z, out)


def activation_backward(z, a, da, activation, out=None, *, param=None):
    """``da * f'(z)``; softmax: ``a * (da - sum(da * a, axis=-1))``.  ``a`` may be None."""
    act = _names.activation_name(activation)
    p = _param(act, param)
    da64 = _f64(da)
    z64 = None if z is None else _f64(z)
    a64 = _f64(activation_forward(z64, act, param=param)) if a is None else _f64(a)
    with np.errstate(over="ignore", invalid="ignore"):
        if act == "identity":
            r = da64
        elif act == "sigmoid":
            r = da64 * a64 * (1.0 - a64)
        elif act == "tanh":
            r = da64 * (1.0 - a64 * a64)
        elif act == "relu":
            r = np.where(z64 > 0, da64, 0.0)
        elif act == "leaky_relu":
            r = np.where(z64 > 0, da64, p * da64)
        elif act == "elu":
            r = np.where(z64 > 0, da64, da64 * p * np.exp(np.minimum(z64, 0.0)))
        elif act == "gelu":
            u = _GELU_C * (z64 + _GELU_A * z64 ** 3)
            th = np.tanh(u)
            du = _GELU_C * (1.0 + 3.0 * _GELU_A * z64 ** 2)
            r = da64 * (0.5 * (1.0 + th) + 0.5 * z64 * (1.0 - th * th) * du)
        elif act == "softplus":
            r = da64 * _sigmoid(z64)
        elif act == "softmax":
            r = a64 * (da64 - np.sum(da64 * a64, axis=-1, keepdims=True))
        else:
            raise ValueError(f"ops.activation_backward has no formula for activation {act!r}")
    return _store(r, da, out)


# ---------------------------------------------------------------- losses
def loss_grad(z, y, loss, *, sample_weight=None, param=None, scale=1.0, grad=True):
    """``(scale * mean_i w_i l_i, d/dz of it)`` as in :func:`lepton.kernels.loss_grad`."""
    name = _names.loss_name(loss)
    z64, y64 = _f64(z), _f64(y)
    rows, cols = z64.shape
    w = np.ones(rows) if sample_weight is None else _f64(sample_weight)
    if rows == 0 or cols == 0:
        raise ValueError(f"z has shape {z64.shape}; a loss needs at least one row and one "
                         f"column")
    r = z64 - y64
    if name == "softmax_cross_entropy":
        zmax = z64.max(axis=1, keepdims=True)
        lse = zmax + np.log(np.exp(z64 - zmax).sum(axis=1, keepdims=True))
        terms = np.where(y64 != 0, y64 * (lse - z64), 0.0)
        per_row = terms.sum(axis=1)
        g = _softmax(z64) * y64.sum(axis=1, keepdims=True) - y64
    elif name == "binary_cross_entropy":
        per_row = (np.maximum(z64, 0) - z64 * y64 + np.log1p(np.exp(-np.abs(z64)))).sum(axis=1)
        g = _sigmoid(z64) - y64
    elif name == "mse":
        per_row = (r * r).mean(axis=1)
        g = 2.0 * r / cols
    elif name == "mae":
        per_row = np.abs(r).mean(axis=1)
        g = np.sign(r) / cols
    elif name == "huber":
        delta = 1.0 if param is None else float(param)
        ar = np.abs(r)
        per_row = np.where(ar <= delta, 0.5 * r * r, delta * (ar - 0.5 * delta)).mean(axis=1)
        g = np.clip(r, -delta, delta) / cols
    else:
        raise ValueError(f"ops.loss_grad has no formula for loss {name!r}")
    value = scale * float(np.sum(w * per_row)) / rows
    dz = (scale / rows) * w[:, None] * g
    return value, (_store(dz, z, None) if grad else None)


# ---------------------------------------------------------------- reductions
def col_sum(x, out=None):
    """``x.sum(axis=0)``."""
    return _store(_f64(x).sum(axis=0), x, out)


def sq_norm(x):
    """``sum(x**2)`` as a Python float."""
    x64 = _f64(x)
    return float(np.dot(x64.ravel(), x64.ravel()))


# ---------------------------------------------------------------- optimizers
def optimizer_step(optimizer, w, g, m=None, v=None, *, is_weight=None, lr, momentum=0.9,
                   beta1=0.9, beta2=0.999, eps=1e-8, l2=0.0, weight_decay=0.0,
                   grad_scale=1.0, t=1):
    """One step, in place on ``w``, ``m``, ``v`` (the formulas of optimizer_step)."""
    name = _names.optimizer_name(optimizer)
    w64, g64 = _f64(w), _f64(g)
    isw = np.ones(w64.shape, bool) if is_weight is None else np.asarray(is_weight, bool)
    gp = grad_scale * g64 + np.where(isw, l2 * w64, 0.0)
    w64 = w64 - np.where(isw, lr * weight_decay * w64, 0.0)
    if name == "sgd":
        w64 = w64 - lr * gp
    elif name in ("momentum", "nesterov"):
        m64 = momentum * _f64(m) - lr * gp
        m[...] = m64
        w64 = w64 + (momentum * m64 - lr * gp if name == "nesterov" else m64)
    elif name in ("adam", "adamw"):
        m64 = beta1 * _f64(m) + (1 - beta1) * gp
        v64 = beta2 * _f64(v) + (1 - beta2) * gp * gp
        m[...] = m64
        v[...] = v64
        step = lr * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        w64 = w64 - step * m64 / (np.sqrt(v64) + eps)
    else:
        raise ValueError(f"ops.optimizer_step has no formula for optimizer {name!r}")
    w[...] = w64


# ---------------------------------------------------------------- Philox dropout
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)


def philox4x32(counter, key, rounds=10):
    """Philox4x32 (Salmon et al., SC'11; Random123's constants) in NumPy.

    Parameters
    ----------
    counter : array-like of uint32, shape (..., 4)
    key : array-like of uint32, shape (..., 2) (broadcast against ``counter``)

    Returns
    -------
    ndarray of uint32, shape (..., 4)
    """
    c = np.asarray(counter, dtype=np.uint64)
    k = np.asarray(key, dtype=np.uint64)
    c0, c1, c2, c3 = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    k0, k1 = k[..., 0], k[..., 1]
    with np.errstate(over="ignore"):
        for _ in range(rounds):
            p0 = _M0 * c0
            p1 = _M1 * c2
            c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & _MASK32,
                              (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & _MASK32)
            k0 = (k0 + _W0) & _MASK32
            k1 = (k1 + _W1) & _MASK32
    return np.stack([c0, c1, c2, c3], axis=-1).astype(np.uint32)


def dropout_mask(shape, rate, seed, step=0, layer=0):
    """Boolean keep-mask of dropout for ``shape`` and key ``(seed, step, layer)``.

    Element with flat index ``i`` uses block ``b = i // 4`` and word ``i % 4`` of
    Philox4x32-10 with key ``(seed mod 2**32, seed >> 32)`` and counter
    ``(b mod 2**32, step mod 2**32, layer, (step >> 32) ^ (b >> 32))``; it is kept when that
    word is ``>= ceil(rate * 2**32)``.
    """
    n = int(np.prod(shape, dtype=np.int64))
    b = np.arange((n + 3) // 4, dtype=np.uint64)
    seed, step, layer = int(seed), int(step), int(layer)
    ctr = np.stack([b & _MASK32,
                    np.full_like(b, step & 0xFFFFFFFF),
                    np.full_like(b, layer),
                    np.uint64(step >> 32) ^ (b >> np.uint64(32))], axis=-1)
    key = np.array([seed & 0xFFFFFFFF, seed >> 32], dtype=np.uint64)
    words = philox4x32(ctr, key).reshape(-1)[:n].astype(np.uint64)
    thr = int(np.ceil(rate * 4294967296.0))
    return (words >= thr).reshape(shape)


def dropout(x, rate, *, seed, step=0, layer=0, out=None):
    """``x * mask / (1 - rate)`` with :func:`dropout_mask`."""
    x = np.asarray(x)
    if rate == 0:
        return _store(x, x, out)
    keep = dropout_mask(x.shape, rate, seed, step, layer)
    scale = x.dtype.type(1.0 / (1.0 - rate))
    return _store(np.where(keep, x * scale, x.dtype.type(0)), x, out)


# ---------------------------------------------------------------- whole network
def _network(net, params):
    """``[[W, b or None, activation, param, dropout rate], ...]`` in float64, one per Dense
    layer (``param``: the activation's, None for its default).

    ``net`` is a :class:`lepton.Model` (its ``params``, or ``params`` if given, laid out
    like ``model.params``) or a sequence of ``(W, b, activation[, dropout_rate[, param]])``
    with ``b`` None for a layer without bias.
    """
    # A Model, recognised by its attributes: ops sits below lepton.model (tests/test_layers.py).
    if all(hasattr(net, a) for a in ("layers", "params", "input_dim", "n_params")):
        flat = _f64(net.params if params is None else params)
        if flat.shape != (net.n_params,):
            raise ValueError(f"params has shape {flat.shape}, the model needs "
                             f"({net.n_params},)")
        layers, off, n_in = [], 0, net.input_dim
        for layer in net.layers:
            if not hasattr(layer, "units"):            # a Dropout acts on the layer before
                layers[-1][4] = float(layer.rate)
                continue
            W = flat[off:off + n_in * layer.units].reshape(n_in, layer.units)
            off += n_in * layer.units
            b = flat[off:off + layer.units] if layer.use_bias else None
            off += layer.units
            layers.append([W, b, layer.activation, getattr(layer, "alpha", None), 0.0])
            n_in = layer.units
        return layers
    if params is not None:
        raise TypeError("params= is only accepted with a lepton.Model")
    layers = []
    for i, spec in enumerate(net):
        if len(spec) not in (3, 4, 5):
            raise ValueError(f"layer {i}: expected (W, b, activation[, dropout_rate[, param]]), "
                             f"got {len(spec)} items")
        W = _f64(spec[0])
        b = None if spec[1] is None else _f64(spec[1])
        if W.ndim != 2 or (b is not None and b.shape != (W.shape[1],)):
            raise ValueError(f"layer {i}: W must be 2-D and b of shape (W.shape[1],)")
        if layers and layers[-1][0].shape[1] != W.shape[0]:
            raise ValueError(f"layer {i}: W has {W.shape[0]} rows, the layer before has "
                             f"{layers[-1][0].shape[1]} outputs")
        rate = float(spec[3]) if len(spec) > 3 else 0.0
        param = spec[4] if len(spec) > 4 else None
        layers.append([W, b, _names.activation_name(spec[2]), param, rate])
    if not layers:
        raise ValueError("a network needs at least one Dense layer")
    return layers


def _forward(layers, X, train, seed, step):
    """Per layer ``Z = H_prev @ W + b``, ``A = f(Z)``, ``H = dropout(A)`` (``A`` unless
    training with dropout).  Returns ``(zs, acts, hs)``."""
    h = _f64(X)
    if h.ndim != 2 or h.shape[1] != layers[0][0].shape[0]:
        raise ValueError(f"X has shape {h.shape}, the network expects (n, "
                         f"{layers[0][0].shape[0]})")
    if layers[-1][4] > 0:
        raise ValueError("dropout after the output layer is not supported")
    zs, acts, hs = [], [], []
    for l, (W, b, act, param, rate) in enumerate(layers):
        z = h @ W if b is None else h @ W + b
        a = activation_forward(z, act, param=param)
        h = dropout(a, rate, seed=seed, step=step, layer=l) if train and rate > 0 else a
        zs.append(z)
        acts.append(a)
        hs.append(h)
    return zs, acts, hs


def network_forward(net, X, *, params=None, return_all=False):
    """Inference forward of a dense MLP, in float64: per layer ``A = f(A_prev @ W + b)``.

    What ``Model.predict`` computes (no dropout).

    Parameters
    ----------
    net : lepton.Model or sequence of (W, b, activation[, dropout_rate[, param]])
        ``b`` None means no bias; ``param`` is the activation's (None: its default).
    X : array-like, shape (n, n_inputs)
    params : array-like, optional
        Flat parameters laid out like ``model.params`` (``net`` must be a Model), used
        instead of the model's own.
    return_all : bool, default False
        Also return the lists of per-layer pre-activations ``Z`` and activations ``A``.

    Returns
    -------
    out : ndarray of float64, shape (n, n_outputs)
        Or ``(out, zs, acts)`` with ``return_all``.
    """
    zs, acts, _ = _forward(_network(net, params), X, False, 0, 0)
    return (acts[-1], zs, acts) if return_all else acts[-1]


def network_loss_grad(net, X, y, loss, *, sample_weight=None, loss_param=None,
                      loss_scale=1.0, l2=0.0, train=True, seed=0, step=0, params=None,
                      flat=False):
    """Forward, loss and backward of a dense MLP in float64: what one native training step
    computes before its update (``TrainState.loss_and_grad``, plus the L2 gradient).

    ``loss = loss_scale * mean_i w_i l_i + 0.5 * l2 * sum_layers ||W||^2``.  The
    cross-entropies take the output layer's pre-activations (logits; softmax / sigmoid
    head required); the other losses take its activations.  With ``train`` and dropout,
    layer ``l``'s mask is :func:`dropout_mask` keyed ``(seed, step, l)``, as natively.

    Parameters
    ----------
    net, X, params
        As in :func:`network_forward`.
    y : array-like, shape (n, n_outputs)
        Targets as :func:`loss_grad` takes them (one-hot rows for softmax_cross_entropy).
    loss : str
    sample_weight, loss_param, loss_scale
        As ``sample_weight``, ``param`` and ``scale`` of :func:`loss_grad`.
    l2 : float, default 0
        L2 penalty on the weights (never the biases), in the loss and its gradient.
    train : bool, default True
        Apply dropout (inference mode if False).
    seed, step : int
        Key of the dropout masks.
    flat : bool, default False
        Return the gradient as one vector laid out like ``model.params``.

    Returns
    -------
    loss : float
    grads : list of (dW, db) float64 arrays, one pair per Dense layer (db zero for a layer
        without bias), or a flat ndarray with ``flat``.
    """
    layers = _network(net, params)
    name = _names.loss_name(loss)
    head = layers[-1][2]
    if name == "softmax_cross_entropy" and head != "softmax":
        raise ValueError("softmax_cross_entropy needs a softmax output layer")
    if name == "binary_cross_entropy" and head != "sigmoid":
        raise ValueError("binary_cross_entropy needs a sigmoid output layer")
    x64, y64 = _f64(X), _f64(y)
    zs, acts, hs = _forward(layers, x64, train, seed, step)
    if y64.shape != acts[-1].shape:
        raise ValueError(f"y has shape {y64.shape}, the network's output is "
                         f"{acts[-1].shape}")
    kw = dict(sample_weight=sample_weight, param=loss_param, scale=loss_scale)
    if name in ("softmax_cross_entropy", "binary_cross_entropy"):
        value, g = loss_grad(zs[-1], y64, name, **kw)     # softmax / sigmoid fused in
    else:
        value, da = loss_grad(acts[-1], y64, name, **kw)
        g = activation_backward(zs[-1], acts[-1], da, head, param=layers[-1][3])
    grads = [None] * len(layers)
    for l in range(len(layers) - 1, -1, -1):
        W, b = layers[l][:2]
        h_prev = x64 if l == 0 else hs[l - 1]
        db = g.sum(axis=0) if b is not None else np.zeros(W.shape[1])
        grads[l] = (h_prev.T @ g + l2 * W, db)
        if l == 0:
            break
        g = g @ W.T
        _, _, act, param, rate = layers[l - 1]
        if train and rate > 0:
            g = dropout(g, rate, seed=seed, step=step, layer=l - 1)
        g = activation_backward(zs[l - 1], acts[l - 1], g, act, param=param)
    value += 0.5 * l2 * sum(float(np.sum(layer[0] ** 2)) for layer in layers)
    if flat:
        return value, np.concatenate([np.concatenate([dW.ravel(), db]) for dW, db in grads])
    return value, grads
