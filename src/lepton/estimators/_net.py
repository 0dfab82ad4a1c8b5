"""The network behind lepton's estimators: a :class:`lepton.model.Model` and the training
engine (:mod:`lepton.engine`) configured with scikit-learn's losses and optimizers.

Each :meth:`_Net.train` call runs a range of mini-batches (gather through a permutation,
forward, loss, backward, optimizer update) through the engine in ONE nogil call, so the
estimators' Python loop runs once or twice per epoch, not once per batch.
"""
import numpy as np

from lepton import _names
from lepton._native.threads import resolve_threads
from lepton.engine import Engine
from lepton.model import Dense, Dropout, Model

# Advice appended to a DivergenceError (scikit-learn's wording for the same event).
_DIVERGENCE_HINT = ("Solver produced non-finite parameter weights. The input data may contain "
                    "large values and need to be preprocessed (for example standardized), or "
                    "learning_rate_init may be too large.")

# scikit-learn's loss conventions as (native loss, loss_scale, report_scale) per output
# activation.  Log-losses: summed over outputs, as lepton's.  Squared error: scikit-learn
# reports 0.5 * mean over samples AND outputs, but steps along the gradient of 0.5 * sum over
# outputs / n_samples; lepton's mse is a mean over both, so the step needs loss_scale
# 0.5 * n_outputs and the reported loss that divided back by n_outputs (the L2 penalty, added
# natively, is never scaled).  See ``_Net._loss_scales``.
_LOSS_FOR_OUTPUT = {"softmax": "softmax_cross_entropy", "sigmoid": "binary_cross_entropy",
                    "identity": "mse"}


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
        loss = _LOSS_FOR_OUTPUT[c["out_activation"]]
        loss_scale, report_scale = self._loss_scales()
        opt = _optimizer(c["solver"], c["momentum"], c["nesterov"])
        self.engine = Engine(self.model, loss, opt, loss_scale=loss_scale,
                             report_scale=report_scale,
                             momentum=c["momentum"], beta1=c["beta_1"], beta2=c["beta_2"],
                             eps=c["epsilon"], l2=0.0, seed=c["seed"])
        n = self.model.n_dense
        self.coefs = [self.model.layer_weights(i)[0] for i in range(n)]
        self.intercepts = [self.model.layer_weights(i)[1] for i in range(n)]

    def _loss_scales(self):
        """(loss_scale, report_scale) giving scikit-learn's steps and reported losses."""
        if self._config["out_activation"] == "identity":
            k = self.layer_units[-1]
            return 0.5 * k, 1.0 / k
        return 1.0, 1.0

    @property
    def dtype(self):
        return self.model.dtype

    @property
    def optimizer_state(self):
        """(first moments, second moments, step count) of the optimizer (copies)."""
        st = self.engine.optimizer_state()
        return st["m"], st["v"], st["t"]

    def set_optimizer_state(self, m, v, step_count):
        self.engine.set_optimizer_state({"m": m, "v": v, "t": step_count})

    def predict(self, X):
        """Output activations of the network for a C-contiguous X of the model dtype."""
        return self.model.predict(X, n_threads=self.n_threads)

    def train(self, X, Y, SW, perm, batch_size, b0, nb, lr, l2):
        """Apply mini-batches b0 .. b0+nb-1 (rows of X in ``perm`` order) in one native call.

        Returns the ``nb`` batch losses (data loss + 0.5 * l2 * sum W**2).  Raises
        DivergenceError when a loss or an update is not finite; that batch's update is not
        applied, so the weights stay finite.
        """
        if l2 != self.engine.hyper["l2"]:
            self.engine.configure(l2=l2)
        lrs = np.full(nb, lr, dtype=np.float64)
        return self.engine.run(X, Y, SW, perm, batch_size, b0, nb, lrs,
                               resolve_threads(self.n_threads), hint=_DIVERGENCE_HINT)

    def __getstate__(self):
        m, v, t = self.optimizer_state
        return {"model": self.model, "config": self._config, "n_threads": self.n_threads,
                "layer_units": self.layer_units, "m": m, "v": v, "t": t}

    def __setstate__(self, state):
        self.model = state["model"]
        self._config = state["config"]
        self.n_threads = state["n_threads"]
        self.layer_units = state["layer_units"]
        self._make_state()
        self.set_optimizer_state(state["m"], state["v"], state["t"])
