"""The build is what it claims to be: OpenMP on, ISA dispatch sane, config printable."""
import io
import os
import subprocess
import sys

import pytest

import lepton
from lepton._native import dispatch as _dispatch, threads as _threads


def test_openmp_enabled():
    # Fails if the build silently fell back to serial kernels.  A deliberate serial build
    # (LEPTON_NO_OPENMP=1) sets LEPTON_EXPECT_SERIAL=1 to say so.
    if os.environ.get("LEPTON_EXPECT_SERIAL") == "1":
        assert not lepton.openmp_enabled()
    else:
        assert lepton.openmp_enabled(), "lepton was built without OpenMP"


def test_thread_control_round_trip():
    old = _threads.user_threads()
    try:
        lepton.set_num_threads(1)
        assert lepton.get_num_threads() == 1
        lepton.set_num_threads(-1)
        assert lepton.get_num_threads() == _dispatch.core.omp_num_procs()
        lepton.set_num_threads(None)
        assert lepton.get_num_threads() >= 1
        with pytest.raises(ValueError):
            lepton.set_num_threads(0)
        with pytest.raises(TypeError):
            lepton.set_num_threads("4")
    finally:
        lepton.set_num_threads(old)


def test_threadpoolctl_limits_are_honoured():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    lepton.set_num_threads(None)
    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        assert lepton.get_num_threads() == 1


def test_omp_num_threads_env_is_honoured():
    code = "import lepton; print(lepton.get_num_threads())"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_dispatch_picks_a_supported_level():
    assert _dispatch.isa in _dispatch.built
    assert _dispatch.isa in _dispatch.supported
    assert "baseline" in _dispatch.built
    if not os.environ.get("LEPTON_ISA"):
        assert _dispatch.isa == _dispatch.supported[0]  # the best one by default
    assert lepton._core.build_info()["isa"] == _dispatch.isa


def test_show_config_mentions_everything():
    buf = io.StringIO()
    lepton.show_config(file=buf)
    text = buf.getvalue()
    for word in (lepton.__version__, "ISA level in use", _dispatch.isa, "OpenMP", "threads",
                 "compiler", "-O3"):
        assert word in text
    assert "march=native" not in text


@pytest.mark.parametrize("value,message", [("sse9", "not an ISA level"),
                                           ("avx1024", "not an ISA level")])
def test_bad_forced_isa_is_a_clear_error(value, message):
    code = "import lepton"
    env = dict(os.environ, LEPTON_ISA=value)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert message in out.stderr


@pytest.mark.parametrize("level", ["baseline", "avx2", "avx512"])
def test_forcing_each_level(level):
    code = "import lepton, numpy as np; a = np.ones((70, 90), np.float32); " \
           "print(lepton._isa, float(lepton.gemm(a, a.T)[0, 0]))"
    env = dict(os.environ, LEPTON_ISA=level)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if level not in _dispatch.built:
        assert out.returncode != 0 and "no '" in out.stderr
    elif level not in _dispatch.supported:
        assert out.returncode != 0 and "does not support" in out.stderr
    else:
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == [level, "90.0"]


@pytest.mark.build
def test_serial_build_without_openmp(tmp_path):
    """LEPTON_NO_OPENMP=1 builds serial kernels that still compute the same results."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if not (root / "setup.py").exists():
        pytest.skip("needs the source checkout")
    for name in ("setup.py", "pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy(root / name, tmp_path / name)
    shutil.copytree(root / "src", tmp_path / "src",
                    ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__"))
    env = dict(os.environ, LEPTON_NO_OPENMP="1", LEPTON_ISA_BUILD="baseline")
    out = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tmp_path,
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "building serial kernels" in out.stderr
    code = ("import lepton, numpy as np; a = np.arange(12.0).reshape(3, 4); "
            "print(lepton.openmp_enabled(), lepton.get_num_threads(), "
            "np.array_equal(lepton.gemm(a, a.T, n_threads=4), a @ a.T))")
    env = {k: v for k, v in os.environ.items() if k != "LEPTON_ISA"}
    env["PYTHONPATH"] = str(tmp_path / "src")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "1", "True"]
