"""lepton: fast multilayer perceptrons on the CPU.

Cython + OpenMP kernels (GEMM, activations, losses, backprop, optimizers, dropout) under a
small Python API: :class:`Model`, :class:`Trainer`, scikit-learn compatible estimators and the
``lepton`` command.
"""
from lepton._version import __version__  # noqa: E402

from lepton._native.threads import get_num_threads, set_num_threads
from lepton._native.dispatch import core as _core, isa as _isa

gemm = _core.gemm

from lepton.model import Dense, Dropout, Model  # noqa: E402
from lepton.exceptions import DivergenceError, NotFittedError  # noqa: E402
from lepton.trainer import Trainer  # noqa: E402
from lepton.callbacks import Callback, EarlyStopping, History  # noqa: E402
from lepton import schedules  # noqa: E402
from lepton.io import load, save  # noqa: E402
from lepton import datasets, metrics, preprocessing  # noqa: E402
from lepton.preprocessing import MinMaxScaler, QuantileClipper, StandardScaler  # noqa: E402
from lepton.datasets import load_digits  # noqa: E402
from lepton.estimators import MLPClassifier, MLPRegressor  # noqa: E402
from lepton import convert  # noqa: E402
from lepton.pipeline import Pipeline, make_pipeline  # noqa: E402


def openmp_enabled():
    """Return True if lepton's kernels were built with OpenMP (can use several threads)."""
    return _core.openmp_enabled()


def show_config(file=None):
    """Print lepton's build and runtime configuration, like ``numpy.show_config()``.

    Shows the version, the ISA level in use and the levels built and supported here, the
    OpenMP runtime and thread count, the compiler and its flags, and the GEMM blocking.
    """
    import sys
    from lepton._native import dispatch as _dispatch, threads as _threads

    info = _core.build_info()
    lines = [
        f"lepton {__version__}",
        f"  ISA level in use : {_dispatch.isa}  (override with LEPTON_ISA=baseline|avx2|avx512)",
        f"  ISA levels built : {', '.join(_dispatch.built)}",
        f"  CPU supports     : {', '.join(_dispatch.supported)}",
        f"  OpenMP           : {'enabled' if info['openmp'] else 'DISABLED (serial build)'}"
        + (f" (OpenMP {info['openmp_version']})" if info['openmp'] else ""),
        f"  threads          : {get_num_threads()} (of {_core.omp_num_procs()} processors)"
        + ("; serial: forked after lepton ran threaded" if _threads.fork_serial() else ""),
        f"  compiler         : {info['compiler']}",
        f"  flags            : {info['cflags']}",
        f"  GEMM f32 blocking: {info['gemm_f32']}",
        f"  GEMM f64 blocking: {info['gemm_f64']}",
    ]
    print("\n".join(lines), file=file or sys.stdout)


__all__ = ["gemm", "set_num_threads", "get_num_threads", "openmp_enabled", "show_config",
           "__version__", "Dense", "Dropout", "Model", "Trainer", "DivergenceError", "NotFittedError",
           "Callback",
           "EarlyStopping", "History", "schedules", "save", "load", "datasets", "metrics",
           "preprocessing", "StandardScaler", "MinMaxScaler", "QuantileClipper", "load_digits",
           "MLPClassifier", "MLPRegressor", "convert", "Pipeline", "make_pipeline"]
