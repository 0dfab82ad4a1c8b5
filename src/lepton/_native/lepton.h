/* lepton's C helpers for the native core (_core.pyx and the _native .pxi files): OpenMP shim,
 * FP mode, per-thread buffers, CPU features, the GEMM blocking table and register micro-kernels
 * (ukr.inc, gemv.inc, narrow.inc).
 *
 * The micro-kernels are written with GCC vector extensions so the accumulators live in
 * named vector registers; the vector width follows the ISA the variant is compiled for
 * (16-byte SSE2 baseline, 32-byte AVX2+FMA, 64-byte AVX-512).  A 32-byte vector compiled
 * without AVX would be emulated and ~50x slower, hence the width is chosen by the
 * preprocessor, never by hand.
 */
#ifndef LEPTON_H
#define LEPTON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#ifndef LEPTON_ISA_NAME
#define LEPTON_ISA_NAME "baseline"
#endif
#ifndef LEPTON_CFLAGS
#define LEPTON_CFLAGS ""
#endif

/* ---------------------------------------------------------------- OpenMP shim */
#ifdef _OPENMP
#include <omp.h>
static inline int lepton_openmp_enabled(void) { return 1; }
static inline int lepton_omp_max_threads(void) { return omp_get_max_threads(); }
static inline int lepton_omp_num_procs(void) { return omp_get_num_procs(); }
static inline int lepton_omp_thread_num(void) { return omp_get_thread_num(); }
static inline int lepton_openmp_version(void) { return _OPENMP; }
#else
static inline int lepton_openmp_enabled(void) { return 0; }
static inline int lepton_omp_max_threads(void) { return 1; }
static inline int lepton_omp_num_procs(void) { return 1; }
static inline int lepton_omp_thread_num(void) { return 0; }
static inline int lepton_openmp_version(void) { return 0; }
#endif

static inline const char* lepton_isa_name(void) { return LEPTON_ISA_NAME; }
static inline const char* lepton_cflags(void) { return LEPTON_CFLAGS; }
static inline const char* lepton_compiler(void) {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}

/* ---------------------------------------------------------------- parallel regions */
/* How many multi-threaded regions lepton's kernels opened in this process (parallel_ranges
 * counts each): lets tests assert that the threaded branch of a kernel really ran instead of
 * relying on the private work thresholds. */
static long long lepton_region_count = 0;
static inline void lepton_count_region(void) {
#if defined(__GNUC__)
    __atomic_fetch_add(&lepton_region_count, 1, __ATOMIC_RELAXED);
#else
    lepton_region_count++;
#endif
}
static inline long long lepton_regions_opened(void) { return lepton_region_count; }

/* ---------------------------------------------------------------- floating-point mode */
/* The network kernels run with subnormals flushed to zero (x86 MXCSR FTZ + DAZ): as a model
 * converges, softmax tails and gradients underflow into subnormals, and arithmetic on them
 * takes microcode assists that made training steps 2-3x slower.  Values below ~1e-38
 * (float) change nothing a training step can see.  Parallel regions copy the caller's mode
 * into their workers (lepton_fp_set) and restore the workers' own afterwards, so results
 * never depend on which thread computed them. */
#if defined(__x86_64__) || defined(__SSE__)
#include <xmmintrin.h>
static inline unsigned int lepton_fp_mode(void) { return _mm_getcsr(); }
static inline unsigned int lepton_fp_set(unsigned int mode) {
    unsigned int old = _mm_getcsr();
    if (old != mode) _mm_setcsr(mode);
    return old;
}
static inline unsigned int lepton_fp_flush(void) { return lepton_fp_set(_mm_getcsr() | 0x8040u); }
#else
static inline unsigned int lepton_fp_mode(void) { return 0; }
static inline unsigned int lepton_fp_set(unsigned int mode) { (void)mode; return 0; }
static inline unsigned int lepton_fp_flush(void) { return 0; }
#endif

/* ---------------------------------------------------------------- CPU features */
/* Bit mask: 1 = x86-64 baseline, 2 = AVX2+FMA (x86-64-v3), 4 = AVX-512 F/BW/CD/DQ/VL (v4).
 * __builtin_cpu_supports also checks that the OS saves the wide registers. */
static inline int lepton_cpu_isa_mask(void) {
#if defined(__x86_64__) || defined(__i386__)
    int mask = 1;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("bmi2"))
        mask |= 2;
    if ((mask & 2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        mask |= 4;
    return mask;
#else
    return 1;
#endif
}

/* ---------------------------------------------------------------- per-thread buffers */
/* Grow-only, 64-byte aligned scratch buffers owned by the calling OS thread (so concurrent
 * calls from several Python threads and OpenMP workers never share one).  Freed when the
 * thread exits. */
#define LEPTON_N_TLS 4
typedef struct { void* ptr[LEPTON_N_TLS]; size_t size[LEPTON_N_TLS]; } lepton_tls_t;
static __thread lepton_tls_t lepton_tls;
static pthread_key_t lepton_tls_key;
static pthread_once_t lepton_tls_once = PTHREAD_ONCE_INIT;

static void lepton_tls_free(void* p) {
    lepton_tls_t* t = (lepton_tls_t*)p;
    for (int i = 0; i < LEPTON_N_TLS; ++i) { free(t->ptr[i]); t->ptr[i] = NULL; t->size[i] = 0; }
}
static void lepton_tls_make_key(void) { pthread_key_create(&lepton_tls_key, lepton_tls_free); }

/* Returns a buffer of at least nbytes for `slot` (0..LEPTON_N_TLS-1), or NULL if out of memory. */
static inline void* lepton_tls_buffer(int slot, size_t nbytes) {
    lepton_tls_t* t = &lepton_tls;
    if (t->size[slot] >= nbytes && t->ptr[slot]) return t->ptr[slot];
    pthread_once(&lepton_tls_once, lepton_tls_make_key);
    pthread_setspecific(lepton_tls_key, t);
    size_t want = (nbytes + 4095) & ~(size_t)4095;
    void* p = NULL;
    if (posix_memalign(&p, 64, want) != 0) return NULL;
    free(t->ptr[slot]);
    t->ptr[slot] = p;
    t->size[slot] = want;
    return p;
}

/* ---------------------------------------------------------------- GEMM blocking table */
#if defined(__AVX512F__)
#define LEPTON_VBYTES 64
#elif defined(__AVX__)
#define LEPTON_VBYTES 32
#else
#define LEPTON_VBYTES 16
#endif
#define LEPTON_VL_F32 (LEPTON_VBYTES / 4)
#define LEPTON_VL_F64 (LEPTON_VBYTES / 8)

/* One table: MR x NR register tile (NR = two vectors), KC/MC/NC cache blocks. */
#if LEPTON_VBYTES == 64
#define LEPTON_MR_F32 8
#define LEPTON_MR_F64 8
#define LEPTON_KC_F32 384
#define LEPTON_KC_F64 256
#define LEPTON_MC_F32 192
#define LEPTON_MC_F64 192
#else
#define LEPTON_MR_F32 6
#define LEPTON_MR_F64 6
#define LEPTON_KC_F32 256
#define LEPTON_KC_F64 256
#define LEPTON_MC_F32 144
#define LEPTON_MC_F64 96
#endif
#define LEPTON_NR_F32 (2 * LEPTON_VL_F32)
#define LEPTON_NR_F64 (2 * LEPTON_VL_F64)
#define LEPTON_NC_F32 4096
#define LEPTON_NC_F64 2048

typedef float lepton_vf __attribute__((vector_size(LEPTON_VBYTES), aligned(4)));
typedef double lepton_vd __attribute__((vector_size(LEPTON_VBYTES), aligned(8)));

#define LK_ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define LK_ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define LK_ROWS_(n) LK_ROWS##n
#define LK_ROWS(n) LK_ROWS_(n)

/* The micro-kernel body lives in ukr.inc, instantiated once per dtype. */
#define LK_T float
#define LK_V lepton_vf
#define LK_VL LEPTON_VL_F32
#define LK_MR LEPTON_MR_F32
#define LK_NAME lepton_ukr_f32
#include "ukr.inc"
#define LK_T double
#define LK_V lepton_vd
#define LK_VL LEPTON_VL_F64
#define LK_MR LEPTON_MR_F64
#define LK_NAME lepton_ukr_f64
#include "ukr.inc"

#define LK_T float
#define LK_V lepton_vf
#define LK_VL LEPTON_VL_F32
#define LK_NAME lepton_gemv_f32
#include "gemv.inc"
#define LK_T double
#define LK_V lepton_vd
#define LK_VL LEPTON_VL_F64
#define LK_NAME lepton_gemv_f64
#include "gemv.inc"

#define LK_T float
#define LK_V lepton_vf
#define LK_VL LEPTON_VL_F32
#define LK_NAME lepton_narrow_f32
#include "narrow.inc"
#define LK_T double
#define LK_V lepton_vd
#define LK_VL LEPTON_VL_F64
#define LK_NAME lepton_narrow_f64
#include "narrow.inc"

/* At or below this many rows of C, GEMM with an untransposed B streams B instead of packing. */
#define LEPTON_GEMV_MAX_ROWS 4

#endif /* LEPTON_H */
