# Optimizer kernels (nogil): one fused, all-or-nothing update over the flat parameter
# buffer.  The checked def wrapper is in optim_py.pxi.  Uses math.pxi (_sqrt).
#
# Design:
#   1. optim_step fuses gradient scaling, L2, decoupled weight decay and the optimizer rule
#      per element, so w/g/m/v are written once.  It is all or nothing: a first pass computes
#      the update without storing it and only checks that every new w, m, v is finite; the
#      second pass stores it.  (Adam's first pass bounds its step instead of dividing; only
#      when the bound fails does an exact check pass run.)  A diverging step (lr too large, overflowing gradients) thus
#      leaves the parameters and optimizer state exactly as they were.  Elementwise, so the
#      thread split (CHUNK_ALIGN multiples) cannot change a result.
#   2. Every optimizer code has its own branch; a code outside [0, OPT_COUNT) returns
#      STATUS_BAD_CODE with nothing written (the wrapper validates the name first).
from libc.math cimport sqrt, pow
from libc.string cimport memset

cdef enum:
    OPTIM_PER_THREAD = 1 << 15         # elements per thread for an optimizer step
    PASS_QUICK = 0, PASS_EXACT = 1, PASS_WRITE = 2     # the passes of _optim_range
    _ONES_LEN = 4096

cdef unsigned char _ONES[_ONES_LEN]     # the weight flags of an all-weights block
memset(_ONES, 1, _ONES_LEN)


# One update rule per inline function (element i of w, g, m, v -> new w, m, v); the check
# and write loops below call the same function, so each rule is written once.  f: entry i
# is a weight (L2 and decay apply).  Ternaries, not products with f, so a non-weight entry
# never sees 0 * inf.
cdef inline floating _sgd(floating wi, floating gi, bint f, floating lr, floating l2,
                          floating lrwd, floating gs) noexcept nogil:
    gi = gs * gi + (l2 * wi if f else 0)
    return wi - (lrwd * wi if f else 0) - lr * gi


cdef inline floating _momentum(floating wi, floating gi, floating* mi, bint f, bint nesterov,
                               floating lr, floating mu, floating l2, floating lrwd,
                               floating gs) noexcept nogil:
    gi = gs * gi + (l2 * wi if f else 0)
    wi = wi - (lrwd * wi if f else 0)
    mi[0] = mu * mi[0] - lr * gi
    # Nesterov steps along the updated velocity once more.
    return wi + (mu * mi[0] - lr * gi if nesterov else mi[0])


cdef inline floating _adam_moments(floating wi, floating gi, floating* mi, floating* vi,
                                   bint f, floating b1, floating c1, floating b2, floating c2,
                                   floating l2, floating lrwd, floating gs) noexcept nogil:
    """m, v := Adam's moments; returns the decayed weight (the step is _adam's)."""
    gi = gs * gi + (l2 * wi if f else 0)
    mi[0] = b1 * mi[0] + c1 * gi
    vi[0] = b2 * vi[0] + c2 * (gi * gi)
    return wi - (lrwd * wi if f else 0)


cdef inline floating _adam(floating wi, floating gi, floating* mi, floating* vi, bint f,
                           floating b1, floating c1, floating b2, floating c2, floating eps,
                           floating l2, floating lrwd, floating gs,
                           floating step) noexcept nogil:
    wi = _adam_moments(wi, gi, mi, vi, f, b1, c1, b2, c2, l2, lrwd, gs)
    return wi - step * mi[0] / (_sqrt(vi[0]) + eps)


cdef inline floating _abs(floating x) noexcept nogil:
    return x if x >= 0 else -x


cdef inline bint _bad(floating x) noexcept nogil:
    return (x - x) != 0     # exactly NaN and +-inf


cdef int _optim_range(int opt, Py_ssize_t n,
                      floating* w,                       # IN/OUT n
                      const floating* g,                 # IN  n
                      floating* m, floating* v,          # IN/OUT n (state, may be NULL if unused)
                      const unsigned char* isw,          # IN  n, may be NULL (all weights)
                      floating lr, floating mu, floating b1, floating c1, floating b2,
                      floating c2, floating eps, floating l2, floating lrwd, floating gs,
                      floating step, int mode) noexcept nogil:
    """PASS_WRITE: w, m, v := one optimizer step on n contiguous entries (see optim_step), 0.
    PASS_EXACT: nothing stored; 1 if any new w, m or v would be NaN or inf, else 0.
    PASS_QUICK: as PASS_EXACT, but may also return 1 for a finite update (Adam bounds its
    step instead of dividing).  STATUS_BAD_CODE, nothing stored, for an unknown opt."""
    cdef Py_ssize_t i
    cdef floating wn, mi, vi
    cdef bint f, nest = opt == OPT_NESTEROV, write = mode == PASS_WRITE
    cdef int bad = 0
    # |step * m / (sqrt(v) + eps)| <= |step| * |m| / eps: below half the largest float the
    # new weight cannot overflow (a quarter of the margin covers the bound's own rounding).
    cdef floating lim = <floating>(1e38 if floating is float else 1e307)
    cdef floating astep_eps = _abs(step) / eps
    cdef Py_ssize_t lo, k
    cdef int rc
    if not opt_known(opt):
        return STATUS_BAD_CODE
    if isw == NULL:
        # All entries are weights: walk blocks against a row of ones, so that every loop
        # reads its flag branch-free (a NULL test per element stops GCC vectorising).
        lo = 0
        while lo < n:
            k = _min(n - lo, _ONES_LEN)
            rc = _optim_range(opt, k, w + lo, g + lo, (m + lo if m != NULL else m),
                              (v + lo if v != NULL else v), _ONES, lr, mu, b1, c1, b2, c2,
                              eps, l2, lrwd, gs, step, mode)
            if rc < 0:
                return rc
            bad |= rc
            lo += k
        return bad
    # One loop per rule and pass, without branches, so that every loop vectorises (one loop
    # testing `write` or `isw == NULL` per element did not: 4-12x slower).
    if opt == OPT_SGD:
        if write:
            for i in range(n):
                f = isw[i] != 0
                w[i] = _sgd(w[i], g[i], f, lr, l2, lrwd, gs)
        else:
            for i in range(n):
                f = isw[i] != 0
                bad |= _bad(_sgd(w[i], g[i], f, lr, l2, lrwd, gs))
    elif opt == OPT_MOMENTUM or opt == OPT_NESTEROV:
        if write:
            for i in range(n):
                f = isw[i] != 0
                mi = m[i]
                w[i] = _momentum(w[i], g[i], &mi, f, nest, lr, mu, l2, lrwd, gs)
                m[i] = mi
        else:
            for i in range(n):
                f = isw[i] != 0
                mi = m[i]
                wn = _momentum(w[i], g[i], &mi, f, nest, lr, mu, l2, lrwd, gs)
                bad |= _bad(mi) | _bad(wn)
    elif opt == OPT_ADAM or opt == OPT_ADAMW:
        if write:
            for i in range(n):
                f = isw[i] != 0
                mi = m[i]
                vi = v[i]
                w[i] = _adam(w[i], g[i], &mi, &vi, f, b1, c1, b2, c2, eps, l2, lrwd, gs, step)
                m[i] = mi
                v[i] = vi
        elif mode == PASS_QUICK:   # no sqrt, no division: the check pass costs a fraction
            for i in range(n):
                f = isw[i] != 0
                mi = m[i]
                vi = v[i]
                wn = _adam_moments(w[i], g[i], &mi, &vi, f, b1, c1, b2, c2, l2, lrwd, gs)
                bad |= _bad(mi) | _bad(vi) | (not (_abs(wn) + astep_eps * _abs(mi) <= lim))
        else:
            for i in range(n):
                f = isw[i] != 0
                mi = m[i]
                vi = v[i]
                wn = _adam(w[i], g[i], &mi, &vi, f, b1, c1, b2, c2, eps, l2, lrwd, gs, step)
                bad |= _bad(mi) | _bad(vi) | _bad(wn)
    else:        # an unknown code: nothing written (optim_step never passes one)
        return STATUS_BAD_CODE
    return bad


cdef struct _OptimJob:      # one pass of optim_step, for its chunk function
    int opt
    int mode
    void* w
    const void* g
    void* m
    void* v
    const unsigned char* is_weight
    double lr, momentum, beta1, beta2, eps, l2, weight_decay, grad_scale, step


cdef int _optim_chunk(Py_ssize_t lo, Py_ssize_t hi, void* ctx, floating* tag) noexcept nogil:
    """Entries lo..hi-1 of an optim_step pass (a chunk function for parallel_ranges)."""
    cdef _OptimJob* j = <_OptimJob*>ctx
    cdef floating* m = <floating*>j.m
    cdef floating* v = <floating*>j.v
    return _optim_range(j.opt, hi - lo, <floating*>j.w + lo, <const floating*>j.g + lo,
                        (m + lo if m != NULL else m), (v + lo if v != NULL else v),
                        (j.is_weight + lo if j.is_weight != NULL else j.is_weight),
                        <floating>j.lr, <floating>j.momentum, <floating>j.beta1,
                        <floating>(1 - j.beta1), <floating>j.beta2, <floating>(1 - j.beta2),
                        <floating>j.eps, <floating>j.l2, <floating>(j.lr * j.weight_decay),
                        <floating>j.grad_scale, <floating>j.step, j.mode)


cdef int _optim_pass(int opt, Py_ssize_t n, floating* w, const floating* g, floating* m,
                     floating* v, const unsigned char* is_weight, double lr, double momentum,
                     double beta1, double beta2, double eps, double l2, double weight_decay,
                     double grad_scale, double step, int nt, int mode) noexcept nogil:
    """_optim_range over all n entries on nt threads; returns the OR of the ranges."""
    cdef _OptimJob job
    if nt <= 1:
        return _optim_range(opt, n, w, g, m, v, is_weight, <floating>lr, <floating>momentum,
                            <floating>beta1, <floating>(1 - beta1), <floating>beta2,
                            <floating>(1 - beta2), <floating>eps, <floating>l2,
                            <floating>(lr * weight_decay), <floating>grad_scale,
                            <floating>step, mode)
    job.opt, job.mode, job.w, job.g, job.m, job.v = opt, mode, w, g, m, v
    job.is_weight, job.lr, job.momentum, job.beta1 = is_weight, lr, momentum, beta1
    job.beta2, job.eps, job.l2, job.weight_decay = beta2, eps, l2, weight_decay
    job.grad_scale, job.step = grad_scale, step
    return parallel_ranges(n, _aligned_chunk(n, nt), nt, _optim_chunk[floating], &job, False)


cdef int optim_step(int opt, Py_ssize_t n,
                    floating* w,                         # IN/OUT n
                    const floating* g,                   # IN  n
                    floating* m, floating* v,            # IN/OUT n (state; v Adam only)
                    const unsigned char* is_weight,      # IN  n, may be NULL
                    double lr, double momentum, double beta1, double beta2, double eps,
                    double l2, double weight_decay, double grad_scale, long long t,
                    int n_threads) noexcept nogil:
    """g' = grad_scale g + l2 w; w -= lr wd w; w, m, v := rule(w, g', m, v).

    All or nothing: returns 0 after the update, or 1 with nothing written when any new w, m
    or v would be NaN or inf (a check pass computes the update without storing it first, so
    a diverging step never leaves non-finite parameters behind).
    """
    cdef double step = 0     # hyper-parameters are combined in double, then rounded once
    cdef int nt, rc
    if not opt_known(opt):
        return STATUS_BAD_CODE
    if n <= 0:
        return 0
    if opt == OPT_ADAM or opt == OPT_ADAMW:
        step = lr * sqrt(1 - pow(beta2, <double>t)) / (1 - pow(beta1, <double>t))
    nt = _threads_for(<double>n, OPTIM_PER_THREAD, n_threads)
    rc = _optim_pass(opt, n, w, g, m, v, is_weight, lr, momentum, beta1, beta2, eps, l2,
                     weight_decay, grad_scale, step, nt, PASS_QUICK)
    if rc > 0:     # maybe non-finite: decide exactly
        rc = _optim_pass(opt, n, w, g, m, v, is_weight, lr, momentum, beta1, beta2, eps, l2,
                         weight_decay, grad_scale, step, nt, PASS_EXACT)
    if rc != 0:
        return STATUS_BAD_CODE if rc < 0 else 1
    _optim_pass(opt, n, w, g, m, v, is_weight, lr, momentum, beta1, beta2, eps, l2,
                weight_decay, grad_scale, step, nt, PASS_WRITE)
    return 0
