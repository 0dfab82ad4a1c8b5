# Optimizer updates and dropout, with their checked def wrappers.  Included by _core.pyx
# after _kernels.pxi (uses its chunking helpers).
#
# Design:
#   1. optim_step is one fused pass over the flat parameter buffer: gradient scaling, L2,
#      decoupled weight decay and the optimizer rule per element, so w/g/m/v are read and
#      written once.  Elementwise, so the thread split (CHUNK_ALIGN multiples) cannot change
#      a result.
#   2. Dropout masks come from Philox4x32-10 (_lepton_math.h), a counter-based RNG: element
#      index i of (seed, step, layer) maps to one 32-bit word, so the mask is the same for any
#      thread count and backward recomputes it instead of storing it.  Stream layout:
#        key     = (seed mod 2^32, seed >> 32)
#        counter = (b mod 2^32, step mod 2^32, layer, (step >> 32) ^ (b >> 32)),  b = i >> 2
#        word    = output[i & 3];  keep = word >= ceil(rate * 2^32)
#      (distinct (seed, step, layer, i) give distinct counters while step and b < 2^32).
from libc.math cimport sqrtf, ceil

cdef enum:
    OPTIM_PER_THREAD = 1 << 15         # elements per thread for an optimizer step


cdef inline floating _sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


# ---------------------------------------------------------------- optimizers
cdef void _optim_range(int opt, Py_ssize_t n,
                       floating* w,                      # IN/OUT n
                       const floating* g,                # IN  n
                       floating* m, floating* v,         # IN/OUT n (state, may be NULL if unused)
                       const unsigned char* isw,         # IN  n, may be NULL (all weights)
                       floating lr, floating mu, floating b1, floating b2, floating eps,
                       floating l2, floating lrwd, floating gs, floating step) noexcept nogil:
    """w, m, v := one optimizer step on n contiguous entries (see optim_step)"""
    cdef Py_ssize_t i
    cdef floating wi, gi, mi, vi
    cdef bint f
    cdef floating c1 = 1 - b1, c2 = 1 - b2
    # One loop per rule (the rule switch stays out of the loop).  The flag test is
    # loop-invariant when isw is NULL: GCC unswitches it and vectorises both versions.
    # Ternaries, not products with the flag, so a non-weight entry never sees 0 * inf.
    if opt == OPT_SGD:
        for i in range(n):
            f = isw == NULL or isw[i] != 0
            wi = w[i]
            gi = gs * g[i] + (l2 * wi if f else 0)
            wi = wi - (lrwd * wi if f else 0)
            w[i] = wi - lr * gi
    elif opt == OPT_MOMENTUM or opt == OPT_NESTEROV:
        for i in range(n):
            f = isw == NULL or isw[i] != 0
            wi = w[i]
            gi = gs * g[i] + (l2 * wi if f else 0)
            wi = wi - (lrwd * wi if f else 0)
            mi = mu * m[i] - lr * gi
            m[i] = mi
            # Nesterov steps along the updated velocity once more.
            w[i] = wi + (mu * mi - lr * gi if opt == OPT_NESTEROV else mi)
    else:
        for i in range(n):
            f = isw == NULL or isw[i] != 0
            wi = w[i]
            gi = gs * g[i] + (l2 * wi if f else 0)
            wi = wi - (lrwd * wi if f else 0)
            mi = b1 * m[i] + c1 * gi
            vi = b2 * v[i] + c2 * (gi * gi)
            m[i] = mi
            v[i] = vi
            w[i] = wi - step * mi / (_sqrt(vi) + eps)


cdef void optim_step(int opt, Py_ssize_t n,
                     floating* w,                        # IN/OUT n
                     const floating* g,                  # IN  n
                     floating* m, floating* v,           # IN/OUT n (state; v Adam only)
                     const unsigned char* is_weight,     # IN  n, may be NULL
                     double lr, double momentum, double beta1, double beta2, double eps,
                     double l2, double weight_decay, double grad_scale, long long t,
                     int n_threads) noexcept nogil:
    """g' = grad_scale g + l2 w; w -= lr wd w; w, m, v := rule(w, g', m, v)"""
    cdef double step = 0
    cdef Py_ssize_t cs, lo, hi
    cdef int k, nt
    if n <= 0:
        return
    if opt == OPT_ADAM or opt == OPT_ADAMW:
        step = lr * sqrt(1 - pow(beta2, <double>t)) / (1 - pow(beta1, <double>t))
    nt = _threads_for(<double>n, OPTIM_PER_THREAD, n_threads)
    if nt <= 1:
        _optim_range(opt, n, w, g, m, v, is_weight, <floating>lr, <floating>momentum,
                     <floating>beta1, <floating>beta2, <floating>eps, <floating>l2,
                     <floating>(lr * weight_decay), <floating>grad_scale, <floating>step)
        return
    cs = _aligned_chunk(n, nt)
    for k in prange(nt, nogil=True, num_threads=nt, schedule="static"):
        lo = k * cs
        hi = _min(lo + cs, n)
        if lo < hi:
            _optim_range(opt, hi - lo, w + lo, g + lo, (m + lo if m != NULL else m),
                         (v + lo if v != NULL else v),
                         (is_weight + lo if is_weight != NULL else is_weight),
                         <floating>lr, <floating>momentum, <floating>beta1, <floating>beta2,
                         <floating>eps, <floating>l2, <floating>(lr * weight_decay),
                         <floating>grad_scale, <floating>step)


# ---------------------------------------------------------------- dropout
cdef void _dropout_range(Py_ssize_t lo, Py_ssize_t hi,
                         floating* x,                    # IN/OUT: elements lo..hi-1
                         uint64_t thr, floating scale, uint64_t seed, uint64_t step,
                         uint32_t layer) noexcept nogil:
    """x_i = x_i * scale if word(i) >= thr else 0, for lo <= i < hi"""
    cdef uint32_t ctr[4]
    cdef uint32_t word[4]
    cdef uint64_t b, b0 = (<uint64_t>lo) >> 2, b1 = (<uint64_t>hi + 3) >> 2
    cdef Py_ssize_t i, k
    for b in range(b0, b1):
        ctr[0] = <uint32_t>b
        ctr[1] = <uint32_t>step
        ctr[2] = layer
        ctr[3] = <uint32_t>(step >> 32) ^ <uint32_t>(b >> 32)
        lepton_philox4x32_10(ctr, <uint32_t>seed, <uint32_t>(seed >> 32), word)
        for k in range(4):
            i = <Py_ssize_t>(b * 4) + k
            if lo <= i < hi:
                x[i] = x[i] * scale if word[k] >= thr else 0


cdef void dropout_apply(Py_ssize_t rows, Py_ssize_t cols,
                        floating* x,                     # IN/OUT rows x cols
                        double rate, uint64_t seed, uint64_t step, uint32_t layer,
                        int n_threads) noexcept nogil:
    """x_ij *= keep_ij / (1 - rate)"""
    cdef Py_ssize_t n = rows * cols, cs, lo, hi
    cdef uint64_t thr
    cdef floating scale
    cdef int k, nt
    if n <= 0 or rate <= 0:
        return
    thr = <uint64_t>ceil(rate * 4294967296.0)
    scale = <floating>(1.0 / (1.0 - rate))
    nt = _threads_for(<double>n, EXP_PER_THREAD, n_threads)
    if nt <= 1:
        _dropout_range(0, n, x, thr, scale, seed, step, layer)
        return
    cs = _aligned_chunk(n, nt)
    for k in prange(nt, nogil=True, num_threads=nt, schedule="static"):
        lo = k * cs
        hi = _min(lo + cs, n)
        if lo < hi:
            _dropout_range(lo, hi, x, thr, scale, seed, step, layer)
