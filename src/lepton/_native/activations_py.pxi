# Checked def wrappers of the activation kernels (GIL side; kernels in activations.pxi) and
# the test-only entry to lepton's vectorised math (math.pxi).  Names are resolved through the
# enum-derived tables of names.pxi (an unknown name raises ValueError); every argument is
# validated before the GIL is released, and nothing is written when validation fails.


def activation_forward(z, activation, out=None, *, param=None, n_threads=None):
    """Apply an activation: ``out = f(z)``; softmax is row-wise (max-subtracted).

    Parameters
    ----------
    z : ndarray, 1-D or 2-D, C-contiguous, float32 or float64
        Pre-activations; a 1-D array is one row (matters for softmax only).
    activation : str
        One of ``lepton._names.ACTIVATIONS`` ("identity", "sigmoid", "tanh", "relu",
        "leaky_relu", "elu", "gelu" (tanh form), "softplus", "softmax") or an alias.
    out : ndarray, optional
        Same shape and dtype as ``z``, C-contiguous, writable; may be ``z`` itself.
    param : float, optional
        leaky_relu slope (default 0.01) or elu alpha (default 1.0); other activations take
        none.
    n_threads : int, optional
        Threads; None follows :func:`lepton.set_num_threads`, -1 uses all processors.

    Returns
    -------
    out : ndarray, the shape of ``z``
    """
    cdef str act = _activation_name(activation)
    cdef int code = _ACTIVATIONS[act]
    cdef cnp.ndarray Z = _operand(z, "z", None, (1, 2), False)
    cdef double p = _act_param(act, param)
    cdef int nt = _resolve_threads(n_threads)
    cdef cnp.ndarray A = _output(out, Z, (<object>Z).shape)
    Z = _unshared(Z, A)
    cdef Py_ssize_t rows, cols
    rows, cols = _rows_cols(Z)
    cdef void* pz = _ptr(Z)
    cdef void* pa = _ptr(A)
    cdef int rc
    if _is_f32(Z):
        with nogil:
            rc = act_forward(code, rows, cols, <const float*>pz, <float*>pa, p, nt)
    else:
        with nogil:
            rc = act_forward(code, rows, cols, <const double*>pz, <double*>pa, p, nt)
    _raise_status(rc, "activation_forward")
    return A


# Which of z / a each activation's backward reads (softmax, sigmoid, tanh: a only; identity:
# neither).
cdef frozenset _BWD_NEEDS_Z = frozenset({ACT_RELU, ACT_LEAKY_RELU, ACT_ELU, ACT_GELU,
                                         ACT_SOFTPLUS})
cdef frozenset _BWD_NEEDS_A = frozenset({ACT_SIGMOID, ACT_TANH, ACT_ELU, ACT_SOFTMAX})


def activation_backward(z, a, da, activation, out=None, *, param=None, n_threads=None):
    """Backpropagate through an activation: ``out = da * f'(z)``.

    Softmax uses its Jacobian row-wise: ``out_ij = a_ij * (da_ij - sum_k da_ik a_ik)``.

    Parameters
    ----------
    z : ndarray or None
        Pre-activations, 1-D or 2-D, C-contiguous, float32 or float64.  Needed by relu,
        leaky_relu, elu, gelu and softplus; may be None for the others.
    a : ndarray or None
        ``f(z)``, same shape and dtype.  Needed by sigmoid, tanh, elu and softmax; if None
        it is computed from ``z``.
    da : ndarray
        Gradient with respect to ``a``, same shape and dtype.
    activation : str
        Activation name, as for :func:`activation_forward`.
    out : ndarray, optional
        Same shape and dtype as ``da``, writable; may be ``da`` itself.
    param : float, optional
        leaky_relu slope or elu alpha (defaults as in :func:`activation_forward`).
    n_threads : int, optional
        Threads; None follows :func:`lepton.set_num_threads`, -1 uses all processors.

    Returns
    -------
    out : ndarray, the shape of ``da``
    """
    cdef str act = _activation_name(activation)
    cdef int code = _ACTIVATIONS[act]
    cdef cnp.ndarray DA = _operand(da, "da", None, (1, 2), False)
    cdef cnp.ndarray Z = None, A = None
    cdef double p = _act_param(act, param)
    if z is not None:
        Z = _operand(z, "z", DA.dtype, (1, 2), False)
        _same_shape(Z, "z", DA, "da")
    if a is not None:
        A = _operand(a, "a", DA.dtype, (1, 2), False)
        _same_shape(A, "a", DA, "da")
    if Z is None and (code in _BWD_NEEDS_Z or (A is None and code in _BWD_NEEDS_A)):
        raise ValueError(f"activation_backward: activation {act!r} needs z, got z=None")
    cdef int nt = _resolve_threads(n_threads)
    cdef cnp.ndarray DZ = _output(out, DA, (<object>DA).shape)
    if A is None and code in _BWD_NEEDS_A:
        A = activation_forward(Z, act, param=param, n_threads=nt)
    Z = _unshared(Z, DZ)
    A = _unshared(A, DZ)
    DA = _unshared(DA, DZ)
    cdef Py_ssize_t rows, cols
    rows, cols = _rows_cols(DA)
    cdef void* pz = _ptr(Z)
    cdef void* pa = _ptr(A)
    cdef void* pda = _ptr(DA)
    cdef void* pdz = _ptr(DZ)
    cdef int rc
    if _is_f32(DA):
        with nogil:
            rc = act_backward(code, rows, cols, <const float*>pz, <const float*>pa,
                              <const float*>pda, <float*>pdz, p, nt)
    else:
        with nogil:
            rc = act_backward(code, rows, cols, <const double*>pz, <const double*>pa,
                              <const double*>pda, <double*>pdz, p, nt)
    _raise_status(rc, "activation_backward")
    return DZ


_MATH_FUNCS = {"exp": MATH_EXP, "log": MATH_LOG, "log1p": MATH_LOG1P, "expm1": MATH_EXPM1}


def _fast_math(str func, x):
    """Evaluate lepton's vectorised ``exp``/``log``/``log1p``/``expm1`` (or the activations
    ``sigmoid``/``tanh``/``softplus``) elementwise; for testing their accuracy."""
    if func not in _MATH_FUNCS:
        return activation_forward(x, func)
    cdef cnp.ndarray X = _operand(x, "x", None, (), False)
    cdef cnp.ndarray Y = np.empty_like(X)
    cdef int f = _MATH_FUNCS[func]
    cdef Py_ssize_t n = cnp.PyArray_SIZE(X)
    cdef void* px = _ptr(X)
    cdef void* py = _ptr(Y)
    cdef int rc
    if _is_f32(X):
        with nogil:
            rc = _math_range(f, n, <const float*>px, <float*>py)
    else:
        with nogil:
            rc = _math_range(f, n, <const double*>px, <double*>py)
    _raise_status(rc, "_fast_math")
    return Y
