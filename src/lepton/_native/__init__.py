"""lepton's native tier: what the compiled core ``lepton._core_<isa>`` (``_core.pyx`` +
``_core.pxd``) includes, and the two Python modules that face it.

- ``*.pxi``: nogil kernels (``<family>.pxi``) and their checked def wrappers
  (``<family>_py.pxi``); ``common.pxi`` holds the shared nogil helpers, ``checks.pxi`` the
  validation helpers, ``names.pxi`` the name tables built from the ``.pxd`` enums,
  ``threads.pxi`` thread control.
- ``lepton.h``, ``lepton_math.h``, ``*.inc``: C helpers and GEMM micro-kernels.
- :mod:`lepton._native.dispatch`: picks the core built for the best ISA level the CPU has
  (``dispatch.core``).
- :mod:`lepton._native.threads`: thread control, a thin layer over the core.
"""
