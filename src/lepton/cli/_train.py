"""``lepton train``: a :class:`lepton.Model` trained by a :class:`lepton.Trainer`.

Design:

1. Public API only, option for option.  Each training option is one argument of
   ``lepton.Dense`` / ``Dropout`` / ``Model``, ``lepton.Trainer``, ``Trainer.fit``,
   ``lepton.EarlyStopping`` or a ``lepton.schedules`` class (:func:`_layers`,
   :func:`_trainer_kwargs`, :func:`_schedule`, :func:`_early_stopping`); an option left
   unset is not passed, so the API's default applies.  What the command adds is its own:
   reading the data, the train / validation / test split, feature and target scaling,
   label encoding, the progress bar and the report.
2. Options are checked by the API itself, before any data is read: the schedule, the early
   stopping rule and a Trainer on a one-unit probe Model are built from them first, and an
   error there is a usage error quoting the API's message under the option's name.
3. Class labels (strings, or numbers that are not 0..K-1) are encoded to indices 0..K-1
   here, and saved in the file's metadata (``classes``) with the target, feature names and
   training settings (``lepton.save(model, path, metadata=...)``), so that ``lepton
   predict`` / ``evaluate`` answer in the original labels.
"""
import os
import sys
import time

import numpy as np

import lepton
from lepton.cli import _data as data
from lepton.cli import _model as models
from lepton.cli import _plot as _cli_plot
from lepton.cli._data import DataError
from lepton.cli._parser import EXPONENTIAL_GAMMA, STEP_SIZE, UsageError
from lepton.callbacks import Callback
from lepton.datasets import split_indices

_HEAD = {"softmax_cross_entropy": "softmax", "binary_cross_entropy": "sigmoid"}  # else identity
_FOR_OPTIMIZERS = {"momentum": ("momentum", "nesterov"), "beta1": ("adam", "adamw"),
                   "beta2": ("adam", "adamw"), "eps": ("adam", "adamw")}
_FOR_SCHEDULES = {"step_size": ("step",), "gamma": ("step", "exponential"),
                  "t_max": ("cosine",), "eta_min": ("cosine",), "power_t": ("invscaling",),
                  "factor": ("plateau",), "plateau_patience": ("plateau",),
                  "min_lr": ("plateau",)}
_MONITORS = {"classification": ("val_accuracy", "val_precision", "val_recall", "val_f1"),
             "regression": ("val_mse", "val_mae", "val_r2")}
# API parameter -> option where the names differ (else "x_y" is "--x-y"), to name the
# option in the API's error messages.
_OPTION_OF = {"loss_param": "--huber-delta", "n_threads": "--threads"}


def _option(dest):
    return _OPTION_OF.get(dest, "--" + dest.replace("_", "-"))


def _given(args, *dests, rename=None):
    """``{api name: value}`` of the options that were given (not None)."""
    rename = rename or {}
    return {rename.get(d, d): getattr(args, d) for d in dests if getattr(args, d) is not None}


# ---------------------------------------------------------------------------- options -> API
def _check_applicable(args):
    """An option that the chosen optimizer / schedule / loss ignores is a usage error."""
    for table, chosen, what in ((_FOR_OPTIMIZERS, args.optimizer, "--optimizer"),
                                (_FOR_SCHEDULES, args.schedule, "--schedule")):
        for dest, allowed in table.items():
            if getattr(args, dest) is not None and chosen not in allowed:
                raise UsageError(f"{_option(dest)} applies to {what} {'/'.join(allowed)}, not "
                                 f"{chosen} (see 'lepton train --help')")
    if args.huber_delta is not None and args.loss != "huber":
        raise UsageError("--huber-delta applies to --loss huber only")
    if args.min_delta is not None and not args.early_stopping and args.schedule != "plateau":
        raise UsageError("--min-delta applies to --early-stopping and --schedule plateau")
    implied = _task_of_loss(args.loss)
    if implied and args.task not in ("auto", implied):
        raise UsageError(f"--loss {args.loss} is a {implied} loss, but --task is {args.task}")


def _task_of_loss(loss):
    if loss == "auto":
        return None
    return "classification" if loss in _HEAD else "regression"


def _schedule(args):
    """The ``lepton.schedules`` object of --schedule and its parameters."""
    from lepton import schedules

    name = args.schedule
    if name == "step":
        return schedules.StepDecay(args.step_size or STEP_SIZE, **_given(args, "gamma"))
    if name == "exponential":
        return schedules.ExponentialDecay(EXPONENTIAL_GAMMA if args.gamma is None
                                          else args.gamma)
    if name == "cosine":
        return schedules.CosineAnnealing(args.t_max or args.epochs, **_given(args, "eta_min"))
    if name == "invscaling":
        return schedules.InverseScaling(**_given(args, "power_t"))
    if name == "plateau":
        return schedules.ReduceLROnPlateau(monitor=args.monitor, **_given(
            args, "factor", "plateau_patience", "min_delta", "min_lr",
            rename={"plateau_patience": "patience"}))
    return schedules.Constant()


def _early_stopping(args):
    return lepton.EarlyStopping(monitor=args.monitor, patience=args.patience,
                                restore_best_weights=args.restore_best,
                                **_given(args, "min_delta"))


def _trainer_kwargs(args, loss):
    """Keyword arguments of ``lepton.Trainer`` (all but the model and the schedule)."""
    kw = dict(loss=loss, optimizer=args.optimizer, lr=args.lr, l2=args.l2,
              weight_decay=args.weight_decay, clip_norm=args.clip_norm,
              loss_scale=args.loss_scale, n_threads=args.threads, seed=args.seed)
    kw.update(_given(args, "momentum", "beta1", "beta2", "eps", "huber_delta",
                     rename={"huber_delta": "loss_param"}))
    return kw


def _check_with_api(args):
    """(schedule, early stopping) built from the options; the Trainer options are checked
    on a one-unit probe Model.  An invalid value is a usage error (see Design 2)."""
    try:
        schedule, stopper = _schedule(args), _early_stopping(args)
        loss = "mse" if args.loss == "auto" else args.loss
        probe = lepton.Model([lepton.Dense(1, activation=_HEAD.get(loss, "identity"))], 1,
                             dtype=args.dtype)
        lepton.Trainer(probe, **_trainer_kwargs(args, loss))
    except (ValueError, TypeError) as exc:
        option = _option(str(exc).split(" ", 1)[0])  # the API names its parameter first
        named = f"{option}: " if hasattr(args, option[2:].replace("-", "_")) else ""
        raise UsageError(f"{named}{exc} (see 'lepton train --help')") from None
    return schedule, stopper


def _layers(args, n_out, head):
    """Dense hidden layers (each followed by Dropout when its rate is > 0), Dense output."""
    rates = args.dropout if isinstance(args.dropout, list) else [args.dropout] * len(args.layers)
    layers = []
    for units, rate in zip(args.layers, rates):
        layers.append(lepton.Dense(units, activation=args.activation, init=args.init,
                                   use_bias=args.bias))
        if rate > 0:
            layers.append(lepton.Dropout(rate))
    layers.append(lepton.Dense(n_out, activation=head, init=args.init, use_bias=args.bias))
    return layers


def _class_weight(spec, classes):
    """fit(class_weight=): "balanced", or {class index: weight} from LABEL:WEIGHT pairs."""
    if spec is None or spec == "balanced":
        return spec
    index = {str(c): i for i, c in enumerate(classes)}
    unknown = [label for label, _ in spec if label not in index]
    if unknown:
        raise DataError(f"--class-weight names labels that are not classes of the target: "
                        f"{data.abbreviate(unknown)}; classes: "
                        f"{data.abbreviate(classes.tolist())}")
    return {index[label]: weight for label, weight in spec}


# ---------------------------------------------------------------------------- data
def _preprocess(args, X, train, names, source):
    """(fitted steps, X transformed) for --clip-outliers / --standardize, fitted on the
    ``train`` rows; values that would overflow are reported, not turned into NaN."""
    from lepton.preprocessing import QuantileClipper, StandardScaler

    steps = []
    if args.clip_outliers:
        steps.append(QuantileClipper(0.01, 0.99).fit(X[train]))
        X = steps[-1].transform(X)
    if args.standardize:
        data.check_magnitude(X, names, source, data.standardize_limit(len(X)),
                             "standardising it would overflow float64; rescale the feature "
                             "(or train with --no-standardize)")
        steps.append(StandardScaler().fit(X[train]))
        X = steps[-1].transform(X)
    fix = "rescale the feature" + (" or use --dtype float64" if args.dtype == "float32"
                                   else "")
    data.check_magnitude(X, names, source, float(np.finfo(args.dtype).max),
                         f"it does not fit the network's {args.dtype} inputs"
                         + (" after standardising" if args.standardize else "") + f"; {fix}")
    return steps, X


def _split(args, y, task, classes, source):
    """(train, validation, test) row indices; every class keeps samples in training."""
    rng = np.random.RandomState(args.seed)
    strat = y if task == "classification" else None
    train, test = split_indices(len(y), args.test_size, rng, strat)
    train_part, val = split_indices(len(train), args.validation_split, rng,
                                 None if strat is None else strat[train])
    train, val = train[train_part], train[val]
    if len(train) < 2 or len(test) < 1:
        per_class = " (a class with one sample stays in training)" if strat is not None \
            else ""
        raise DataError(f"{source} has {len(y)} samples: too few to split into training and "
                        f"test sets{per_class}")
    if strat is not None:
        missing = np.setdiff1d(classes, y[train])
        if len(missing):  # stratification prevents it; never train without a class
            raise DataError(f"the training split has no sample of class(es) "
                            f"{data.abbreviate(missing.tolist())}; add samples of them")
    if args.early_stopping and args.monitor.startswith("val_") and len(val) < 2:
        raise UsageError("--early-stopping needs a validation set: set --validation-split "
                         "above 0 (see 'lepton train --help')")
    return train, val, test


def _check_save(path):
    if os.path.isdir(path):
        raise DataError(f"cannot save to {path}: it is a directory (give a file name, e.g. "
                        f"{os.path.join(path, 'model.npz')})")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise DataError(f"cannot save to {path}: directory {directory} does not exist")


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_network_size(units, dtype):
    """Refuse a network whose weights alone would not fit in memory (before allocating)."""
    n_params = sum(a * b + b for a, b in zip(units[:-1], units[1:]))
    need = 4 * n_params * np.dtype(dtype).itemsize  # weights, gradients, two Adam moments
    total = _physical_memory()
    if total and need > total:
        raise DataError(f"--layers {','.join(map(str, units[1:-1]))}: the network has "
                        f"{n_params:,} parameters and needs about {need / 2 ** 30:,.1f} GiB, "
                        f"more than this machine's {total / 2 ** 30:,.1f} GiB of memory")
    return n_params


# ---------------------------------------------------------------------------- progress
class _Progress(Callback):
    """The tqdm bar over epochs, and the curves for --plot (never per batch: a callback
    without ``on_batch_end`` lets the Trainer run each epoch in one native call)."""

    def __init__(self, args, task, title, stopper):
        from tqdm import tqdm

        self.bar = tqdm(total=args.epochs, unit="epoch", desc="training", disable=args.quiet,
                        file=sys.stderr, dynamic_ncols=True)
        self.key, self.shown = (("val_accuracy", "val_acc") if task == "classification"
                                else ("val_r2", "val_r2"))
        self.curves = {"loss": [], "val_loss": [], "val_score": [], "task": task,
                       "title": title}
        self.show_lr = args.schedule != "constant"
        self.stopper = stopper

    def on_epoch_end(self, trainer, epoch, logs):
        c = self.curves
        c["loss"].append(logs["loss"])
        c["val_loss"].append(logs.get("val_loss"))
        c["val_score"].append(logs.get(self.key))
        post = {"loss": f"{logs['loss']:.4f}"}
        if logs.get("val_loss") is not None:
            post["val_loss"] = f"{logs['val_loss']:.4f}"
        if logs.get(self.key) is not None:
            post[self.shown] = f"{logs[self.key]:.4f}"
        if self.show_lr:
            post["lr"] = f"{logs['lr']:.3g}"
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(1)

    def on_train_end(self, trainer):
        if self.stopper is not None and self.stopper.stopped_epoch is not None:
            # The bar ends full, saying why it ended early.
            self.bar.set_description_str(f"early stopping at epoch {self.bar.n}",
                                         refresh=False)
            self.bar.total = self.bar.n
            self.bar.refresh()


def _stop_text(stopper, epochs_run):
    if stopper is None or stopper.stopped_epoch is None:
        return ""
    text = (f"; early stopping at epoch {epochs_run} (no {stopper.monitor} improvement for "
            f"{stopper.patience} epochs)")
    if stopper.restore_best_weights and stopper.best_epoch is not None:
        text += f", weights of epoch {stopper.best_epoch + 1} restored"
    return text


# ---------------------------------------------------------------------------- the command
def cmd_train(args):
    """Train an MLP; print the test report; save / plot if asked."""
    for option, path in (("--plot", args.plot), ("--save", args.save)):
        if path is not None and not path.strip():
            raise UsageError(f"{option} needs a file name (see 'lepton train --help')")
    if isinstance(args.dropout, list) and len(args.dropout) != len(args.layers):
        raise UsageError(f"--dropout has {len(args.dropout)} rates for {len(args.layers)} "
                         f"hidden layers (see 'lepton train --help')")
    _check_applicable(args)
    schedule, stopper = _check_with_api(args)
    stopper = stopper if args.early_stopping else None
    plot = _cli_plot.check_plot(args.plot) if args.plot is not None else None
    if args.save is not None:
        _check_save(args.save)

    table = data.digits_table() if args.data is None else data.read_data(args.data)
    weight_col = args.sample_weight
    X, y, names, target = data.select(table, args.target,
                                      exclude=(weight_col,) if weight_col else ())
    weights = data.weights(table, weight_col, target) if weight_col else None
    source, named = table.source, table.named
    del table  # X and y are copies: let the file's array go
    task = data.detect_task(y, _task_of_loss(args.loss) or args.task)
    allowed = ("loss", "val_loss") + _MONITORS[task]
    if (args.early_stopping or args.schedule == "plateau") and args.monitor not in allowed:
        raise UsageError(f"--monitor {args.monitor} is not computed for {task}; use one of "
                         f"{', '.join(allowed)}")
    classes = index = None
    if task == "classification":
        y = data.class_labels(y)
        classes, index = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise DataError(f"the target {target!r} has a single class "
                            f"({data.shorten(classes[0])}); classification needs at least "
                            "two")
    else:
        if args.class_weight is not None:
            raise UsageError("--class-weight needs a classification target")
        y = y.astype(np.float64)
    train, val, test = _split(args, y, task, classes, source)
    steps, Xs = _preprocess(args, X, train, names, source)
    del X

    y_scaler = None
    if task == "classification":
        k = len(classes)
        loss = args.loss if args.loss != "auto" else \
            "softmax_cross_entropy" if k > 2 else "binary_cross_entropy"
        n_out = 1 if loss == "binary_cross_entropy" and k == 2 else k
        Y = index if n_out == 1 or loss == "softmax_cross_entropy" else np.eye(k)[index]
    else:
        loss, n_out, Y = "mse" if args.loss == "auto" else args.loss, 1, y
        if args.standardize:
            from lepton.preprocessing import StandardScaler

            data.check_magnitude(y, [target], source, data.standardize_limit(len(y)),
                                 "standardising the target would overflow float64; rescale "
                                 "it (or train with --no-standardize)", kind="target")
            y_scaler = StandardScaler().fit(y[train].reshape(-1, 1))
            Y = y_scaler.transform(y.reshape(-1, 1)).ravel()
    head = _HEAD.get(loss, "identity")
    units = [Xs.shape[1], *args.layers, n_out]
    n_params = _check_network_size(units, args.dtype)
    model = lepton.Model(_layers(args, n_out, head), input_dim=Xs.shape[1], dtype=args.dtype,
                         seed=args.seed)
    trainer = lepton.Trainer(model, schedule=schedule, **_trainer_kwargs(args, loss))
    class_weight = _class_weight(args.class_weight, classes)

    arch = " -> ".join([str(units[0])] + [f"{u} ({args.activation})" for u in args.layers]
                       + [f"{n_out} ({head})"])
    sched = "" if args.schedule == "constant" else f", {schedule!r}"
    print(f"data: {source}: {len(y)} samples, {Xs.shape[1]} features; target "
          f"{target!r}: {task}" + (f", {len(classes)} classes" if task == "classification"
                                   else ""))
    print(f"model: {arch}; {n_params:,} parameters, {args.dtype}, {loss}, {args.optimizer} "
          f"lr={args.lr:g}{sched}, batch {args.batch_size}")
    print(f"split: {len(train)} train / {len(val)} validation / {len(test)} test "
          f"(seed {args.seed})", flush=True)
    progress = _Progress(args, task, f"lepton.Model on {source}", stopper)
    w = (lambda rows: None) if weights is None else (lambda rows: weights[rows])
    validation = None
    if len(val):
        validation = (Xs[val], Y[val]) if weights is None else (Xs[val], Y[val], w(val))
    t0 = time.perf_counter()
    try:
        history = trainer.fit(Xs[train], Y[train], epochs=args.epochs,
                              batch_size=args.batch_size, shuffle=args.shuffle,
                              validation_data=validation, callbacks=[progress],
                              sample_weight=w(train), class_weight=class_weight,
                              early_stopping=stopper)
    finally:
        progress.bar.close()
    seconds = time.perf_counter() - t0
    epochs = len(history)
    print(f"\ntraining: {epochs} epochs in {seconds:.2f} s "
          f"({len(train) * epochs / max(seconds, 1e-9):,.0f} samples/s)"
          + _stop_text(stopper, epochs))
    if args.save is not None:
        meta = {"task": task, "target": target, "feature_names": list(names) if named else None,
                "source": source, "created_by": "lepton train",
                "train_seconds": round(seconds, 3), "trainer": trainer.config(),
                "fit": _fit_record(args, history, stopper)}
        if classes is not None:
            meta["classes"] = classes.tolist()
        lepton.save(model, args.save, metadata=meta, preprocessing=steps,
                    target_preprocessing=[y_scaler] if y_scaler is not None else None)
        print(f"saved model to {args.save}")
    if plot is not None:
        _cli_plot.plot(*plot, progress.curves)
        print(f"saved training curves to {plot[0]}")
    print(f"\nTest set ({len(test)} samples):")
    pred, _ = models.decode(model.predict(Xs[test], n_threads=args.threads), head, classes)
    if task == "classification":
        text, _ = data.classification_text(y[test], pred, classes)
    else:
        if y_scaler is not None:
            pred = y_scaler.inverse_transform(pred.reshape(-1, 1)).ravel()
        text, _ = data.regression_text(y[test], pred)
    print(text)
    return 0


def _fit_record(args, history, stopper):
    """The ``fit`` entry of the saved metadata: Trainer.fit's arguments and outcome."""
    record = {"epochs": args.epochs, "epochs_run": len(history),
              "batch_size": args.batch_size, "shuffle": args.shuffle,
              "validation_split": args.validation_split, "test_size": args.test_size,
              "class_weight": (args.class_weight if args.class_weight in (None, "balanced")
                               else dict(args.class_weight)),
              "sample_weight": args.sample_weight,
              "final_loss": history.history["loss"][-1] if len(history) else None,
              "early_stopping": None}
    if stopper is not None:
        record["early_stopping"] = {
            "monitor": stopper.monitor, "patience": stopper.patience,
            "min_delta": stopper.min_delta,
            "restore_best_weights": stopper.restore_best_weights,
            "stopped_epoch": stopper.stopped_epoch, "best_epoch": stopper.best_epoch}
    return record
