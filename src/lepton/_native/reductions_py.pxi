# Checked def wrappers of the reduction kernels (GIL side; kernels in reductions.pxi).


def column_sum(x, out=None, *, n_threads=None):
    """Column sums ``out_j = sum_i x_ij`` (the bias gradient), accumulated in double.

    Rows are added in order, so the result is bitwise identical for any thread count.

    Parameters
    ----------
    x : ndarray, 2-D, C-contiguous, float32 or float64
    out : ndarray, optional
        Shape ``(x.shape[1],)``, same dtype, C-contiguous, writable.
    n_threads : int, optional
        Threads; None follows :func:`lepton.set_num_threads`, -1 uses all processors.

    Returns
    -------
    out : ndarray of shape (x.shape[1],)
    """
    cdef cnp.ndarray X = _operand(x, "x", None, (2,), False)
    cdef int nt = _resolve_threads(n_threads)
    cdef cnp.ndarray O = _output(out, X, (X.shape[1],))
    X = _unshared(X, O)
    cdef Py_ssize_t rows = X.shape[0], cols = X.shape[1]
    cdef void* px = _ptr(X)
    cdef void* po = _ptr(O)
    if _is_f32(X):
        with nogil:
            col_sum(rows, cols, <const float*>px, <float*>po, nt)
    else:
        with nogil:
            col_sum(rows, cols, <const double*>px, <double*>po, nt)
    return O


def squared_norm(x, *, n_threads=None):
    """Squared Euclidean norm ``sum x_i**2`` of all entries, accumulated in double.

    Fixed-size chunks added in a fixed order: bitwise identical for any thread count.

    Parameters
    ----------
    x : ndarray, any ndim >= 1, C-contiguous, float32 or float64
    n_threads : int, optional
        Threads; None follows :func:`lepton.set_num_threads`, -1 uses all processors.

    Returns
    -------
    float
    """
    cdef cnp.ndarray X = _operand(x, "x", None, (), False)
    cdef int nt = _resolve_threads(n_threads)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(X)
    cdef void* px = _ptr(X)
    cdef double r
    if _is_f32(X):
        with nogil:
            r = sq_norm(n, <const float*>px, nt)
    else:
        with nogil:
            r = sq_norm(n, <const double*>px, nt)
    return r


def all_finite_array(x):
    """True if no element of ``x`` (float32/float64, C-contiguous, any shape) is NaN or inf.

    One pass, no temporary array (unlike ``np.isfinite(x).all()``).
    """
    cdef cnp.ndarray A = _check(x, "x", -1)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(A)
    cdef void* p = cnp.PyArray_DATA(A)
    cdef int ok
    cdef bint f64 = A.dtype == np.float64
    with nogil:
        if f64:
            ok = all_finite[double](n, <double*>p)
        else:
            ok = all_finite[float](n, <float*>p)
    return bool(ok)
