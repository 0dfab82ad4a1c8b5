"""``lepton bench``: a quick same-run comparison of lepton against plain NumPy.

Design:
  1. Same run, alternating.  Shared machines drift by +-15% between runs, so lepton and the
     NumPy peer are timed in turns (A B A B ...) after a warm-up, and the figure that counts
     is the ratio of the two medians.  :func:`alternate` is that timer; ``bench/compare.py``
     uses it too, so the full suite and this quick check measure the same way.  Before each
     sample it waits for the other library's worker threads to stop spinning
     (:func:`settle`), or the sample would pay for them.
  2. Same threads.  lepton gets ``n_threads``; NumPy's BLAS is limited to the same count with
     threadpoolctl when it is installed (without it NumPy keeps its default, and the table
     says so).
  3. No peers needed.  Only NumPy (and lepton): the NumPy MLP below is THE reference
     implementation (same init, same softmax-CE + momentum math, float32, preallocated
     buffers); ``bench/peers.py`` imports it and ``bench/test_bench_reference.py`` checks it
     against PyTorch step for step.
"""
import contextlib
import importlib.util
import os
import sys
import time

import numpy as np

# Quick sizes: ~10-20 s on a 2-core machine.
GEMM_N = 512
MNIST_SIZES, MNIST_BATCH, MNIST_ROWS = (784, 256, 128, 10), 128, 4096
SMALL_SIZES, SMALL_BATCH, SMALL_ROWS = (64, 64, 10), 32, 4096
LR, MOMENTUM = 0.01, 0.9


# ---------------------------------------------------------------- timing
def _loop(fn, n):
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def settle(max_wait=0.5, poll=0.01):
    """Sleep until no thread of this process burns CPU (at most ``max_wait`` seconds).

    OpenBLAS workers spin for ~0.1 s of a full core after every multi-threaded call (measured
    here: 0.12 CPU-s while the caller sleeps); libgomp and PyTorch spin ~5 ms.  On a 2-core
    machine a spinning worker steals half the machine from whatever is timed next, so the
    sample after a NumPy sample would be charged for NumPy's spin.
    """
    end = time.perf_counter() + max_wait
    while time.perf_counter() < end:
        c0 = time.process_time()  # CPU time of all threads of this process
        time.sleep(poll)
        if time.process_time() - c0 < 0.2 * poll:
            return


def alternate(entries, rounds=5, warmup=1, min_time=0.05, quiet=True):
    """Time several callables in turns and return each one's per-call seconds per round.

    Parameters
    ----------
    entries : list of (name, fn, ctx)
        ``fn()`` runs one unit of work; ``ctx()`` returns a context manager entered around
        every sample (thread limits), outside the timed region.  ``ctx`` may be None.
    rounds : int
        Samples per entry; round r times every entry once, in order (A B A B ...).
    warmup : int
        Untimed calls per entry first (workspaces, caches, thread pools).
    min_time : float
        A call shorter than this is repeated inside one sample, so timer resolution and the
        first call after the other library ran do not dominate.  Each entry gets its own
        repeat count.
    quiet : bool
        Before each sample, wait until the previous library's threads stopped spinning
        (:func:`settle`).

    Returns
    -------
    dict name -> list of per-call seconds (one per round)
    """
    nullctx = contextlib.nullcontext
    reps = {}
    for name, fn, ctx in entries:
        with (ctx or nullctx)():
            for _ in range(max(warmup, 1)):
                t = _loop(fn, 1)
            reps[name] = 1 if t >= min_time else max(1, int(min_time / max(t, 1e-7)))
    samples = {name: [] for name, _, _ in entries}
    for _ in range(rounds):
        for name, fn, ctx in entries:
            with (ctx or nullctx)():
                if quiet:
                    settle()
                samples[name].append(_loop(fn, reps[name]))
    return samples


def median(xs):
    """Median of a non-empty sequence of floats."""
    return float(np.median(np.asarray(xs, dtype=np.float64)))


def load_warning(n_cores=None):
    """A warning string if the 1-minute load is above the core count, else None."""
    n_cores = n_cores or len(os.sched_getaffinity(0))
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this platform
        return None
    if load > n_cores:
        return (f"load average {load:.2f} is above the {n_cores} cores: other work is "
                f"running, ratios may be off; run again when the machine is quiet")
    return None


def blas_limit(n):
    """Context-manager factory limiting NumPy's BLAS to ``n`` threads (no-op without
    threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext
    return lambda: threadpool_limits(limits=n, user_api="blas")


# ---------------------------------------------------------------- NumPy reference MLP
# The plain-NumPy implementation of the benchmarked network; bench/peers.py uses this one.
def layer_views(sizes, flat):
    """Per-layer (W, b) views into a flat buffer: W (n_in, n_out) row-major, then b; the
    layout of lepton's ``model.params``."""
    views, off = [], 0
    for i, o in zip(sizes[:-1], sizes[1:]):
        W = flat[off:off + i * o].reshape(i, o)
        off += i * o
        views.append((W, flat[off:off + o]))
        off += o
    return views


def n_params(sizes):
    return sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))


def init_params(sizes, seed=0, dtype=np.float32):
    """Flat parameters and (W, b) views with lepton's ``init="auto"`` scale: he_uniform
    U(-sqrt(6/n_in), +) for the relu layers, glorot_uniform U(-sqrt(6/(n_in+n_out)), +) for
    the softmax head, zero biases."""
    rng = np.random.default_rng(seed)
    flat = np.zeros(sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:])), dtype=dtype)
    views = layer_views(sizes, flat)
    for li, (W, _) in enumerate(views):
        i, o = W.shape
        lim = np.sqrt(6.0 / (i + o)) if li == len(views) - 1 else np.sqrt(6.0 / i)
        W[...] = rng.uniform(-lim, lim, size=(i, o))
    return flat, views


class NumpyMLP:
    """Relu MLP with a softmax head, trained with SGD + momentum on softmax cross-entropy.

    Parameters
    ----------
    sizes : tuple of int
        Layer widths, input first: (784, 256, 128, 10).
    seed : int
        Seeds the init and the epoch shuffles.
    dtype : numpy dtype
        float32 (the benchmarks) or float64.
    lr, momentum : float
        Constant learning rate and momentum.
    """

    def __init__(self, sizes, seed=0, dtype=np.float32, lr=LR, momentum=MOMENTUM):
        self.sizes, self.dtype = tuple(sizes), np.dtype(dtype)
        self.lr, self.momentum = lr, momentum
        self.params, self.layers = init_params(self.sizes, seed, self.dtype)
        self.grads = np.zeros_like(self.params)
        self.glayers = layer_views(self.sizes, self.grads)
        self.velocity = np.zeros_like(self.params)
        self._scaled = np.empty_like(self.params)
        self._bufs = {}
        self._xb = {}
        self.rng = np.random.default_rng(seed)

    def weights(self):
        """List of (W, b) copies, W of shape (n_in, n_out)."""
        return [(W.copy(), b.copy()) for W, b in self.layers]

    def _buffers(self, n):
        # Allocated once per row count: training uses the batch size (and the last, shorter
        # batch), predict uses its row count.
        bufs = self._bufs.get(n)
        if bufs is None:
            acts = [np.empty((n, o), self.dtype) for o in self.sizes[1:]]
            deltas = [np.empty((n, o), self.dtype) for o in self.sizes[1:-1]]
            bufs = self._bufs[n] = (acts, deltas, np.empty((n, 1), self.dtype), np.arange(n))
        return bufs

    def forward(self, X):
        """Softmax probabilities for X, in an internal buffer (valid until the next call)."""
        acts, _, red, _ = self._buffers(X.shape[0])
        h = X
        for li, ((W, b), a) in enumerate(zip(self.layers, acts)):
            np.matmul(h, W, out=a)
            a += b
            if li < len(self.layers) - 1:
                np.maximum(a, 0, out=a)
            h = a
        # Stable softmax in place: subtract the row max before exp.
        np.max(h, axis=1, keepdims=True, out=red)
        h -= red
        np.exp(h, out=h)
        np.sum(h, axis=1, keepdims=True, out=red)
        h /= red
        return h

    def predict(self, X):
        """Softmax probabilities for X (a new array)."""
        return self.forward(X).copy()

    def step(self, xb, yb):
        """One mini-batch step on (xb, yb); returns the mean cross-entropy of the batch."""
        n = xb.shape[0]
        acts, deltas, _, rows = self._buffers(n)
        P = self.forward(xb)
        loss = -float(np.mean(np.log(P[rows, yb] + 1e-12)))
        # dL/dZ of the head for mean softmax-CE: (P - onehot(y)) / n, built in place in P.
        d = P
        d[rows, yb] -= 1
        d *= 1.0 / n
        for li in range(len(self.layers) - 1, -1, -1):
            h = xb if li == 0 else acts[li - 1]
            gW, gb = self.glayers[li]
            np.matmul(h.T, d, out=gW)
            np.sum(d, axis=0, out=gb)
            if li:  # no gradient for the input
                dprev = deltas[li - 1]
                np.matmul(d, self.layers[li][0].T, out=dprev)
                dprev *= h > 0  # relu' from the stored post-activation
                d = dprev
        v = self.velocity
        v *= self.momentum
        np.multiply(self.grads, self.lr, out=self._scaled)
        v -= self._scaled
        self.params += v
        return loss

    def fit_epoch(self, X, y, batch_size, shuffle=True):
        """One pass over (X, y) in mini-batches; returns the mean loss."""
        n = X.shape[0]
        order = self.rng.permutation(n) if shuffle else np.arange(n)
        xb = self._xb.get(batch_size)
        if xb is None:
            xb = self._xb[batch_size] = np.empty((batch_size, X.shape[1]), self.dtype)
        total = 0.0
        for s in range(0, n, batch_size):
            idx = order[s:s + batch_size]
            xv = xb[:len(idx)]
            np.take(X, idx, axis=0, out=xv)
            total += self.step(xv, y[idx]) * len(idx)
        return total / n


# ---------------------------------------------------------------- quick_bench
def synthetic(rows, n_in, n_out, seed=0):
    """Learnable synthetic classification data (labels from a random linear teacher):
    float32 X of shape (rows, n_in), int64 labels in 0..n_out-1."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, n_in), dtype=np.float32)
    teacher = rng.standard_normal((n_in, n_out), dtype=np.float32)
    return X, np.argmax(X @ teacher, axis=1).astype(np.int64)


def _model_api():
    import lepton
    return all(hasattr(lepton, name) for name in ("Model", "Dense", "Trainer"))


def _train_entries(sizes, batch, rows, n_threads):
    import lepton
    X, y = synthetic(rows, sizes[0], sizes[-1])
    model = lepton.Model([lepton.Dense(h, activation="relu") for h in sizes[1:-1]]
                         + [lepton.Dense(sizes[-1], activation="softmax")],
                         input_dim=sizes[0], dtype="float32", seed=0)
    trainer = lepton.Trainer(model, loss="softmax_cross_entropy", optimizer="momentum",
                             lr=LR, momentum=MOMENTUM, n_threads=n_threads)
    ref = NumpyMLP(sizes)
    return (lambda: trainer.fit(X, y, epochs=1, batch_size=batch, shuffle=True),
            lambda: ref.fit_epoch(X, y, batch, shuffle=True), rows, "samples/s")


def _gemm_entries(n, n_threads):
    import lepton
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    c1, c2 = np.empty((n, n), np.float32), np.empty((n, n), np.float32)
    return (lambda: lepton.gemm(a, b, c1, n_threads=n_threads),
            lambda: np.matmul(a, b, out=c2), 2.0 * n ** 3 / 1e9, "GFLOP/s")


def quick_bench(n_threads=None, file=None, rounds=7):
    """Compare lepton with plain NumPy in one run and print a short table.

    Times sgemm 512^3 and one epoch of the train_small (64-64-10, batch 32) and train_mnist
    (784-256-128-10, batch 128) workloads on 4096 synthetic rows, alternating lepton and
    NumPy for ``rounds`` rounds after a warm-up, 0.2 s per sample.  Takes about 10-15 s.

    Parameters
    ----------
    n_threads : int, optional
        Threads for lepton and for NumPy's BLAS (None: lepton's default, -1: all).
    file : file-like, optional
        Where to print the table (default: stdout).
    rounds : int
        Timed rounds per workload (at least 1).

    Returns
    -------
    dict
        ``{"n_threads", "load", "warning", "blas_limited", "results": [...],
        "skipped": [...]}``; each result has workload, unit, lepton_s, numpy_s (median
        seconds per call), lepton_rate, numpy_rate and ratio (lepton speed / NumPy speed).
    """
    import lepton
    from lepton._native.threads import resolve_threads

    out = file or sys.stdout
    nt = resolve_threads(n_threads)
    rounds = max(1, int(rounds))
    limited = importlib.util.find_spec("threadpoolctl") is not None
    lctx, nctx = (lambda: _lepton_threads(nt)), blas_limit(nt)
    specs = [("sgemm 512^3", lambda: _gemm_entries(GEMM_N, nt))]
    skipped = []
    if _model_api():
        specs += [("train_small", lambda: _train_entries(SMALL_SIZES, SMALL_BATCH, SMALL_ROWS, nt)),
                  ("train_mnist", lambda: _train_entries(MNIST_SIZES, MNIST_BATCH, MNIST_ROWS, nt))]
    else:
        skipped += [("train_small", "lepton.Model/Trainer not available in this build"),
                    ("train_mnist", "lepton.Model/Trainer not available in this build")]
    warning = load_warning()
    results = []
    for name, make in specs:
        lfn, nfn, work, unit = make()
        # 0.2 s samples: a few epochs / gemm calls each, steadier than single calls.
        s = alternate([("lepton", lfn, lctx), ("numpy", nfn, nctx)], rounds=rounds,
                      warmup=1, min_time=0.2)
        lt, npt = median(s["lepton"]), median(s["numpy"])
        results.append({"workload": name, "unit": unit, "lepton_s": lt, "numpy_s": npt,
                        "lepton_rate": work / lt, "numpy_rate": work / npt, "ratio": npt / lt})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"lepton {lepton.__version__} vs NumPy {np.__version__}, {nt} thread(s), "
          f"{rounds} alternating rounds, medians", file=out)
    if not limited:
        print("  (threadpoolctl not installed: NumPy's BLAS thread count is not limited)",
              file=out)
    print(f"  {'workload':<14}{'unit':>11}{'lepton':>12}{'numpy':>12}{'ratio':>8}", file=out)
    for r in results:
        print(f"  {r['workload']:<14}{r['unit']:>11}{r['lepton_rate']:>12.4g}"
              f"{r['numpy_rate']:>12.4g}{r['ratio']:>7.2f}x", file=out)
    for name, why in skipped:
        print(f"  {name:<14} skipped: {why}", file=out)
    if warning:
        print(f"  WARNING: {warning}", file=out)
    return {"n_threads": nt, "load": load, "warning": warning, "blas_limited": limited,
            "results": results, "skipped": [{"workload": w, "why": y} for w, y in skipped]}


@contextlib.contextmanager
def _lepton_threads(n):
    from lepton._native import threads as _threads
    old = _threads.user_threads()
    _threads.set_num_threads(n)
    try:
        yield
    finally:
        _threads.set_num_threads(old)


if __name__ == "__main__":
    quick_bench(int(sys.argv[1]) if len(sys.argv) > 1 else None)
