# Fused output-layer loss kernels (nogil): softmax cross-entropy, binary cross-entropy with
# logits, MSE, MAE, Huber.  The checked def wrapper is in losses_py.pxi.  Uses math.pxi and
# the row reductions of reductions.pxi (_max8, _sum8).
#
# Design:
#   1. One call returns scale * L and writes dz = scale * dL/dz, with the softmax / sigmoid
#      of the classification losses fused in and computed stably for any |z| (log-sum-exp
#      with the row max subtracted; max(z, 0) - z y + log1p(exp(-|z|))).
#   2. The value is summed per row in double, over row chunks whose size depends only on
#      (rows, cols), and the chunk sums are added in order: the same bits for any thread
#      count.  Threads take whole chunks.
#   3. dz may alias z (the training step overwrites the logits with their gradient): every
#      row (or group of short rows) reads z before writing dz, or reads z_j before writing
#      dz_j in the same iteration.
#   4. Every loss code has its own branch; a code outside [0, LOSS_COUNT) returns
#      STATUS_BAD_CODE with nothing written (the wrapper validates the name first).

cdef enum:
    LOSS_CHUNK_ELEMS = 4096            # fixed work of one loss-value chunk
    LOSS_MAX_CHUNKS = 256
    LOSS_BLOCK = 256                   # per-element terms buffered on the stack


cdef void _ce_terms(Py_ssize_t n, const floating* z, const floating* y, floating mx,
                    floating* t) noexcept nogil:
    """t = y (mx - z), 0 where y == 0 (so z = -inf with y = 0 costs nothing, not inf * 0)"""
    cdef Py_ssize_t j
    cdef floating yj, v
    for j in range(n):
        yj = y[j]
        v = yj * (mx - z[j])
        t[j] = v if yj != 0 else 0


cdef void _exp_shift(Py_ssize_t n, const floating* z, floating mx, floating* e) noexcept nogil:
    """e = exp(z - mx)"""
    cdef Py_ssize_t j
    for j in range(n):
        e[j] = _exp(z[j] - mx)


cdef double _ce_row(Py_ssize_t cols, const floating* z, const floating* y,
                    floating* dz, double c) noexcept nogil:
    """l = -sum_j y_j log softmax(z)_j; dz = c (softmax(z) sum_j y_j - y); dz may be z"""
    cdef floating t[LOSS_BLOCK]
    cdef floating mx = _max8(cols, z)
    cdef double s = 0, sy = 0, lz = 0
    cdef Py_ssize_t j0 = 0, n
    # -log softmax_j = (mx - z_j) + log s: both terms >= 0, so no cancellation.  All reads
    # of z happen before dz is written.
    while j0 < cols:
        n = _min(LOSS_BLOCK, cols - j0)
        _ce_terms(n, z + j0, y + j0, mx, t)
        lz += _sum8(n, t)
        sy += _sum8(n, y + j0)
        if dz == NULL:
            _exp_shift(n, z + j0, mx, t)
            s += _sum8(n, t)
        j0 += n
    if dz != NULL:
        _exp_shift(cols, z, mx, dz)
        s = _sum8(cols, dz)
        _ce_grad_from(cols, dz, y, dz, <floating>(c * sy / s), <floating>c)
    return lz + sy * lepton_log(s)


cdef void _shift_rows(Py_ssize_t nr, Py_ssize_t cols, const floating* z,
                      floating* t) noexcept nogil:
    """t_ij = z_ij - max_k z_ik"""
    cdef Py_ssize_t r, j
    cdef floating mx
    for r in range(nr):
        mx = _max8(cols, z + r * cols)
        for j in range(cols):
            t[r * cols + j] = z[r * cols + j] - mx


cdef void _ce_terms_shifted(Py_ssize_t n, const floating* t, const floating* y,
                            floating* u) noexcept nogil:
    """u = -y t (= y (mx - z)), 0 where y == 0"""
    cdef Py_ssize_t j
    cdef floating yj, v
    for j in range(n):
        yj = y[j]
        v = -yj * t[j]
        u[j] = v if yj != 0 else 0


cdef void _exp_block(Py_ssize_t n, const floating* t, floating* e) noexcept nogil:
    """e = exp(t)"""
    cdef Py_ssize_t j
    for j in range(n):
        e[j] = _exp(t[j])


cdef void _ce_grad_from(Py_ssize_t n, const floating* e, const floating* y, floating* dz,
                        floating f, floating c) noexcept nogil:
    """dz = f e - c y"""
    cdef Py_ssize_t j
    for j in range(n):
        dz[j] = f * e[j] - c * y[j]


cdef double _ce_group(Py_ssize_t nr, Py_ssize_t cols, const floating* z, const floating* y,
                      const floating* sw, floating* dz, double gscale) noexcept nogil:
    """_ce_row for nr short rows (nr cols <= LOSS_BLOCK) sharing each vector loop"""
    cdef floating t[LOSS_BLOCK]
    cdef floating u[LOSS_BLOCK]
    cdef Py_ssize_t r, ne = nr * cols
    cdef double total = 0, s, sy, w, c
    _shift_rows(nr, cols, z, t)            # every read of z happens here, before dz is written
    _ce_terms_shifted(ne, t, y, u)
    _exp_block(ne, t, t)
    for r in range(nr):
        s = _sum8(cols, t + r * cols)
        sy = _sum8(cols, y + r * cols)
        w = sw[r] if sw != NULL else 1.0
        total += w * (_sum8(cols, u + r * cols) + sy * lepton_log(s))
        if dz != NULL:
            c = gscale * w
            _ce_grad_from(cols, t + r * cols, y + r * cols, dz + r * cols,
                          <floating>(c * sy / s), <floating>c)
    return total


# Elementwise losses (BCE, MSE, MAE, Huber): per-element terms go through a stack block in
# vectorised loops, then a fixed-order double sum per row.  Short rows are grouped so that
# one vector loop covers many rows (a (batch, 1) output would otherwise pay a call per row).
cdef void _bce_terms(Py_ssize_t n, const floating* z, const floating* y,
                     floating* t) noexcept nogil:
    """t = max(z, 0) - z y + log1p(exp(-|z|))"""
    cdef Py_ssize_t j
    cdef floating zj, az
    for j in range(n):
        zj = z[j]
        az = zj if zj > 0 else -zj
        t[j] = (zj if zj > 0 else 0) - zj * y[j] + _log1p(_exp(-az))


cdef void _sq_terms(Py_ssize_t n, const floating* z, const floating* y,
                    floating* t) noexcept nogil:
    """t = (z - y)^2"""
    cdef Py_ssize_t j
    cdef floating r
    for j in range(n):
        r = z[j] - y[j]
        t[j] = r * r


cdef void _abs_terms(Py_ssize_t n, const floating* z, const floating* y,
                     floating* t) noexcept nogil:
    """t = |z - y|"""
    cdef Py_ssize_t j
    cdef floating r
    for j in range(n):
        r = z[j] - y[j]
        t[j] = r if r > 0 else -r


cdef void _huber_terms(Py_ssize_t n, const floating* z, const floating* y, floating* t,
                       floating d) noexcept nogil:
    """t = r^2 / 2 if |r| <= d else d (|r| - d / 2), r = z - y"""
    cdef Py_ssize_t j
    cdef floating r, q, lin
    for j in range(n):
        r = z[j] - y[j]
        r = r if r > 0 else -r
        q = <floating>0.5 * r * r
        lin = d * (r - <floating>0.5 * d)
        t[j] = q if r <= d else lin


cdef void _bce_grad(Py_ssize_t n, const floating* z, const floating* y, floating* dz,
                    floating c) noexcept nogil:
    """dz = c (sigmoid(z) - y)"""
    cdef Py_ssize_t j
    for j in range(n):
        dz[j] = c * (_sigmoid(z[j]) - y[j])


cdef void _mse_grad(Py_ssize_t n, const floating* z, const floating* y, floating* dz,
                    floating k) noexcept nogil:
    """dz = k (z - y)"""
    cdef Py_ssize_t j
    for j in range(n):
        dz[j] = k * (z[j] - y[j])


cdef void _mae_grad(Py_ssize_t n, const floating* z, const floating* y, floating* dz,
                    floating k) noexcept nogil:
    """dz = k sign(z - y)"""
    cdef Py_ssize_t j
    cdef floating r
    for j in range(n):
        r = z[j] - y[j]
        dz[j] = k if r > 0 else (-k if r < 0 else 0)


cdef void _huber_grad(Py_ssize_t n, const floating* z, const floating* y, floating* dz,
                      floating k, floating d) noexcept nogil:
    """dz = k clip(z - y, -d, d)"""
    cdef Py_ssize_t j
    cdef floating r
    for j in range(n):
        r = z[j] - y[j]
        r = r if r < d else d
        r = r if r > -d else -d
        dz[j] = k * r


cdef inline void _terms(int loss, Py_ssize_t n, const floating* z, const floating* y,
                        floating* t, floating d) noexcept nogil:
    """t = l(z, y) per element for the elementwise losses (BCE, MSE, MAE, Huber)"""
    if loss == LOSS_BINARY_CROSS_ENTROPY:
        _bce_terms(n, z, y, t)
    elif loss == LOSS_MSE:
        _sq_terms(n, z, y, t)
    elif loss == LOSS_MAE:
        _abs_terms(n, z, y, t)
    elif loss == LOSS_HUBER:
        _huber_terms(n, z, y, t, d)


cdef inline void _grad(int loss, Py_ssize_t n, Py_ssize_t cols, const floating* z,
                       const floating* y, floating* dz, double c, floating d) noexcept nogil:
    """dz = c dl/dz for n elements of rows with cols columns"""
    if loss == LOSS_BINARY_CROSS_ENTROPY:
        _bce_grad(n, z, y, dz, <floating>c)
    elif loss == LOSS_MSE:
        _mse_grad(n, z, y, dz, <floating>(2 * c / cols))
    elif loss == LOSS_MAE:
        _mae_grad(n, z, y, dz, <floating>(c / cols))
    elif loss == LOSS_HUBER:
        _huber_grad(n, z, y, dz, <floating>(c / cols), d)


cdef double _elem_rows(int loss, Py_ssize_t rows, Py_ssize_t cols,
                       const floating* z, const floating* y,   # IN  rows x cols
                       const floating* sw,                     # IN  rows, may be NULL
                       floating* dz,                           # OUT rows x cols, may be NULL
                       double delta, double gscale) noexcept nogil:
    """sum_i w_i l_i, l_i = sum_j bce | mean_j (z-y)^2, |z-y|, huber; dz_i = gscale w_i dl_i"""
    cdef floating t[LOSS_BLOCK]
    cdef floating d = <floating>delta
    cdef double total = 0, l, mean = 1.0 if loss == LOSS_BINARY_CROSS_ENTROPY else 1.0 / cols
    cdef Py_ssize_t i0 = 0, j0, nr, ne, r, rb = _max(1, LOSS_BLOCK // cols)
    while i0 < rows:
        nr = _min(rb, rows - i0)
        if cols <= LOSS_BLOCK:     # nr whole rows in one block
            ne = nr * cols
            _terms(loss, ne, z + i0 * cols, y + i0 * cols, t, d)
            for r in range(nr):
                l = _sum8(cols, t + r * cols) * mean
                total += l * sw[i0 + r] if sw != NULL else l
        else:                      # one long row, block by block
            ne = cols
            l = 0
            j0 = 0
            while j0 < cols:
                _terms(loss, _min(LOSS_BLOCK, cols - j0), z + i0 * cols + j0,
                       y + i0 * cols + j0, t, d)
                l += _sum8(_min(LOSS_BLOCK, cols - j0), t)
                j0 += LOSS_BLOCK
            total += l * mean * (sw[i0] if sw != NULL else 1.0)
        if dz != NULL and sw == NULL:
            _grad(loss, ne, cols, z + i0 * cols, y + i0 * cols, dz + i0 * cols, gscale, d)
        elif dz != NULL:   # one coefficient per row (so weights of 1 change no bit)
            for r in range(i0, i0 + nr):
                _grad(loss, cols, cols, z + r * cols, y + r * cols, dz + r * cols,
                      gscale * sw[r], d)
        i0 += nr
    return total


cdef double _loss_rows(int loss, Py_ssize_t rows, Py_ssize_t cols,
                       const floating* z, const floating* y,   # IN  rows x cols
                       const floating* sw,                     # IN  rows, may be NULL
                       floating* dz,                           # OUT rows x cols, may be NULL
                       double param, double gscale) noexcept nogil:
    """sum_i w_i l_i (in row order); dz_i = gscale w_i dl_i/dz_i"""
    cdef Py_ssize_t i, nr, rb
    cdef double total = 0, w
    if loss != LOSS_SOFTMAX_CROSS_ENTROPY:   # BCE, MSE, MAE, Huber: _terms / _grad
        return _elem_rows(loss, rows, cols, z, y, sw, dz, param, gscale)
    if 2 * cols <= LOSS_BLOCK:
        rb = LOSS_BLOCK // cols
        i = 0
        while i < rows:
            nr = _min(rb, rows - i)
            total += _ce_group(nr, cols, z + i * cols, y + i * cols,
                               (sw + i if sw != NULL else sw),
                               (dz + i * cols if dz != NULL else dz), gscale)
            i += nr
        return total
    for i in range(rows):
        w = sw[i] if sw != NULL else 1.0
        total += w * _ce_row(cols, z + i * cols, y + i * cols,
                             (dz + i * cols if dz != NULL else dz), gscale * w)
    return total


cdef struct _LossJob:       # one loss_grad call, for its chunk function
    int loss
    Py_ssize_t cols, rc       # rc: rows per chunk
    const void* z
    const void* y
    const void* sw
    void* dz
    double param, gscale
    double* part              # one partial value per chunk


cdef int _loss_chunk(Py_ssize_t lo, Py_ssize_t hi, void* ctx, floating* tag) noexcept nogil:
    """Rows lo..hi-1 (chunk lo // rc) of loss_grad (a chunk function for parallel_ranges)."""
    cdef _LossJob* j = <_LossJob*>ctx
    cdef const floating* sw = <const floating*>j.sw
    cdef floating* dz = <floating*>j.dz
    j.part[lo // j.rc] = _loss_rows(j.loss, hi - lo, j.cols, <const floating*>j.z + lo * j.cols,
                                    <const floating*>j.y + lo * j.cols,
                                    (sw + lo if sw != NULL else sw),
                                    (dz + lo * j.cols if dz != NULL else dz), j.param, j.gscale)
    return STATUS_OK


cdef int loss_grad(int loss, Py_ssize_t rows, Py_ssize_t cols,
                   const floating* z,                    # IN  rows x cols
                   const floating* y,                    # IN  rows x cols
                   const floating* sw,                   # IN  rows, may be NULL
                   floating* dz,                         # OUT rows x cols, may be NULL
                   double param, double scale,
                   double* value,                        # OUT 1
                   int n_threads) noexcept nogil:
    """value = scale * (1/rows) sum_i w_i l_i; dz = scale * dL/dz (dz may alias z)"""
    cdef Py_ssize_t rc, nch
    cdef double part[LOSS_MAX_CHUNKS]
    cdef double total = 0
    cdef int c, nt
    cdef _LossJob job
    if not loss_known(loss):
        return STATUS_BAD_CODE
    if rows <= 0 or cols <= 0:
        value[0] = 0.0
        return STATUS_OK
    # Row chunks depend on (rows, cols) only, never on the thread count.
    rc = _ceil_div(LOSS_CHUNK_ELEMS, cols)
    rc = rc if rc > _ceil_div(rows, LOSS_MAX_CHUNKS) else _ceil_div(rows, LOSS_MAX_CHUNKS)
    nch = _ceil_div(rows, rc)
    nt = _threads_for(<double>rows * cols, EXP_PER_THREAD, n_threads)
    nt = nt if nt < nch else <int>nch
    job.loss, job.cols, job.rc = loss, cols, rc
    job.z, job.y, job.sw, job.dz = z, y, sw, dz
    job.param, job.gscale, job.part = param, scale / rows, part
    parallel_ranges(rows, rc, nt, _loss_chunk[floating], &job, False)
    for c in range(nch):
        total += part[c]
    value[0] = scale * total / rows
    return STATUS_OK
