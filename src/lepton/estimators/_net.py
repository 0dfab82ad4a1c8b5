"""The network behind lepton's estimators: a :class:`lepton.model.Model` and its native
training state.

Each :meth:`_Net.train` call runs a range of mini-batches (gather through a permutation,
forward, loss, backward, optimizer update) in ONE nogil call of the native core, so the
estimators' Python loop runs once or twice per epoch, not once per batch.
"""
import numpy as np

from lepton import _names
from lepton._dispatch import core as _core
from lepton.model import Dense, Dropout, Model

# Output activation -> (loss, loss_scale) giving scikit-learn's gradients: log-loss summed
# over outputs; for squared_error, scikit-learn reports 0.5 * mean over samples AND outputs
# but its gradient is that of 0.5 * sum over outputs / n_samples, i.e. lepton's mse (a mean
# over outputs) scaled by 0.5 * n_outputs (see ``_Net.loss_divisor``).
_LOSS_FOR_OUTPUT = {"softmax": ("softmax_cross_entropy", 1.0),
                    "sigmoid": ("binary_cross_entropy", 1.0), "identity": ("mse", 0.5)}


def _optimizer(solver, momentum, nesterov):
    if solver == "adam":
        return "adam"
    if momentum == 0:
        return "sgd"
    return "nesterov" if nesterov else "momentum"


class _Net:
    """Model + native TrainState with the fixed hyper-parameters of one estimator fit.

    Parameters mirror the estimator's; ``coefs`` / ``intercepts`` are views into the Model's
    flat parameter buffer.
    """

    def __init__(self, layer_units, activation, out_activation, dtype, *, dropout=None,
                 solver="adam", momentum=0.9, nesterov=True, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, seed=0, n_threads=None):
        self.layer_units = [int(u) for u in layer_units]
        act = _names.activation_name(activation)
        out = _names.activation_name(out_activation)
        dropout = [0.0] * (len(layer_units) - 2) if dropout is None else list(dropout)
        self.n_threads = n_threads
        self._config = dict(activation=act, out_activation=out, dropout=dropout, solver=solver,
                            momentum=momentum, nesterov=nesterov, beta_1=beta_1,
                            beta_2=beta_2, epsilon=epsilon, seed=int(seed))
        self.model = self._make_model(np.dtype(dtype).name)
        self._make_state()

    def _make_model(self, dtype):
        c = self._config
        layers = []
        for units, rate in zip(self.layer_units[1:-1], c["dropout"]):
            layers.append(Dense(units, activation=c["activation"]))
            if rate > 0:
                layers.append(Dropout(rate))
        layers.append(Dense(self.layer_units[-1], activation=c["out_activation"]))
        return Model(layers, input_dim=self.layer_units[0], dtype=dtype)

    def reconfigure(self, *, dropout, solver, momentum, nesterov, beta_1, beta_2, epsilon,
                    n_threads):
        """Apply changed hyper-parameters, keeping weights (and optimizer state if the
        optimizer is the same)."""
        c = self._config
        self.n_threads = n_threads
        new = dict(c, dropout=list(dropout), solver=solver, momentum=momentum,
                   nesterov=nesterov, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)
        if new == c:
            return
        same_opt = (_optimizer(solver, momentum, nesterov)
                    == _optimizer(c["solver"], c["momentum"], c["nesterov"]))
        m, v, t = (a.copy() if hasattr(a, "copy") else a for a in self.optimizer_state)
        self._config = new
        if list(dropout) != c["dropout"]:
            params = self.model.params.copy()
            self.model = self._make_model(self.model.dtype.name)
            self.model.params[...] = params
        self._make_state()
        if same_opt:
            self.set_optimizer_state(m, v, t)

    def _make_state(self):
        c = self._config
        loss, self._loss_scale = _LOSS_FOR_OUTPUT[c["out_activation"]]
        if c["out_activation"] == "identity":
            self._loss_scale *= self.loss_divisor
        opt = _optimizer(c["solver"], c["momentum"], c["nesterov"])
        self._state = _core.TrainState(self.model._net, _names.loss_code(loss),
                                       _names.optimizer_code(opt))
        self._l2 = None
        self._configure(0.0)
        n = self.model.n_dense
        self.coefs = [self.model.layer_weights(i)[0] for i in range(n)]
        self.intercepts = [self.model.layer_weights(i)[1] for i in range(n)]

    def _configure(self, l2):
        c = self._config
        self._state.configure(loss_scale=self._loss_scale, momentum=c["momentum"],
                              beta1=c["beta_1"], beta2=c["beta_2"], eps=c["epsilon"], l2=l2,
                              seed=c["seed"])
        self._l2 = l2

    @property
    def loss_divisor(self):
        """The native data loss is this many times scikit-learn's (n_outputs for regression
        with several outputs, else 1); the L2 penalty is not scaled."""
        if self._config["out_activation"] == "identity":
            return self.layer_units[-1]
        return 1

    @property
    def dtype(self):
        return self.model.dtype

    @property
    def optimizer_state(self):
        """(first moments, second moments, step count) of the optimizer (live arrays)."""
        return self._state.m, self._state.v, self._state.step_count

    def set_optimizer_state(self, m, v, step_count):
        self._state.m[...] = m
        self._state.v[...] = v
        self._state.step_count = int(step_count)

    def predict(self, X):
        """Output activations of the network for a C-contiguous X of the model dtype."""
        return self.model.predict(X, n_threads=self.n_threads)

    def train(self, X, Y, SW, perm, batch_size, b0, nb, lr, l2):
        """Apply mini-batches b0 .. b0+nb-1 (rows of X in ``perm`` order) in one native call.

        Returns the batch losses (data loss + 0.5 * l2 * sum W**2): ``nb`` of them, or fewer
        if a loss was not finite (the last one returned; its update was skipped).
        """
        if l2 != self._l2:
            self._configure(l2)
        self._state.reserve(batch_size)
        lrs = np.full(nb, lr, dtype=np.float64)
        losses = np.empty(nb, dtype=np.float64)
        done = self._state.train(X, Y, SW, perm, batch_size, b0, nb, lrs, losses,
                                 n_threads=self.n_threads)
        return losses if done == nb else losses[:done + 1]

    def __getstate__(self):
        m, v, t = self.optimizer_state
        return {"model": self.model, "config": self._config, "n_threads": self.n_threads,
                "layer_units": self.layer_units, "m": m.copy(), "v": v.copy(), "t": t}

    def __setstate__(self, state):
        self.model = state["model"]
        self._config = state["config"]
        self.n_threads = state["n_threads"]
        self.layer_units = state["layer_units"]
        self._make_state()
        self.set_optimizer_state(state["m"], state["v"], state["t"])
