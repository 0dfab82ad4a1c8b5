# cython: language_level=3
"""lepton's native core: GEMM, activations, losses, optimizer updates, dropout, training step.

Design:
  1. One source, several builds.  This file (with the ``*.pxi`` it includes and the C helpers
     in ``_lepton.h``) is compiled once per ISA level into ``lepton._core_<isa>``; the
     micro-kernel vector width and the GEMM blocking table follow the compiler flags.
     ``lepton._dispatch`` imports the best level the CPU supports.
  2. Two tiers.  ``cdef ... noexcept nogil`` kernels take raw pointers and sizes and never
     raise; the ``def`` wrappers validate EVERYTHING first (type, dtype agreement of all
     operands including ``out``, ndim, shapes, C-contiguity, writability) and only then
     release the GIL.  When validation fails nothing has been written.
  3. Threads.  Every parallel kernel receives its thread count from one place
     (``lepton._threads.resolve_threads``: explicit ``n_threads`` > ``set_num_threads`` >
     OpenMP's default, which honours ``OMP_NUM_THREADS`` and threadpoolctl).  Small work runs
     serial: a parallel region costs ~1 us and far more under a noisy neighbour.
  4. Determinism.  Work is split over outputs (GEMM: C blocks over the IC/JR loops; column
     sums: column chunks; reductions: fixed-size chunks combined in a fixed order), never
     over a reduction axis, so results are bitwise identical for any thread count.
  5. Memory.  GEMM pack buffers are per-OS-thread, 64-byte aligned and grow-only
     (``lepton_tls_buffer``), so concurrent calls from several Python threads are safe and no
     call allocates in steady state.
  6. Floating-point mode.  Model/Trainer entry points run the network with subnormals
     flushed to zero (FTZ/DAZ): a converging model's gradients underflow, and subnormal
     arithmetic made steps 2-3x slower.  Every parallel region runs its workers in the
     caller's mode and restores theirs, so results stay thread-count independent and the
     caller's mode is unchanged afterwards.  The public kernel wrappers keep IEEE subnormals.
  7. Callers guarantee: C-contiguous operands of one floating dtype, valid sizes, ``out``
     not aliasing an input (the wrappers copy aliased inputs).
"""
import numpy as np
cimport numpy as cnp
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport uint32_t, uint64_t

from lepton._threads import resolve_threads

cnp.import_array()

include "_gemm.pxi"
include "_checks.pxi"
include "_kernels.pxi"
include "_losses.pxi"
include "_optim.pxi"


# ---------------------------------------------------------------- validation helpers
cdef object _FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


cdef cnp.ndarray _check(object x, str name, int ndim, object dtype=None, bint writable=False):
    """Return ``x`` as an ndarray after checking type, dtype, ndim and C-contiguity."""
    if not isinstance(x, cnp.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>x
    if dtype is None:
        if arr.dtype not in _FLOAT_DTYPES:
            raise TypeError(f"{name} must have dtype float32 or float64, got {arr.dtype}")
    elif arr.dtype != dtype:
        raise TypeError(f"{name} has dtype {arr.dtype}, but dtype {dtype} was expected "
                        f"(all operands must share one dtype)")
    if ndim >= 0 and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got a {arr.ndim}-D array of shape {x.shape}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"{name} must be C-contiguous; pass np.ascontiguousarray({name})")
    if writable and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name} is read-only; pass a writable array")
    return arr


cdef inline bint _is_f_only(object x):
    return (isinstance(x, cnp.ndarray) and (<cnp.ndarray>x).ndim == 2
            and not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x)
            and cnp.PyArray_IS_F_CONTIGUOUS(<cnp.ndarray>x))


cdef inline bint _overlaps(cnp.ndarray out, cnp.ndarray x):
    return np.may_share_memory(out, x)


# ---------------------------------------------------------------- build and runtime info
def openmp_enabled():
    """Return True if this build of lepton runs its kernels with OpenMP threads."""
    return bool(lepton_openmp_enabled())


def omp_max_threads():
    """OpenMP's current default team size (honours OMP_NUM_THREADS and threadpoolctl)."""
    return lepton_omp_max_threads()


def omp_num_procs():
    """Number of processors OpenMP can use."""
    return lepton_omp_num_procs()


def build_info():
    """Dict describing this build: ISA level, compiler, flags, OpenMP and GEMM blocking."""
    return {
        "isa": lepton_isa_name().decode(),
        "compiler": lepton_compiler().decode(),
        "cflags": lepton_cflags().decode(),
        "openmp": bool(lepton_openmp_enabled()),
        "openmp_version": lepton_openmp_version(),
        "gemm_f32": {"MR": MR_F32, "NR": NR_F32, "KC": KC_F32, "MC": MC_F32, "NC": NC_F32},
        "gemm_f64": {"MR": MR_F64, "NR": NR_F64, "KC": KC_F64, "MC": MC_F64, "NC": NC_F64},
    }


def cpu_isa_mask():
    """Bit mask of ISA levels the running CPU supports: 1 baseline, 2 AVX2+FMA, 4 AVX-512."""
    return lepton_cpu_isa_mask()


# ---------------------------------------------------------------- GEMM wrapper
def gemm(a, b, out=None, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0,
         n_threads=None):
    """Matrix product ``out := alpha * op(a) @ op(b) + beta * out``.

    lepton's own cache-blocked, multi-threaded kernel (no BLAS), bitwise identical for any
    thread count.

    Parameters
    ----------
    a, b : ndarray, 2-D, both float32 or both float64
        C-contiguous, or Fortran-contiguous (such as ``x.T``), which is used as a transpose
        without a copy.
        ``op(a)`` is ``a.T`` if ``trans_a`` else ``a`` (likewise ``b``); ``op(a)`` is m x k
        and ``op(b)`` is k x n.
    out : ndarray, optional
        m x n, C-contiguous, writable, same dtype.  Allocated when None (then ``beta`` is
        ignored).  Inputs that share memory with ``out`` are copied first.
    trans_a, trans_b : bool
        Use the transpose of ``a`` / ``b`` (handled by packing, no copy).
    alpha, beta : float
        Finite real scalars; ``beta == 0`` never reads ``out`` (so NaN in ``out`` is
        overwritten).
    n_threads : int, optional
        Threads to use; None follows :func:`lepton.set_num_threads` / OpenMP's default,
        -1 uses all processors.

    Returns
    -------
    out : ndarray of shape (m, n)
    """
    trans_a = _flag(trans_a, "trans_a")
    trans_b = _flag(trans_b, "trans_b")
    cdef double alpha_d = _real(alpha, "alpha", -INFINITY, INFINITY, True, True)
    cdef double beta_d = _real(beta, "beta", -INFINITY, INFINITY, True, True)
    # A Fortran-ordered operand (e.g. ``x.T``) is the transpose of a C-ordered one: flip
    # the flag instead of copying.
    if _is_f_only(a):
        a, trans_a = a.T, not trans_a
    if _is_f_only(b):
        b, trans_b = b.T, not trans_b
    cdef cnp.ndarray A = _check(a, "a", 2)
    cdef cnp.ndarray B = _check(b, "b", 2, A.dtype)
    cdef Py_ssize_t m, k, kb, n
    m, k = (A.shape[1], A.shape[0]) if trans_a else (A.shape[0], A.shape[1])
    kb, n = (B.shape[1], B.shape[0]) if trans_b else (B.shape[0], B.shape[1])
    if k != kb:
        raise ValueError(
            f"gemm: inner dimensions do not match: op(a) has shape ({m}, {k}) and op(b) has "
            f"shape ({kb}, {n}); expected op(a).shape[1] == op(b).shape[0]")
    cdef int nt = resolve_threads(n_threads)
    cdef cnp.ndarray C
    if out is None:
        C = np.empty((m, n), dtype=A.dtype)
        beta_d = 0.0
    else:
        C = _check(out, "out", 2, A.dtype, writable=True)
        if C.shape[0] != m or C.shape[1] != n:
            raise ValueError(f"out has shape {(C.shape[0], C.shape[1])}, expected ({m}, {n})")
        if _overlaps(C, A):
            A = A.copy()
        if _overlaps(C, B):
            B = B.copy()
    cdef int rc
    if A.dtype == np.float32:
        rc = _gemm_call[float](trans_a, trans_b, m, n, k, <float>alpha_d, A, B, <float>beta_d, C, nt)
    else:
        rc = _gemm_call[double](trans_a, trans_b, m, n, k, alpha_d, A, B, beta_d, C, nt)
    if rc != 0:
        raise MemoryError("gemm: could not allocate packing buffers")
    return C


cdef int _gemm_call(bint ta, bint tb, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                    floating alpha, cnp.ndarray A, cnp.ndarray B, floating beta,
                    cnp.ndarray C, int nt):
    cdef const floating* pa = <const floating*>cnp.PyArray_DATA(A)
    cdef const floating* pb = <const floating*>cnp.PyArray_DATA(B)
    cdef floating* pc = <floating*>cnp.PyArray_DATA(C)
    cdef Py_ssize_t lda = A.shape[1], ldb = B.shape[1], ldc = C.shape[1]
    cdef int rc
    with nogil:
        rc = gemm_(ta, tb, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc,
                   <const floating*>NULL, nt)
    return rc


include "_train.pxi"
