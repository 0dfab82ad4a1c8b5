# Elementwise kernels: activations (forward / backward), column sums, squared norm, and their
# checked def wrappers, plus the math and threading helpers that _losses.pxi and _optim.pxi
# share.  Included by _core.pyx after _gemm.pxi.
#
# Design:
#   1. Per-element math (exp, log1p, sigmoid, tanh, ...) comes from _lepton_math.h: branch-free
#      Cephes-style code that inlines into the loops below, which GCC -O3 vectorises at every
#      ISA level.  No libm call sits in a per-element loop.
#   2. Each kernel is a serial range function over contiguous memory plus a driver that splits
#      the work between threads only above a work threshold (a parallel region costs ~1 us).
#      Elementwise kernels split the flat index range into chunks that are multiples of
#      CHUNK_ALIGN elements, so every element meets the same vector/scalar code path for any
#      thread count; row-wise kernels (softmax, losses) split whole rows.
#   3. Reductions never follow the thread split: col_sum sums each column's rows in order,
#      sq_norm (like the loss values in _losses.pxi) sums fixed chunks, sized by the problem
#      alone, in order; all accumulate in double.  Results are bitwise identical for any
#      thread count.
#   4. Kernels never allocate, never raise, and read only what their contract names.
from libc.math cimport log, sqrt, pow, fabs
from libc.string cimport memcpy

cdef extern from "_lepton_math.h" nogil:
    float lepton_expf(float x) noexcept
    double lepton_exp(double x) noexcept
    float lepton_logf(float x) noexcept
    double lepton_log(double x) noexcept
    float lepton_log1pf(float x) noexcept
    double lepton_log1p(double x) noexcept
    float lepton_expm1f(float x) noexcept
    double lepton_expm1(double x) noexcept
    float lepton_sigmoidf(float x) noexcept
    double lepton_sigmoid(double x) noexcept
    float lepton_tanhf(float x) noexcept
    double lepton_tanh(double x) noexcept
    float lepton_softplusf(float x) noexcept
    double lepton_softplus(double x) noexcept
    # gelu (tanh form): gelu(x) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3); C macros,
    # so the loops see constants rather than module globals they would have to reload.
    const double GELU_C "LEPTON_GELU_C"
    const double GELU_A "LEPTON_GELU_A"
    void lepton_philox4x32_10(uint64_t b0, Py_ssize_t nb, uint32_t c1, uint32_t c2,
                              uint32_t c3, uint32_t k0, uint32_t k1,
                              uint32_t* words) noexcept

cdef enum:
    CHUNK_ALIGN = 64                   # per-thread chunk boundaries (elements)
    CHEAP_PER_THREAD = 1 << 16         # elements per thread, cheap ops (copy, relu, ...)
    EXP_PER_THREAD = 1 << 13           # elements per thread, ops with an exp or log
    SQ_CHUNK = 8192                    # minimum sq_norm chunk
    SQ_MAX_CHUNKS = 512
    COLSUM_BLOCK = 256                 # columns summed together (double accumulators)



# ---------------------------------------------------------------- fused-type math
cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return lepton_expf(x)
    else:
        return lepton_exp(x)


cdef inline floating _expm1(floating x) noexcept nogil:
    if floating is float:
        return lepton_expm1f(x)
    else:
        return lepton_expm1(x)


cdef inline floating _log(floating x) noexcept nogil:
    if floating is float:
        return lepton_logf(x)
    else:
        return lepton_log(x)


cdef inline floating _log1p(floating x) noexcept nogil:
    if floating is float:
        return lepton_log1pf(x)
    else:
        return lepton_log1p(x)


cdef inline floating _sigmoid(floating x) noexcept nogil:
    if floating is float:
        return lepton_sigmoidf(x)
    else:
        return lepton_sigmoid(x)


cdef inline floating _tanh(floating x) noexcept nogil:
    if floating is float:
        return lepton_tanhf(x)
    else:
        return lepton_tanh(x)


cdef inline floating _softplus(floating x) noexcept nogil:
    if floating is float:
        return lepton_softplusf(x)
    else:
        return lepton_softplus(x)


cdef inline floating _gelu(floating x) noexcept nogil:
    """x * sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)) == 0.5 x (1 + tanh(...))"""
    cdef floating u = <floating>(2 * GELU_C) * (x + <floating>GELU_A * x * x * x)
    return x * _sigmoid(u)


cdef inline floating _gelu_grad(floating x) noexcept nogil:
    """gelu'(x) = s + x s (1 - s) 2u'(x), s = sigmoid(2u)"""
    cdef floating u = <floating>(2 * GELU_C) * (x + <floating>GELU_A * x * x * x)
    cdef floating s = _sigmoid(u)
    cdef floating t = s * (1 - s)
    # t == 0 where x^2 may overflow; skip the term there instead of forming 0 * inf.
    cdef floating du = <floating>(2 * GELU_C) * (1 + <floating>(3 * GELU_A) * x * x)
    return s + (x * t * du if t > 0 else <floating>0)


cdef inline int _threads_for(double work, double per_thread, int n_threads) noexcept nogil:
    """Threads worth using for `work` units when each thread needs `per_thread` of them."""
    cdef double cap = work / per_thread
    if n_threads <= 1 or cap < 2:
        return 1
    return n_threads if n_threads < cap else <int>cap


cdef inline Py_ssize_t _max(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return a if a > b else b


cdef inline Py_ssize_t _aligned_chunk(Py_ssize_t n, int nt) noexcept nogil:
    """Per-thread chunk of n elements over nt threads, a multiple of CHUNK_ALIGN."""
    return _ceil_div(_ceil_div(n, nt), CHUNK_ALIGN) * CHUNK_ALIGN


# ---------------------------------------------------------------- activations
# One small function per loop: GCC's inliner treats a call in one branch of a long if-chain
# as cold and may leave the math out of line there, which stops vectorisation.
cdef void _fwd_sigmoid(Py_ssize_t n, const floating* z, floating* a) noexcept nogil:
    """a = 1 / (1 + exp(-z))"""
    cdef Py_ssize_t i
    for i in range(n):
        a[i] = _sigmoid(z[i])


cdef void _fwd_tanh(Py_ssize_t n, const floating* z, floating* a) noexcept nogil:
    """a = tanh(z)"""
    cdef Py_ssize_t i
    for i in range(n):
        a[i] = _tanh(z[i])


cdef void _fwd_relu(Py_ssize_t n, const floating* z, floating* a) noexcept nogil:
    """a = max(z, 0) (NaN propagates)"""
    cdef Py_ssize_t i
    for i in range(n):
        a[i] = 0 if z[i] <= 0 else z[i]


cdef void _fwd_leaky(Py_ssize_t n, const floating* z, floating* a, floating p) noexcept nogil:
    """a = z if z > 0 else p z"""
    cdef Py_ssize_t i
    for i in range(n):
        a[i] = z[i] if z[i] > 0 else p * z[i]


cdef void _fwd_elu(Py_ssize_t n, const floating* z, floating* a, floating p) noexcept nogil:
    """a = z if z > 0 else p (exp(z) - 1)"""
    cdef Py_ssize_t i
    for i in range(n):
        a[i] = z[i] if z[i] > 0 else p * _expm1(z[i])


cdef void _fwd_gelu(Py_ssize_t n, const floating* z, floating* a) noexcept nogil:
    """a = 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))"""
    cdef Py_ssize_t i
    for i in range(n):
        a[i] = _gelu(z[i])


cdef void _fwd_softplus(Py_ssize_t n, const floating* z, floating* a) noexcept nogil:
    """a = log(1 + exp(z))"""
    cdef Py_ssize_t i
    for i in range(n):
        a[i] = _softplus(z[i])


cdef void _act_fwd_range(int act, Py_ssize_t n,
                         const floating* z,              # IN  n
                         floating* a,                    # OUT n
                         floating p) noexcept nogil:
    """a = f(z) elementwise (every activation except softmax)."""
    if act == ACT_IDENTITY:
        if a != z:
            memcpy(a, z, n * sizeof(floating))
    elif act == ACT_SIGMOID:
        _fwd_sigmoid(n, z, a)
    elif act == ACT_TANH:
        _fwd_tanh(n, z, a)
    elif act == ACT_RELU:
        _fwd_relu(n, z, a)
    elif act == ACT_LEAKY_RELU:
        _fwd_leaky(n, z, a, p)
    elif act == ACT_ELU:
        _fwd_elu(n, z, a, p)
    elif act == ACT_GELU:
        _fwd_gelu(n, z, a)
    elif act == ACT_SOFTPLUS:
        _fwd_softplus(n, z, a)


cdef void _softmax_rows(Py_ssize_t rows, Py_ssize_t cols,
                        const floating* z,               # IN  rows x cols
                        floating* a) noexcept nogil:     # OUT rows x cols
    """a_ij = exp(z_ij - max_k z_ik) / sum_k exp(z_ik - max_k z_ik)"""
    cdef Py_ssize_t i, j
    cdef const floating* zi
    cdef floating* ai
    cdef floating mx, inv
    cdef double s
    for i in range(rows):
        zi = z + i * cols
        ai = a + i * cols
        mx = _max8(cols, zi)
        for j in range(cols):
            ai[j] = _exp(zi[j] - mx)
        s = _sum8(cols, ai)
        inv = <floating>(1.0 / s)
        for j in range(cols):
            ai[j] = ai[j] * inv


cdef inline double _act_cost(int act) noexcept nogil:
    if act == ACT_IDENTITY or act == ACT_RELU or act == ACT_LEAKY_RELU:
        return CHEAP_PER_THREAD
    return EXP_PER_THREAD


cdef void act_forward(int act, Py_ssize_t rows, Py_ssize_t cols,
                      const floating* z,                 # IN  rows x cols
                      floating* a,                       # OUT rows x cols
                      double param, int n_threads) noexcept nogil:
    """a = f(z) (softmax: row-wise); a may alias z"""
    cdef unsigned int fpm, fpo
    cdef Py_ssize_t n = rows * cols, step, lo, hi
    cdef int t, nt
    if n <= 0:
        return
    nt = _threads_for(<double>n, _act_cost(act), n_threads)
    if act == ACT_SOFTMAX:
        nt = nt if nt < rows else <int>rows
        if nt <= 1:
            _softmax_rows(rows, cols, z, a)
            return
        step = _ceil_div(rows, nt)
        fpm = lepton_fp_mode()
        for t in prange(nt, nogil=True, num_threads=nt, schedule="static"):
            fpo = lepton_fp_set(fpm)  # workers run in the caller's FP mode
            lo = t * step
            hi = _min(lo + step, rows)
            if lo < hi:
                _softmax_rows(hi - lo, cols, z + lo * cols, a + lo * cols)
            lepton_fp_set(fpo)
        return
    if nt <= 1:
        _act_fwd_range(act, n, z, a, <floating>param)
        return
    step = _aligned_chunk(n, nt)
    fpm = lepton_fp_mode()
    for t in prange(nt, nogil=True, num_threads=nt, schedule="static"):
        fpo = lepton_fp_set(fpm)  # workers run in the caller's FP mode
        lo = t * step
        hi = _min(lo + step, n)
        if lo < hi:
            _act_fwd_range(act, hi - lo, z + lo, a + lo, <floating>param)
        lepton_fp_set(fpo)


cdef void _bwd_sigmoid(Py_ssize_t n, const floating* a, const floating* da,
                       floating* dz) noexcept nogil:
    """dz = da a (1 - a)"""
    cdef Py_ssize_t i
    for i in range(n):
        dz[i] = da[i] * (a[i] * (1 - a[i]))


cdef void _bwd_tanh(Py_ssize_t n, const floating* a, const floating* da,
                    floating* dz) noexcept nogil:
    """dz = da (1 - a^2)"""
    cdef Py_ssize_t i
    for i in range(n):
        dz[i] = da[i] * (1 - a[i] * a[i])


cdef void _bwd_relu(Py_ssize_t n, const floating* z, const floating* da,
                    floating* dz) noexcept nogil:
    """dz = da if z > 0 else 0"""
    cdef Py_ssize_t i
    cdef floating d
    for i in range(n):
        d = da[i]     # an unconditional load keeps the select vectorisable without masks
        dz[i] = d if z[i] > 0 else 0


cdef void _bwd_leaky(Py_ssize_t n, const floating* z, const floating* da, floating* dz,
                     floating p) noexcept nogil:
    """dz = da if z > 0 else p da"""
    cdef Py_ssize_t i
    for i in range(n):
        dz[i] = da[i] if z[i] > 0 else p * da[i]


cdef void _bwd_elu(Py_ssize_t n, const floating* z, const floating* a, const floating* da,
                   floating* dz, floating p) noexcept nogil:
    """dz = da if z > 0 else da (a + p)   (p e^z = a + p)"""
    cdef Py_ssize_t i
    cdef floating d, e
    for i in range(n):
        d = da[i]
        e = a[i]
        dz[i] = d if z[i] > 0 else d * (e + p)


cdef void _bwd_gelu(Py_ssize_t n, const floating* z, const floating* da,
                    floating* dz) noexcept nogil:
    """dz = da gelu'(z)"""
    cdef Py_ssize_t i
    for i in range(n):
        dz[i] = da[i] * _gelu_grad(z[i])


cdef void _bwd_softplus(Py_ssize_t n, const floating* z, const floating* da,
                        floating* dz) noexcept nogil:
    """dz = da sigmoid(z)"""
    cdef Py_ssize_t i
    for i in range(n):
        dz[i] = da[i] * _sigmoid(z[i])


cdef void _act_bwd_range(int act, Py_ssize_t n,
                         const floating* z,              # IN  n (relu, leaky, elu, gelu, softplus)
                         const floating* a,              # IN  n (sigmoid, tanh, elu)
                         const floating* da,             # IN  n
                         floating* dz,                   # OUT n
                         floating p) noexcept nogil:
    """dz = da * f'(z) elementwise (every activation except softmax)."""
    if act == ACT_IDENTITY:
        if dz != da:
            memcpy(dz, da, n * sizeof(floating))
    elif act == ACT_SIGMOID:
        _bwd_sigmoid(n, a, da, dz)
    elif act == ACT_TANH:
        _bwd_tanh(n, a, da, dz)
    elif act == ACT_RELU:
        _bwd_relu(n, z, da, dz)
    elif act == ACT_LEAKY_RELU:
        _bwd_leaky(n, z, da, dz, p)
    elif act == ACT_ELU:
        _bwd_elu(n, z, a, da, dz, p)
    elif act == ACT_GELU:
        _bwd_gelu(n, z, da, dz)
    elif act == ACT_SOFTPLUS:
        _bwd_softplus(n, z, da, dz)


cdef void _softmax_bwd_rows(Py_ssize_t rows, Py_ssize_t cols,
                            const floating* a,           # IN  rows x cols
                            const floating* da,          # IN  rows x cols
                            floating* dz) noexcept nogil:  # OUT rows x cols
    """dz_ij = a_ij * (da_ij - sum_k da_ik a_ik)"""
    cdef Py_ssize_t i, j
    cdef double dot
    cdef floating d
    for i in range(rows):
        dot = 0
        for j in range(cols):
            dot += <double>da[i * cols + j] * a[i * cols + j]
        d = <floating>dot
        for j in range(cols):
            dz[i * cols + j] = a[i * cols + j] * (da[i * cols + j] - d)


cdef void act_backward(int act, Py_ssize_t rows, Py_ssize_t cols,
                       const floating* z, const floating* a,   # IN  rows x cols
                       const floating* da,                     # IN  rows x cols
                       floating* dz,                           # OUT rows x cols
                       double param, int n_threads) noexcept nogil:
    """dz = da * f'(z); dz may alias da"""
    cdef unsigned int fpm, fpo
    cdef Py_ssize_t n = rows * cols, step, lo, hi
    cdef int t, nt
    if n <= 0:
        return
    if act == ACT_SOFTMAX:
        nt = _threads_for(<double>n, CHEAP_PER_THREAD, n_threads)
        nt = nt if nt < rows else <int>rows
        if nt <= 1:
            _softmax_bwd_rows(rows, cols, a, da, dz)
            return
        step = _ceil_div(rows, nt)
        fpm = lepton_fp_mode()
        for t in prange(nt, nogil=True, num_threads=nt, schedule="static"):
            fpo = lepton_fp_set(fpm)  # workers run in the caller's FP mode
            lo = t * step
            hi = _min(lo + step, rows)
            if lo < hi:
                _softmax_bwd_rows(hi - lo, cols, a + lo * cols, da + lo * cols, dz + lo * cols)
            lepton_fp_set(fpo)
        return
    nt = _threads_for(<double>n, _act_cost(act), n_threads)
    if nt <= 1:
        _act_bwd_range(act, n, z, a, da, dz, <floating>param)
        return
    step = _aligned_chunk(n, nt)
    fpm = lepton_fp_mode()
    for t in prange(nt, nogil=True, num_threads=nt, schedule="static"):
        fpo = lepton_fp_set(fpm)  # workers run in the caller's FP mode
        lo = t * step
        hi = _min(lo + step, n)
        if lo < hi:
            _act_bwd_range(act, hi - lo, (z + lo if z != NULL else z),
                           (a + lo if a != NULL else a), da + lo, dz + lo, <floating>param)
        lepton_fp_set(fpo)


# ---------------------------------------------------------------- reductions
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


cdef void col_sum(Py_ssize_t rows, Py_ssize_t cols,
                  const floating* x,                     # IN  rows x cols
                  floating* out,                         # OUT cols
                  int n_threads) noexcept nogil:
    """out_j = sum_i x_ij"""
    cdef unsigned int fpm, fpo
    cdef Py_ssize_t width, nb, j0
    cdef int b, nt
    if cols <= 0:
        return
    # Each column's sum runs over rows in order whatever the column blocking, so splitting
    # columns between threads cannot change a result.
    nt = _threads_for(<double>rows * cols, CHEAP_PER_THREAD, n_threads)
    width = _min(COLSUM_BLOCK, _ceil_div(_ceil_div(cols, nt), 16) * 16)
    nb = _ceil_div(cols, width)
    nt = nt if nt < nb else <int>nb
    if nt <= 1:
        for b in range(nb):
            j0 = b * width
            _col_sum_block(rows, cols, _min(width, cols - j0), x + j0, out + j0)
        return
    fpm = lepton_fp_mode()
    for b in prange(nb, nogil=True, num_threads=nt, schedule="static"):
        fpo = lepton_fp_set(fpm)  # workers run in the caller's FP mode
        j0 = b * width
        _col_sum_block(rows, cols, _min(width, cols - j0), x + j0, out + j0)
        lepton_fp_set(fpo)


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


cdef double sq_norm(Py_ssize_t n, const floating* x, int n_threads) noexcept nogil:
    """sum_i x_i^2"""
    cdef unsigned int fpm, fpo
    cdef double part[SQ_MAX_CHUNKS]
    cdef double total = 0
    cdef Py_ssize_t cs, nch, lo, hi
    cdef int c, nt
    if n <= 0:
        return 0.0
    # Chunks depend on n only, never on the thread count.
    cs = _ceil_div(_ceil_div(n, SQ_MAX_CHUNKS), CHUNK_ALIGN) * CHUNK_ALIGN
    cs = cs if cs > SQ_CHUNK else SQ_CHUNK
    nch = _ceil_div(n, cs)
    nt = _threads_for(<double>n, CHEAP_PER_THREAD, n_threads)
    nt = nt if nt < nch else <int>nch
    if nt <= 1:
        for c in range(nch):
            lo = c * cs
            part[c] = _sq_sum(_min(cs, n - lo), x + lo)
    else:
        fpm = lepton_fp_mode()
        for c in prange(nch, nogil=True, num_threads=nt, schedule="static"):
            fpo = lepton_fp_set(fpm)  # workers run in the caller's FP mode
            lo = c * cs
            part[c] = _sq_sum(_min(cs, n - lo), x + lo)
            lepton_fp_set(fpo)
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


# ---------------------------------------------------------------- def wrappers
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
    cdef str act = _names.activation_name(activation)
    cdef int code = _names.ACTIVATIONS[act]
    cdef cnp.ndarray Z = _operand(z, "z", None, (1, 2), False)
    cdef double p = _act_param(act, param)
    cdef int nt = resolve_threads(n_threads)
    cdef cnp.ndarray A = _output(out, Z, (<object>Z).shape)
    Z = _unshared(Z, A)
    cdef Py_ssize_t rows, cols
    rows, cols = _rows_cols(Z)
    cdef void* pz = _ptr(Z)
    cdef void* pa = _ptr(A)
    if _is_f32(Z):
        with nogil:
            act_forward(code, rows, cols, <const float*>pz, <float*>pa, p, nt)
    else:
        with nogil:
            act_forward(code, rows, cols, <const double*>pz, <double*>pa, p, nt)
    return A


# Which of z / a each activation's backward reads (softmax, sigmoid, tanh: a only).
cdef frozenset _BWD_NEEDS_Z = frozenset({"relu", "leaky_relu", "elu", "gelu", "softplus"})
cdef frozenset _BWD_NEEDS_A = frozenset({"sigmoid", "tanh", "elu", "softmax"})


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
    cdef str act = _names.activation_name(activation)
    cdef int code = _names.ACTIVATIONS[act]
    cdef cnp.ndarray DA = _operand(da, "da", None, (1, 2), False)
    cdef cnp.ndarray Z = None, A = None
    cdef double p = _act_param(act, param)
    if z is not None:
        Z = _operand(z, "z", DA.dtype, (1, 2), False)
        _same_shape(Z, "z", DA, "da")
    if a is not None:
        A = _operand(a, "a", DA.dtype, (1, 2), False)
        _same_shape(A, "a", DA, "da")
    if Z is None and (act in _BWD_NEEDS_Z or (A is None and act in _BWD_NEEDS_A)):
        raise ValueError(f"activation_backward: activation {act!r} needs z, got z=None")
    cdef int nt = resolve_threads(n_threads)
    cdef cnp.ndarray DZ = _output(out, DA, (<object>DA).shape)
    if A is None and act in _BWD_NEEDS_A:
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
    if _is_f32(DA):
        with nogil:
            act_backward(code, rows, cols, <const float*>pz, <const float*>pa,
                         <const float*>pda, <float*>pdz, p, nt)
    else:
        with nogil:
            act_backward(code, rows, cols, <const double*>pz, <const double*>pa,
                         <const double*>pda, <double*>pdz, p, nt)
    return DZ


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
    cdef int nt = resolve_threads(n_threads)
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
    cdef int nt = resolve_threads(n_threads)
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


cdef void _math_range(int f, Py_ssize_t n, const floating* x, floating* y) noexcept nogil:
    cdef Py_ssize_t i
    if f == 0:
        for i in range(n):
            y[i] = _exp(x[i])
    elif f == 1:
        for i in range(n):
            y[i] = _log(x[i])
    elif f == 2:
        for i in range(n):
            y[i] = _log1p(x[i])
    elif f == 3:
        for i in range(n):
            y[i] = _expm1(x[i])


_MATH_FUNCS = {"exp": 0, "log": 1, "log1p": 2, "expm1": 3}


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
    if _is_f32(X):
        with nogil:
            _math_range(f, n, <const float*>px, <float*>py)
    else:
        with nogil:
            _math_range(f, n, <const double*>px, <double*>py)
    return Y
