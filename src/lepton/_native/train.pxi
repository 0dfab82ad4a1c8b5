# The whole MLP in native code (nogil): inference forward and the fused training step, built
# from the kernels of gemm.pxi, activations.pxi, losses.pxi, reductions.pxi, optim.pxi and
# dropout.pxi.  The GIL-side holders (Net, TrainState) are in train_py.pxi.
#
# Design:
#   1. A network is a NetPlan (sizes, activation codes, dropout rates, offsets into ONE flat
#      parameter buffer: per Dense layer W (n_in x n_out, row-major) then b (n_out)).  The
#      cdef class Net owns the plan and a reference to the Model's flat buffer.
#   2. Inference (Net.predict) is one native call for the whole network: per layer
#      Z = X @ W + b (bias fused into the GEMM epilogue) then the activation in place.  Rows
#      are cut into fixed-size chunks; with several threads each chunk runs serially on one
#      thread (no barrier per layer), a single chunk uses the threads inside the GEMM.  Chunk
#      boundaries never depend on the thread count, so the output is bitwise identical for
#      any thread count.  A few rows (predict_1) go through GEMM's unpacked few-row path.
#   3. Training (TrainState.train) runs a range of mini-batches in one nogil call: gather the
#      batch rows through a permutation, forward (dropout masks from (seed, step, layer,
#      index), recomputed in backward), loss_grad, backward (dW = H^T dZ, db = colsum dZ,
#      dH = dZ W^T), optional global-norm clipping, optim_step over the flat buffers.  The
#      workspace is one buffer sized for the batch capacity, allocated by TrainState.reserve,
#      never per step.  A non-finite loss stops the loop BEFORE that batch's update, and so
#      does an update that would overflow (optim_step is all or nothing), so the parameters
#      and optimizer state are never non-finite: divergence leaves the last finite weights.
#   4. Everything the wrappers validate happens before the GIL is released; the nogil code
#      reports through a status value: STATUS_NOMEM (GEMM pack buffers) or, as a fallback
#      the wrappers' validation never lets happen, STATUS_BAD_CODE for an activation, loss or
#      optimizer code outside its enum (checked before anything is written).
from libc.math cimport isfinite, sqrt
from libc.string cimport memcpy

cdef enum:
    # Rows per inference chunk: activations of a chunk stay in L2; chunks are the unit of
    # parallel work for bulk prediction.
    PREDICT_CHUNK = 256
    # Workspace offsets are rounded up to this many elements (64-byte alignment).
    WS_ALIGN = 16


cdef inline Py_ssize_t _align(Py_ssize_t n) noexcept nogil:
    return (n + WS_ALIGN - 1) // WS_ALIGN * WS_ALIGN


cdef int dense_forward(Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out,
                       const floating* x,                        # IN  m x n_in
                       const floating* w,                        # IN  n_in x n_out
                       const floating* b,                        # IN  n_out, may be NULL
                       floating* z,                              # OUT m x n_out
                       int n_threads) noexcept nogil:
    """Z = X @ W + b; STATUS_OK or STATUS_NOMEM."""
    return gemm_(False, False, m, n_out, n_in, <floating>1, x, n_in, w, n_out, <floating>0,
                 z, n_out, b, n_threads)


cdef inline const floating* _bias(const NetPlan* net, const floating* params, int l) noexcept nogil:
    return params + net.b_off[l] if net.use_bias[l] else <const floating*>NULL


cdef int plan_check(const NetPlan* net, const TrainPlan* tp) noexcept nogil:
    """STATUS_OK if every activation (and, tp != NULL, the loss and optimizer) code is known,
    else STATUS_BAD_CODE."""
    cdef int l
    for l in range(net.n_layers):
        if not act_known(net.acts[l]):
            return STATUS_BAD_CODE
    if tp != NULL and not (loss_known(tp.loss) and opt_known(tp.opt)):
        return STATUS_BAD_CODE
    return STATUS_OK


cdef int net_forward(const NetPlan* net, Py_ssize_t m,
                     const floating* x,                          # IN  m x dims[0]
                     const floating* params,                     # IN  n_params
                     floating* ws, Py_ssize_t ws_stride,         # scratch 2 x ws_stride
                     floating* out,                              # OUT m x dims[L]
                     int n_threads) noexcept nogil:
    """out = f_L(... f_1(x W_1 + b_1) ...) (inference: no dropout); a status."""
    cdef int l, rc, L = net.n_layers
    cdef const floating* inp = x
    cdef floating* dst
    for l in range(L):
        dst = out if l == L - 1 else ws + (l % 2) * ws_stride
        rc = dense_forward(m, net.dims[l], net.dims[l + 1], inp, params + net.w_off[l],
                           _bias(net, params, l), dst, n_threads)
        if rc == STATUS_OK and net.acts[l] != ACT_IDENTITY:
            rc = act_forward(net.acts[l], m, net.dims[l + 1], dst, dst, net.act_param[l],
                             n_threads)
        if rc != STATUS_OK:
            return rc
        inp = dst
    return STATUS_OK


cdef struct _PredictJob:    # predict_rows' row chunks, for its chunk function
    const NetPlan* net
    const void* x
    const void* params
    void* ws
    void* out
    Py_ssize_t stride


cdef int _predict_chunk(Py_ssize_t r0, Py_ssize_t r1, void* ctx, floating* tag) noexcept nogil:
    """Rows r0..r1-1 of predict_rows, serial, in the calling OpenMP thread's slice of the
    workspace (a chunk function for parallel_ranges); 1 on failure."""
    cdef _PredictJob* j = <_PredictJob*>ctx
    cdef Py_ssize_t d_in = j.net.dims[0], d_out = j.net.dims[j.net.n_layers]
    return net_forward(j.net, r1 - r0, <const floating*>j.x + r0 * d_in,
                       <const floating*>j.params,
                       <floating*>j.ws + 2 * j.stride * lepton_omp_thread_num(), j.stride,
                       <floating*>j.out + r0 * d_out, 1) != STATUS_OK


cdef int predict_rows(const NetPlan* net, Py_ssize_t n, Py_ssize_t chunk,
                      const floating* x,                         # IN  n x dims[0]
                      const floating* params,                    # IN  n_params
                      floating* ws,                              # scratch, see Net._predict_ws
                      floating* out,                             # OUT n x dims[L]
                      int n_threads) noexcept nogil:
    """out = network(x) in chunks of `chunk` rows; a status."""
    cdef Py_ssize_t c, r0, rows, n_chunks = (n + chunk - 1) // chunk
    cdef Py_ssize_t d_in = net.dims[0], d_out = net.dims[net.n_layers]
    cdef Py_ssize_t stride = _align(_min(n, chunk) * net.max_width)
    cdef int rc, nt = n_threads if n_threads < n_chunks else <int>n_chunks
    cdef _PredictJob job
    rc = plan_check(net, NULL)
    if rc != STATUS_OK:
        return rc
    if nt <= 1:
        for c in range(n_chunks):
            r0 = c * chunk
            rows = _min(chunk, n - r0)
            rc = net_forward(net, rows, x + r0 * d_in, params, ws, stride, out + r0 * d_out,
                             n_threads)
            if rc != STATUS_OK:
                return rc
        return STATUS_OK
    # One chunk per task, serial inside: no barrier per layer.  Each OpenMP thread owns a
    # slice of the workspace.  The codes are known (checked above), so a failure is memory.
    job.net, job.x, job.params, job.ws, job.out, job.stride = net, x, params, ws, out, stride
    if parallel_ranges(n, chunk, nt, _predict_chunk[floating], &job, True):
        return STATUS_NOMEM
    return STATUS_OK


cdef double l2_penalty(const NetPlan* net, const floating* params, double l2,
                       int n_threads) noexcept nogil:
    """0.5 * l2 * sum_l ||W_l||^2 (biases excluded)."""
    cdef double s = 0
    cdef int l
    if l2 == 0:
        return 0.0
    for l in range(net.n_layers):
        s += sq_norm(net.dims[l] * net.dims[l + 1], params + net.w_off[l], n_threads)
    return 0.5 * l2 * s


cdef double forward_backward(const NetPlan* net, const TrainPlan* tp, Py_ssize_t rows,
                             const floating* x,                  # IN  rows x dims[0]
                             const floating* y,                  # IN  rows x dims[L]
                             const floating* sw,                 # IN  rows, may be NULL
                             const floating* params,             # IN  n_params
                             floating* grads,                    # OUT n_params (if want_grad)
                             floating* ws,                       # scratch, TrainPlan offsets
                             floating* out,                      # OUT rows x dims[L], may be NULL
                             uint64_t step, bint train, bint want_grad, int* status,
                             int n_threads) noexcept nogil:
    """Returns scale * L(params; x, y) and, if want_grad, grads := its gradient (no L2 term).

    train: apply dropout (masks keyed by (seed, step, layer, index)).  out: the network's
    output activations (inference heads, e.g. probabilities), for metrics.  status: STATUS_OK,
    or the failure (the returned value is then 0).
    """
    cdef int l, rc, L = net.n_layers
    cdef Py_ssize_t n_in, n_out, K = net.dims[L]
    cdef const floating* inp = x
    cdef floating* z = NULL
    cdef floating* a = NULL
    cdef floating* h
    cdef floating* gcur = ws + tp.g0_off
    cdef floating* gnext = ws + tp.g1_off
    cdef floating* tmp
    cdef floating* dz = gcur if want_grad else NULL
    cdef double loss = 0.0
    # Known codes (checked here) are all the activation and loss kernels below can fail on.
    status[0] = plan_check(net, tp)
    if status[0] != STATUS_OK:
        return 0.0
    for l in range(L):
        n_in = net.dims[l]
        n_out = net.dims[l + 1]
        z = ws + tp.z_off[l]
        rc = dense_forward(rows, n_in, n_out, inp, params + net.w_off[l],
                           _bias(net, params, l), z, n_threads)
        if rc != STATUS_OK:
            status[0] = rc
            return 0.0
        if l == L - 1 and tp.logits:
            break  # the loss fuses the head's softmax / sigmoid
        a = ws + tp.a_off[l]   # == z for identity
        if net.acts[l] != ACT_IDENTITY:
            act_forward(net.acts[l], rows, n_out, z, a, net.act_param[l], n_threads)
        h = a
        if train and net.drop[l] > 0:
            h = ws + tp.h_off[l]
            memcpy(h, a, rows * n_out * sizeof(floating))
            dropout_apply(rows, n_out, h, net.drop[l], tp.seed, step, <uint32_t>l, n_threads)
        inp = h

    if tp.logits:
        loss_grad(tp.loss, rows, K, z, y, sw, dz, tp.loss_param, tp.loss_scale, &loss,
                  n_threads)
        if out != NULL:
            act_forward(net.acts[L - 1], rows, K, z, out, net.act_param[L - 1], n_threads)
    else:
        loss_grad(tp.loss, rows, K, a, y, sw, dz, tp.loss_param, tp.loss_scale, &loss,
                  n_threads)
        if want_grad and net.acts[L - 1] != ACT_IDENTITY:
            act_backward(net.acts[L - 1], rows, K, z, a, gcur, gcur, net.act_param[L - 1],
                         n_threads)
        if out != NULL:
            memcpy(out, a, rows * K * sizeof(floating))
    if not want_grad:
        return loss

    for l in range(L - 1, -1, -1):
        n_in = net.dims[l]
        n_out = net.dims[l + 1]
        inp = x if l == 0 else ws + (tp.h_off[l - 1] if train else tp.a_off[l - 1])
        # dW = H_prev^T @ dZ ; db = sum over rows of dZ
        rc = gemm_(True, False, n_in, n_out, rows, <floating>1, inp, n_in, gcur, n_out,
                   <floating>0, grads + net.w_off[l], n_out, <const floating*>NULL, n_threads)
        if rc != STATUS_OK:
            status[0] = rc
            return 0.0
        if net.use_bias[l]:
            col_sum(rows, n_out, gcur, grads + net.b_off[l], n_threads)
        if l == 0:
            break
        # dH_prev = dZ @ W^T, then back through dropout and the activation (in place).
        rc = gemm_(False, True, rows, n_in, n_out, <floating>1, gcur, n_out,
                   params + net.w_off[l], n_out, <floating>0, gnext, n_in,
                   <const floating*>NULL, n_threads)
        if rc != STATUS_OK:
            status[0] = rc
            return 0.0
        if train and net.drop[l - 1] > 0:
            dropout_apply(rows, n_in, gnext, net.drop[l - 1], tp.seed, step, <uint32_t>(l - 1),
                          n_threads)
        if net.acts[l - 1] != ACT_IDENTITY:
            act_backward(net.acts[l - 1], rows, n_in, ws + tp.z_off[l - 1],
                         ws + tp.a_off[l - 1], gnext, gnext, net.act_param[l - 1], n_threads)
        tmp = gcur
        gcur = gnext
        gnext = tmp
    return loss


cdef Py_ssize_t train_batches(const NetPlan* net, const TrainPlan* tp, Py_ssize_t n,
                              const floating* X,                 # IN  n x dims[0]
                              const floating* Y,                 # IN  n x dims[L]
                              const floating* SW,                # IN  n, may be NULL
                              const Py_ssize_t* perm,            # IN  n, may be NULL (in order)
                              Py_ssize_t batch_size, Py_ssize_t b0, Py_ssize_t nb,
                              const double* lrs,                 # IN  nb
                              double* losses,                    # OUT nb
                              floating* params,                  # IN/OUT n_params
                              floating* grads,                   # scratch n_params
                              floating* m, floating* v,          # IN/OUT optimizer state
                              const unsigned char* is_weight,    # IN  n_params
                              floating* ws,                      # scratch, TrainPlan offsets
                              long long* t,                      # IN/OUT step count
                              int n_threads) noexcept nogil:
    """For batches b0 .. b0+nb-1: params := optim_step(params, grad L_batch).

    Returns the number of batches applied: nb, or the index of the first batch whose loss
    was not finite or whose update would have made a parameter or optimizer state non-finite
    (its update skipped, its loss written; a finite loss there means the update overflowed),
    or a (negative) failure status: STATUS_NOMEM, or STATUS_BAD_CODE before any batch.
    """
    cdef Py_ssize_t bi, i0, rows, r, src
    cdef Py_ssize_t d_in = net.dims[0], K = net.dims[net.n_layers]
    cdef const floating* xb
    cdef const floating* yb
    cdef const floating* swb
    cdef floating* gx = ws + tp.xb_off
    cdef floating* gy = ws + tp.yb_off
    cdef floating* gsw = ws + tp.sw_off
    cdef double loss, gnorm, grad_scale
    cdef int status = plan_check(net, tp)
    if status != STATUS_OK:
        return status
    for bi in range(nb):
        i0 = (b0 + bi) * batch_size
        rows = _min(batch_size, n - i0)
        if perm != NULL:
            for r in range(rows):
                src = perm[i0 + r]
                memcpy(gx + r * d_in, X + src * d_in, d_in * sizeof(floating))
                memcpy(gy + r * K, Y + src * K, K * sizeof(floating))
                if SW != NULL:
                    gsw[r] = SW[src]
            xb, yb = gx, gy
            swb = gsw if SW != NULL else <const floating*>NULL
        else:
            xb = X + i0 * d_in
            yb = Y + i0 * K
            swb = SW + i0 if SW != NULL else <const floating*>NULL
        loss = forward_backward(net, tp, rows, xb, yb, swb, params, grads, ws,
                                <floating*>NULL, <uint64_t>(t[0] + 1), True, True, &status,
                                n_threads)
        if status != STATUS_OK:
            return status
        loss = loss * tp.report_scale + l2_penalty(net, params, tp.l2, n_threads)
        losses[bi] = loss
        if not isfinite(loss):
            return bi
        grad_scale = 1.0
        if tp.clip_norm > 0:
            gnorm = sqrt(sq_norm(net.n_params, grads, n_threads))
            if gnorm > tp.clip_norm:
                grad_scale = tp.clip_norm / gnorm
        t[0] += 1
        if optim_step(tp.opt, net.n_params, params, grads, m, v, is_weight, lrs[bi],
                      tp.momentum, tp.beta1, tp.beta2, tp.eps, tp.l2, tp.weight_decay,
                      grad_scale, t[0], n_threads) != 0:
            t[0] -= 1    # the update overflowed (codes are known) and was not applied
            return bi
    return nb
