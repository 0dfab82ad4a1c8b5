# Shared nogil helpers: included FIRST by _core.pyx, so every other .pxi may use them and
# none defines its own.  Nothing here raises or touches Python objects.
#
# Design:
#   1. Sizes.  _min / _max / _ceil_div on Py_ssize_t; the work thresholds below say when a
#      second thread pays (a parallel region costs ~1 us, far more under a noisy neighbour).
#   2. Chunking.  _threads_for picks a thread count from the work; _aligned_chunk cuts a flat
#      range into per-thread chunks that are multiples of CHUNK_ALIGN elements, so every
#      element meets the same vector/scalar code path for any thread count.
#   3. ONE parallel region.  parallel_ranges is the only place that opens an OpenMP region
#      for a chunked kernel: chunk k is [k cs, min((k+1) cs, n)), fixed by (n, cs) alone, so
#      results never depend on the thread count; workers run in the caller's floating-point
#      mode (FTZ/DAZ, see lepton.h) and get their own mode back afterwards.

cdef enum:
    CHUNK_ALIGN = 64                   # per-thread chunk boundaries (elements)
    CHEAP_PER_THREAD = 1 << 16         # elements per thread, cheap ops (copy, relu, ...)
    EXP_PER_THREAD = 1 << 13           # elements per thread, ops with an exp or log


cdef inline Py_ssize_t _min(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a < b else b


cdef inline Py_ssize_t _max(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a > b else b


cdef inline Py_ssize_t _ceil_div(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return (a + b - 1) // b


cdef inline int _threads_for(double work, double per_thread, int n_threads) noexcept nogil:
    """Threads worth using for `work` units when each thread needs `per_thread` of them."""
    cdef double cap = work / per_thread
    if n_threads <= 1 or cap < 2:
        return 1
    return n_threads if n_threads < cap else <int>cap


cdef inline Py_ssize_t _aligned_chunk(Py_ssize_t n, int nt) noexcept nogil:
    """Per-thread chunk of n elements over nt threads, a multiple of CHUNK_ALIGN."""
    return _ceil_div(_ceil_div(n, nt), CHUNK_ALIGN) * CHUNK_ALIGN


# A chunk function fn(lo, hi, ctx, NULL) does the work of elements (rows, blocks, tasks)
# [lo, hi) of the job that ctx describes and returns 0, or a nonzero status bit.  Its last
# argument is never read: a typed NULL that picks the float or double specialisation (Cython
# specialises fused functions by argument types only, and a void* context carries none).
cdef int parallel_ranges(Py_ssize_t n, Py_ssize_t cs, int nt,
                         int (*fn)(Py_ssize_t, Py_ssize_t, void*, floating*) noexcept nogil,
                         void* ctx, bint dynamic) noexcept nogil:
    """OR over k < ceil(n/cs) of fn(k cs, min((k+1) cs, n), ctx), chunks on nt threads."""
    cdef unsigned int fpm, fpo
    cdef Py_ssize_t k, lo, hi, nk = _ceil_div(n, cs)
    cdef int status = 0
    if nt <= 1 or nk <= 1:
        for k in range(nk):
            status |= fn(k * cs, _min(k * cs + cs, n), ctx, <floating*>NULL)
        return status
    lepton_count_region()
    fpm = lepton_fp_mode()
    if dynamic:    # chunks of uneven cost (whole-network inference on row chunks)
        for k in prange(nk, nogil=True, num_threads=nt, schedule="dynamic"):
            fpo = lepton_fp_set(fpm)  # workers run in the caller's FP mode
            lo = k * cs
            hi = _min(lo + cs, n)
            status |= fn(lo, hi, ctx, <floating*>NULL)
            lepton_fp_set(fpo)
    else:
        for k in prange(nk, nogil=True, num_threads=nt, schedule="static"):
            fpo = lepton_fp_set(fpm)  # workers run in the caller's FP mode
            lo = k * cs
            hi = _min(lo + cs, n)
            status |= fn(lo, hi, ctx, <floating*>NULL)
            lepton_fp_set(fpo)
    return status


# Code checks: the count sentinels of the enums in _core.pxd bound every valid code.
cdef inline bint act_known(int act) noexcept nogil:
    return 0 <= act < ACT_COUNT


cdef inline bint loss_known(int loss) noexcept nogil:
    return 0 <= loss < LOSS_COUNT


cdef inline bint opt_known(int opt) noexcept nogil:
    return 0 <= opt < OPT_COUNT
