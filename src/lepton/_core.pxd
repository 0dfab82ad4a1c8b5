# cython: language_level=3
# The C-level contract of lepton's native core (see the Design block in _core.pyx).
# Every kernel is `noexcept nogil`, takes raw pointers (never memoryview slices, which would
# touch refcounts inside prange), and is tagged IN / OUT.  Kernels that can fail return an
# int status (0 ok, -1 out of memory); nothing here raises.
from cython cimport floating
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "_lepton.h" nogil:
    int lepton_openmp_enabled()
    int lepton_omp_max_threads()
    int lepton_omp_num_procs()
    int lepton_omp_thread_num()
    int lepton_openmp_version()
    const char* lepton_isa_name()
    const char* lepton_cflags()
    const char* lepton_compiler()
    int lepton_cpu_isa_mask()
    void* lepton_tls_buffer(int slot, size_t nbytes)
    # GEMM blocking table (one place: _lepton.h)
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
    void ukr_f32 "lepton_ukr_f32"(Py_ssize_t kc, const float* a, const float* b, float* c,
                                  Py_ssize_t ldc, float alpha, float beta, const float* bias)
    void narrow_f32 "lepton_narrow_f32"(Py_ssize_t m, Py_ssize_t k, Py_ssize_t ncols, float alpha,
                                        const float* a, Py_ssize_t rs_a, Py_ssize_t cs_a,
                                        const float* bp, float beta, float* c, Py_ssize_t ldc,
                                        const float* bias)
    void narrow_f64 "lepton_narrow_f64"(Py_ssize_t m, Py_ssize_t k, Py_ssize_t ncols, double alpha,
                                        const double* a, Py_ssize_t rs_a, Py_ssize_t cs_a,
                                        const double* bp, double beta, double* c, Py_ssize_t ldc,
                                        const double* bias)
    const int GEMV_MAX_ROWS "LEPTON_GEMV_MAX_ROWS"
    const int LEPTON_VBYTES
    void gemv_f32 "lepton_gemv_f32"(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float alpha,
                                    const float* a, Py_ssize_t rs_a, Py_ssize_t cs_a,
                                    const float* b, Py_ssize_t ldb, float beta,
                                    float* c, Py_ssize_t ldc, const float* bias)
    void gemv_f64 "lepton_gemv_f64"(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, double alpha,
                                    const double* a, Py_ssize_t rs_a, Py_ssize_t cs_a,
                                    const double* b, Py_ssize_t ldb, double beta,
                                    double* c, Py_ssize_t ldc, const double* bias)
    void ukr_f64 "lepton_ukr_f64"(Py_ssize_t kc, const double* a, const double* b, double* c,
                                  Py_ssize_t ldc, double alpha, double beta, const double* bias)

# TLS scratch slots (lepton_tls_buffer): 0 = packed A, 1 = packed B, 2-3 free for kernels.
cdef enum:
    TLS_PACK_A = 0
    TLS_PACK_B = 1

# Codes shared by the kernels and the Python layer (lepton._names maps strings to them).
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

cpdef enum Loss:
    LOSS_SOFTMAX_CE = 0
    LOSS_BCE_LOGITS = 1
    LOSS_MSE = 2
    LOSS_MAE = 3
    LOSS_HUBER = 4

cpdef enum Optimizer:
    OPT_SGD = 0
    OPT_MOMENTUM = 1
    OPT_NESTEROV = 2
    OPT_ADAM = 3
    OPT_ADAMW = 4

# ---------------------------------------------------------------- GEMM (_gemm.pxi)
cdef int gemm_(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
               floating alpha, const floating* a, Py_ssize_t lda,   # IN
               const floating* b, Py_ssize_t ldb, floating beta,    # IN
               floating* c, Py_ssize_t ldc,                         # IN/OUT
               const floating* bias,                                # IN, may be NULL
               int n_threads) noexcept nogil

