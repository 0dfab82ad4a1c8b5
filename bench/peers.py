"""The peers lepton is measured against, built to do the same work as lepton.

- ``NumpyMLP``: the reference implementation, a plain-NumPy MLP written the way a careful
  NumPy user would: vectorised, float32, parameters/gradients/velocity in one flat buffer
  each (so the optimizer update is three whole-buffer operations), activations and deltas
  preallocated per batch size, matmuls written into ``out=`` buffers.  Same network, init
  scale and optimizer math as lepton's Model/Trainer.  It lives in ``lepton.cli._bench`` so
  ``lepton bench`` uses the very same code.
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
# One implementation, shipped in the package for `lepton bench`.
from lepton.cli._bench import NumpyMLP, init_params, layer_views  # noqa: E402,F401


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
