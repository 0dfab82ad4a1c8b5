"""The ``lepton`` command: train, evaluate, predict, info, bench.

``lepton train`` with no arguments trains on the embedded UCI digits and prints a report;
``lepton train data.csv --target COLUMN`` trains on your data.  Errors print one line,
``lepton: error: ...``, and exit with status 2 (usage) or 1 (data, files).
"""
import argparse
import math
import os
import sys
import time
import warnings

import numpy as np

from lepton._cli_data import DataError
from lepton import _cli_data as data

_OPTIMIZERS = {  # --optimizer -> estimator parameters
    "adam": dict(solver="adam"),
    "sgd": dict(solver="sgd", momentum=0.0),
    "momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False),
    "nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
}
_ACTIVATIONS = ("relu", "tanh", "sigmoid", "logistic", "identity", "leaky_relu", "elu", "gelu",
                "softplus")


class UsageError(Exception):
    """A bad command line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


# ---------------------------------------------------------------------------- option types
def _number(kind, lo=None, hi=None, lo_open=False, hi_open=False, allow=()):
    def parse(text):
        if text in allow:
            return allow[text] if isinstance(allow, dict) else text
        try:
            v = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if isinstance(v, float) and not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        bad = (lo is not None and (v < lo or (lo_open and v == lo))) or \
              (hi is not None and (v > hi or (hi_open and v == hi)))
        if bad:
            left = "(" if lo_open else "["
            right = ")" if hi_open or hi is None else "]"
            low = "-inf" if lo is None else lo
            high = "inf" if hi is None else hi
            raise argparse.ArgumentTypeError(f"{text} is outside {left}{low}, {high}{right}")
        return v
    return parse


def _layers(text):
    try:
        sizes = tuple(int(s) for s in text.replace(" ", "").split(",") if s != "")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer sizes like 128,64, "
                                         f"got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive integers, got {text!r}")
    return sizes


def _dropout(text):
    try:
        rates = [float(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a rate like 0.2 (or one per hidden "
                                         f"layer, 0.2,0.1), got {text!r}") from None
    if not all(0 <= r < 1 for r in rates):
        raise argparse.ArgumentTypeError(f"dropout rates must be in [0, 1), got {text!r}")
    return rates[0] if len(rates) == 1 else rates


def build_parser():
    """The argument parser of the ``lepton`` command."""
    p = _Parser(prog="lepton", description="Fast multilayer perceptrons on the CPU.")
    from lepton import __version__
    p.add_argument("--version", action="version", version=f"lepton {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    t = sub.add_parser("train", help="train an MLP (on the embedded digits by default)",
                       description="Train an MLP on a CSV file (with a header) or an .npz "
                                   "file (arrays X, y); with no DATA, on the embedded UCI "
                                   "handwritten digits. Prints a progress bar, then a report "
                                   "on a held-out test split.")
    t.add_argument("data", nargs="?", metavar="DATA", help=".csv or .npz file")
    t.add_argument("--target", metavar="COLUMN",
                   help="target column of a CSV file (default: the last column)")
    t.add_argument("--task", choices=("auto", "classification", "regression"), default="auto")
    t.add_argument("--layers", type=_layers, default=(128, 64), metavar="N,N,...",
                   help="hidden layer sizes (default: 128,64)")
    t.add_argument("--activation", choices=_ACTIVATIONS, default="relu")
    t.add_argument("--optimizer", choices=tuple(_OPTIMIZERS), default="adam")
    t.add_argument("--lr", type=_number(float, 0, lo_open=True), default=1e-3,
                   help="learning rate (default: 0.001)")
    t.add_argument("--epochs", type=_number(int, 1), default=30, help="default: 30")
    t.add_argument("--batch-size", type=_number(int, 1), default=32, help="default: 32")
    t.add_argument("--dropout", type=_dropout, default=0.0,
                   help="dropout rate after each hidden layer, or one per layer (0.2,0.1)")
    t.add_argument("--l2", type=_number(float, 0), default=1e-4,
                   help="L2 penalty (scikit-learn's alpha; default: 0.0001)")
    t.add_argument("--early-stopping", action="store_true",
                   help="stop when the validation score stops improving; keep the best "
                        "weights")
    t.add_argument("--patience", type=_number(int, 1), default=10,
                   help="epochs without improvement before early stopping (default: 10)")
    t.add_argument("--validation-split", type=_number(float, 0, 1, hi_open=True), default=0.1,
                   help="fraction of the training data held out for validation metrics "
                        "(default: 0.1)")
    t.add_argument("--test-size", type=_number(float, 0, 1, lo_open=True, hi_open=True),
                   default=0.2, help="fraction held out for the final report (default: 0.2)")
    t.add_argument("--seed", type=_number(int, 0), default=0)
    t.add_argument("--threads", type=_number(int, 1, allow={"-1": -1}), default=None,
                   help="threads (default: all; -1: all processors)")
    t.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    t.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True,
                   help="standardise features (and regression targets); default: on")
    t.add_argument("--clip-outliers", action="store_true",
                   help="clip each feature to its 1%%..99%% training quantiles")
    t.add_argument("--save", metavar="MODEL.npz", help="save the model and its preprocessing")
    t.add_argument("--plot", metavar="CURVES.png", help="plot training/validation curves "
                                                        "(needs matplotlib)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="report a saved model's metrics on data")
    e.add_argument("model", metavar="MODEL")
    e.add_argument("data", metavar="DATA")
    e.add_argument("--target", metavar="COLUMN", help="default: the training target")

    pr = sub.add_parser("predict", help="predict with a saved model")
    pr.add_argument("model", metavar="MODEL")
    pr.add_argument("data", metavar="DATA")
    pr.add_argument("-o", "--output", metavar="OUT.csv", help="write a CSV instead of printing")
    pr.add_argument("--proba", action="store_true",
                    help="also output class probabilities (classifiers)")

    i = sub.add_parser("info", help="describe a saved model")
    i.add_argument("model", metavar="MODEL")

    b = sub.add_parser("bench", help="quick same-run speed comparison with NumPy")
    b.add_argument("--threads", type=_number(int, 1, allow={"-1": -1}), default=None)
    b.add_argument("--rounds", type=_number(int, 1), default=5)
    return p


# ---------------------------------------------------------------------------- train
def _fit_preprocessing(args, X_train):
    from lepton.preprocessing import QuantileClipper, StandardScaler

    steps = []
    if args.clip_outliers:
        steps.append(QuantileClipper(0.01, 0.99).fit(X_train))
        X_train = steps[-1].transform(X_train)
    if args.standardize:
        steps.append(StandardScaler().fit(X_train))
    return steps


def _apply(steps, X):
    for step in steps:
        X = step.transform(X)
    return X


def _progress(args, history):
    from tqdm import tqdm

    bar = tqdm(total=args.epochs, unit="epoch", desc="training", disable=args.quiet,
               file=sys.stderr, dynamic_ncols=True)
    metric = "val_acc" if history["task"] == "classification" else "val_r2"

    def callback(est, logs):
        history["loss"].append(logs["loss"])
        history["val_loss"].append(logs["val_loss"])
        history["val_score"].append(logs["val_score"])
        post = {"loss": f"{logs['loss']:.4f}"}
        if logs["val_loss"] is not None:
            post["val_loss"] = f"{logs['val_loss']:.4f}"
            post[metric] = f"{logs['val_score']:.4f}"
        bar.set_postfix(post, refresh=False)
        bar.update(1)
    return bar, callback


def _check_plot(path):
    if path is None:
        return
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise DataError("--plot needs matplotlib, which is not installed (pip install "
                        "matplotlib)") from None
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise DataError(f"cannot write {path}: directory {directory} does not exist")


def _plot(path, history):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, history["loss"], label="training loss")
    if any(v is not None for v in history["val_loss"]):
        ax1.plot(epochs, history["val_loss"], label="validation loss")
        name = "validation accuracy" if history["task"] == "classification" else "validation R^2"
        ax2.plot(epochs, history["val_score"], color="C2", label=name)
        ax2.set_ylabel(name)
        ax2.legend()
    else:
        ax2.text(0.5, 0.5, "no validation data\n(--validation-split 0)", ha="center",
                 va="center", transform=ax2.transAxes)
    ax1.set_xlabel("epoch")
    ax2.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    ax1.legend()
    fig.suptitle(f"lepton: {history['title']}")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot write plot {path}: {exc}") from None
    finally:
        plt.close(fig)


def cmd_train(args):
    """Train an MLP; print the test report; save / plot if asked."""
    from lepton import io
    from lepton.estimators import MLPClassifier, MLPRegressor
    from lepton.preprocessing import StandardScaler

    _check_plot(args.plot)
    if args.save:
        directory = os.path.dirname(os.path.abspath(args.save))
        if not os.path.isdir(directory):
            raise DataError(f"cannot save to {args.save}: directory {directory} does not exist")
    table = data.digits_table() if args.data is None else data.read_data(args.data)
    X, y, names, target = data.select(table, args.target)
    task = data.detect_task(y, args.task)
    if isinstance(args.dropout, list) and len(args.dropout) != len(args.layers):
        raise UsageError(f"--dropout has {len(args.dropout)} rates for {len(args.layers)} "
                         f"hidden layers (see 'lepton train --help')")
    if task == "classification":
        y = data.class_labels(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise DataError(f"the target {target!r} has a single class ({classes[0]}); "
                            "classification needs at least two")
    else:
        y = y.astype(np.float64)
    rng = np.random.RandomState(args.seed)
    strat = y if task == "classification" else None
    train, test = data.split(len(y), args.test_size, rng, strat)
    train_part, val = data.split(len(train), args.validation_split, rng,
                                 None if strat is None else strat[train])
    train, val = train[train_part], train[val]
    if len(train) < 2 or len(test) < 1:
        raise DataError(f"{table.source} has {len(y)} samples: too few to split into "
                        "training and test sets")
    if args.early_stopping and len(val) < 2:
        raise UsageError("--early-stopping needs a validation set: set --validation-split "
                         "above 0 (see 'lepton train --help')")
    steps = _fit_preprocessing(args, X[train])
    Xs = _apply(steps, X)
    y_fit, y_scaler = y, None
    if task == "regression" and args.standardize:
        y_scaler = StandardScaler().fit(y[train].reshape(-1, 1))
        y_fit = y_scaler.transform(y.reshape(-1, 1)).ravel()
    Est = MLPClassifier if task == "classification" else MLPRegressor
    est = Est(hidden_layer_sizes=args.layers, activation=args.activation,
              learning_rate_init=args.lr, max_iter=args.epochs, batch_size=args.batch_size,
              dropout=args.dropout, alpha=args.l2, early_stopping=args.early_stopping,
              n_iter_no_change=args.patience if args.early_stopping else np.inf,
              random_state=args.seed, n_threads=args.threads, dtype=args.dtype,
              **_OPTIMIZERS[args.optimizer])
    n_out = len(classes) if task == "classification" and len(classes) > 2 else 1
    units = [X.shape[1], *args.layers, n_out]
    head = ("softmax" if n_out > 1 else "sigmoid") if task == "classification" else "identity"
    arch = " -> ".join([str(units[0])] + [f"{u} ({args.activation})" for u in args.layers]
                       + [f"{n_out} ({head})"])
    n_params = sum(a * b + b for a, b in zip(units[:-1], units[1:]))
    print(f"data: {table.source}: {len(y)} samples, {X.shape[1]} features; target "
          f"{target!r}: {task}" + (f", {len(classes)} classes" if task == "classification"
                                   else ""))
    print(f"model: {arch}; {n_params:,} parameters, {args.dtype}, {args.optimizer} "
          f"lr={args.lr:g}, batch {args.batch_size}")
    print(f"split: {len(train)} train / {len(val)} validation / {len(test)} test "
          f"(seed {args.seed})", flush=True)
    title = f"{Est.__name__} on {table.source}"
    history = {"loss": [], "val_loss": [], "val_score": [], "task": task, "title": title}
    bar, callback = _progress(args, history)
    validation = (Xs[val], y_fit[val]) if len(val) else None
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: --epochs is a budget here
            est._fit(Xs[train], y_fit[train], validation_data=validation, callback=callback)
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    epochs = est.n_iter_
    print(f"\ntraining: {epochs} epochs in {seconds:.2f} s "
          f"({len(train) * epochs / max(seconds, 1e-9):,.0f} samples/s)"
          + (" (early stopping: best validation weights kept)" if args.early_stopping
             and epochs < args.epochs else ""))
    if args.save:
        est.metadata_ = {"task": task, "target": target,
                         "feature_names": list(names) if table.named else None,
                         "source": table.source, "created_by": "lepton train",
                         "train_seconds": round(seconds, 3)}
        io.save(est, args.save, preprocessing=steps,
                target_preprocessing=[y_scaler] if y_scaler is not None else None)
        print(f"saved model to {args.save}")
    if args.plot:
        _plot(args.plot, history)
        print(f"saved training curves to {args.plot}")
    print(f"\nTest set ({len(test)} samples):")
    pred = est.predict(Xs[test])
    if task == "classification":
        text, _ = data.classification_text(y[test], pred, est.classes_)
    else:
        if y_scaler is not None:
            pred = y_scaler.inverse_transform(pred.reshape(-1, 1)).ravel()
        text, _ = data.regression_text(y[test], pred)
    print(text)
    return 0


# ---------------------------------------------------------------------------- saved models
def _load_model(path):
    from lepton import io

    if not os.path.exists(path):
        raise DataError(f"no such model file: {path}")
    obj = io.load(path)
    if not hasattr(obj, "predict"):
        raise DataError(f"{path} holds a {type(obj).__name__}, not a model")
    return obj


def _is_estimator(obj):
    return hasattr(obj, "_net") and hasattr(obj, "get_params")


def _model_outputs(obj, X):
    """(predictions, probabilities or None, task) of a loaded estimator or Model."""
    steps = list(getattr(obj, "preprocessing", None) or [])
    X = _apply(steps, X)
    if _is_estimator(obj):
        if obj._estimator_type == "classifier":
            proba = obj.predict_proba(X)
            return obj.predict(X), proba, "classification"
        pred = obj.predict(X).astype(np.float64)
        for step in reversed(list(getattr(obj, "target_preprocessing", None) or [])):
            pred = step.inverse_transform(pred.reshape(-1, 1)).ravel()
        return pred, None, "regression"
    out = obj.predict(X)
    head = getattr(obj, "output_activation", "identity")
    if head == "softmax":
        return out.argmax(axis=1), out, "classification"
    if head == "sigmoid" and out.shape[1] == 1:
        return (out[:, 0] > 0.5).astype(np.int64), np.column_stack([1 - out[:, 0], out[:, 0]]), \
            "classification"
    return (out[:, 0] if out.shape[1] == 1 else out), None, "regression"


def _model_features(obj):
    meta = getattr(obj, "metadata_", None) or {}
    if meta.get("feature_names"):
        return list(meta["feature_names"])
    names = getattr(obj, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def _model_inputs(obj):
    if _is_estimator(obj):
        return obj.n_features_in_
    return obj.input_dim


def _read_inputs(obj, path, target, need_target):
    table = data.read_data(path)
    meta = getattr(obj, "metadata_", None) or {}
    features = _model_features(obj)
    if target is None and table.X is None:
        target = meta.get("target")
        if target not in table.columns:
            target = None if not need_target else target
    if need_target and target is None and table.X is None:
        raise UsageError("--target is needed: the model does not record its target column "
                         "(see 'lepton evaluate --help')")
    if not need_target and table.X is None and target is None and features is None:
        pass  # every column is a feature
    X, y, names, target = data.select(table, target, features, need_target=need_target)
    n_in = _model_inputs(obj)
    if X.shape[1] != n_in:
        raise DataError(f"{table.source} has {X.shape[1]} feature columns, but the model "
                        f"expects {n_in}")
    return X, y, target, table


def cmd_evaluate(args):
    """Report a saved model's metrics on labelled data."""
    obj = _load_model(args.model)
    X, y, target, table = _read_inputs(obj, args.data, args.target, need_target=True)
    pred, _, task = _model_outputs(obj, X)
    print(f"model: {args.model}; data: {table.source}: {len(y)} samples, target {target!r}")
    if task == "classification":
        labels = obj.classes_ if _is_estimator(obj) else np.unique(np.concatenate(
            [data.class_labels(np.asarray(y)), pred]))
        y = data.class_labels(np.asarray(y))
        if _is_estimator(obj) and y.dtype.kind != np.asarray(labels).dtype.kind and \
                y.dtype.kind in "iu" and np.asarray(labels).dtype.kind == "U":
            y = y.astype(str)
        unknown = sorted(set(np.unique(y).tolist()) - set(np.asarray(labels).tolist()))
        if unknown:
            raise DataError(f"the target {target!r} has labels the model does not know: "
                            f"{unknown[:10]}; model classes: {list(labels)[:20]}")
        text, _ = data.classification_text(y, pred, labels)
    else:
        if np.asarray(y).dtype.kind not in "biuf":
            raise DataError(f"the target {target!r} is not numeric, but the model is a "
                            "regressor")
        text, _ = data.regression_text(np.asarray(y, dtype=np.float64), pred)
    print(text)
    return 0


def cmd_predict(args):
    """Print or write a saved model's predictions."""
    obj = _load_model(args.model)
    X, _, target, table = _read_inputs(obj, args.data, None, need_target=False)
    pred, proba, task = _model_outputs(obj, X)
    name = target or "prediction"
    header = [f"predicted_{name}" if target else "prediction"]
    columns = [np.asarray(pred)]
    if args.proba:
        if proba is None:
            raise UsageError("--proba needs a classifier (see 'lepton predict --help')")
        labels = obj.classes_ if _is_estimator(obj) else range(proba.shape[1])
        header += [f"proba_{c}" for c in labels]
        columns += [proba[:, j] for j in range(proba.shape[1])]
    if np.asarray(pred).ndim == 2:  # multilabel / multi-output: one column per output
        header = [f"{header[0]}_{j}" for j in range(pred.shape[1])] + header[1:]
        columns = [pred[:, j] for j in range(pred.shape[1])] + columns[1:]
    rows = zip(*[[_fmt(v) for v in col] for col in columns])
    if args.output:
        import csv
        try:
            with open(args.output, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(header)
                w.writerows(rows)
        except OSError as exc:
            raise DataError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"wrote {len(X)} predictions to {args.output}")
    else:
        if len(header) > 1:
            print(",".join(header))
        for row in rows:
            print(",".join(row))
    return 0


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return str(v)


def cmd_info(args):
    """Describe a saved model file."""
    from lepton import io

    if not os.path.exists(args.model):
        raise DataError(f"no such model file: {args.model}")
    meta = io.read_metadata(args.model)
    obj = _load_model(args.model)
    lines = [f"file: {args.model}",
             f"format: {meta.get('format')} version {meta.get('format_version')} (written by "
             f"lepton {meta.get('lepton_version')}), kind {meta.get('kind')!r}"]
    if _is_estimator(obj):
        net = obj._net
        units = net.layer_units
        act, out = net._config["activation"], net._config["out_activation"]
        drops = net._config["dropout"]
        parts = [str(units[0])]
        for u, d in zip(units[1:-1], drops):
            parts.append(f"{u} ({act}" + (f", dropout {d:g})" if d else ")"))
        parts.append(f"{units[-1]} ({out})")
        lines += [f"estimator: {type(obj).__name__}",
                  f"architecture: {' -> '.join(parts)}",
                  f"parameters: {net.model.n_params:,}", f"dtype: {net.dtype.name}"]
        if obj._estimator_type == "classifier":
            cl = [str(c) for c in obj.classes_]
            lines.append(f"classes ({len(cl)}): {', '.join(cl[:20])}"
                         + (" ..." if len(cl) > 20 else ""))
        lines.append(f"training: {obj.n_iter_} epochs, final loss {obj.loss_:.6g}"
                     if obj.loss_ is not None else "training: none recorded")
    else:
        lines += [f"architecture:\n{obj.summary()}" if hasattr(obj, "summary") else
                  f"object: {obj!r}", f"dtype: {np.dtype(obj.dtype).name}"]
    meta_ = getattr(obj, "metadata_", None) or {}
    feats = _model_features(obj)
    lines.append(f"inputs: {_model_inputs(obj)} features"
                 + (f" ({data._list(feats, 8)})" if feats else ""))
    if meta_.get("target"):
        lines.append(f"target: {meta_['target']!r} ({meta_.get('task', '?')})")
    if meta_.get("source"):
        lines.append(f"trained on: {meta_['source']}")
    steps = list(getattr(obj, "preprocessing", None) or [])
    lines.append("preprocessing: " + (", ".join(repr(s) for s in steps) if steps else "none"))
    tsteps = list(getattr(obj, "target_preprocessing", None) or [])
    if tsteps:
        lines.append("target preprocessing: " + ", ".join(repr(s) for s in tsteps))
    print("\n".join(lines))
    return 0


# ---------------------------------------------------------------------------- bench
def cmd_bench(args):
    """Quick same-run comparison with NumPy (lepton._bench, or a minimal fallback)."""
    try:
        from lepton._bench import quick_bench
    except ImportError:
        quick_bench = None
    if quick_bench is not None:
        quick_bench(n_threads=args.threads, rounds=args.rounds)
        return 0
    return _mini_bench(args.threads, args.rounds)


def _mini_bench(n_threads, rounds):
    import lepton
    from lepton._threads import resolve_threads

    nt = resolve_threads(n_threads)
    rng = np.random.default_rng(0)
    n = 512
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n),
                                                                              dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    prev = lepton.get_num_threads()
    lepton.set_num_threads(nt)
    try:
        lt, npt = [], []
        lepton.gemm(a, b, out)
        np.matmul(a, b, out=out)
        for _ in range(rounds):  # alternate, so machine drift hits both alike
            t0 = time.perf_counter()
            lepton.gemm(a, b, out)
            lt.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            np.matmul(a, b, out=out)
            npt.append(time.perf_counter() - t0)
    finally:
        lepton.set_num_threads(prev)
    flop = 2.0 * n ** 3
    l_s, n_s = float(np.median(lt)), float(np.median(npt))
    print(f"lepton {lepton.__version__} vs NumPy {np.__version__}: sgemm {n}^3, {nt} thread(s) "
          f"for lepton (NumPy: its BLAS default), median of {rounds}")
    print(f"  lepton {flop / l_s / 1e9:7.1f} GFLOP/s   numpy {flop / n_s / 1e9:7.1f} GFLOP/s   "
          f"ratio {n_s / l_s:.2f}")
    return 0


# ---------------------------------------------------------------------------- entry point
_COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
             "info": cmd_info, "bench": cmd_bench}


def _one_line(exc):
    text = str(exc) or type(exc).__name__
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def main(argv=None):
    """Run the ``lepton`` command; returns the exit status (0 ok, 1 data error, 2 usage)."""
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version: already printed
            return exc.code or 0
        if args.command is None:
            parser.print_help()
            return 0
        return _COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"lepton: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lepton: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except FileNotFoundError as exc:
        print(f"lepton: error: no such file: {exc.filename or _one_line(exc)}", file=sys.stderr)
        return 1
    except (DataError, ValueError, TypeError, OSError, MemoryError, ArithmeticError) as exc:
        if os.environ.get("LEPTON_DEBUG"):
            raise
        print(f"lepton: error: {_one_line(exc)}", file=sys.stderr)
        return 1
