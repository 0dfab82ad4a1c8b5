# Reduction kernels (nogil): row max / sums used by softmax and the losses, column sums (the
# bias gradient), the squared norm (global-norm clipping) and finiteness scans.  The checked
# def wrappers are in reductions_py.pxi.
#
# Design:
#   1. Reductions never follow the thread split: col_sum sums each column's rows in order,
#      sq_norm (like the loss values in losses.pxi) sums fixed chunks, sized by the problem
#      alone, in order; all accumulate in double.  Results are bitwise identical for any
#      thread count.
#   2. Interleaved partial sums / maxima (8 lanes) in a fixed order let GCC vectorise the
#      loops without -ffast-math's reassociation.

cdef enum:
    SQ_CHUNK = 8192                    # minimum sq_norm chunk
    SQ_MAX_CHUNKS = 512
    COLSUM_BLOCK = 256                 # columns summed together (double accumulators)


cdef floating _max8(Py_ssize_t n, const floating* x) noexcept nogil:
    """max_i x_i for n >= 1: 8 interleaved maxima (vectorisable; a max is exact in any order)"""
    cdef floating m0 = x[0], m1 = x[0], m2 = x[0], m3 = x[0]
    cdef floating m4 = x[0], m5 = x[0], m6 = x[0], m7 = x[0]
    cdef Py_ssize_t i, n8 = n - n % 8
    for i in range(0, n8, 8):
        m0 = x[i] if x[i] > m0 else m0
        m1 = x[i + 1] if x[i + 1] > m1 else m1
        m2 = x[i + 2] if x[i + 2] > m2 else m2
        m3 = x[i + 3] if x[i + 3] > m3 else m3
        m4 = x[i + 4] if x[i + 4] > m4 else m4
        m5 = x[i + 5] if x[i + 5] > m5 else m5
        m6 = x[i + 6] if x[i + 6] > m6 else m6
        m7 = x[i + 7] if x[i + 7] > m7 else m7
    for i in range(n8, n):
        m0 = x[i] if x[i] > m0 else m0
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    m4 = m5 if m5 > m4 else m4
    m6 = m7 if m7 > m6 else m6
    m0 = m2 if m2 > m0 else m0
    m4 = m6 if m6 > m4 else m4
    return m4 if m4 > m0 else m0


cdef double _sum8(Py_ssize_t n, const floating* x) noexcept nogil:
    """sum_i x_i in double: 8 interleaved partial sums (vectorisable, fixed order)"""
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0
    cdef Py_ssize_t i, n8 = n - n % 8
    for i in range(0, n8, 8):
        s0 += x[i]
        s1 += x[i + 1]
        s2 += x[i + 2]
        s3 += x[i + 3]
        s4 += x[i + 4]
        s5 += x[i + 5]
        s6 += x[i + 6]
        s7 += x[i + 7]
    for i in range(n8, n):
        s0 += x[i]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


cdef void _col_sum_block(Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t width,
                         const floating* x,              # IN  rows x cols (block origin)
                         floating* out) noexcept nogil:  # OUT width
    """out_j = sum_i x_ij for j < width, rows in order, in double"""
    cdef double acc[COLSUM_BLOCK]
    cdef Py_ssize_t i, j
    cdef const floating* xi
    for j in range(width):
        acc[j] = 0
    for i in range(rows):
        xi = x + i * cols
        for j in range(width):
            acc[j] += xi[j]
    for j in range(width):
        out[j] = <floating>acc[j]


cdef struct _ColSumJob:
    Py_ssize_t rows, cols
    const void* x
    void* out


cdef int _col_sum_chunk(Py_ssize_t j0, Py_ssize_t j1, void* ctx, floating* tag) noexcept nogil:
    """Columns j0..j1-1 of col_sum (a chunk function for parallel_ranges)."""
    cdef _ColSumJob* c = <_ColSumJob*>ctx
    _col_sum_block(c.rows, c.cols, j1 - j0, <const floating*>c.x + j0, <floating*>c.out + j0)
    return 0


cdef void col_sum(Py_ssize_t rows, Py_ssize_t cols,
                  const floating* x,                     # IN  rows x cols
                  floating* out,                         # OUT cols
                  int n_threads) noexcept nogil:
    """out_j = sum_i x_ij"""
    cdef Py_ssize_t width, nb
    cdef int nt
    cdef _ColSumJob job
    if cols <= 0:
        return
    # Each column's sum runs over rows in order whatever the column blocking, so splitting
    # columns between threads cannot change a result.
    nt = _threads_for(<double>rows * cols, CHEAP_PER_THREAD, n_threads)
    width = _min(COLSUM_BLOCK, _ceil_div(_ceil_div(cols, nt), 16) * 16)
    nb = _ceil_div(cols, width)
    nt = nt if nt < nb else <int>nb
    job.rows, job.cols, job.x, job.out = rows, cols, x, out
    parallel_ranges(cols, width, nt, _col_sum_chunk[floating], &job, False)


cdef double _sq_sum(Py_ssize_t n, const floating* x) noexcept nogil:
    """sum_i x_i^2 in double: 8 interleaved partial sums (vectorisable, fixed order)"""
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0
    cdef Py_ssize_t i, n8 = n - n % 8
    for i in range(0, n8, 8):
        s0 += <double>x[i] * x[i]
        s1 += <double>x[i + 1] * x[i + 1]
        s2 += <double>x[i + 2] * x[i + 2]
        s3 += <double>x[i + 3] * x[i + 3]
        s4 += <double>x[i + 4] * x[i + 4]
        s5 += <double>x[i + 5] * x[i + 5]
        s6 += <double>x[i + 6] * x[i + 6]
        s7 += <double>x[i + 7] * x[i + 7]
    for i in range(n8, n):
        s0 += <double>x[i] * x[i]
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


cdef struct _SqNormJob:
    const void* x
    double* part              # one partial sum per chunk
    Py_ssize_t cs


cdef int _sq_norm_chunk(Py_ssize_t lo, Py_ssize_t hi, void* ctx, floating* tag) noexcept nogil:
    """Partial sum of chunk lo // cs of sq_norm (a chunk function for parallel_ranges)."""
    cdef _SqNormJob* j = <_SqNormJob*>ctx
    j.part[lo // j.cs] = _sq_sum(hi - lo, <const floating*>j.x + lo)
    return 0


cdef double sq_norm(Py_ssize_t n, const floating* x, int n_threads) noexcept nogil:
    """sum_i x_i^2"""
    cdef double part[SQ_MAX_CHUNKS]
    cdef double total = 0
    cdef Py_ssize_t cs, nch
    cdef int c, nt
    cdef _SqNormJob job
    if n <= 0:
        return 0.0
    # Chunks depend on n only, never on the thread count.
    cs = _ceil_div(_ceil_div(n, SQ_MAX_CHUNKS), CHUNK_ALIGN) * CHUNK_ALIGN
    cs = cs if cs > SQ_CHUNK else SQ_CHUNK
    nch = _ceil_div(n, cs)
    nt = _threads_for(<double>n, CHEAP_PER_THREAD, n_threads)
    nt = nt if nt < nch else <int>nch
    job.x, job.part, job.cs = x, part, cs
    parallel_ranges(n, cs, nt, _sq_norm_chunk[floating], &job, False)
    for c in range(nch):
        total += part[c]
    return total


cdef int _nonfinite(Py_ssize_t n, const floating* x) noexcept nogil:
    """1 if any x_i is NaN or +-inf (x - x is NaN exactly then), else 0"""
    cdef Py_ssize_t i
    cdef int bad = 0
    for i in range(n):
        bad |= (x[i] - x[i]) != 0
    return bad


cdef int all_finite(Py_ssize_t n, const floating* x) noexcept nogil:
    """1 if no x_i is NaN or +-inf (exponent bits all ones), else 0."""
    cdef Py_ssize_t i
    cdef uint32_t bad32 = 0
    cdef uint64_t bad64 = 0
    cdef const uint32_t* u32
    cdef const uint64_t* u64
    if floating is float:
        u32 = <const uint32_t*>x
        for i in range(n):
            bad32 |= ((u32[i] >> 23) & 0xFF) == 0xFF
        return bad32 == 0
    else:
        u64 = <const uint64_t*>x
        for i in range(n):
            bad64 |= ((u64[i] >> 52) & 0x7FF) == 0x7FF
        return bad64 == 0
