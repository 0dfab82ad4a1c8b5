"""The peers lepton is measured against, built to do the same work as lepton.

- ``NumpyMLP``: the reference implementation, a plain-NumPy MLP written the way a careful
  NumPy user would: vectorised, float32, parameters/gradients/velocity in one flat buffer
  each (so the optimizer update is three whole-buffer operations), activations and deltas
  preallocated per batch size, matmuls written into ``out=`` buffers.  Same network, init
  scale and optimizer math as lepton's Model/Trainer (``lepton._bench.NumpyMLP`` is a
  compact copy for ``lepton bench``; ``test_bench_reference.py`` checks they agree).
- ``TorchMLP``: PyTorch CPU eager, ``nn.Sequential`` + ``torch.optim.SGD(momentum=0.9)`` +
  ``F.cross_entropy``, starting from the same weights as the NumPy reference.
- ``sklearn_classifier``: scikit-learn's MLPClassifier configured for the same network and
  optimizer (``solver="sgd"``, constant lr, plain momentum, no L2).

Optimizer math, everywhere: ``v = momentum * v - lr * g; p += v`` (PyTorch keeps
``v' = momentum * v' + g; p -= lr * v'``, the same trajectory for a constant lr).
torch and sklearn are imported only when a peer that needs them is built, so a missing peer
costs nothing until asked for.
"""
import numpy as np

LR, MOMENTUM = 0.01, 0.9


class Unavailable(Exception):
    """A peer library is not installed; the benchmark is skipped, never faked."""


def require(module):
    """Import and return ``module`` or raise Unavailable naming the missing package."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(f"{module.split('.')[0]} is not installed ({exc})") from None


# ---------------------------------------------------------------- NumPy reference
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


# ---------------------------------------------------------------- PyTorch CPU
class TorchMLP:
    """The same network in PyTorch eager mode, from the reference's initial weights."""

    def __init__(self, sizes, seed=0, dtype=np.float32, lr=LR, momentum=MOMENTUM):
        torch = require("torch")
        nn = torch.nn
        self.torch = torch
        self.F = torch.nn.functional
        tdtype = torch.float32 if np.dtype(dtype) == np.float32 else torch.float64
        mods = []
        for li, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
            mods.append(nn.Linear(i, o, dtype=tdtype))
            if li < len(sizes) - 2:
                mods.append(nn.ReLU())
        self.net = nn.Sequential(*mods)
        _, layers = init_params(sizes, seed, dtype)
        with torch.no_grad():
            for lin, (W, b) in zip(self.net[::2], layers):
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                lin.bias.copy_(torch.from_numpy(b))
        self.opt = torch.optim.SGD(self.net.parameters(), lr=lr, momentum=momentum)
        self.gen = torch.Generator().manual_seed(seed)

    def tensors(self, X, y=None):
        """Zero-copy tensors over NumPy data (y as int64 class indices)."""
        t = self.torch.from_numpy(X)
        return t if y is None else (t, self.torch.from_numpy(y.astype(np.int64, copy=False)))

    def fit_epoch(self, X, y, batch_size, shuffle=True):
        """One pass over tensors (X, y); returns the mean loss."""
        torch = self.torch
        n = X.shape[0]
        order = torch.randperm(n, generator=self.gen) if shuffle else torch.arange(n)
        total = torch.zeros((), dtype=torch.float64)
        self.net.train()
        for s in range(0, n, batch_size):
            idx = order[s:s + batch_size]
            self.opt.zero_grad(set_to_none=True)
            loss = self.F.cross_entropy(self.net(X[idx]), y[idx])
            loss.backward()
            self.opt.step()
            total += loss.detach() * len(idx)
        return float(total) / n

    def predict(self, X):
        """Softmax probabilities for tensor X (inference mode, no autograd)."""
        with self.torch.inference_mode():
            return self.torch.softmax(self.net(X), dim=1)


def torch_threads(n):
    """Context-manager factory setting PyTorch's intra-op threads to ``n``."""
    import contextlib
    torch = require("torch")

    @contextlib.contextmanager
    def ctx():
        old = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(old)
    return ctx


# ---------------------------------------------------------------- scikit-learn
def sklearn_classifier(hidden, batch_size, lr=LR, momentum=MOMENTUM, max_iter=1, seed=0):
    """scikit-learn's MLPClassifier set up like the lepton Trainer: relu hidden layers,
    softmax head (automatic for multi-class), SGD with plain momentum, constant lr, no L2.

    scikit-learn computes in float32 when given float32 X (it keeps the dtype since 1.0)
    and in float64 otherwise; the benchmarks give it float32.
    """
    nn = require("sklearn.neural_network")
    return nn.MLPClassifier(
        hidden_layer_sizes=tuple(hidden), activation="relu", solver="sgd", alpha=0.0,
        batch_size=batch_size, learning_rate="constant", learning_rate_init=lr,
        momentum=momentum, nesterovs_momentum=False, max_iter=max_iter, shuffle=True,
        tol=0.0, n_iter_no_change=max_iter + 1, early_stopping=False, random_state=seed)


def blas_threads(n):
    """Context-manager factory limiting NumPy's (and scikit-learn's) BLAS to ``n`` threads."""
    tp = require("threadpoolctl")
    return lambda: tp.threadpool_limits(limits=n, user_api="blas")
