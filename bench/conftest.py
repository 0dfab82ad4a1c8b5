"""pytest-benchmark suite: lepton beside NumPy, PyTorch and scikit-learn (BENCHMARKING.md).

Run from the repository root (``bench/`` is not part of ``tests/``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m pytest bench/ --benchmark-json=bench/out/pytest.json
    LEPTON_BENCH_QUICK=1 python -m pytest bench/ --benchmark-disable -q     # CI smoke run

Each benchmark group holds one workload at one thread count, lepton beside its peers.
pytest-benchmark runs tests one after another, so ratios taken from its JSON are sequential,
not same-run: ``compare.py`` gives the alternating same-run ratios that count.  A peer that
is not installed is skipped with the reason; nothing asserts a time.
"""
import os
import platform

import pytest

import workloads
from lepton.cli._bench import settle
from peers import Unavailable


def pytest_report_header(config):
    lines = [f"lepton bench: quick={workloads.QUICK} threads={workloads.thread_counts()} "
             f"cores={workloads.N_CORES} load={_load()}"]
    lines += [f"  {name}: {ver}" for name, ver in _versions().items()]
    stale = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ]
    if stale:
        lines.append(f"  WARNING: {', '.join(stale)} set: they slow a current NumPy; run the "
                     f"benchmarks with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ...`")
    if os.getloadavg()[0] > workloads.N_CORES:
        lines.append("  WARNING: load average above the core count: figures are unreliable")
    return lines


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record what the figures depend on next to them in the JSON."""
    machine_info["lepton_bench"] = {
        "quick": workloads.QUICK, "threads": workloads.thread_counts(),
        "cores": workloads.N_CORES, "loadavg_start": list(os.getloadavg()),
        "versions": _versions(), "cpu": workloads.cpu_model(),
        "openblas_env": {v: os.environ[v] for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                         if v in os.environ},
    }


def pytest_generate_tests(metafunc):
    if "threads" in metafunc.fixturenames:
        counts = workloads.thread_counts()
        metafunc.parametrize("threads", counts, ids=[f"t{n}" for n in counts])


@pytest.fixture
def run_case(benchmark):
    """Build a case and time it; skips (with the reason) when the implementation is missing."""
    def run(spec, impl, threads):
        try:
            case = spec.build(impl, threads)
        except Unavailable as exc:
            pytest.skip(str(exc))
        benchmark.group = case.group
        benchmark.extra_info.update(case.info())
        with case.ctx():
            settle()  # the previous test's library may still spin its threads
            if case.long:
                benchmark.pedantic(case.fn, rounds=workloads.pedantic_rounds(),
                                   warmup_rounds=1, iterations=1)
            else:
                case.fn()  # warm-up: workspaces, pack buffers, thread pools
                benchmark(case.fn)
        return case
    return run


def _load():
    return "%.2f %.2f %.2f" % os.getloadavg()


def _versions():
    import importlib
    out = {"python": platform.python_version()}
    for mod in ("lepton", "numpy", "torch", "sklearn", "threadpoolctl"):
        try:
            out[mod] = importlib.import_module(mod).__version__
        except Exception:  # missing peers are reported, never an error
            out[mod] = "not installed"
    return out
