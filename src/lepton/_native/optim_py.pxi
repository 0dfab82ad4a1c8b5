# The checked def wrapper of the optimizer kernel (GIL side; kernel in optim.pxi).  Every
# array (shapes, one dtype, writability, no overlap, finite values) and hyper-parameter
# range is checked before the GIL is released.


# Which state each optimizer reads: m (every one but sgd), v (adam, adamw).
cdef frozenset _USES_M = frozenset({OPT_MOMENTUM, OPT_NESTEROV, OPT_ADAM, OPT_ADAMW})
cdef frozenset _USES_V = frozenset({OPT_ADAM, OPT_ADAMW})


def optimizer_step(optimizer, w, g, m=None, v=None, *, is_weight=None, lr, momentum=0.9,
                   beta1=0.9, beta2=0.999, eps=1e-8, l2=0.0, weight_decay=0.0,
                   grad_scale=1.0, t=1, n_threads=None):
    """One optimizer step, in place on ``w`` (and the state ``m``, ``v``), in one fused pass.

    With ``g' = grad_scale * g + l2 * w`` (the L2 term on weights only) and, first, the
    decoupled decay ``w -= lr * weight_decay * w`` (weights only):

    - "sgd": ``w -= lr * g'``
    - "momentum": ``m = momentum * m - lr * g'; w += m``
    - "nesterov": ``m = momentum * m - lr * g'; w += momentum * m - lr * g'``
    - "adam" / "adamw": ``m = beta1 m + (1 - beta1) g'; v = beta2 v + (1 - beta2) g'**2;
      w -= lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sqrt(v) + eps)``
      (scikit-learn's form; "adamw" is "adam" meant for use with ``weight_decay``).

    Parameters
    ----------
    optimizer : str
        One of ``lepton._names.OPTIMIZERS``.
    w : ndarray, C-contiguous, float32 or float64, writable
        Parameters (any shape, usually the flat parameter buffer).
    g : ndarray
        Gradient, same shape and dtype as ``w``.
    m, v : ndarray, optional
        Optimizer state, same shape and dtype, writable, zeros before the first step.
        ``m`` is needed by every optimizer but "sgd", ``v`` by "adam" and "adamw".
    is_weight : ndarray of bool or uint8, optional
        Same shape as ``w``; True where an entry is a weight (gets ``l2`` and
        ``weight_decay``), False for biases.  None: every entry is a weight.
    lr : float
        Learning rate, > 0.
    momentum : float
        In [0, 1) (momentum, nesterov).
    beta1, beta2 : float
        In [0, 1) (adam, adamw).
    eps : float
        > 0 (adam, adamw).
    l2, weight_decay : float
        >= 0.
    grad_scale : float
        >= 0; multiplies ``g`` (global-norm clipping).
    t : int
        1-based step number for Adam's bias correction, >= 1.
    n_threads : int, optional
        Threads; None follows :func:`lepton.set_num_threads`, -1 uses all processors.

    Returns
    -------
    None
        ``w``, ``m`` and ``v`` are updated in place.

    Raises
    ------
    ValueError
        If ``w``, ``g``, ``m`` or ``v`` contains NaN or infinity.
    FloatingPointError
        If the update overflows (a new ``w``, ``m`` or ``v`` would be NaN or infinity);
        nothing is written then.
    """
    cdef str name = _optimizer_name(optimizer)
    cdef int code = _OPTIMIZERS[name]
    cdef cnp.ndarray W = _operand(w, "w", None, (), True)
    cdef cnp.ndarray G = _operand(g, "g", W.dtype, (), False)
    _same_shape(G, "g", W, "w")
    cdef cnp.ndarray M = None, V = None, ISW = None
    if code in _USES_M and m is None:
        raise ValueError(f"optimizer {name!r} needs its state m (zeros before the first "
                         f"step), got m=None")
    if code in _USES_V and v is None:
        raise ValueError(f"optimizer {name!r} needs its state v (zeros before the first "
                         f"step), got v=None")
    if m is not None:
        M = _operand(m, "m", W.dtype, (), True)
        _same_shape(M, "m", W, "w")
    if v is not None:
        V = _operand(v, "v", W.dtype, (), True)
        _same_shape(V, "v", W, "w")
    if is_weight is not None:
        if not isinstance(is_weight, cnp.ndarray) or is_weight.dtype not in (np.bool_, np.uint8):
            raise TypeError(f"is_weight must be a numpy.ndarray of dtype bool or uint8, got "
                            f"{getattr(is_weight, 'dtype', type(is_weight).__name__)}")
        ISW = _check(is_weight, "is_weight", -1, is_weight.dtype)
        _same_shape(ISW, "is_weight", W, "w")
    named = [("w", W), ("g", G), ("m", M), ("v", V), ("is_weight", ISW)]
    for i in range(len(named)):
        for j in range(i + 1, len(named)):
            if (named[i][1] is not None and named[j][1] is not None
                    and np.may_share_memory(named[i][1], named[j][1])):
                raise ValueError(f"{named[i][0]} and {named[j][0]} share memory; pass "
                                 f"separate arrays")
    cdef double lr_ = _real(lr, "lr", 0, INFINITY, True, True)
    cdef double mu = _real(momentum, "momentum", 0, 1, False, True)
    cdef double b1 = _real(beta1, "beta1", 0, 1, False, True)
    cdef double b2 = _real(beta2, "beta2", 0, 1, False, True)
    cdef double eps_ = _real(eps, "eps", 0, INFINITY, True, True)
    cdef double l2_ = _real(l2, "l2", 0, INFINITY, False, True)
    cdef double wd = _real(weight_decay, "weight_decay", 0, INFINITY, False, True)
    cdef double gs = _real(grad_scale, "grad_scale", 0, INFINITY, False, True)
    cdef long long t_ = _integer(t, "t", 1, 2**62)
    cdef int nt = _resolve_threads(n_threads)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(W)
    cdef void* pw = _ptr(W)
    cdef void* pg = _ptr(G)
    cdef void* pm = _ptr(M)
    cdef void* pv = _ptr(V)
    cdef const unsigned char* pisw = <const unsigned char*>_ptr(ISW)
    for name_, arr in named[:4]:
        if arr is not None:
            _require_finite(arr, name_)
    cdef int bad
    if _is_f32(W):
        with nogil:
            bad = optim_step(code, n, <float*>pw, <const float*>pg, <float*>pm, <float*>pv,
                             pisw, lr_, mu, b1, b2, eps_, l2_, wd, gs, t_, nt)
    else:
        with nogil:
            bad = optim_step(code, n, <double*>pw, <const double*>pg, <double*>pm,
                             <double*>pv, pisw, lr_, mu, b1, b2, eps_, l2_, wd, gs, t_, nt)
    if bad < 0:
        _raise_status(bad, "optimizer_step")
    if bad:
        raise FloatingPointError(
            f"optimizer_step: the update overflowed (a new value of w, m or v would be NaN "
            f"or infinity); nothing was written. Try a smaller lr or grad_scale.")
