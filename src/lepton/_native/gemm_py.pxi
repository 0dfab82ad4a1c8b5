# The checked def wrapper of GEMM (GIL side); the kernels are in gemm.pxi.  Validation
# (types, one float dtype for every operand including out, shapes, contiguity, writability,
# finite alpha / beta) happens before the GIL is released; aliased inputs are copied.


def gemm(a, b, out=None, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0,
         n_threads=None):
    """Matrix product ``out := alpha * op(a) @ op(b) + beta * out``.

    lepton's own cache-blocked, multi-threaded kernel (no BLAS), bitwise identical for any
    thread count.

    Parameters
    ----------
    a, b : ndarray, 2-D, both float32 or both float64
        C-contiguous, or Fortran-contiguous (such as ``x.T``), which is used as a transpose
        without a copy.
        ``op(a)`` is ``a.T`` if ``trans_a`` else ``a`` (likewise ``b``); ``op(a)`` is m x k
        and ``op(b)`` is k x n.
    out : ndarray, optional
        m x n, C-contiguous, writable, same dtype.  Allocated when None (then ``beta`` is
        ignored).  Inputs that share memory with ``out`` are copied first.
    trans_a, trans_b : bool
        Use the transpose of ``a`` / ``b`` (handled by packing, no copy).
    alpha, beta : float
        Finite real scalars; ``beta == 0`` never reads ``out`` (so NaN in ``out`` is
        overwritten).
    n_threads : int, optional
        Threads to use; None follows :func:`lepton.set_num_threads` / OpenMP's default,
        -1 uses all processors.

    Returns
    -------
    out : ndarray of shape (m, n)
    """
    trans_a = _flag(trans_a, "trans_a")
    trans_b = _flag(trans_b, "trans_b")
    cdef double alpha_d = _real(alpha, "alpha", -INFINITY, INFINITY, True, True)
    cdef double beta_d = _real(beta, "beta", -INFINITY, INFINITY, True, True)
    # A Fortran-ordered operand (e.g. ``x.T``) is the transpose of a C-ordered one: flip
    # the flag instead of copying.
    if _is_f_only(a):
        a, trans_a = a.T, not trans_a
    if _is_f_only(b):
        b, trans_b = b.T, not trans_b
    cdef cnp.ndarray A = _check(a, "a", 2)
    cdef cnp.ndarray B = _check(b, "b", 2, A.dtype)
    cdef Py_ssize_t m, k, kb, n
    m, k = (A.shape[1], A.shape[0]) if trans_a else (A.shape[0], A.shape[1])
    kb, n = (B.shape[1], B.shape[0]) if trans_b else (B.shape[0], B.shape[1])
    if k != kb:
        raise ValueError(
            f"gemm: inner dimensions do not match: op(a) has shape ({m}, {k}) and op(b) has "
            f"shape ({kb}, {n}); expected op(a).shape[1] == op(b).shape[0]")
    cdef int nt = _resolve_threads(n_threads)
    cdef cnp.ndarray C
    if out is None:
        C = np.empty((m, n), dtype=A.dtype)
        beta_d = 0.0
    else:
        C = _check(out, "out", 2, A.dtype, writable=True)
        if C.shape[0] != m or C.shape[1] != n:
            raise ValueError(f"out has shape {(C.shape[0], C.shape[1])}, expected ({m}, {n})")
        if _overlaps(C, A):
            A = A.copy()
        if _overlaps(C, B):
            B = B.copy()
    cdef int rc
    if A.dtype == np.float32:
        rc = _gemm_call[float](trans_a, trans_b, m, n, k, <float>alpha_d, A, B, <float>beta_d, C, nt)
    else:
        rc = _gemm_call[double](trans_a, trans_b, m, n, k, alpha_d, A, B, beta_d, C, nt)
    if rc != STATUS_OK:
        raise MemoryError("gemm: could not allocate packing buffers")
    return C


cdef int _gemm_call(bint ta, bint tb, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                    floating alpha, cnp.ndarray A, cnp.ndarray B, floating beta,
                    cnp.ndarray C, int nt):
    cdef const floating* pa = <const floating*>cnp.PyArray_DATA(A)
    cdef const floating* pb = <const floating*>cnp.PyArray_DATA(B)
    cdef floating* pc = <floating*>cnp.PyArray_DATA(C)
    cdef Py_ssize_t lda = A.shape[1], ldb = B.shape[1], ldc = C.shape[1]
    cdef int rc
    with nogil:
        rc = gemm_(ta, tb, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc,
                   <const floating*>NULL, nt)
    return rc
