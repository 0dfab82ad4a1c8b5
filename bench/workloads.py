"""The workloads of shared/BENCHMARKING.md as runnable cases, one source for the pytest suite
(``test_bench_*.py``), ``compare.py`` and ``memory.py``.

A ``Spec`` names one workload instance (e.g. sgemm 128x784x256 NT) and knows how to build a
``Case`` for an implementation ("lepton", "numpy", "torch", "sklearn") at a thread count: a
zero-argument callable doing one unit of work, the amount of work (FLOPs, samples) and a
context-manager factory that gives that implementation the thread count.  Thread limits are
set around the timed region, never inside it: threadpoolctl takes milliseconds.

Environment:
  LEPTON_BENCH_QUICK=1        tiny sizes (CI smoke run, < 2 minutes with --benchmark-disable)
  LEPTON_BENCH_THREADS=1,2    thread counts to run (default: 1 and all cores)
  LEPTON_BENCH_ROUNDS=n       rounds for the long cases timed with benchmark.pedantic
"""
import contextlib
import functools
import os
import platform
import warnings
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

import peers
from peers import LR, MOMENTUM, Unavailable
from lepton.cli._bench import synthetic as _bench_synthetic


def _flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


QUICK = _flag("LEPTON_BENCH_QUICK")
N_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def thread_counts():
    """Thread counts to run: LEPTON_BENCH_THREADS, else 1 and all cores."""
    env = os.environ.get("LEPTON_BENCH_THREADS", "").strip()
    if env:
        return sorted({max(1, int(t)) for t in env.split(",") if t.strip()})
    return sorted({1, N_CORES})


def pedantic_rounds():
    """Rounds for long cases (one epoch per call) in the pytest suite."""
    env = os.environ.get("LEPTON_BENCH_ROUNDS", "").strip()
    return int(env) if env else (1 if QUICK else 5)


# ---------------------------------------------------------------- sizes
MNIST_SIZES, MNIST_BATCH = (784, 256, 128, 10), 128
SMALL_SIZES, SMALL_BATCH = (64, 64, 10), 32
MLP_GEMM_SHAPES = ((128, 784, 256), (128, 256, 128), (128, 128, 10))  # M x K x N
# op(a) is M x K and op(b) is K x N in every variant: the stored operand is transposed.
TRANS = {"NN": (False, False), "NT": (False, True), "TN": (True, False)}


def sizes(quick=None):
    """Row counts and the large GEMM size; quick mode shrinks everything for CI."""
    quick = QUICK if quick is None else quick
    if quick:
        return dict(gemm_big=128, mnist_rows=512, small_rows=512, bulk_rows=256,
                    digits_epochs=2)
    return dict(gemm_big=1024, mnist_rows=20000, small_rows=16384, bulk_rows=10000,
                digits_epochs=30)


# ---------------------------------------------------------------- cases
@dataclass
class Case:
    workload: str
    label: str
    impl: str
    threads: int
    fn: Callable[[], object]
    work: float                # per call: FLOPs (gemm), samples (train/predict), 1 (predict_1)
    unit: str                  # "GFLOP/s", "samples/s" or "us/call" (lower is better)
    ctx: Callable = contextlib.nullcontext
    dtype: str = "float32"
    note: str = ""
    long: bool = False         # one call takes 0.1 s or more: time with pedantic rounds
    step: Optional[Callable[[], object]] = None  # one training step (memory benchmark)
    state: dict = field(default_factory=dict)    # keeps objects alive next to fn

    @property
    def group(self):
        return f"{self.workload} {self.label} t={self.threads}"

    def rate(self, seconds):
        """Figure in ``unit`` for a median time per call."""
        if self.unit == "us/call":
            return seconds * 1e6
        scale = 1e9 if self.unit == "GFLOP/s" else 1.0
        return self.work / seconds / scale

    def info(self):
        """JSON-able description (pytest-benchmark extra_info, compare.py records)."""
        return {"workload": self.workload, "label": self.label, "impl": self.impl,
                "threads": self.threads, "work": self.work, "unit": self.unit,
                "dtype": self.dtype, "note": self.note}


@dataclass(frozen=True)
class Spec:
    workload: str
    label: str
    impls: tuple
    build: Callable  # build(impl, threads) -> Case; raises Unavailable

    @property
    def id(self):
        return f"{self.workload}-{self.label}".replace(" ", "-")


def lepton_module():
    import lepton
    return lepton


def lepton_model_api():
    """lepton with Model/Dense/Trainer, or Unavailable until that branch lands."""
    lepton = lepton_module()
    missing = [n for n in ("Model", "Dense", "Trainer") if not hasattr(lepton, n)]
    if missing:
        raise Unavailable(f"lepton.{'/'.join(missing)} not available yet "
                          f"(the Model/Trainer branch has not landed)")
    return lepton


def lepton_threads(n):
    """Context-manager factory: lepton's default thread count is ``n`` inside."""
    from lepton.cli._bench import _lepton_threads
    return lambda: _lepton_threads(n)


def threads_ctx(impl, n):
    if impl == "lepton":
        return lepton_threads(n)
    if impl in ("numpy", "sklearn"):
        return peers.blas_threads(n)
    if impl == "torch":
        return peers.torch_threads(n)
    raise ValueError(f"unknown implementation {impl!r}")


@functools.lru_cache(maxsize=8)
def synthetic(rows, n_in, n_out, seed=0):
    """``lepton.cli._bench.synthetic``, cached so every implementation sees the same arrays."""
    return _bench_synthetic(rows, n_in, n_out, seed)


def lepton_model(lepton, sizes_):
    layers = [lepton.Dense(h, activation="relu") for h in sizes_[1:-1]]
    layers.append(lepton.Dense(sizes_[-1], activation="softmax"))
    return lepton.Model(layers, input_dim=sizes_[0], dtype="float32", seed=0)


# ---- gemm
def gemm_case(impl, threads, dtype, m, k, n, tname):
    ta, tb = TRANS[tname]
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    c = np.empty((m, n), dtype)
    workload = "sgemm" if np.dtype(dtype) == np.float32 else "dgemm"
    if impl == "lepton":
        fn = functools.partial(lepton_module().gemm, a, b, c, trans_a=ta, trans_b=tb,
                               n_threads=threads)
    elif impl == "numpy":
        # Transposed views: NumPy hands OpenBLAS the transpose flag, no copy.
        fn = functools.partial(np.matmul, a.T if ta else a, b.T if tb else b, out=c)
    elif impl == "torch":
        torch = peers.require("torch")
        A, B, C = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)
        A, B = (A.t() if ta else A), (B.t() if tb else B)
        fn = functools.partial(torch.matmul, A, B, out=C)
    else:
        raise ValueError(f"gemm has no implementation {impl!r}")
    return Case(workload, f"{m}x{k}x{n} {tname}", impl, threads, fn, 2.0 * m * n * k,
                "GFLOP/s", threads_ctx(impl, threads), np.dtype(dtype).name,
                state={"arrays": (a, b, c)})


def gemm_specs(quick=None):
    big = sizes(quick)["gemm_big"]
    shapes = [("float32", (big, big, big)), ("float64", (big, big, big))]
    shapes += [("float32", s) for s in MLP_GEMM_SHAPES]
    out = []
    for dtype, (m, k, n) in shapes:
        for tname in TRANS:
            build = functools.partial(_gemm_build, dtype=dtype, mkn=(m, k, n), tname=tname)
            wl = "sgemm" if dtype == "float32" else "dgemm"
            out.append(Spec(wl, f"{m}x{k}x{n} {tname}", ("lepton", "numpy", "torch"), build))
    return out


def _gemm_build(impl, threads, dtype, mkn, tname):
    return gemm_case(impl, threads, dtype, *mkn, tname)


# ---- training
def _train_config(workload, quick):
    """(layer sizes, batch size, rows per epoch) of a training workload."""
    s = sizes(quick)
    if workload == "train_mnist":
        return MNIST_SIZES, MNIST_BATCH, s["mnist_rows"]
    if workload == "train_small":
        return SMALL_SIZES, SMALL_BATCH, s["small_rows"]
    raise ValueError(f"unknown training workload {workload!r}")


def _train_label(net, batch, rows):
    return f"{'-'.join(map(str, net))} b{batch} {rows} rows"


def train_case(impl, threads, workload, quick=None):
    quick = QUICK if quick is None else quick
    net, batch, rows = _train_config(workload, quick)
    X, y = synthetic(rows, net[0], net[-1])
    xs, ys = X[:batch], y[:batch]
    note, step, state = "", None, {}
    if impl == "lepton":
        lepton = lepton_model_api()
        model = lepton_model(lepton, net)
        trainer = lepton.Trainer(model, loss="softmax_cross_entropy", optimizer="momentum",
                                 lr=LR, momentum=MOMENTUM, n_threads=threads)
        fn = functools.partial(trainer.fit, X, y, epochs=1, batch_size=batch, shuffle=True)
        # partial_fit reuses the batch size of the last fit: one batch = one step.
        step = functools.partial(trainer.partial_fit, xs, ys)
        state = {"model": model, "trainer": trainer}
    elif impl == "numpy":
        ref = peers.NumpyMLP(net)
        fn = functools.partial(ref.fit_epoch, X, y, batch, shuffle=True)
        step = functools.partial(ref.step, np.ascontiguousarray(xs), ys)
        state = {"model": ref}
    elif impl == "torch":
        tm = peers.TorchMLP(net)
        Xt, yt = tm.tensors(X, y)
        fn = functools.partial(tm.fit_epoch, Xt, yt, batch, shuffle=True)
        state = {"model": tm}
    elif impl == "sklearn":
        clf = peers.sklearn_classifier(net[1:-1], batch)
        clf.partial_fit(xs, ys, classes=np.arange(net[-1]))  # builds the network once
        fn = functools.partial(clf.partial_fit, X, y)
        note = "scikit-learn given float32 X: computes in float32 (float64 otherwise)"
        state = {"model": clf}
    else:
        raise ValueError(f"training has no implementation {impl!r}")
    return Case(workload, _train_label(net, batch, rows), impl, threads, fn, float(rows), "samples/s",
                threads_ctx(impl, threads), "float32", note, long=not quick, step=step,
                state=state)


def train_specs(quick=None):
    return [Spec(wl, _train_label(*_train_config(wl, quick)),
                 ("lepton", "numpy", "torch", "sklearn"),
                 functools.partial(train_case, workload=wl, quick=quick))
            for wl in ("train_mnist", "train_small")]


# ---- inference
def predict_case(impl, threads, workload, quick=None):
    rows = 1 if workload == "predict_1" else sizes(quick)["bulk_rows"]
    X, _ = synthetic(max(rows, 64), MNIST_SIZES[0], MNIST_SIZES[-1], seed=1)
    X = np.ascontiguousarray(X[:rows])
    note, state = "", {}
    if impl == "lepton":
        model = lepton_model(lepton_model_api(), MNIST_SIZES)
        fn = functools.partial(model.predict, X, n_threads=threads)
        state = {"model": model}
    elif impl == "numpy":
        ref = peers.NumpyMLP(MNIST_SIZES)
        fn = functools.partial(ref.predict, X)
        state = {"model": ref}
    elif impl == "torch":
        tm = peers.TorchMLP(MNIST_SIZES)
        fn = functools.partial(tm.predict, tm.tensors(X))
        state = {"model": tm}
    elif impl == "sklearn":
        clf = peers.sklearn_classifier(MNIST_SIZES[1:-1], MNIST_BATCH)
        Xf, yf = synthetic(MNIST_BATCH, MNIST_SIZES[0], MNIST_SIZES[-1])
        clf.partial_fit(Xf, yf, classes=np.arange(MNIST_SIZES[-1]))
        fn = functools.partial(clf.predict_proba, X)
        note = "scikit-learn given float32 X: computes in float32"
        state = {"model": clf}
    else:
        raise ValueError(f"prediction has no implementation {impl!r}")
    unit, work = ("us/call", 1.0) if workload == "predict_1" else ("samples/s", float(rows))
    label = f"784-256-128-10 {rows} row{'s' if rows > 1 else ''}"
    return Case(workload, label, impl, threads, fn, work, unit, threads_ctx(impl, threads),
                "float32", note, state=state)


def predict_specs(quick=None):
    rows = sizes(quick)["bulk_rows"]
    return [Spec("predict_1", "784-256-128-10 1 row", ("lepton", "numpy", "torch", "sklearn"),
                 functools.partial(predict_case, workload="predict_1", quick=quick)),
            Spec("predict_bulk", f"784-256-128-10 {rows} rows",
                 ("lepton", "numpy", "torch", "sklearn"),
                 functools.partial(predict_case, workload="predict_bulk", quick=quick))]


# ---- estimators
def digits():
    """UCI digits as float32 in [0, 1] and int64 labels, from lepton or scikit-learn."""
    try:
        from lepton.datasets import load_digits
    except ImportError:
        load_digits = peers.require("sklearn.datasets").load_digits
    X, y = load_digits(return_X_y=True)
    return np.ascontiguousarray(X, dtype=np.float32) / 16.0, np.asarray(y, dtype=np.int64)


def estimator_case(impl, threads, quick=None):
    quick = QUICK if quick is None else quick
    epochs = sizes(quick)["digits_epochs"]
    # Same settings for both: the defaults (adam, batch min(200, n), lr 1e-3, relu,
    # hidden (100,)) with a fixed number of epochs, so neither stops early.
    params = dict(hidden_layer_sizes=(100,), max_iter=epochs, tol=0.0,
                  n_iter_no_change=epochs + 1, random_state=0)
    X, y = digits()
    if impl == "lepton":
        lepton = lepton_module()
        if not hasattr(lepton, "MLPClassifier"):
            raise Unavailable("lepton.MLPClassifier not available yet "
                              "(the estimators branch has not landed)")
        est = lepton.MLPClassifier(**params, n_threads=threads)
        fn = functools.partial(est.fit, X, y)
    elif impl == "sklearn":
        est = peers.require("sklearn.neural_network").MLPClassifier(**params)
        exc = peers.require("sklearn.exceptions").ConvergenceWarning

        def fn():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", exc)  # max_iter reached on purpose
                return est.fit(X, y)
    else:
        raise ValueError(f"the estimator benchmark has no implementation {impl!r}")
    return Case("fit_digits", f"MLPClassifier(100,) {epochs} epochs", impl, threads, fn,
                float(X.shape[0] * epochs), "samples/s", threads_ctx(impl, threads),
                "float32", "both given float32 X (scikit-learn then computes in float32)",
                long=not quick, state={"estimator": est})


def estimator_specs(quick=None):
    epochs = sizes(quick)["digits_epochs"]
    return [Spec("fit_digits", f"MLPClassifier(100,) {epochs} epochs", ("lepton", "sklearn"),
                 functools.partial(estimator_case, quick=quick))]


def all_specs(quick=None):
    return gemm_specs(quick) + train_specs(quick) + predict_specs(quick) + estimator_specs(quick)


def cpu_model():
    """CPU model name for reports (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
