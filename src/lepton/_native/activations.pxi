# Activation kernels (nogil): forward and backward of every activation, elementwise or
# row-wise (softmax).  The checked def wrappers are in activations_py.pxi.  Uses math.pxi
# and the row reductions of reductions.pxi (_max8, _sum8).
#
# Design:
#   1. Each activation is a serial range function over contiguous memory (one small function
#      per loop, see below) plus a driver that splits the work between threads only above a
#      work threshold.  Elementwise activations split the flat index range into CHUNK_ALIGN
#      multiples; softmax splits whole rows.  Either way results are bitwise identical for
#      any thread count.
#   2. Every code is handled by its own branch.  A code outside [0, ACT_COUNT) returns
#      STATUS_BAD_CODE before anything is written (the wrappers never pass one: they
#      validate first, so the status is a fallback, not the guard).
#   3. Kernels never allocate, never raise, and read only what their contract names.
from libc.string cimport memcpy


cdef struct _ActJob:        # one act_forward / act_backward call, for its chunk functions
    int act
    Py_ssize_t cols
    const void* z
    const void* a
    const void* da
    void* out                 # a (forward) or dz (backward)
    double param


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


cdef int _act_fwd_range(int act, Py_ssize_t n,
                        const floating* z,               # IN  n
                        floating* a,                     # OUT n
                        floating p) noexcept nogil:
    """a = f(z) elementwise (every activation but softmax, which is row-wise)."""
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
    else:        # softmax (_softmax_rows) or an unknown code: nothing written
        return STATUS_BAD_CODE
    return STATUS_OK


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
    """Elements per thread: cheap for identity / relu / leaky_relu, every other activation
    has an exp, log or tanh per element."""
    if act == ACT_IDENTITY or act == ACT_RELU or act == ACT_LEAKY_RELU:
        return CHEAP_PER_THREAD
    return EXP_PER_THREAD


cdef int _act_fwd_chunk(Py_ssize_t lo, Py_ssize_t hi, void* ctx, floating* tag) noexcept nogil:
    """Elements lo..hi-1 of act_forward (a chunk function for parallel_ranges)."""
    cdef _ActJob* j = <_ActJob*>ctx
    return _act_fwd_range(j.act, hi - lo, <const floating*>j.z + lo, <floating*>j.out + lo,
                          <floating>j.param)


cdef int _softmax_chunk(Py_ssize_t lo, Py_ssize_t hi, void* ctx, floating* tag) noexcept nogil:
    """Rows lo..hi-1 of act_forward's softmax (a chunk function for parallel_ranges)."""
    cdef _ActJob* j = <_ActJob*>ctx
    _softmax_rows(hi - lo, j.cols, <const floating*>j.z + lo * j.cols,
                  <floating*>j.out + lo * j.cols)
    return STATUS_OK


cdef int act_forward(int act, Py_ssize_t rows, Py_ssize_t cols,
                     const floating* z,                  # IN  rows x cols
                     floating* a,                        # OUT rows x cols
                     double param, int n_threads) noexcept nogil:
    """a = f(z) (softmax: row-wise); a may alias z"""
    cdef Py_ssize_t n = rows * cols
    cdef int nt
    cdef _ActJob job
    if not act_known(act):
        return STATUS_BAD_CODE
    if n <= 0:
        return STATUS_OK
    nt = _threads_for(<double>n, _act_cost(act), n_threads)
    job.act, job.cols, job.z, job.out, job.param = act, cols, z, a, param
    if act == ACT_SOFTMAX:
        nt = nt if nt < rows else <int>rows
        if nt <= 1:
            _softmax_rows(rows, cols, z, a)
            return STATUS_OK
        return parallel_ranges(rows, _ceil_div(rows, nt), nt, _softmax_chunk[floating], &job,
                               False)
    if nt <= 1:
        return _act_fwd_range(act, n, z, a, <floating>param)
    return parallel_ranges(n, _aligned_chunk(n, nt), nt, _act_fwd_chunk[floating], &job, False)


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


cdef int _act_bwd_range(int act, Py_ssize_t n,
                         const floating* z,              # IN  n (relu, leaky, elu, gelu, softplus)
                         const floating* a,              # IN  n (sigmoid, tanh, elu)
                         const floating* da,             # IN  n
                         floating* dz,                   # OUT n
                         floating p) noexcept nogil:
    """dz = da * f'(z) elementwise (every activation but softmax, which is row-wise)."""
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
    else:        # softmax (_softmax_bwd_rows) or an unknown code: nothing written
        return STATUS_BAD_CODE
    return STATUS_OK


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


cdef int _act_bwd_chunk(Py_ssize_t lo, Py_ssize_t hi, void* ctx, floating* tag) noexcept nogil:
    """Elements lo..hi-1 of act_backward (a chunk function for parallel_ranges)."""
    cdef _ActJob* j = <_ActJob*>ctx
    cdef const floating* z = <const floating*>j.z
    cdef const floating* a = <const floating*>j.a
    return _act_bwd_range(j.act, hi - lo, (z + lo if z != NULL else z),
                          (a + lo if a != NULL else a), <const floating*>j.da + lo,
                          <floating*>j.out + lo, <floating>j.param)


cdef int _softmax_bwd_chunk(Py_ssize_t lo, Py_ssize_t hi, void* ctx,
                            floating* tag) noexcept nogil:
    """Rows lo..hi-1 of act_backward's softmax (a chunk function for parallel_ranges)."""
    cdef _ActJob* j = <_ActJob*>ctx
    _softmax_bwd_rows(hi - lo, j.cols, <const floating*>j.a + lo * j.cols,
                      <const floating*>j.da + lo * j.cols, <floating*>j.out + lo * j.cols)
    return STATUS_OK


cdef int act_backward(int act, Py_ssize_t rows, Py_ssize_t cols,
                      const floating* z, const floating* a,    # IN  rows x cols
                      const floating* da,                      # IN  rows x cols
                      floating* dz,                            # OUT rows x cols
                      double param, int n_threads) noexcept nogil:
    """dz = da * f'(z); dz may alias da"""
    cdef Py_ssize_t n = rows * cols
    cdef int nt
    cdef _ActJob job
    if not act_known(act):
        return STATUS_BAD_CODE
    if n <= 0:
        return STATUS_OK
    job.act, job.cols, job.z, job.a, job.da, job.out, job.param = act, cols, z, a, da, dz, param
    if act == ACT_SOFTMAX:
        nt = _threads_for(<double>n, CHEAP_PER_THREAD, n_threads)
        nt = nt if nt < rows else <int>rows
        if nt <= 1:
            _softmax_bwd_rows(rows, cols, a, da, dz)
            return STATUS_OK
        return parallel_ranges(rows, _ceil_div(rows, nt), nt, _softmax_bwd_chunk[floating],
                               &job, False)
    nt = _threads_for(<double>n, _act_cost(act), n_threads)
    if nt <= 1:
        return _act_bwd_range(act, n, z, a, da, dz, <floating>param)
    return parallel_ranges(n, _aligned_chunk(n, nt), nt, _act_bwd_chunk[floating], &job, False)
