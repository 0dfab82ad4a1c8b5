# The checked def wrapper of the dropout kernel (GIL side; kernel in dropout.pxi).


def dropout(x, rate, *, seed, step=0, layer=0, out=None, n_threads=None):
    """Inverted dropout: ``out = x * keep / (1 - rate)``, the mask from a counter-based RNG.

    ``keep`` for flat element index ``i`` is a pure function of ``(seed, step, layer, i)``
    (Philox4x32-10; see :func:`lepton.ops.dropout_mask`), so the result is the same for any
    thread count, and calling this again on the gradient with the same key applies the
    same mask (the backward pass).

    Parameters
    ----------
    x : ndarray, C-contiguous, float32 or float64
    rate : float
        Probability of dropping an entry, in [0, 1).
    seed : int
        In [0, 2**64).
    step, layer : int
        Training step in [0, 2**64) and layer index in [0, 2**32): together with ``seed``
        they select the mask.
    out : ndarray, optional
        Same shape and dtype as ``x``, writable; may be ``x`` itself (in place).
    n_threads : int, optional
        Threads; None follows :func:`lepton.set_num_threads`, -1 uses all processors.

    Returns
    -------
    out : ndarray, the shape of ``x``
    """
    cdef cnp.ndarray X = _operand(x, "x", None, (), False)
    cdef double r = _real(rate, "rate", 0, 1, False, True)
    cdef uint64_t seed_ = _integer(seed, "seed", 0, 2**64 - 1)
    cdef uint64_t step_ = _integer(step, "step", 0, 2**64 - 1)
    cdef uint32_t layer_ = _integer(layer, "layer", 0, 2**32 - 1)
    cdef int nt = _resolve_threads(n_threads)
    cdef cnp.ndarray O = _output(out, X, (<object>X).shape)
    if cnp.PyArray_DATA(O) != cnp.PyArray_DATA(X):
        np.copyto(O, X)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(O)
    cdef void* po = _ptr(O)
    if _is_f32(O):
        with nogil:
            dropout_apply(1, n, <float*>po, r, seed_, step_, layer_, nt)
    else:
        with nogil:
            dropout_apply(1, n, <double*>po, r, seed_, step_, layer_, nt)
    return O
