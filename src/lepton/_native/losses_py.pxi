# The checked def wrapper of the loss kernels (GIL side; kernels in losses.pxi).  The loss
# name goes through the enum-derived table of names.pxi; values are checked finite and
# weights non-negative before the GIL is released.


def loss_and_grad(z, y, loss, *, sample_weight=None, param=None, scale=1.0, grad=True, out=None,
              n_threads=None):
    """Loss value and its gradient with respect to ``z``, in one pass.

    ``value = scale * (1/rows) * sum_i w_i * l_i`` and ``dz = d value / d z``, where
    ``w = sample_weight`` (ones if None) and, per row ``i``:

    - "softmax_cross_entropy": ``l_i = -sum_j y_ij log softmax(z_i)_j`` (``z``: logits)
    - "binary_cross_entropy": ``l_i = sum_j max(z,0) - z y + log1p(exp(-|z|))`` (logits)
    - "mse": ``mean_j (z_ij - y_ij)**2``;  "mae": ``mean_j |z_ij - y_ij|``
    - "huber": ``mean_j huber(z_ij - y_ij)``, ``huber(r) = r**2/2`` if ``|r| <= delta`` else
      ``delta * (|r| - delta/2)``

    The classification losses fuse the softmax / sigmoid in and stay finite for any finite
    logits.

    Parameters
    ----------
    z : ndarray, 2-D (rows, cols), C-contiguous, float32 or float64
        Logits (classification) or predictions (regression); finite.
    y : ndarray
        Targets, same shape and dtype as ``z``, finite (one-hot or probabilities for the
        cross-entropies).
    loss : str
        One of ``lepton._names.LOSSES`` or an alias.
    sample_weight : ndarray, optional
        Shape (rows,), same dtype, finite and >= 0.
    param : float, optional
        Huber's ``delta`` (default 1.0, must be > 0); the other losses take none.
    scale : float
        Multiplies the value and the gradient (e.g. 0.5 with "mse" for scikit-learn's
        squared error).
    grad : bool
        Compute the gradient (else only the value; ``dz`` is None).
    out : ndarray, optional
        Where to write ``dz``: same shape and dtype as ``z``, writable; may be ``z`` itself.
    n_threads : int, optional
        Threads; None follows :func:`lepton.set_num_threads`, -1 uses all processors.

    Returns
    -------
    value : float
    dz : ndarray of the shape of ``z``, or None when ``grad`` is False
    """
    cdef str name = _loss_name(loss)
    cdef int code = _LOSSES[name]
    cdef cnp.ndarray Z = _operand(z, "z", None, (2,), False)
    cdef cnp.ndarray Y = _operand(y, "y", Z.dtype, (2,), False)
    _same_shape(Y, "y", Z, "z")
    if Z.shape[0] == 0 or Z.shape[1] == 0:
        raise ValueError(f"z has shape {(<object>Z).shape}; a loss needs at least one row "
                         f"and one column")
    cdef cnp.ndarray SW = None
    if sample_weight is not None:
        SW = _operand(sample_weight, "sample_weight", Z.dtype, (1,), False)
        if SW.shape[0] != Z.shape[0]:
            raise ValueError(f"sample_weight has {SW.shape[0]} entries, but z has "
                             f"{Z.shape[0]} rows; expected one weight per row")
    cdef double p = 0.0
    if code == LOSS_HUBER:
        p = 1.0 if param is None else _real(param, "param (huber delta)", 0, INFINITY,
                                               True, True)
    elif param is not None:
        raise ValueError(f"loss {name!r} takes no param, got param={param!r}; only "
                         f"'huber' has one (delta)")
    cdef double sc = _real(scale, "scale", -INFINITY, INFINITY, True, True)
    if not isinstance(grad, (bool, np.bool_)):
        raise TypeError(f"grad must be a bool, got {type(grad).__name__} {grad!r}")
    if out is not None and not grad:
        raise ValueError("out was given but grad=False; pass grad=True to get the gradient")
    cdef int nt = _resolve_threads(n_threads)
    _require_finite(Z, "z")
    _require_finite(Y, "y")
    if SW is not None:
        _require_finite(SW, "sample_weight")
        if np.any(SW < 0):
            raise ValueError("sample_weight must be >= 0; it contains negative values")
    cdef cnp.ndarray DZ = _output(out, Z, (<object>Z).shape) if grad else None
    Z = _unshared(Z, DZ)
    # The kernel lets dz alias z only; y and the weights are copied if out overlaps them.
    if DZ is not None and np.may_share_memory(Y, DZ):
        Y = Y.copy()
    if DZ is not None and SW is not None and np.may_share_memory(SW, DZ):
        SW = SW.copy()
    cdef Py_ssize_t rows = Z.shape[0], cols = Z.shape[1]
    cdef void* pz = _ptr(Z)
    cdef void* py = _ptr(Y)
    cdef void* psw = _ptr(SW)
    cdef void* pdz = _ptr(DZ)
    cdef double value
    cdef int rc
    if _is_f32(Z):
        with nogil:
            rc = loss_grad(code, rows, cols, <const float*>pz, <const float*>py,
                           <const float*>psw, <float*>pdz, p, sc, &value, nt)
    else:
        with nogil:
            rc = loss_grad(code, rows, cols, <const double*>pz, <const double*>py,
                           <const double*>psw, <double*>pdz, p, sc, &value, nt)
    _raise_status(rc, "loss_and_grad")
    return value, DZ
