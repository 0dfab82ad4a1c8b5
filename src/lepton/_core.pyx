# cython: language_level=3
"""lepton's native core: GEMM, activations, losses, optimizer updates, dropout, training step.

Design:
  1. One source, several builds.  This file is the entry point: with the contract beside it
     (``_core.pxd``) and what it includes from ``_native/`` (nogil kernels ``<family>.pxi``,
     checked wrappers ``<family>_py.pxi``, the C headers ``lepton.h`` / ``lepton_math.h``
     and micro-kernels ``*.inc``), it is compiled once per ISA level into
     ``lepton._core_<isa>``; the micro-kernel vector width and the GEMM blocking table
     follow the compiler flags.  ``lepton._native.dispatch`` imports the best level the CPU
     supports.  The core imports no Python module of the package: the Python layer
     (``lepton._native.threads``, ``lepton._names``) calls into it, never the other way.
  2. Two tiers.  ``cdef ... noexcept nogil`` kernels take raw pointers and sizes and never
     raise; the ``def`` wrappers validate EVERYTHING first (type, dtype agreement of all
     operands including ``out``, ndim, shapes, C-contiguity, writability, names and codes)
     and only then release the GIL.  When validation fails nothing has been written.  A
     kernel that can fail returns a Status (``_core.pxd``); the wrapper turns it into an
     exception.
  3. Threads.  Every parallel kernel receives its thread count from one place
     (``_native/threads.pxi``: explicit ``n_threads`` > ``set_num_threads`` > OpenMP's
     default, which honours ``OMP_NUM_THREADS`` and threadpoolctl; one thread in a child
     forked after threads started).  Small work runs serial: a parallel region costs ~1 us
     and far more under a noisy neighbour.  Every chunked region is opened by ONE helper,
     ``parallel_ranges`` (``_native/common.pxi``).
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

cnp.import_array()

# Shared nogil helpers first (common.pxi: sizes, chunking, parallel_ranges, code checks; then
# math.pxi: fused elementary functions), then the GIL-side foundations (validation, name
# tables, thread control, build facts), then each kernel family followed by its checked
# wrappers.  Across families, kernels use only what a .pxd declaration or a file's header
# names (e.g. softmax and the losses use the row reductions _max8 / _sum8 of reductions.pxi).
include "_native/common.pxi"
include "_native/math.pxi"
include "_native/checks.pxi"
include "_native/names.pxi"
include "_native/threads.pxi"
include "_native/info_py.pxi"
include "_native/gemm.pxi"
include "_native/gemm_py.pxi"
include "_native/reductions.pxi"
include "_native/reductions_py.pxi"
include "_native/activations.pxi"
include "_native/activations_py.pxi"
include "_native/losses.pxi"
include "_native/losses_py.pxi"
include "_native/optim.pxi"
include "_native/optim_py.pxi"
include "_native/dropout.pxi"
include "_native/dropout_py.pxi"
include "_native/train.pxi"
include "_native/train_py.pxi"
