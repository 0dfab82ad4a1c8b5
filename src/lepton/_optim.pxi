# Optimizer updates and dropout, with their checked def wrappers.  Included by _core.pyx
# after _kernels.pxi (uses its chunking helpers).
#
# Design:
#   1. optim_step fuses gradient scaling, L2, decoupled weight decay and the optimizer rule
#      per element, so w/g/m/v are written once.  It is all or nothing: a first pass computes
#      the update without storing it and only checks that every new w, m, v is finite; the
#      second pass stores it.  A diverging step (lr too large, overflowing gradients) thus
#      leaves the parameters and optimizer state exactly as they were.  Elementwise, so the
#      thread split (CHUNK_ALIGN multiples) cannot change a result.
#   2. Dropout masks come from Philox4x32-10 (_lepton_math.h), a counter-based RNG: element
#      index i of (seed, step, layer) maps to one 32-bit word, so the mask is the same for any
#      thread count and backward recomputes it instead of storing it.  Stream layout:
#        key     = (seed mod 2^32, seed >> 32)
#        counter = (b mod 2^32, step mod 2^32, layer, (step >> 32) ^ (b >> 32)),  b = i >> 2
#        word    = output[i & 3];  keep = word >= ceil(rate * 2^32)
#      (distinct (seed, step, layer, i) give distinct counters while step and b < 2^32).
from libc.math cimport sqrtf, ceil
from libc.string cimport memset

cdef enum:
    OPTIM_PER_THREAD = 1 << 15         # elements per thread for an optimizer step
    DROP_BLOCK = 64                    # Philox blocks generated per batch (256 elements)


cdef inline floating _sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


# ---------------------------------------------------------------- optimizers
cdef int _optim_range(int opt, Py_ssize_t n,
                      floating* w,                       # IN/OUT n
                      const floating* g,                 # IN  n
                      floating* m, floating* v,          # IN/OUT n (state, may be NULL if unused)
                      const unsigned char* isw,          # IN  n, may be NULL (all weights)
                      floating lr, floating mu, floating b1, floating c1, floating b2,
                      floating c2, floating eps, floating l2, floating lrwd, floating gs,
                      floating step, bint write) noexcept nogil:
    """write: w, m, v := one optimizer step on n contiguous entries (see optim_step), 0.
    not write: nothing stored; 1 if any new w, m or v would be NaN or inf, else 0."""
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
    else:
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
    return bad


cdef int _optim_pass(int opt, Py_ssize_t n, floating* w, const floating* g, floating* m,
                     floating* v, const unsigned char* is_weight, double lr, double momentum,
                     double beta1, double beta2, double eps, double l2, double weight_decay,
                     double grad_scale, double step, int nt, bint write) noexcept nogil:
    """_optim_range over all n entries on nt threads; returns the OR of the ranges."""
    cdef unsigned int fpm, fpo
    cdef Py_ssize_t cs, lo, hi
    cdef int k, bad = 0
    if nt <= 1:
        return _optim_range(opt, n, w, g, m, v, is_weight, <floating>lr, <floating>momentum,
                            <floating>beta1, <floating>(1 - beta1), <floating>beta2,
                            <floating>(1 - beta2), <floating>eps, <floating>l2,
                            <floating>(lr * weight_decay), <floating>grad_scale,
                            <floating>step, write)
    cs = _aligned_chunk(n, nt)
    fpm = lepton_fp_mode()
    for k in prange(nt, nogil=True, num_threads=nt, schedule="static"):
        fpo = lepton_fp_set(fpm)  # workers run in the caller's FP mode
        lo = k * cs
        hi = _min(lo + cs, n)
        if lo < hi:
            bad |= _optim_range(opt, hi - lo, w + lo, g + lo, (m + lo if m != NULL else m),
                                (v + lo if v != NULL else v),
                                (is_weight + lo if is_weight != NULL else is_weight),
                                <floating>lr, <floating>momentum, <floating>beta1,
                                <floating>(1 - beta1), <floating>beta2, <floating>(1 - beta2),
                                <floating>eps, <floating>l2, <floating>(lr * weight_decay),
                                <floating>grad_scale, <floating>step, write)
        lepton_fp_set(fpo)
    return bad


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
    cdef int nt
    if n <= 0:
        return 0
    if opt == OPT_ADAM or opt == OPT_ADAMW:
        step = lr * sqrt(1 - pow(beta2, <double>t)) / (1 - pow(beta1, <double>t))
    nt = _threads_for(<double>n, OPTIM_PER_THREAD, n_threads)
    if _optim_pass(opt, n, w, g, m, v, is_weight, lr, momentum, beta1, beta2, eps, l2,
                   weight_decay, grad_scale, step, nt, False):
        return 1
    _optim_pass(opt, n, w, g, m, v, is_weight, lr, momentum, beta1, beta2, eps, l2,
                weight_decay, grad_scale, step, nt, True)
    return 0


# ---------------------------------------------------------------- dropout
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


cdef void dropout_apply(Py_ssize_t rows, Py_ssize_t cols,
                        floating* x,                     # IN/OUT rows x cols
                        double rate, uint64_t seed, uint64_t step, uint32_t layer,
                        int n_threads) noexcept nogil:
    """x_ij *= keep_ij / (1 - rate)"""
    cdef unsigned int fpm, fpo
    cdef Py_ssize_t n = rows * cols, cs, lo, hi
    cdef uint64_t thr
    cdef floating scale
    cdef int k, nt
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
    cs = _aligned_chunk(n, nt)
    fpm = lepton_fp_mode()
    for k in prange(nt, nogil=True, num_threads=nt, schedule="static"):
        fpo = lepton_fp_set(fpm)  # workers run in the caller's FP mode
        lo = k * cs
        hi = _min(lo + cs, n)
        if lo < hi:
            _dropout_range(lo, hi, x, <uint32_t>thr, scale, seed, step, layer)
        lepton_fp_set(fpo)


# ---------------------------------------------------------------- def wrappers
cdef frozenset _USES_M = frozenset({"momentum", "nesterov", "adam", "adamw"})
cdef frozenset _USES_V = frozenset({"adam", "adamw"})


def optimizer_step(optimizer, w, g, m=None, v=None, *, is_weight=None, lr, momentum=0.9,
                   beta1=0.9, beta2=0.999, eps=1e-8, l2=0.0, weight_decay=0.0,
                   grad_scale=1.0, t=1, n_threads=None):
    """One optimizer step, in place on ``w`` (and the state ``m``, ``v``), in one fused pass.

    With ``g' = grad_scale * g + l2 * w`` (the L2 term on weights only) and, first, the
    decoupled decay ``w -= lr * weight_decay * w`` (weights only):

    - "sgd": ``w -= lr * g'``
    - "momentum": ``m = momentum * m - lr * g'; w += m``
    - "nesterov": ``m = momentum * m - lr * g'; w += momentum * m - lr * g'``
    - "adam" / "adamw": ``m = beta1 m + (1 - beta1) g'; v = beta2 v + (1 - beta2) g'**2;
      w -= lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sqrt(v) + eps)``
      (scikit-learn's form; "adamw" is "adam" meant for use with ``weight_decay``).

    Parameters
    ----------
    optimizer : str
        One of ``lepton._names.OPTIMIZERS``.
    w : ndarray, C-contiguous, float32 or float64, writable
        Parameters (any shape, usually the flat parameter buffer).
    g : ndarray
        Gradient, same shape and dtype as ``w``.
    m, v : ndarray, optional
        Optimizer state, same shape and dtype, writable, zeros before the first step.
        ``m`` is needed by every optimizer but "sgd", ``v`` by "adam" and "adamw".
    is_weight : ndarray of bool or uint8, optional
        Same shape as ``w``; True where an entry is a weight (gets ``l2`` and
        ``weight_decay``), False for biases.  None: every entry is a weight.
    lr : float
        Learning rate, > 0.
    momentum : float
        In [0, 1) (momentum, nesterov).
    beta1, beta2 : float
        In [0, 1) (adam, adamw).
    eps : float
        > 0 (adam, adamw).
    l2, weight_decay : float
        >= 0.
    grad_scale : float
        >= 0; multiplies ``g`` (global-norm clipping).
    t : int
        1-based step number for Adam's bias correction, >= 1.
    n_threads : int, optional
        Threads; None follows :func:`lepton.set_num_threads`, -1 uses all processors.

    Returns
    -------
    None
        ``w``, ``m`` and ``v`` are updated in place.

    Raises
    ------
    ValueError
        If ``w``, ``g``, ``m`` or ``v`` contains NaN or infinity.
    FloatingPointError
        If the update overflows (a new ``w``, ``m`` or ``v`` would be NaN or infinity);
        nothing is written then.
    """
    cdef str name = _names.optimizer_name(optimizer)
    cdef int code = _names.OPTIMIZERS[name]
    cdef cnp.ndarray W = _operand(w, "w", None, (), True)
    cdef cnp.ndarray G = _operand(g, "g", W.dtype, (), False)
    _same_shape(G, "g", W, "w")
    cdef cnp.ndarray M = None, V = None, ISW = None
    if name in _USES_M and m is None:
        raise ValueError(f"optimizer {name!r} needs its state m (zeros before the first "
                         f"step), got m=None")
    if name in _USES_V and v is None:
        raise ValueError(f"optimizer {name!r} needs its state v (zeros before the first "
                         f"step), got v=None")
    if m is not None:
        M = _operand(m, "m", W.dtype, (), True)
        _same_shape(M, "m", W, "w")
    if v is not None:
        V = _operand(v, "v", W.dtype, (), True)
        _same_shape(V, "v", W, "w")
    if is_weight is not None:
        if not isinstance(is_weight, cnp.ndarray) or is_weight.dtype not in (np.bool_, np.uint8):
            raise TypeError(f"is_weight must be a numpy.ndarray of dtype bool or uint8, got "
                            f"{getattr(is_weight, 'dtype', type(is_weight).__name__)}")
        ISW = _check(is_weight, "is_weight", -1, is_weight.dtype)
        _same_shape(ISW, "is_weight", W, "w")
    named = [("w", W), ("g", G), ("m", M), ("v", V), ("is_weight", ISW)]
    for i in range(len(named)):
        for j in range(i + 1, len(named)):
            if (named[i][1] is not None and named[j][1] is not None
                    and np.may_share_memory(named[i][1], named[j][1])):
                raise ValueError(f"{named[i][0]} and {named[j][0]} share memory; pass "
                                 f"separate arrays")
    cdef double lr_ = _real(lr, "lr", 0, INFINITY, True, True)
    cdef double mu = _real(momentum, "momentum", 0, 1, False, True)
    cdef double b1 = _real(beta1, "beta1", 0, 1, False, True)
    cdef double b2 = _real(beta2, "beta2", 0, 1, False, True)
    cdef double eps_ = _real(eps, "eps", 0, INFINITY, True, True)
    cdef double l2_ = _real(l2, "l2", 0, INFINITY, False, True)
    cdef double wd = _real(weight_decay, "weight_decay", 0, INFINITY, False, True)
    cdef double gs = _real(grad_scale, "grad_scale", 0, INFINITY, False, True)
    cdef long long t_ = _integer(t, "t", 1, 2**62)
    cdef int nt = resolve_threads(n_threads)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(W)
    cdef void* pw = _ptr(W)
    cdef void* pg = _ptr(G)
    cdef void* pm = _ptr(M)
    cdef void* pv = _ptr(V)
    cdef const unsigned char* pisw = <const unsigned char*>_ptr(ISW)
    for name_, arr in named[:4]:
        if arr is not None:
            _require_finite(arr, name_)
    cdef int bad
    if _is_f32(W):
        with nogil:
            bad = optim_step(code, n, <float*>pw, <const float*>pg, <float*>pm, <float*>pv,
                             pisw, lr_, mu, b1, b2, eps_, l2_, wd, gs, t_, nt)
    else:
        with nogil:
            bad = optim_step(code, n, <double*>pw, <const double*>pg, <double*>pm,
                             <double*>pv, pisw, lr_, mu, b1, b2, eps_, l2_, wd, gs, t_, nt)
    if bad:
        raise FloatingPointError(
            f"optimizer_step: the update overflowed (a new value of w, m or v would be NaN "
            f"or infinity); nothing was written. Try a smaller lr or grad_scale.")


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
    cdef int nt = resolve_threads(n_threads)
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
