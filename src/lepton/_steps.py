"""Input and target transformers a model carries (``preprocessing`` /
``target_preprocessing``): one implementation for :class:`lepton.Model` and the estimators.

A model applies its ``preprocessing`` (fitted transformers, in order) to X wherever it reads
X (predict, predict_proba, score, and training), and returns regression outputs mapped back
through the ``inverse_transform`` of its ``target_preprocessing`` (in reverse order);
training targets go through their ``transform``.  :func:`lepton.save` stores both with the
model and :func:`lepton.load` restores them (``_lepton_parts``).
"""


def check_steps(steps, name, n_features, inverse):
    """``steps`` (None, one transformer or a list) as a list of fitted transformers of
    ``n_features`` columns (None: not known yet), each with ``transform`` (and
    ``inverse_transform`` if ``inverse``); TypeError / ValueError otherwise."""
    if steps is None:
        return []
    if hasattr(steps, "transform"):
        steps = [steps]
    if not isinstance(steps, (list, tuple)):
        raise TypeError(f"{name} must be a list of fitted transformers, got "
                        f"{type(steps).__name__}")
    steps = list(steps)
    need = ("transform", "inverse_transform") if inverse else ("transform",)
    for i, step in enumerate(steps):
        missing = [m for m in need if not callable(getattr(step, m, None))]
        if missing:
            raise TypeError(f"{name}[{i}] ({type(step).__name__}) has no {missing[0]} "
                            f"method")
        if callable(getattr(step, "_check_fitted", None)):
            step._check_fitted()          # NotFittedError naming the transformer
        n_in = getattr(step, "n_features_in_", None)
        if n_features is not None and n_in is not None and n_in != n_features:
            raise ValueError(f"{name}[{i}] ({type(step).__name__}) was fitted on {n_in} "
                             f"features, but the model's {'outputs' if inverse else 'inputs'}"
                             f" have {n_features}")
    return steps


class CarriesPreprocessing:
    """``preprocessing`` / ``target_preprocessing`` properties (validated lists) and the
    helpers that apply them.  Subclasses define ``_step_dims()`` -> (n_inputs, n_outputs),
    either None while unknown."""

    # Attributes lepton.save stores with the object and lepton.load restores (lepton.io).
    _lepton_parts = ("preprocessing", "target_preprocessing")
    # False for classifiers: their targets are class labels, not values to rescale.
    _real_targets = True

    def _step_dims(self):
        raise NotImplementedError

    @property
    def preprocessing(self):
        """Fitted input transformers applied in order to X before the network (a list)."""
        return self.__dict__.get("_preprocessing", [])

    @preprocessing.setter
    def preprocessing(self, steps):
        self._preprocessing = check_steps(steps, "preprocessing", self._step_dims()[0], False)

    @property
    def target_preprocessing(self):
        """Fitted target transformers: training targets go through their ``transform``,
        predictions through their ``inverse_transform`` (reverse order).  A list."""
        return self.__dict__.get("_target_preprocessing", [])

    @target_preprocessing.setter
    def target_preprocessing(self, steps):
        if steps and not self._real_targets:
            raise ValueError(f"a {type(self).__name__} predicts class labels: "
                             f"target_preprocessing is for regression")
        self._target_preprocessing = check_steps(steps, "target_preprocessing",
                                                 self._step_dims()[1], True)

    def _transform_inputs(self, X):
        """X through :attr:`preprocessing` (X itself when there is none)."""
        for step in self.preprocessing:
            X = step.transform(X)
        return X

    def _transform_targets(self, Y):
        """Training targets through :attr:`target_preprocessing`'s ``transform``."""
        for step in self.target_preprocessing:
            Y = step.transform(Y)
        return Y

    def _restore_targets(self, out):
        """Outputs (n, k) through the inverse of :attr:`target_preprocessing`."""
        for step in reversed(self.target_preprocessing):
            out = step.inverse_transform(out)
        return out
