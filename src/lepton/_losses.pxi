# Fused output-layer losses (softmax cross-entropy, binary cross-entropy with logits, MSE,
# MAE, Huber) and their checked def wrapper.  Included by _core.pyx after _kernels.pxi,
# whose math and chunking helpers it uses.
#
# Design:
#   1. One call returns scale * L and writes dz = scale * dL/dz, with the softmax / sigmoid
#      of the classification losses fused in and computed stably for any |z| (log-sum-exp
#      with the row max subtracted; max(z, 0) - z y + log1p(exp(-|z|))).
#   2. The value is summed per row in double, over row chunks whose size depends only on
#      (rows, cols), and the chunk sums are added in order: the same bits for any thread
#      count.  Threads take whole chunks.
#   3. dz may alias z (the training step overwrites the logits with their gradient): each
#      row reads z before writing dz.

cdef enum:
    LOSS_CHUNK_ELEMS = 4096            # fixed work of one loss-value chunk
    LOSS_MAX_CHUNKS = 256


# ---------------------------------------------------------------- kernels
cdef double _ce_row(Py_ssize_t cols, const floating* z, const floating* y,
                    floating* dz, double c) noexcept nogil:
    """l = -sum_j y_j log softmax(z)_j; dz = c (softmax(z) sum_j y_j - y); dz may be z"""
    cdef Py_ssize_t j
    cdef floating mx = z[0], cf = <floating>c, f
    cdef double s = 0, sy = 0, lz = 0
    for j in range(1, cols):
        mx = z[j] if z[j] > mx else mx
    # -log softmax_j = (mx - z_j) + log s: both terms >= 0, no cancellation; y_j == 0 skips
    # (mx - z_j) * 0 (inf * 0 for z_j = -inf).
    for j in range(cols):
        if y[j] != 0:
            sy += y[j]
            lz += <double>y[j] * (<double>mx - z[j])
    if dz != NULL:
        for j in range(cols):
            dz[j] = _exp(z[j] - mx)
        for j in range(cols):
            s += dz[j]
        f = <floating>(c * sy / s)
        for j in range(cols):
            dz[j] = f * dz[j] - cf * y[j]
    else:
        for j in range(cols):
            s += _exp(z[j] - mx)
    return lz + sy * log(s)


cdef void _bce_grad(Py_ssize_t n, const floating* z, const floating* y, floating* dz,
                    floating c) noexcept nogil:
    """dz = c (sigmoid(z) - y)"""
    cdef Py_ssize_t j
    for j in range(n):
        dz[j] = c * (_sigmoid(z[j]) - y[j])


cdef double _bce_row(Py_ssize_t cols, const floating* z, const floating* y,
                     floating* dz, double c) noexcept nogil:
    """l = sum_j max(z,0) - z y + log1p(exp(-|z|)); dz = c (sigmoid(z) - y)"""
    cdef Py_ssize_t j
    cdef double l = 0
    cdef floating cf = <floating>c, zj
    for j in range(cols):
        zj = z[j]
        l += (<double>(zj if zj > 0 else 0) - <double>zj * y[j]
              + _log1p(_exp(-zj if zj > 0 else zj)))
    if dz != NULL:
        _bce_grad(cols, z, y, dz, cf)
    return l


cdef double _reg_row(int loss, Py_ssize_t cols, const floating* z, const floating* y,
                     floating* dz, double c, double delta) noexcept nogil:
    """l = mean_j of (z-y)^2 | |z-y| | huber_delta(z-y); dz = c dl/dz"""
    cdef Py_ssize_t j
    cdef double l = 0, ar
    cdef floating r, k = <floating>(c / cols), dl = <floating>delta
    if loss == LOSS_MSE:
        for j in range(cols):
            r = z[j] - y[j]
            l += <double>r * r
        if dz != NULL:
            k = <floating>(2 * c / cols)
            for j in range(cols):
                dz[j] = k * (z[j] - y[j])
    elif loss == LOSS_MAE:
        for j in range(cols):
            l += fabs(<double>z[j] - y[j])
        if dz != NULL:
            for j in range(cols):
                r = z[j] - y[j]
                dz[j] = k if r > 0 else (-k if r < 0 else 0)
    else:
        for j in range(cols):
            ar = fabs(<double>z[j] - y[j])
            l += 0.5 * ar * ar if ar <= delta else delta * (ar - 0.5 * delta)
        if dz != NULL:
            for j in range(cols):
                r = z[j] - y[j]
                r = r if r < dl else dl
                r = r if r > -dl else -dl
                dz[j] = k * r
    return l / cols


cdef double _loss_rows(int loss, Py_ssize_t rows, Py_ssize_t cols,
                       const floating* z, const floating* y,   # IN  rows x cols
                       const floating* sw,                     # IN  rows, may be NULL
                       floating* dz,                           # OUT rows x cols, may be NULL
                       double param, double gscale) noexcept nogil:
    """sum_i w_i l_i (in row order); dz_i = gscale w_i dl_i/dz_i"""
    cdef Py_ssize_t i
    cdef double total = 0, w, l
    cdef floating* dzi = NULL
    for i in range(rows):
        w = sw[i] if sw != NULL else 1.0
        if dz != NULL:
            dzi = dz + i * cols
        if loss == LOSS_SOFTMAX_CE:
            l = _ce_row(cols, z + i * cols, y + i * cols, dzi, gscale * w)
        elif loss == LOSS_BCE_LOGITS:
            l = _bce_row(cols, z + i * cols, y + i * cols, dzi, gscale * w)
        else:
            l = _reg_row(loss, cols, z + i * cols, y + i * cols, dzi, gscale * w, param)
        total += w * l
    return total


cdef double loss_grad(int loss, Py_ssize_t rows, Py_ssize_t cols,
                      const floating* z,                 # IN  rows x cols
                      const floating* y,                 # IN  rows x cols
                      const floating* sw,                # IN  rows, may be NULL
                      floating* dz,                      # OUT rows x cols, may be NULL
                      double param, double scale, int n_threads) noexcept nogil:
    """scale * (1/rows) sum_i w_i l_i; dz = scale * dL/dz (dz may alias z)"""
    cdef Py_ssize_t rc, nch, lo, hi
    cdef double part[LOSS_MAX_CHUNKS]
    cdef double total = 0, gscale
    cdef int c, nt
    if rows <= 0 or cols <= 0:
        return 0.0
    gscale = scale / rows
    # Row chunks depend on (rows, cols) only, never on the thread count.
    rc = _ceil_div(LOSS_CHUNK_ELEMS, cols)
    rc = rc if rc > _ceil_div(rows, LOSS_MAX_CHUNKS) else _ceil_div(rows, LOSS_MAX_CHUNKS)
    nch = _ceil_div(rows, rc)
    nt = _threads_for(<double>rows * cols, EXP_PER_THREAD, n_threads)
    nt = nt if nt < nch else <int>nch
    if nt <= 1:
        for c in range(nch):
            lo = c * rc
            hi = _min(lo + rc, rows)
            part[c] = _loss_rows(loss, hi - lo, cols, z + lo * cols, y + lo * cols,
                                 (sw + lo if sw != NULL else sw),
                                 (dz + lo * cols if dz != NULL else dz), param, gscale)
    else:
        for c in prange(nch, nogil=True, num_threads=nt, schedule="static"):
            lo = c * rc
            hi = _min(lo + rc, rows)
            part[c] = _loss_rows(loss, hi - lo, cols, z + lo * cols, y + lo * cols,
                                 (sw + lo if sw != NULL else sw),
                                 (dz + lo * cols if dz != NULL else dz), param, gscale)
    for c in range(nch):
        total += part[c]
    return scale * total / rows


# ---------------------------------------------------------------- def wrapper
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
    cdef str name = _names.loss_name(loss)
    cdef int code = _names.LOSSES[name]
    cdef cnp.ndarray Z = _operand(z, "z", None, (2,), False)
    cdef cnp.ndarray Y = _operand(y, "y", Z.dtype, (2,), False)
    _same_shape(Y, "y", Z, "z")
    cdef cnp.ndarray SW = None
    if sample_weight is not None:
        SW = _operand(sample_weight, "sample_weight", Z.dtype, (1,), False)
        if SW.shape[0] != Z.shape[0]:
            raise ValueError(f"sample_weight has {SW.shape[0]} entries, but z has "
                             f"{Z.shape[0]} rows; expected one weight per row")
    cdef double p = 0.0
    if name == "huber":
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
    cdef int nt = resolve_threads(n_threads)
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
    if _is_f32(Z):
        with nogil:
            value = loss_grad(code, rows, cols, <const float*>pz, <const float*>py,
                              <const float*>psw, <float*>pdz, p, sc, nt)
    else:
        with nogil:
            value = loss_grad(code, rows, cols, <const double*>pz, <const double*>py,
                              <const double*>psw, <double*>pdz, p, sc, nt)
    return value, DZ
