# Dropout kernels (nogil): inverted dropout with a counter-based mask.  The checked def
# wrapper is in dropout_py.pxi.  Uses math.pxi (lepton_philox4x32_10).
#
# Design:
#   1. Dropout masks come from Philox4x32-10 (lepton_math.h), a counter-based RNG: element
#      index i of (seed, step, layer) maps to one 32-bit word, so the mask is the same for any
#      thread count and backward recomputes it instead of storing it.  Stream layout:
#        key     = (seed mod 2^32, seed >> 32)
#        counter = (b mod 2^32, step mod 2^32, layer, (step >> 32) ^ (b >> 32)),  b = i >> 2
#        word    = output[i & 3];  keep = word >= ceil(rate * 2^32)
#      (distinct (seed, step, layer, i) give distinct counters while step and b < 2^32).
#   2. Threads take CHUNK_ALIGN-multiple chunks of the flat index range; each chunk generates
#      the Philox blocks it covers, so no word depends on the split.
from libc.math cimport ceil
from libc.string cimport memset

cdef enum:
    DROP_BLOCK = 64                    # Philox blocks generated per batch (256 elements)


cdef void _keep_scale(Py_ssize_t n, floating* x, const uint32_t* word, uint32_t thr,
                      floating scale) noexcept nogil:
    """x_i = x_i * scale if word_i >= thr else 0"""
    cdef Py_ssize_t i
    cdef floating xi
    for i in range(n):
        xi = x[i]
        x[i] = xi * scale if word[i] >= thr else 0


cdef void _dropout_range(Py_ssize_t lo, Py_ssize_t hi,
                         floating* x,                    # IN/OUT: elements lo..hi-1
                         uint32_t thr, floating scale, uint64_t seed, uint64_t step,
                         uint32_t layer) noexcept nogil:
    """x_i = x_i * scale if word(i) >= thr else 0, for lo <= i < hi"""
    cdef uint32_t word[4 * DROP_BLOCK]
    cdef uint64_t b = (<uint64_t>lo) >> 2, b_end = (<uint64_t>hi + 3) >> 2
    cdef Py_ssize_t nb, i0, i1
    while b < b_end:
        nb = <Py_ssize_t>(b_end - b) if b_end - b < DROP_BLOCK else DROP_BLOCK
        lepton_philox4x32_10(b, nb, <uint32_t>step, layer, <uint32_t>(step >> 32),
                             <uint32_t>seed, <uint32_t>(seed >> 32), word)
        i0 = _max(lo, <Py_ssize_t>(4 * b))
        i1 = _min(hi, <Py_ssize_t>(4 * b) + 4 * nb)
        _keep_scale(i1 - i0, x + i0, word + (i0 - <Py_ssize_t>(4 * b)), thr, scale)
        b += nb


cdef struct _DropJob:       # one dropout_apply call, for its chunk function
    void* x
    uint32_t thr, layer
    double scale              # the floating scale, exactly
    uint64_t seed, step


cdef int _dropout_chunk(Py_ssize_t lo, Py_ssize_t hi, void* ctx, floating* tag) noexcept nogil:
    """Elements lo..hi-1 of dropout_apply (a chunk function for parallel_ranges)."""
    cdef _DropJob* j = <_DropJob*>ctx
    _dropout_range(lo, hi, <floating*>j.x, j.thr, <floating>j.scale, j.seed, j.step, j.layer)
    return 0


cdef void dropout_apply(Py_ssize_t rows, Py_ssize_t cols,
                        floating* x,                     # IN/OUT rows x cols
                        double rate, uint64_t seed, uint64_t step, uint32_t layer,
                        int n_threads) noexcept nogil:
    """x_ij *= keep_ij / (1 - rate)"""
    cdef Py_ssize_t n = rows * cols
    cdef uint64_t thr
    cdef floating scale
    cdef int nt
    cdef _DropJob job
    if n <= 0 or rate <= 0:
        return
    thr = <uint64_t>ceil(rate * 4294967296.0)
    if thr > 0xFFFFFFFFULL:    # rate within 2^-32 of 1: no 32-bit word is kept
        memset(x, 0, n * sizeof(floating))
        return
    scale = <floating>(1.0 / (1.0 - rate))
    nt = _threads_for(<double>n, EXP_PER_THREAD, n_threads)
    if nt <= 1:
        _dropout_range(0, n, x, <uint32_t>thr, scale, seed, step, layer)
        return
    job.x, job.thr, job.layer, job.scale = x, <uint32_t>thr, layer, scale
    job.seed, job.step = seed, step
    parallel_ranges(n, _aligned_chunk(n, nt), nt, _dropout_chunk[floating], &job, False)
