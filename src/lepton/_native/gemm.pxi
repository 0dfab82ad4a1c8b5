# GEMM kernels (nogil), laid out like BLIS: JC -> PC -> pack B -> IC -> pack A -> JR/IR ->
# micro-kernel.  The checked def wrapper is in gemm_py.pxi; the register micro-kernels are C
# (lepton.h, ukr.inc / gemv.inc / narrow.inc).
#
# Design:
#   1. Threads split C into disjoint 2-D blocks (over the IC/JR loops), never over k, so each
#      element is accumulated in the same order for any thread count: bitwise-identical
#      results.
#   2. Small products stay serial (a parallel region costs more than it saves below a few
#      MFLOP); small operands are read in place instead of packed (gemm_direct), a few rows
#      stream B (gemv), a narrow C packs B once and splits rows (gemm_narrow).  Every path
#      uses the k blocks and tiles of the packed path, so the result is the same bits.
#   3. Pack buffers come from lepton_tls_buffer (per OS thread, grow-only): no allocation in
#      steady state; out of memory is reported as STATUS_NOMEM, never raised.

cdef enum:
    # Below this many flops a parallel region costs more than it saves (~2-5 MFLOP here).
    GEMM_PARALLEL_MIN_FLOPS = 3000000
    # Each extra thread must get at least this many flops.
    GEMM_FLOPS_PER_THREAD = 1500000
    # Operands up to this size are read in place instead of packed (they sit in L1/L2).
    GEMM_DIRECT_MAX_BYTES = 131072
    # Transposing packs copy this many k-steps at a time so the panel being written stays in L1.
    PACK_CHUNK = 16


cdef void pack_a(bint trans, Py_ssize_t mc, Py_ssize_t kc,
                 const floating* a, Py_ssize_t lda,      # IN: op(A) block origin
                 floating* out, int mr) noexcept nogil:  # OUT: ceil(mc/mr) panels kc x mr
    """out[panel][p][r] = op(A)[panel*mr + r, p], zero-padded past mc."""
    cdef Py_ssize_t ir, ir_i, r, p, p0, p0_i, p1, rows
    cdef floating* panel
    cdef const floating* src
    for ir_i in range(_ceil_div(mc, mr)):
        ir = ir_i * mr
        rows = _min(mr, mc - ir)
        panel = out + ir * kc
        if trans:  # op(A)[i, p] = a[p*lda + i]: rows are contiguous in memory
            for p in range(kc):
                src = a + p * lda + ir
                for r in range(rows):
                    panel[p * mr + r] = src[r]
                for r in range(rows, mr):
                    panel[p * mr + r] = 0
        else:      # op(A)[i, p] = a[i*lda + p]: a transpose, in p-chunks that stay in L1
            for p0_i in range(_ceil_div(kc, PACK_CHUNK)):
                p0 = p0_i * PACK_CHUNK
                p1 = _min(p0 + PACK_CHUNK, kc)
                for r in range(rows):
                    src = a + (ir + r) * lda
                    for p in range(p0, p1):
                        panel[p * mr + r] = src[p]
                for r in range(rows, mr):
                    for p in range(p0, p1):
                        panel[p * mr + r] = 0


cdef void pack_b(bint trans, Py_ssize_t kc, Py_ssize_t nc,
                 const floating* b, Py_ssize_t ldb,      # IN: op(B) block origin
                 floating* out, int nr) noexcept nogil:  # OUT: ceil(nc/nr) panels kc x nr
    """out[panel][p][c] = op(B)[p, panel*nr + c], zero-padded past nc."""
    cdef Py_ssize_t jr, jr_i, c, p, p0, p0_i, p1, cols
    cdef floating* panel
    cdef const floating* src
    for jr_i in range(_ceil_div(nc, nr)):
        jr = jr_i * nr
        cols = _min(nr, nc - jr)
        panel = out + jr * kc
        if trans:  # op(B)[p, j] = b[j*ldb + p]: a transpose, done in p-chunks that stay in L1
            for p0_i in range(_ceil_div(kc, PACK_CHUNK)):
                p0 = p0_i * PACK_CHUNK
                p1 = _min(p0 + PACK_CHUNK, kc)
                for c in range(cols):
                    src = b + (jr + c) * ldb
                    for p in range(p0, p1):
                        panel[p * nr + c] = src[p]
                for c in range(cols, nr):
                    for p in range(p0, p1):
                        panel[p * nr + c] = 0
        else:      # op(B)[p, j] = b[p*ldb + j]: columns are contiguous
            for p in range(kc):
                src = b + p * ldb + jr
                for c in range(cols):
                    panel[p * nr + c] = src[c]
                for c in range(cols, nr):
                    panel[p * nr + c] = 0


cdef inline void ukr(Py_ssize_t kc, const floating* a, const floating* b, floating* c,
                     Py_ssize_t ldc, floating alpha, floating beta,
                     const floating* bias) noexcept nogil:
    """C[MR x NR] := alpha * Apanel @ Bpanel + beta * C + bias (C micro-kernel, lepton.h)."""
    if floating is float:
        ukr_f32(kc, a, 1, MR_F32, b, NR_F32, c, ldc, alpha, beta, bias)
    else:
        ukr_f64(kc, a, 1, MR_F64, b, NR_F64, c, ldc, alpha, beta, bias)


cdef void macro_kernel(Py_ssize_t mc, Py_ssize_t nc, Py_ssize_t kc, floating alpha,
                       const floating* pa, const floating* pb,   # IN: packed panels
                       floating beta, floating* c, Py_ssize_t ldc,  # IN/OUT
                       const floating* bias, int mr, int nr) noexcept nogil:
    """C[mc x nc] := alpha * packedA @ packedB + beta * C + bias; edge tiles via a temp tile."""
    cdef Py_ssize_t ir, ir_i, jr, jr_i, rows, cols
    cdef floating tile[16 * 64]   # >= MR*NR for every ISA level in lepton.h
    cdef floating* ct
    cdef const floating* bj
    for jr_i in range(_ceil_div(nc, nr)):
        jr = jr_i * nr
        cols = _min(nr, nc - jr)
        bj = bias + jr if bias != NULL else NULL
        for ir_i in range(_ceil_div(mc, mr)):
            ir = ir_i * mr
            rows = _min(mr, mc - ir)
            ct = c + ir * ldc + jr
            if rows == mr and cols == nr:
                ukr(kc, pa + ir * kc, pb + jr * kc, ct, ldc, alpha, beta, bj)
            else:
                ukr(kc, pa + ir * kc, pb + jr * kc, tile, nr, alpha, <floating>0, <floating*>NULL)
                merge_tile(rows, cols, tile, nr, beta, ct, ldc, bj)


cdef inline void merge_tile(Py_ssize_t rows, Py_ssize_t cols, const floating* tile, int nr,
                            floating beta, floating* ct, Py_ssize_t ldc,
                            const floating* bj) noexcept nogil:
    """C[:rows, :cols] := tile + beta * C + bias (edge tiles; beta == 0 never reads C)."""
    cdef Py_ssize_t i, j
    for i in range(rows):
        for j in range(cols):
            if beta == 0:
                ct[i * ldc + j] = tile[i * nr + j]
            else:
                ct[i * ldc + j] = tile[i * nr + j] + beta * ct[i * ldc + j]
            if bj != NULL:
                ct[i * ldc + j] += bj[j]


cdef int gemm_serial(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                     floating alpha, const floating* a, Py_ssize_t lda,
                     const floating* b, Py_ssize_t ldb, floating beta,
                     floating* c, Py_ssize_t ldc, const floating* bias) noexcept nogil:
    """C := alpha * op(A) @ op(B) + beta * C + bias, on the calling thread; m, n, k >= 1."""
    if not trans_b and (m * k + k * n) * sizeof(floating) <= GEMM_DIRECT_MAX_BYTES:
        return gemm_direct(trans_a, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias)
    cdef int mr, nr
    cdef Py_ssize_t kcb, mcb, ncb, jc, jc_i, pc, pc_i, ic, ic_i, nc, kc, mc
    cdef floating* pa
    cdef floating* pb
    cdef floating beta_p
    cdef const floating* bias_p
    if floating is float:
        mr, nr, kcb, mcb, ncb = MR_F32, NR_F32, KC_F32, MC_F32, NC_F32
    else:
        mr, nr, kcb, mcb, ncb = MR_F64, NR_F64, KC_F64, MC_F64, NC_F64
    kcb = _min(kcb, k)
    mcb = _min(mcb, _ceil_div(m, mr) * mr)
    ncb = _min(ncb, _ceil_div(n, nr) * nr)
    pa = <floating*>lepton_tls_buffer(TLS_PACK_A, mcb * kcb * sizeof(floating))
    pb = <floating*>lepton_tls_buffer(TLS_PACK_B, ncb * kcb * sizeof(floating))
    if pa == NULL or pb == NULL:
        return STATUS_NOMEM
    for jc_i in range(_ceil_div(n, ncb)):
        jc = jc_i * ncb
        nc = _min(ncb, n - jc)
        for pc_i in range(_ceil_div(k, kcb)):
            pc = pc_i * kcb
            kc = _min(kcb, k - pc)
            # beta and bias apply once, on the first k block; later blocks accumulate.
            beta_p = beta if pc == 0 else <floating>1
            bias_p = bias + jc if (pc == 0 and bias != NULL) else NULL
            if trans_b:
                pack_b(True, kc, nc, b + jc * ldb + pc, ldb, pb, nr)
            else:
                pack_b(False, kc, nc, b + pc * ldb + jc, ldb, pb, nr)
            for ic_i in range(_ceil_div(m, mcb)):
                ic = ic_i * mcb
                mc = _min(mcb, m - ic)
                if trans_a:
                    pack_a(True, mc, kc, a + pc * lda + ic, lda, pa, mr)
                else:
                    pack_a(False, mc, kc, a + ic * lda + pc, lda, pa, mr)
                macro_kernel(mc, nc, kc, alpha, pa, pb, beta_p, c + ic * ldc + jc, ldc,
                             bias_p, mr, nr)
    return STATUS_OK


cdef int gemm_direct(bint trans_a, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                     floating alpha, const floating* a, Py_ssize_t lda,
                     const floating* b, Py_ssize_t ldb, floating beta,
                     floating* c, Py_ssize_t ldc, const floating* bias) noexcept nogil:
    """C := alpha * op(A) @ B + beta * C + bias with A and row-major B read in place.

    For small operands (a training step's matrices at small batch sizes) packing costs as
    much as the product: the micro-kernel reads op(A) through its strides and the rows of B
    directly; only edge tiles are packed, so nothing is read out of bounds.  The k blocks
    and tiles are those of the packed path, so the result is bitwise the same.
    """
    cdef int mr, nr
    cdef Py_ssize_t kcb, pc, pc_i, kc, jr, jr_i, ir, ir_i, rows, cols
    cdef Py_ssize_t rs_a = 1 if trans_a else lda
    cdef Py_ssize_t cs_a = lda if trans_a else 1
    cdef Py_ssize_t a_rs, a_cs, b_rs
    cdef const floating* asrc
    cdef const floating* bsrc
    cdef const floating* bias_p
    cdef floating beta_p
    cdef floating tile[16 * 64]
    cdef floating* pa
    cdef floating* pb
    if floating is float:
        mr, nr, kcb = MR_F32, NR_F32, KC_F32
    else:
        mr, nr, kcb = MR_F64, NR_F64, KC_F64
    kcb = _min(kcb, k)
    pa = <floating*>lepton_tls_buffer(TLS_PACK_A, mr * kcb * sizeof(floating))
    pb = <floating*>lepton_tls_buffer(TLS_PACK_B, nr * kcb * sizeof(floating))
    if pa == NULL or pb == NULL:
        return STATUS_NOMEM
    for pc_i in range(_ceil_div(k, kcb)):
        pc = pc_i * kcb
        kc = _min(kcb, k - pc)
        beta_p = beta if pc == 0 else <floating>1
        for jr_i in range(_ceil_div(n, nr)):
            jr = jr_i * nr
            cols = _min(nr, n - jr)
            bias_p = bias + jr if (pc == 0 and bias != NULL) else NULL
            if cols == nr:
                bsrc, b_rs = b + pc * ldb + jr, ldb
            else:
                pack_b(False, kc, cols, b + pc * ldb + jr, ldb, pb, nr)
                bsrc, b_rs = pb, nr
            for ir_i in range(_ceil_div(m, mr)):
                ir = ir_i * mr
                rows = _min(mr, m - ir)
                if rows == mr:
                    asrc, a_rs, a_cs = a + ir * rs_a + pc * cs_a, rs_a, cs_a
                else:
                    pack_a(trans_a, rows, kc, a + ir * rs_a + pc * cs_a, lda, pa, mr)
                    asrc, a_rs, a_cs = pa, 1, mr
                if rows == mr and cols == nr:
                    ukr_any(kc, asrc, a_rs, a_cs, bsrc, b_rs, c + ir * ldc + jr, ldc, alpha,
                            beta_p, bias_p)
                else:
                    ukr_any(kc, asrc, a_rs, a_cs, bsrc, b_rs, tile, nr, alpha, <floating>0,
                            <floating*>NULL)
                    merge_tile(rows, cols, tile, nr, beta_p, c + ir * ldc + jr, ldc, bias_p)
    return STATUS_OK


cdef inline void ukr_any(Py_ssize_t kc, const floating* a, Py_ssize_t rs_a, Py_ssize_t cs_a,
                         const floating* b, Py_ssize_t rs_b, floating* c, Py_ssize_t ldc,
                         floating alpha, floating beta, const floating* bias) noexcept nogil:
    """C[MR x NR] := alpha * A @ B + beta * C + bias with A and B given by strides."""
    if floating is float:
        ukr_f32(kc, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, bias)
    else:
        ukr_f64(kc, a, rs_a, cs_a, b, rs_b, c, ldc, alpha, beta, bias)


cdef inline void gemv_(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, floating alpha,
                       const floating* a, bint trans_a, Py_ssize_t lda,
                       const floating* b, Py_ssize_t ldb, floating beta,
                       floating* c, Py_ssize_t ldc, const floating* bias) noexcept nogil:
    """C := alpha * op(A) @ B + beta * C + bias for a few rows, B streamed (not packed)."""
    cdef Py_ssize_t rs_a = 1 if trans_a else lda
    cdef Py_ssize_t cs_a = lda if trans_a else 1
    if floating is float:
        gemv_f32(m, n, k, alpha, a, rs_a, cs_a, b, ldb, beta, c, ldc, bias)
    else:
        gemv_f64(m, n, k, alpha, a, rs_a, cs_a, b, ldb, beta, c, ldc, bias)


cdef struct _NarrowJob:      # gemm_narrow's row split (pointers typed by the chunk function)
    const void* a
    const void* pb
    void* c
    const void* bias
    double alpha, beta        # the floating alpha / beta, exactly
    Py_ssize_t k, n, rs_a, cs_a, ldc


cdef int _narrow_rows(Py_ssize_t i0, Py_ssize_t i1, void* ctx, floating* tag) noexcept nogil:
    """Rows i0..i1-1 of gemm_narrow's C (a chunk function for parallel_ranges)."""
    cdef _NarrowJob* j = <_NarrowJob*>ctx
    _narrow(i1 - i0, j.k, j.n, <floating>j.alpha, <const floating*>j.a + i0 * j.rs_a, j.rs_a,
            j.cs_a, <const floating*>j.pb, <floating>j.beta, <floating*>j.c + i0 * j.ldc,
            j.ldc, <const floating*>j.bias)
    return 0


cdef int gemm_narrow(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                     floating alpha, const floating* a, Py_ssize_t lda,
                     const floating* b, Py_ssize_t ldb, floating beta,
                     floating* c, Py_ssize_t ldc, const floating* bias,
                     int n_threads) noexcept nogil:
    """C := alpha * op(A) @ op(B) + beta * C + bias for n <= one vector: B packed, A in place."""
    cdef Py_ssize_t vl = LEPTON_VBYTES // sizeof(floating)
    cdef Py_ssize_t rs_a = 1 if trans_a else lda
    cdef Py_ssize_t cs_a = lda if trans_a else 1
    cdef Py_ssize_t rows_per
    cdef int nt = n_threads
    cdef _NarrowJob job
    cdef floating* pb = <floating*>lepton_tls_buffer(TLS_PACK_B, k * vl * sizeof(floating))
    if pb == NULL:
        return STATUS_NOMEM
    pack_b(trans_b, k, n, b, ldb, pb, <int>vl)  # k x vl, zero-padded; read by every thread
    if 2.0 * m * n * k < GEMM_PARALLEL_MIN_FLOPS:
        nt = 1
    rows_per = _ceil_div(_ceil_div(m, nt), 8) * 8
    nt = <int>_ceil_div(m, rows_per)
    if nt <= 1:
        _narrow(m, k, n, alpha, a, rs_a, cs_a, pb, beta, c, ldc, bias)
        return STATUS_OK
    job.a, job.pb, job.c, job.bias = a, pb, c, bias
    job.alpha, job.beta = alpha, beta
    job.k, job.n, job.rs_a, job.cs_a, job.ldc = k, n, rs_a, cs_a, ldc
    parallel_ranges(m, rows_per, nt, _narrow_rows[floating], &job, False)
    return STATUS_OK


cdef inline void _narrow(Py_ssize_t m, Py_ssize_t k, Py_ssize_t n, floating alpha,
                         const floating* a, Py_ssize_t rs_a, Py_ssize_t cs_a,
                         const floating* pb, floating beta, floating* c, Py_ssize_t ldc,
                         const floating* bias) noexcept nogil:
    if floating is float:
        narrow_f32(m, k, n, alpha, a, rs_a, cs_a, pb, beta, c, ldc, bias)
    else:
        narrow_f64(m, k, n, alpha, a, rs_a, cs_a, pb, beta, c, ldc, bias)


cdef void scale_rows(Py_ssize_t m, Py_ssize_t n, floating beta, floating* c, Py_ssize_t ldc,
                     const floating* bias) noexcept nogil:
    """C := beta * C + bias (C := bias when beta == 0, never reading C)."""
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(n):
            if beta == 0:
                c[i * ldc + j] = 0
            elif beta != 1:
                c[i * ldc + j] *= beta
            if bias != NULL:
                c[i * ldc + j] += bias[j]


cdef struct _GemmGrid:       # gemm_'s tm x tn split of C into blocks of mt x nc rows/cols
    const void* a
    const void* b
    void* c
    const void* bias
    double alpha, beta        # the floating alpha / beta, exactly
    bint trans_a, trans_b
    Py_ssize_t m, n, k, lda, ldb, ldc, mt, nc
    int tn


cdef int _gemm_blocks(Py_ssize_t t0, Py_ssize_t t1, void* ctx, floating* tag) noexcept nogil:
    """Blocks t0..t1-1 of gemm_'s grid, each by gemm_serial (a chunk function for
    parallel_ranges); 1 if out of memory."""
    cdef _GemmGrid* g = <_GemmGrid*>ctx
    cdef const floating* a = <const floating*>g.a
    cdef const floating* b = <const floating*>g.b
    cdef const floating* bias = <const floating*>g.bias
    cdef floating* c = <floating*>g.c
    cdef Py_ssize_t t, i0, i1, j0, j1
    cdef int failed = 0
    for t in range(t0, t1):
        i0 = (t // g.tn) * g.mt
        j0 = (t % g.tn) * g.nc
        i1 = _min(i0 + g.mt, g.m)
        j1 = _min(j0 + g.nc, g.n)
        if i0 < i1 and j0 < j1:
            failed |= gemm_serial(
                g.trans_a, g.trans_b, i1 - i0, j1 - j0, g.k, <floating>g.alpha,
                (a + i0 if g.trans_a else a + i0 * g.lda), g.lda,
                (b + j0 * g.ldb if g.trans_b else b + j0), g.ldb, <floating>g.beta,
                c + i0 * g.ldc + j0, g.ldc, (bias + j0 if bias != NULL else bias)) != 0
    return failed


cdef int gemm_(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
               floating alpha, const floating* a, Py_ssize_t lda,
               const floating* b, Py_ssize_t ldb, floating beta,
               floating* c, Py_ssize_t ldc, const floating* bias,
               int n_threads) noexcept nogil:
    """C := alpha * op(A) @ op(B) + beta * C (+ bias row); STATUS_OK or STATUS_NOMEM."""
    cdef int mr, nr, nt, tm, tn, best_tm
    cdef Py_ssize_t tiles_m, tiles_n, cost, best_cost, pack, best_pack
    cdef double flops
    cdef Py_ssize_t vl
    cdef _GemmGrid grid
    if m <= 0 or n <= 0:
        return STATUS_OK
    if k <= 0 or alpha == 0:
        scale_rows(m, n, beta, c, ldc, bias)
        return STATUS_OK
    if m <= GEMV_MAX_ROWS and not trans_b:
        # A few rows (prediction on single samples): stream B instead of packing all of it.
        # Serial: measured here, a second thread costs more than it saves at these sizes.
        gemv_(m, n, k, alpha, a, trans_a, lda, b, ldb, beta, c, ldc, bias)
        return STATUS_OK
    vl = LEPTON_VBYTES // sizeof(floating)
    if n <= vl:
        return gemm_narrow(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                           bias, n_threads)
    if floating is float:
        mr, nr = MR_F32, NR_F32
    else:
        mr, nr = MR_F64, NR_F64
    flops = 2.0 * m * n * k
    nt = n_threads
    if flops < GEMM_PARALLEL_MIN_FLOPS:
        nt = 1
    elif nt > flops / GEMM_FLOPS_PER_THREAD:
        nt = <int>(flops / GEMM_FLOPS_PER_THREAD)
    if nt <= 1:
        return gemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias)

    # Split C into a tm x tn grid of whole MR/NR tiles minimising the largest block, then
    # (on ties) the elements each thread packs: its rows of op(A) plus its columns of op(B).
    tiles_m = _ceil_div(m, mr)
    tiles_n = _ceil_div(n, nr)
    best_tm, best_cost, best_pack = nt, -1, 0
    for tm in range(nt, 0, -1):
        if nt % tm:
            continue
        tn = nt // tm
        if tm > tiles_m or tn > tiles_n:
            continue
        cost = _ceil_div(tiles_m, tm) * _ceil_div(tiles_n, tn)
        pack = (_ceil_div(tiles_m, tm) * mr + _ceil_div(tiles_n, tn) * nr) * k
        if best_cost < 0 or cost < best_cost or (cost == best_cost and pack < best_pack):
            best_tm, best_cost, best_pack = tm, cost, pack
    if best_cost < 0:
        return gemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias)
    tm = best_tm
    tn = nt // tm
    grid.a, grid.b, grid.c, grid.bias = a, b, c, bias
    grid.alpha, grid.beta = alpha, beta
    grid.trans_a, grid.trans_b = trans_a, trans_b
    grid.m, grid.n, grid.k, grid.lda, grid.ldb, grid.ldc = m, n, k, lda, ldb, ldc
    grid.mt = _ceil_div(tiles_m, tm) * mr     # rows per block
    grid.nc = _ceil_div(tiles_n, tn) * nr     # cols per block
    grid.tn = tn
    # One block per thread: nt tasks of one block each.
    if parallel_ranges(nt, 1, nt, _gemm_blocks[floating], &grid, False):
        return STATUS_NOMEM
    return STATUS_OK
