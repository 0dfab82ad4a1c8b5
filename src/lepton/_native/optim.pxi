# Optimizer kernels (nogil): one fused, all-or-nothing update over the flat parameter
# buffer.  The checked def wrapper is in optim_py.pxi.  Uses math.pxi (_sqrt).
#
# Design:
#   1. optim_step fuses gradient scaling, L2, decoupled weight decay and the optimizer rule
#      per element, so w/g/m/v are written once.  It is all or nothing: a first pass computes
#      the update without storing it and only checks that every new w, m, v is finite; the
#      second pass stores it.  A diverging step (lr too large, overflowing gradients) thus
#      leaves the parameters and optimizer state exactly as they were.  Elementwise, so the
#      thread split (CHUNK_ALIGN multiples) cannot change a result.
#   2. Every optimizer code has its own branch; a code outside [0, OPT_COUNT) returns
#      STATUS_BAD_CODE with nothing written (the wrapper validates the name first).
from libc.math cimport sqrt, pow

cdef enum:
    OPTIM_PER_THREAD = 1 << 15         # elements per thread for an optimizer step


cdef int _optim_range(int opt, Py_ssize_t n,
                      floating* w,                       # IN/OUT n
                      const floating* g,                 # IN  n
                      floating* m, floating* v,          # IN/OUT n (state, may be NULL if unused)
                      const unsigned char* isw,          # IN  n, may be NULL (all weights)
                      floating lr, floating mu, floating b1, floating c1, floating b2,
                      floating c2, floating eps, floating l2, floating lrwd, floating gs,
                      floating step, bint write) noexcept nogil:
    """write: w, m, v := one optimizer step on n contiguous entries (see optim_step), 0.
    not write: nothing stored; 1 if any new w, m or v would be NaN or inf, else 0.
    STATUS_BAD_CODE, nothing stored, for an unknown opt."""
    cdef Py_ssize_t i
    cdef floating wi, gi, mi, vi, wn
    cdef bint f
    cdef int bad = 0
    # One loop per rule (the rule switch stays out of the loop).  The flag tests are
    # loop-invariant when isw is NULL: GCC unswitches them and vectorises every version.
    # Ternaries, not products with the flag, so a non-weight entry never sees 0 * inf.
    # x - x != 0 holds exactly for NaN and +-inf.
    if opt == OPT_SGD:
        for i in range(n):
            f = isw == NULL or isw[i] != 0
            wi = w[i]
            gi = gs * g[i] + (l2 * wi if f else 0)
            wi = wi - (lrwd * wi if f else 0)
            wn = wi - lr * gi
            if write:
                w[i] = wn
            else:
                bad |= (wn - wn) != 0
    elif opt == OPT_MOMENTUM or opt == OPT_NESTEROV:
        for i in range(n):
            f = isw == NULL or isw[i] != 0
            wi = w[i]
            gi = gs * g[i] + (l2 * wi if f else 0)
            wi = wi - (lrwd * wi if f else 0)
            mi = mu * m[i] - lr * gi
            # Nesterov steps along the updated velocity once more.
            wn = wi + (mu * mi - lr * gi if opt == OPT_NESTEROV else mi)
            if write:
                m[i] = mi
                w[i] = wn
            else:
                bad |= ((mi - mi) != 0) | ((wn - wn) != 0)
    elif opt == OPT_ADAM or opt == OPT_ADAMW:
        for i in range(n):
            f = isw == NULL or isw[i] != 0
            wi = w[i]
            gi = gs * g[i] + (l2 * wi if f else 0)
            wi = wi - (lrwd * wi if f else 0)
            mi = b1 * m[i] + c1 * gi
            vi = b2 * v[i] + c2 * (gi * gi)
            wn = wi - step * mi / (_sqrt(vi) + eps)
            if write:
                m[i] = mi
                v[i] = vi
                w[i] = wn
            else:
                bad |= ((mi - mi) != 0) | ((vi - vi) != 0) | ((wn - wn) != 0)
    else:        # an unknown code: nothing written (optim_step never passes one)
        return STATUS_BAD_CODE
    return bad


cdef struct _OptimJob:      # one pass of optim_step, for its chunk function
    int opt
    bint write
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
                        <floating>j.grad_scale, <floating>j.step, j.write)


cdef int _optim_pass(int opt, Py_ssize_t n, floating* w, const floating* g, floating* m,
                     floating* v, const unsigned char* is_weight, double lr, double momentum,
                     double beta1, double beta2, double eps, double l2, double weight_decay,
                     double grad_scale, double step, int nt, bint write) noexcept nogil:
    """_optim_range over all n entries on nt threads; returns the OR of the ranges."""
    cdef _OptimJob job
    if nt <= 1:
        return _optim_range(opt, n, w, g, m, v, is_weight, <floating>lr, <floating>momentum,
                            <floating>beta1, <floating>(1 - beta1), <floating>beta2,
                            <floating>(1 - beta2), <floating>eps, <floating>l2,
                            <floating>(lr * weight_decay), <floating>grad_scale,
                            <floating>step, write)
    job.opt, job.write, job.w, job.g, job.m, job.v = opt, write, w, g, m, v
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
                     weight_decay, grad_scale, step, nt, False)
    if rc != 0:
        return STATUS_BAD_CODE if rc < 0 else 1
    _optim_pass(opt, n, w, g, m, v, is_weight, lr, momentum, beta1, beta2, eps, l2,
                weight_decay, grad_scale, step, nt, True)
    return 0
