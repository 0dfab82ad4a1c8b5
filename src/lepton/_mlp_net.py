"""TEMPORARY NumPy stand-in for the estimators' network, until Model/Trainer land (branch model).

Same interface as the native-backed version that replaces it: a flat parameter buffer with
(W, b) views, ``train`` over a range of mini-batches of a permutation with one learning rate per
batch, ``predict``.
"""
import numpy as np

from lepton import _names


def _act(name, z):
    if name == "identity":
        return z
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
    if name == "gelu":
        return 0.5 * z * (1 + np.tanh(0.7978845608028654 * (z + 0.044715 * z ** 3)))
    if name == "softplus":
        return np.logaddexp(0, z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(name)


def _dact(name, z, a):
    if name == "identity":
        return np.ones_like(z)
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01).astype(z.dtype)
    if name == "elu":
        return np.where(z > 0, 1.0, a + 1).astype(z.dtype)
    if name == "softplus":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "gelu":
        u = 0.7978845608028654 * (z + 0.044715 * z ** 3)
        t = np.tanh(u)
        return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * z * z)
    raise ValueError(name)


class _Net:
    def __init__(self, layer_units, activation, out_activation, dtype, *, dropout=None,
                 solver="adam", momentum=0.9, nesterov=True, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, seed=0, n_threads=None):
        self.layer_units = list(layer_units)
        self.activation = _names.activation_name(activation)
        self.out_activation = _names.activation_name(out_activation)
        self.dtype = np.dtype(dtype)
        L = len(layer_units) - 1
        self.dropout = list(dropout) if dropout is not None else [0.0] * (L - 1)
        sizes = [(a, b) for a, b in zip(layer_units[:-1], layer_units[1:])]
        n = sum(a * b + b for a, b in sizes)
        self.params = np.zeros(n, dtype=self.dtype)
        self.coefs, self.intercepts, off = [], [], 0
        for a, b in sizes:
            self.coefs.append(self.params[off:off + a * b].reshape(a, b))
            off += a * b
            self.intercepts.append(self.params[off:off + b])
            off += b
        self.solver, self.momentum, self.nesterov = solver, momentum, nesterov
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.seed = seed
        self.reset_optimizer()

    def reset_optimizer(self):
        self.m = np.zeros_like(self.params)
        self.v = np.zeros_like(self.params)
        self.t = 0

    def predict(self, X):
        a = X
        L = len(self.coefs)
        for i in range(L):
            a = _act(self.activation if i < L - 1 else self.out_activation,
                     a @ self.coefs[i] + self.intercepts[i])
        return a

    def _grads(self, X, Y, sw, rng):
        L = len(self.coefs)
        acts, zs = [X], []
        a = X
        for i in range(L):
            z = a @ self.coefs[i] + self.intercepts[i]
            zs.append(z)
            a = _act(self.activation if i < L - 1 else self.out_activation, z)
            if i < L - 1 and self.dropout[i] > 0:
                keep = rng.uniform(size=a.shape) >= self.dropout[i]
                a = a * keep / (1 - self.dropout[i])
            acts.append(a)
        n = X.shape[0]
        w = np.ones(n, dtype=X.dtype) if sw is None else sw
        p = acts[-1]
        eps = np.finfo(p.dtype).eps
        if self.out_activation == "softmax":
            loss = -np.sum(w[:, None] * Y * np.log(np.clip(p, eps, 1 - eps))) / n
        elif self.out_activation == "sigmoid":
            pc = np.clip(p, eps, 1 - eps)
            loss = -np.sum(w[:, None] * (Y * np.log(pc) + (1 - Y) * np.log(1 - pc))) / n
        else:
            loss = 0.5 * np.sum(w[:, None] * (p - Y) ** 2) / (n * Y.shape[1])
        delta = (p - Y) * w[:, None] / n
        if self.out_activation == "identity":
            delta /= Y.shape[1]
        gW, gb = [None] * L, [None] * L
        for i in range(L - 1, -1, -1):
            gW[i] = acts[i].T @ delta
            gb[i] = delta.sum(axis=0)
            if i:
                da = delta @ self.coefs[i].T
                if self.dropout[i - 1] > 0:
                    da = da * (acts[i] != 0) / (1 - self.dropout[i - 1])
                a_pre = _act(self.activation, zs[i - 1])
                delta = da * _dact(self.activation, zs[i - 1], a_pre)
        g = np.concatenate([np.concatenate([w_.ravel(), b_]) for w_, b_ in zip(gW, gb)])
        return loss, g.astype(self.dtype)

    def _is_weight(self):
        mask = np.zeros(self.params.size, bool)
        off = 0
        for W, b in zip(self.coefs, self.intercepts):
            mask[off:off + W.size] = True
            off += W.size + b.size
        return mask

    def train(self, X, Y, SW, perm, batch_size, b0, nb, lr, l2):
        n = X.shape[0]
        losses = np.empty(nb)
        isw = self._is_weight()
        rng = np.random.RandomState(self.seed + self.t)
        for bi in range(nb):
            i0 = (b0 + bi) * batch_size
            idx = (perm if perm is not None else np.arange(n))[i0:i0 + batch_size]
            loss, g = self._grads(X[idx], Y[idx], None if SW is None else SW[idx], rng)
            W2 = sum(float(np.dot(W.ravel(), W.ravel())) for W in self.coefs)
            losses[bi] = loss + 0.5 * l2 * W2
            if not np.isfinite(losses[bi]):
                return losses[:bi + 1]
            g = g + l2 * self.params * isw
            self.t += 1
            if self.solver == "adam":
                self.m = self.beta_1 * self.m + (1 - self.beta_1) * g
                self.v = self.beta_2 * self.v + (1 - self.beta_2) * g * g
                step = lr * np.sqrt(1 - self.beta_2 ** self.t) / (1 - self.beta_1 ** self.t)
                self.params -= (step * self.m / (np.sqrt(self.v) + self.epsilon)).astype(self.dtype)
            else:
                self.m = self.momentum * self.m - lr * g
                if self.nesterov:
                    self.params += self.momentum * self.m - lr * g
                else:
                    self.params += self.m
        return losses
