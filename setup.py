"""Build lepton's native core.

One kernel source, ``src/lepton/_core.pyx`` (+ its contract ``_core.pxd`` and what it
includes from ``src/lepton/_native/``: ``*.pxi``, ``*.h``, ``*.inc``), is compiled once per
instruction-set level into ``lepton._core_<isa>``; ``lepton._native.dispatch`` picks the best
one the running CPU supports at import.  ``-march=native`` is never used.

Environment knobs
-----------------
LEPTON_NO_OPENMP=1      build serial kernels even if the compiler supports OpenMP.
LEPTON_ISA_BUILD=a,b    build only these ISA levels (``baseline`` is always built);
                        default: every level the compiler supports.
"""
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join("src", "lepton")
# What _core.pyx includes: "_native/<file>" resolves against SRC for Cython and the C compiler.
NATIVE = os.path.join(SRC, "_native")
VARIANT_ROOT = os.path.join("build", "_variants")
# Copies live in a "lepton" package folder so Cython pairs lepton._core_<isa> with its .pxd.
VARIANT_DIR = os.path.join(VARIANT_ROOT, "lepton")

# ISA level -> compiler flags.  Only x86-64 gets more than the portable baseline.
IS_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")
if IS_X86:
    ISA_FLAGS = {
        "baseline": ["-march=x86-64", "-mtune=generic"],
        "avx2": ["-march=x86-64-v3", "-mtune=generic"],
        "avx512": ["-march=x86-64-v4", "-mtune=generic", "-mprefer-vector-width=512"],
    }
else:
    ISA_FLAGS = {"baseline": []}

# -fno-trapping-math lets GCC evaluate both arms of a ternary (if-conversion), which the
# vectorised exp/log/activation loops need; lepton never enables FP traps, and no result
# changes (unlike -ffast-math, it permits no reassociation and keeps NaN/inf semantics).
COMMON_FLAGS = ["-O3", "-g0", "-fno-math-errno", "-fno-trapping-math", "-Wno-unused-function",
                "-Wno-unreachable-code"]


def _log(msg):
    print(f"lepton build: {msg}", file=sys.stderr)


def _try_compile_and_run(compiler, code, flags, run=True):
    """Compile (and optionally run) a tiny C program with ``flags``; True on success."""
    tmp = tempfile.mkdtemp(prefix="lepton-check-")
    try:
        src = os.path.join(tmp, "check.c")
        with open(src, "w") as f:
            f.write(textwrap.dedent(code))
        with open(os.devnull, "w") as devnull:
            old = os.dup(2), os.dup(1)
            os.dup2(devnull.fileno(), 2)
            os.dup2(devnull.fileno(), 1)
            try:
                objs = compiler.compile([src], output_dir=tmp, extra_postargs=flags)
                exe = os.path.join(tmp, "check")
                compiler.link_executable(objs, exe, extra_postargs=flags)
            except Exception:
                return False
            finally:
                os.dup2(old[0], 2)
                os.dup2(old[1], 1)
        if not run:
            return True
        out = subprocess.run([exe], capture_output=True, timeout=60)
        return out.returncode == 0
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


OPENMP_CHECK = """
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel num_threads(2) reduction(+:n)
        n += 1;
        return n == 2 ? 0 : 1;
    }
"""

ISA_CHECK = """
    typedef float v __attribute__((vector_size(16)));
    int main(void) { volatile float x = 1.0f; v a = {x, x, x, x}; a = a * a; return (int)a[0] - 1; }
"""


def _variants():
    wanted = os.environ.get("LEPTON_ISA_BUILD", "").strip()
    if not wanted:
        return list(ISA_FLAGS)
    names = ["baseline"] + [w.strip() for w in wanted.split(",") if w.strip()]
    unknown = [n for n in names if n not in ISA_FLAGS]
    if unknown:
        raise SystemExit(f"LEPTON_ISA_BUILD: unknown ISA level(s) {unknown}; expected some of {list(ISA_FLAGS)}")
    return list(dict.fromkeys(names))


class BuildExt(build_ext):
    """build_ext that detects OpenMP and drops ISA levels the compiler cannot target."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        want_omp = os.environ.get("LEPTON_NO_OPENMP", "0") not in ("1", "true", "yes")
        omp = want_omp and _try_compile_and_run(self.compiler, OPENMP_CHECK, ["-fopenmp"])
        if not want_omp:
            _log("LEPTON_NO_OPENMP is set: building serial kernels (no OpenMP).")
        elif not omp:
            _log("WARNING: the compiler cannot build and run an OpenMP program; "
                 "building serial kernels. Install an OpenMP runtime (libgomp) to get threads.")
        else:
            _log("OpenMP found: building parallel kernels.")
        kept = []
        for ext in self.extensions:
            isa = ext.name.rsplit("_", 1)[-1]
            flags = ISA_FLAGS.get(isa, [])
            if flags and not _try_compile_and_run(self.compiler, ISA_CHECK, flags, run=False):
                _log(f"compiler does not support {flags}: skipping ISA level '{isa}'.")
                continue
            cflags = COMMON_FLAGS + flags
            ext.extra_compile_args = cflags + (["-fopenmp"] if omp else [])
            ext.extra_link_args = ["-fopenmp"] if omp else []
            ext.define_macros = (ext.define_macros or []) + [
                ("LEPTON_ISA_NAME", f'"{isa}"'),
                ("LEPTON_CFLAGS", '"' + " ".join(ext.extra_compile_args) + '"'),
            ]
            kept.append(ext)
        self.extensions = kept
        super().build_extensions()


def _make_extensions():
    os.makedirs(VARIANT_DIR, exist_ok=True)
    open(os.path.join(VARIANT_DIR, "__init__.py"), "a").close()
    exts = []
    for isa in _variants():
        mod = f"_core_{isa}"
        for suffix in (".pyx", ".pxd"):
            src = os.path.join(SRC, "_core" + suffix)
            dst = os.path.join(VARIANT_DIR, mod + suffix)
            # copy2 keeps the source mtime so cythonize only reruns when the source changed.
            if not os.path.exists(dst) or open(src, "rb").read() != open(dst, "rb").read():
                shutil.copy2(src, dst)
        exts.append(Extension(
            f"lepton.{mod}",
            [os.path.join(VARIANT_DIR, mod + ".pyx")],
            include_dirs=[np.get_include(), SRC],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            depends=[os.path.join(d, f) for d in (SRC, NATIVE) for f in os.listdir(d)
                     if f.endswith((".pxi", ".h", ".inc", ".pxd", ".pyx"))],
        ))
    return cythonize(
        exts,
        include_path=[VARIANT_ROOT, SRC],
        language_level=3,
        compiler_directives={
            "boundscheck": False, "wraparound": False, "cdivision": True,
            "initializedcheck": False, "nonecheck": False, "embedsignature": True,
        },
        nthreads=0,
    )


setup(ext_modules=_make_extensions(), cmdclass={"build_ext": BuildExt})
