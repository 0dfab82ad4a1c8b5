# cython: language_level=3
# The C-level contract of lepton's native core (see the Design block in _core.pyx).
# Every kernel is `noexcept nogil`, takes raw pointers (never memoryview slices, which would
# touch refcounts inside prange), and is tagged IN / OUT.  Kernels that can fail return an
# int Status; nothing here raises.  The enums are the ONE source of the activation / loss /
# optimizer codes: _native/names.pxi builds the Python name tables from them, and every
# range check uses their COUNT sentinel.  Definitions: _native/<family>.pxi (kernels) and
# _native/<family>_py.pxi (the checked def wrappers).
from cython cimport floating
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "_native/lepton.h" nogil:
    int lepton_openmp_enabled()
    int lepton_omp_max_threads()
    int lepton_omp_num_procs()
    int lepton_omp_thread_num()
    int lepton_openmp_version()
    const char* lepton_isa_name()
    const char* lepton_cflags()
    const char* lepton_compiler()
    int lepton_cpu_isa_mask()
    void lepton_count_region()
    long long lepton_regions_opened()
    unsigned int lepton_fp_mode()
    unsigned int lepton_fp_set(unsigned int mode)
    unsigned int lepton_fp_flush()
    void* lepton_tls_buffer(int slot, size_t nbytes)
    # GEMM blocking table (one place: _native/lepton.h)
    const int MR_F32 "LEPTON_MR_F32"
    const int NR_F32 "LEPTON_NR_F32"
    const int KC_F32 "LEPTON_KC_F32"
    const int MC_F32 "LEPTON_MC_F32"
    const int NC_F32 "LEPTON_NC_F32"
    const int MR_F64 "LEPTON_MR_F64"
    const int NR_F64 "LEPTON_NR_F64"
    const int KC_F64 "LEPTON_KC_F64"
    const int MC_F64 "LEPTON_MC_F64"
    const int NC_F64 "LEPTON_NC_F64"
    const int GEMV_MAX_ROWS "LEPTON_GEMV_MAX_ROWS"
    const int LEPTON_VBYTES
    # Register micro-kernel (ukr.inc): C[MR x NR] := alpha * A @ B + beta * C (+ bias), A by
    # strides (rs_a, cs_a), B rows of NR at stride rs_b; beta == 0 never reads C.
    void ukr_f32 "lepton_ukr_f32"(Py_ssize_t kc, const float* a, Py_ssize_t rs_a,
                                  Py_ssize_t cs_a, const float* b, Py_ssize_t rs_b, float* c,
                                  Py_ssize_t ldc, float alpha, float beta, const float* bias)
    void ukr_f64 "lepton_ukr_f64"(Py_ssize_t kc, const double* a, Py_ssize_t rs_a,
                                  Py_ssize_t cs_a, const double* b, Py_ssize_t rs_b, double* c,
                                  Py_ssize_t ldc, double alpha, double beta, const double* bias)
    # Narrow C (narrow.inc): C[m x ncols] := alpha * A @ Bp + beta * C (+ bias), ncols <= one
    # vector, Bp packed k x vector-width.
    void narrow_f32 "lepton_narrow_f32"(Py_ssize_t m, Py_ssize_t k, Py_ssize_t ncols, float alpha,
                                        const float* a, Py_ssize_t rs_a, Py_ssize_t cs_a,
                                        const float* bp, float beta, float* c, Py_ssize_t ldc,
                                        const float* bias)
    void narrow_f64 "lepton_narrow_f64"(Py_ssize_t m, Py_ssize_t k, Py_ssize_t ncols, double alpha,
                                        const double* a, Py_ssize_t rs_a, Py_ssize_t cs_a,
                                        const double* bp, double beta, double* c, Py_ssize_t ldc,
                                        const double* bias)
    # Few rows (gemv.inc, m <= GEMV_MAX_ROWS): C := alpha * A @ B + beta * C (+ bias), B
    # row-major and streamed, not packed.
    void gemv_f32 "lepton_gemv_f32"(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float alpha,
                                    const float* a, Py_ssize_t rs_a, Py_ssize_t cs_a,
                                    const float* b, Py_ssize_t ldb, float beta,
                                    float* c, Py_ssize_t ldc, const float* bias)
    void gemv_f64 "lepton_gemv_f64"(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, double alpha,
                                    const double* a, Py_ssize_t rs_a, Py_ssize_t cs_a,
                                    const double* b, Py_ssize_t ldb, double beta,
                                    double* c, Py_ssize_t ldc, const double* bias)

# TLS scratch slots (lepton_tls_buffer): 0 = packed A, 1 = packed B, 2-3 free for kernels.
cdef enum:
    TLS_PACK_A = 0
    TLS_PACK_B = 1

# What a kernel that can fail returns.  STATUS_BAD_CODE: an activation / loss / optimizer
# code outside its enum, detected before anything is written (the wrappers validate codes
# first, so it is a fallback, never the guard).
cdef enum Status:
    STATUS_OK = 0
    STATUS_NOMEM = -1
    STATUS_BAD_CODE = -2

# Codes shared by the kernels and the Python layer; the Python names are the member names
# without their prefix, in lower case (ACT_LEAKY_RELU: "leaky_relu").  Each enum ends with
# its COUNT sentinel: a valid code is 0 <= code < COUNT.
cpdef enum Activation:
    ACT_IDENTITY = 0
    ACT_SIGMOID = 1
    ACT_TANH = 2
    ACT_RELU = 3
    ACT_LEAKY_RELU = 4
    ACT_ELU = 5
    ACT_GELU = 6
    ACT_SOFTPLUS = 7
    ACT_SOFTMAX = 8
    ACT_COUNT = 9

cpdef enum Loss:
    LOSS_SOFTMAX_CROSS_ENTROPY = 0     # on logits, softmax fused in
    LOSS_BINARY_CROSS_ENTROPY = 1      # on logits, sigmoid fused in
    LOSS_MSE = 2
    LOSS_MAE = 3
    LOSS_HUBER = 4
    LOSS_COUNT = 5

cpdef enum Optimizer:
    OPT_SGD = 0
    OPT_MOMENTUM = 1
    OPT_NESTEROV = 2
    OPT_ADAM = 3
    OPT_ADAMW = 4
    OPT_COUNT = 5

# ---------------------------------------------------------------- GEMM (_native/gemm.pxi)
# C := alpha * op(A) @ op(B) + beta * C (+ bias row); STATUS_OK or STATUS_NOMEM.  Bitwise
# identical for any n_threads (threads split C, never k); beta == 0 never reads C.
cdef int gemm_(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
               floating alpha, const floating* a, Py_ssize_t lda,   # IN
               const floating* b, Py_ssize_t ldb, floating beta,    # IN
               floating* c, Py_ssize_t ldc,                         # IN/OUT
               const floating* bias,                                # IN, may be NULL
               int n_threads) noexcept nogil


# ---------------------------------------------------------------- activations (_native/activations.pxi)
# a = f(z) elementwise (softmax: row-wise).  a may alias z.  param: leaky_relu slope,
# elu alpha (ignored by the others).  STATUS_OK, or STATUS_BAD_CODE with nothing written.
cdef int act_forward(int act, Py_ssize_t rows, Py_ssize_t cols,
                     const floating* z,                           # IN  rows x cols
                     floating* a,                                 # OUT rows x cols
                     double param, int n_threads) noexcept nogil

# dz = da * f'(z) (softmax: dz_ij = a_ij * (da_ij - sum_k da_ik a_ik)); dz may alias da.
# Reads z for relu, leaky_relu, elu, gelu, softplus and a = f(z) for sigmoid, tanh, elu,
# softmax; the pointer an activation does not read may be NULL.  STATUS_OK, or
# STATUS_BAD_CODE with nothing written.
cdef int act_backward(int act, Py_ssize_t rows, Py_ssize_t cols,
                      const floating* z, const floating* a,       # IN  rows x cols
                      const floating* da,                         # IN  rows x cols
                      floating* dz,                               # OUT rows x cols
                      double param, int n_threads) noexcept nogil

# ---------------------------------------------------------------- losses (_native/losses.pxi)
# value = scale * L and, if dz != NULL, dz = scale * dL/dz, where z is the
# pre-activation of the output layer for the two cross-entropies (logits; the
# softmax / sigmoid is fused in, stable for any |z|) and the prediction for the regression
# losses.  L = (1/rows) * sum_i w_i * l_i, with w = sw (NULL: all ones) and l_i =
#   SOFTMAX_CROSS_ENTROPY: -sum_j y_ij log softmax(z_i)_j
#   BINARY_CROSS_ENTROPY: sum_j bce(z_ij, y_ij)
#   MSE: mean_j (z_ij - y_ij)^2   MAE: mean_j |z_ij - y_ij|   HUBER(delta=param): mean_j huber
# Entries with y_ij == 0 add nothing to SOFTMAX_CROSS_ENTROPY (so z_ij = -inf there is
# fine).  dz may alias z (each block of rows reads z before writing dz), not y or sw.
# rows == 0 or cols == 0 gives value 0.  Values are summed in double over row chunks fixed by
# (rows, cols): bitwise identical for any n_threads.  STATUS_OK, or STATUS_BAD_CODE with
# nothing written.
cdef int loss_grad(int loss, Py_ssize_t rows, Py_ssize_t cols,
                   const floating* z,                             # IN  rows x cols
                   const floating* y,                             # IN  rows x cols
                   const floating* sw,                            # IN  rows, may be NULL
                   floating* dz,                                  # OUT rows x cols, may be NULL
                   double param, double scale,
                   double* value,                                 # OUT 1
                   int n_threads) noexcept nogil

# ---------------------------------------------------------------- reductions (_native/reductions.pxi)
# out_j = sum_i x_ij, rows summed in a fixed order (bitwise identical for any thread count).
cdef void col_sum(Py_ssize_t rows, Py_ssize_t cols,
                  const floating* x,                              # IN  rows x cols
                  floating* out,                                  # OUT cols
                  int n_threads) noexcept nogil

# sum_i x_i^2 in double, fixed-size chunks combined in a fixed order.
cdef double sq_norm(Py_ssize_t n, const floating* x, int n_threads) noexcept nogil

# 1 if no x_i is NaN or +-inf, else 0 (one pass over the exponent bits).
cdef int all_finite(Py_ssize_t n, const floating* x) noexcept nogil

# ---------------------------------------------------------------- optimizers (_native/optim.pxi)
# One fused pass over the flat parameter buffer.  g' = grad_scale * g + l2 * w (l2 on
# weights only: is_weight[i] != 0; NULL = every entry is a weight), then
#   SGD: w -= lr g'       MOMENTUM: m = mu m - lr g'; w += m
#   NESTEROV: m = mu m - lr g'; w += mu m - lr g'
#   ADAM/ADAMW: m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
#               w -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)     (t >= 1)
#   ADAMW (and any optimizer with weight_decay > 0) first applies w -= lr * weight_decay * w
#   to weights only (decoupled decay).
# m is read only by MOMENTUM/NESTEROV/ADAM/ADAMW and v only by ADAM/ADAMW (else may be NULL);
# w, g, m, v must not overlap.  Elementwise, so any n_threads gives the same bits.
# All or nothing: returns 0 after the update, or 1 with NOTHING written when any new w, m or
# v would be NaN or inf (a check pass computes the update without storing it first), or
# STATUS_BAD_CODE with nothing written.
cdef int optim_step(int opt, Py_ssize_t n,
                    floating* w,                                  # IN/OUT n
                    const floating* g,                            # IN  n
                    floating* m, floating* v,                     # IN/OUT n (state; v Adam only)
                    const unsigned char* is_weight,               # IN  n, may be NULL
                    double lr, double momentum, double beta1, double beta2, double eps,
                    double l2, double weight_decay, double grad_scale, long long t,
                    int n_threads) noexcept nogil

# ---------------------------------------------------------------- dropout (_native/dropout.pxi)
# Inverted dropout in place: x_ij *= keep_ij / (1 - rate), keep_ij = (u >= rate) with u
# uniform from Philox4x32-10 keyed by (seed, step, layer, i*cols + j): the same mask for any
# thread count, recomputed (not stored) in backward by calling this again on the gradient.
# Exactly: element k = i*cols + j takes word k & 3 of Philox4x32-10 with key
# (seed mod 2^32, seed >> 32) and counter (b mod 2^32, step mod 2^32, layer,
# (step >> 32) ^ (b >> 32)), b = k >> 2, and is kept iff word >= ceil(rate * 2^32)
# (lepton.ops.dropout_mask computes the same mask).  0 <= rate < 1.
cdef void dropout_apply(Py_ssize_t rows, Py_ssize_t cols,
                        floating* x,                              # IN/OUT rows x cols
                        double rate, uint64_t seed, uint64_t step, uint32_t layer,
                        int n_threads) noexcept nogil

# ---------------------------------------------------------------- network (_native/train.pxi)
# A network's shape and flat parameter layout: per Dense layer l, W_l (dims[l] x dims[l+1],
# row-major) at w_off[l], then b_l (dims[l+1]) at b_off[l].  drop[l] is the dropout rate on
# layer l's output (training only).  Pointers are owned by the core's Net.
cdef struct NetPlan:
    int n_layers
    Py_ssize_t* dims          # n_layers + 1
    int* acts                 # Activation codes
    double* act_param         # leaky_relu slope / elu alpha
    double* drop
    unsigned char* use_bias
    Py_ssize_t* w_off
    Py_ssize_t* b_off
    Py_ssize_t n_params
    Py_ssize_t max_width      # max(dims[1:])

# A loss + optimizer configuration and the workspace layout (element offsets, for
# `capacity` rows) of one training state.  Pointers are owned by the core's TrainState.
cdef struct TrainPlan:
    int loss                  # Loss code
    bint logits               # the loss consumes the last pre-activation (CE, BCE)
    int opt                   # Optimizer code
    double loss_param, loss_scale, momentum, beta1, beta2, eps, l2, weight_decay, clip_norm
    double report_scale       # reported loss = report_scale * data loss + L2 penalty
    uint64_t seed             # dropout key
    Py_ssize_t* z_off         # per layer: pre-activation Z
    Py_ssize_t* a_off         # activation A (== z_off for identity)
    Py_ssize_t* h_off         # A after dropout (== a_off without dropout)
    Py_ssize_t g0_off, g1_off # two gradient buffers, capacity x max_width
    Py_ssize_t xb_off, yb_off, sw_off   # gathered batch

# Z = X @ W + b; STATUS_OK or STATUS_NOMEM.
cdef int dense_forward(Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out,
                       const floating* x, const floating* w, const floating* b,   # IN
                       floating* z,                                                # OUT
                       int n_threads) noexcept nogil

# STATUS_OK if every activation code of net (and, tp != NULL, tp's loss and optimizer codes)
# is known, else STATUS_BAD_CODE.
cdef int plan_check(const NetPlan* net, const TrainPlan* tp) noexcept nogil

# out = f_L(... f_1(x W_1 + b_1) ...) for m rows (inference, no dropout), with two scratch
# buffers of ws_stride elements; a Status.
cdef int net_forward(const NetPlan* net, Py_ssize_t m, const floating* x,          # IN
                     const floating* params,                                       # IN
                     floating* ws, Py_ssize_t ws_stride,                           # scratch
                     floating* out, int n_threads) noexcept nogil                  # OUT

# out = network(x) for n rows in chunks of `chunk` rows (threads take whole chunks, so the
# result is the same for any n_threads); a Status, STATUS_BAD_CODE before anything is written.
cdef int predict_rows(const NetPlan* net, Py_ssize_t n, Py_ssize_t chunk,
                      const floating* x, const floating* params,                   # IN
                      floating* ws, floating* out, int n_threads) noexcept nogil   # OUT

# 0.5 * l2 * sum_l ||W_l||^2 (biases excluded).
cdef double l2_penalty(const NetPlan* net, const floating* params, double l2,
                       int n_threads) noexcept nogil

# Returns scale * L(params; x, y) and, if want_grad, grads := its gradient (no L2 term);
# train: dropout on; out (may be NULL): the output activations.  *status: a Status.
cdef double forward_backward(const NetPlan* net, const TrainPlan* tp, Py_ssize_t rows,
                             const floating* x, const floating* y, const floating* sw,
                             const floating* params,                               # IN
                             floating* grads, floating* ws, floating* out,         # OUT
                             uint64_t step, bint train, bint want_grad, int* status,
                             int n_threads) noexcept nogil

# For batches b0 .. b0+nb-1 of perm's order: params := optim_step(params, grad L_batch).
# Returns the batches applied (nb, or the index of the first whose loss or update was not
# finite; its update skipped) or a negative Status.
cdef Py_ssize_t train_batches(const NetPlan* net, const TrainPlan* tp, Py_ssize_t n,
                              const floating* X, const floating* Y, const floating* SW,
                              const Py_ssize_t* perm, Py_ssize_t batch_size,
                              Py_ssize_t b0, Py_ssize_t nb,
                              const double* lrs, double* losses,                   # IN, OUT
                              floating* params, floating* grads,                   # IN/OUT
                              floating* m, floating* v, const unsigned char* is_weight,
                              floating* ws, long long* t, int n_threads) noexcept nogil
