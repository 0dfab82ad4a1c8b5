# Elementwise kernels: activations (forward / backward), fused losses, column sums, squared
# norm, and their checked def wrappers.  Included by _core.pyx after _gemm.pxi.
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
#   3. Reductions never follow the thread split: loss values are summed over row chunks whose
#      size depends only on (rows, cols) and combined in order, col_sum sums each column's rows
#      in order, sq_norm uses fixed chunks; all accumulate in double.  Results are bitwise
#      identical for any thread count.
#   4. Kernels never allocate, never raise, and read only what their contract names.
from libc.math cimport log, sqrt, pow, fabs, isfinite
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
    void lepton_philox4x32_10(const uint32_t* c, uint32_t k0, uint32_t k1,
                              uint32_t* out) noexcept

cdef enum:
    CHUNK_ALIGN = 64                   # per-thread chunk boundaries (elements)
    CHEAP_PER_THREAD = 1 << 16         # elements per thread, cheap ops (copy, relu, ...)
    EXP_PER_THREAD = 1 << 13           # elements per thread, ops with an exp or log
    LOSS_CHUNK_ELEMS = 4096            # fixed work of one loss-value chunk
    LOSS_MAX_CHUNKS = 256
    SQ_CHUNK = 8192                    # minimum sq_norm chunk
    SQ_MAX_CHUNKS = 512
    COLSUM_BLOCK = 256                 # columns summed together (double accumulators)

# gelu (tanh form): gelu(x) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)
cdef double GELU_C = 0.7978845608028654
cdef double GELU_A = 0.044715


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


cdef inline Py_ssize_t _aligned_chunk(Py_ssize_t n, int nt) noexcept nogil:
    """Per-thread chunk of n elements over nt threads, a multiple of CHUNK_ALIGN."""
    return _ceil_div(_ceil_div(n, nt), CHUNK_ALIGN) * CHUNK_ALIGN


# ---------------------------------------------------------------- activations
# One small function per loop: GCC inlines the math (and so vectorises) only into loops it
# considers hot, and a loop inside one branch of a large switch is not.
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
        mx = zi[0]
        for j in range(1, cols):
            mx = zi[j] if zi[j] > mx else mx
        for j in range(cols):
            ai[j] = _exp(zi[j] - mx)
        s = 0
        for j in range(cols):
            s += ai[j]
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
        for t in prange(nt, nogil=True, num_threads=nt, schedule="static"):
            lo = t * step
            hi = _min(lo + step, rows)
            if lo < hi:
                _softmax_rows(hi - lo, cols, z + lo * cols, a + lo * cols)
        return
    if nt <= 1:
        _act_fwd_range(act, n, z, a, <floating>param)
        return
    step = _aligned_chunk(n, nt)
    for t in prange(nt, nogil=True, num_threads=nt, schedule="static"):
        lo = t * step
        hi = _min(lo + step, n)
        if lo < hi:
            _act_fwd_range(act, hi - lo, z + lo, a + lo, <floating>param)


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
        for t in prange(nt, nogil=True, num_threads=nt, schedule="static"):
            lo = t * step
            hi = _min(lo + step, rows)
            if lo < hi:
                _softmax_bwd_rows(hi - lo, cols, a + lo * cols, da + lo * cols, dz + lo * cols)
        return
    nt = _threads_for(<double>n, _act_cost(act), n_threads)
    if nt <= 1:
        _act_bwd_range(act, n, z, a, da, dz, <floating>param)
        return
    step = _aligned_chunk(n, nt)
    for t in prange(nt, nogil=True, num_threads=nt, schedule="static"):
        lo = t * step
        hi = _min(lo + step, n)
        if lo < hi:
            _act_bwd_range(act, hi - lo, (z + lo if z != NULL else z),
                           (a + lo if a != NULL else a), da + lo, dz + lo, <floating>param)


# ---------------------------------------------------------------- losses
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


# ---------------------------------------------------------------- reductions
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
    for b in prange(nb, nogil=True, num_threads=nt, schedule="static"):
        j0 = b * width
        _col_sum_block(rows, cols, _min(width, cols - j0), x + j0, out + j0)


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
        for c in prange(nch, nogil=True, num_threads=nt, schedule="static"):
            lo = c * cs
            part[c] = _sq_sum(_min(cs, n - lo), x + lo)
    for c in range(nch):
        total += part[c]
    return total
