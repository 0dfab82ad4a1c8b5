"""Command line of the ``lepton`` command: the argument parser and its option types.

Every option is parsed and checked before any data is read, so a bad value is a one-line
usage error (exit status 2): sizes, counts and fractions are range-checked here, so that no
value can ask for an absurd run (a billion epochs, a seed NumPy rejects, more threads than
lepton allows); the hyper-parameters of ``lepton train`` that lepton's API checks itself
(momentum, betas, schedule parameters, ...) are parsed as finite numbers here and checked by
the API (:mod:`lepton.cli._train`).  Their defaults in the help are read from the API's
signatures (:func:`api_defaults`).
"""
import argparse
import inspect
import math
import os


class UsageError(Exception):
    """A bad command line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


ACTIVATIONS = ("relu", "tanh", "sigmoid", "logistic", "identity", "leaky_relu", "elu", "gelu",
               "softplus")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")
LOSSES = ("auto", "softmax_cross_entropy", "binary_cross_entropy", "mse", "mae", "huber")
SCHEDULES = ("constant", "step", "exponential", "cosine", "invscaling", "plateau")
# Defaults of schedule parameters the API leaves to the caller.
STEP_SIZE, EXPONENTIAL_GAMMA = 10, 0.95
MONITORS = ("val_loss", "val_accuracy", "val_precision", "val_recall", "val_f1", "val_mse",
            "val_mae", "val_r2", "loss")
MAX_EPOCHS = 1_000_000
MAX_UNITS = 1_000_000  # per hidden layer; the whole network is checked against memory too
_INT32_MAX = 2 ** 31 - 1
# lepton accepts up to max(256, processors) threads (lepton.set_num_threads's limit).
MAX_THREADS = max(256, os.cpu_count() or 1)

EPILOG = """\
Errors print one line, 'lepton: error: ...', and exit with status 2 (bad command line) or
1 (bad data or model file, or any other failure).  Set LEPTON_DEBUG=1 to get the full
Python traceback instead, e.g. when reporting a bug.
"""


# ---------------------------------------------------------------------------- option types
def _number(kind, lo=None, hi=None, lo_open=False, hi_open=False, allow=()):
    def parse(text):
        if text in allow:
            return allow[text] if isinstance(allow, dict) else text
        try:
            v = kind(text)
        except (ValueError, OverflowError):
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
            shown = text if len(text) <= 40 else text[:20] + "..."
            raise argparse.ArgumentTypeError(f"{shown} is outside {left}{low}, {high}{right}")
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
    if any(s > MAX_UNITS for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be at most {MAX_UNITS:,}, got "
                                         f"{text!r}")
    return sizes


def _dropout(text):
    try:
        rates = [float(s) for s in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a rate like 0.2 (or one per hidden "
                                         f"layer, 0.2,0.1), got {text!r}") from None
    if not all(0 <= r < 1 for r in rates):  # NaN fails this too
        raise argparse.ArgumentTypeError(f"dropout rates must be in [0, 1), got {text!r}")
    return rates[0] if len(rates) == 1 else rates


def _class_weight(text):
    """'balanced', or LABEL:WEIGHT pairs -> [(label, weight), ...] (labels matched later)."""
    if text == "balanced":
        return text
    pairs = []
    for item in text.split(","):
        label, sep, weight = item.rpartition(":")
        if not sep or not label.strip():
            raise argparse.ArgumentTypeError(f"expected 'balanced' or LABEL:WEIGHT pairs like "
                                             f"cat:2,dog:1, got {text!r}")
        pairs.append((label.strip(), _number(float, 0)(weight.strip())))
    return pairs


def api_defaults(cls):
    """Default of each keyword parameter of a lepton class (one source for the help)."""
    return {name: p.default for name, p in inspect.signature(cls).parameters.items()
            if p.default is not inspect.Parameter.empty}


def build_parser():
    """The argument parser of the ``lepton`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        Its ``error`` raises :class:`UsageError` instead of exiting.
    """
    p = _Parser(prog="lepton", description="Fast multilayer perceptrons on the CPU.",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    from lepton import __version__
    p.add_argument("--version", action="version", version=f"lepton {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    threads = _number(int, 1, MAX_THREADS, allow={"-1": -1})

    _add_train(sub, threads)

    e = sub.add_parser("evaluate", help="report a saved model's metrics on data",
                       epilog=EPILOG)
    e.add_argument("model", metavar="MODEL")
    e.add_argument("data", metavar="DATA")
    e.add_argument("--target", metavar="COLUMN", help="default: the training target")

    pr = sub.add_parser("predict", help="predict with a saved model", epilog=EPILOG)
    pr.add_argument("model", metavar="MODEL")
    pr.add_argument("data", metavar="DATA")
    pr.add_argument("-o", "--output", metavar="OUT.csv", help="write a CSV instead of printing")
    pr.add_argument("--proba", action="store_true",
                    help="also output class probabilities (classifiers)")

    i = sub.add_parser("info", help="describe a saved model", epilog=EPILOG)
    i.add_argument("model", metavar="MODEL")

    b = sub.add_parser("bench", help="quick same-run speed comparison with NumPy",
                       epilog=EPILOG)
    b.add_argument("--threads", type=threads, default=None)
    b.add_argument("--rounds", type=_number(int, 1, 10_000), default=5)
    return p


def _add_train(sub, threads):
    """``lepton train``: every option maps 1:1 to a lepton.Model / Trainer / fit argument."""
    import lepton
    from lepton.model import INITS
    from lepton.schedules import CosineAnnealing, ReduceLROnPlateau, StepDecay

    tr, es = api_defaults(lepton.Trainer), api_defaults(lepton.EarlyStopping)
    dense, step = api_defaults(lepton.Dense), api_defaults(StepDecay)
    cos, plateau = api_defaults(CosineAnnealing), api_defaults(ReduceLROnPlateau)
    real = _number(float)
    positive = _number(float, 0, lo_open=True)
    t = sub.add_parser("train", help="train an MLP (on the embedded digits by default)",
                       description="Train a lepton.Model with a lepton.Trainer on a CSV file "
                                   "(with a header) or an .npz file (arrays X, y); with no "
                                   "DATA, on the embedded UCI handwritten digits. Prints a "
                                   "progress bar, then a report on a held-out test split. "
                                   "Options left unset take the lepton API's defaults.",
                       epilog=EPILOG)
    t.add_argument("data", nargs="?", metavar="DATA", help=".csv or .npz file")

    g = t.add_argument_group("network", "lepton.Model: Dense hidden layers (each followed by "
                                        "Dropout if asked), then a Dense output layer whose "
                                        "activation the loss decides")
    g.add_argument("--layers", type=_layers, default=(128, 64), metavar="N,N,...",
                   help="hidden layer sizes (default: 128,64)")
    g.add_argument("--activation", choices=ACTIVATIONS, default="relu",
                   help="Dense(activation=) of the hidden layers (default: relu)")
    g.add_argument("--init", choices=INITS, default=dense["init"],
                   help=f"Dense(init=) weight initialisation (default: {dense['init']})")
    g.add_argument("--bias", action=argparse.BooleanOptionalAction,
                   default=dense["use_bias"], help="Dense(use_bias=) (default: on)")
    g.add_argument("--dropout", type=_dropout, default=0.0,
                   help="Dropout(rate) after each hidden layer, or one rate per layer "
                        "(0.2,0.1); default: none")
    g.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="Model(dtype=) (default: float32)")

    o = t.add_argument_group("optimization", "lepton.Trainer(...) and Trainer.fit(...)")
    o.add_argument("--optimizer", choices=OPTIMIZERS, default=tr["optimizer"],
                   help=f"(default: {tr['optimizer']})")
    o.add_argument("--lr", type=positive, default=tr["lr"],
                   help=f"base learning rate (default: {tr['lr']:g})")
    o.add_argument("--momentum", type=real, metavar="M",
                   help=f"momentum / nesterov only (default: {tr['momentum']})")
    o.add_argument("--beta1", type=real, metavar="B",
                   help=f"adam / adamw first-moment decay (default: {tr['beta1']})")
    o.add_argument("--beta2", type=real, metavar="B",
                   help=f"adam / adamw second-moment decay (default: {tr['beta2']})")
    o.add_argument("--eps", type=real, metavar="E",
                   help=f"adam / adamw epsilon (default: {tr['eps']:g})")
    o.add_argument("--l2", type=_number(float, 0), default=1e-4,
                   help="L2 penalty: gradient += l2 * W (default: 0.0001)")
    o.add_argument("--weight-decay", type=real, default=tr["weight_decay"], metavar="WD",
                   help="decoupled weight decay W -= lr * wd * W, any optimizer (default: "
                        f"{tr['weight_decay']:g})")
    o.add_argument("--clip-norm", type=real, default=tr["clip_norm"], metavar="NORM",
                   help="clip the gradient to this global L2 norm (default: no clipping)")
    o.add_argument("--batch-size", type=_number(int, 1, _INT32_MAX), default=32,
                   help="default: 32")
    o.add_argument("--epochs", type=_number(int, 1, MAX_EPOCHS), default=30,
                   help="default: 30")
    o.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=True,
                   help="reshuffle the training rows every epoch (default: on)")
    o.add_argument("--seed", type=_number(int, 0, 2 ** 32 - 1), default=0,
                   help="seeds the split, Model(seed=) and Trainer(seed=) (default: 0)")
    o.add_argument("--threads", type=threads, default=tr["n_threads"],
                   help="Trainer(n_threads=) (default: all; -1: all processors)")

    s = t.add_argument_group("learning-rate schedule", "lepton.schedules: the rate of each "
                                                       "epoch (or step) from --lr")
    s.add_argument("--schedule", choices=SCHEDULES, default="constant",
                   help="step: StepDecay, exponential: ExponentialDecay, cosine: "
                        "CosineAnnealing, invscaling: InverseScaling (per step), plateau: "
                        "ReduceLROnPlateau (default: constant)")
    s.add_argument("--step-size", type=_number(int, 1, _INT32_MAX), metavar="EPOCHS",
                   help=f"step: epochs between decays (default: {STEP_SIZE})")
    s.add_argument("--gamma", type=real,
                   help=f"step / exponential: decay factor (default: {step['gamma']} for step, "
                        f"{EXPONENTIAL_GAMMA} for exponential)")
    s.add_argument("--t-max", type=_number(int, 1, _INT32_MAX), metavar="EPOCHS",
                   help="cosine: epochs to reach --eta-min (default: --epochs)")
    s.add_argument("--eta-min", type=real, help=f"cosine: final rate (default: {cos['eta_min']})")
    s.add_argument("--power-t", type=real,
                   help="invscaling: lr / t ** power_t at step t (default: "
                        f"{api_defaults(lepton.schedules.InverseScaling)['power_t']})")
    s.add_argument("--factor", type=real,
                   help=f"plateau: rate multiplier (default: {plateau['factor']})")
    s.add_argument("--plateau-patience", type=_number(int, 0, _INT32_MAX), metavar="EPOCHS",
                   help=f"plateau: epochs without improvement of --monitor before reducing "
                        f"(default: {plateau['patience']})")
    s.add_argument("--min-lr", type=real,
                   help=f"plateau: lowest rate (default: {plateau['min_lr']})")

    lo = t.add_argument_group("loss", "Trainer(loss=...)")
    lo.add_argument("--loss", choices=LOSSES, default="auto",
                    help="auto: softmax_cross_entropy (more than 2 classes), "
                         "binary_cross_entropy (2 classes) or mse (regression); the output "
                         "layer is softmax, sigmoid or identity to match")
    lo.add_argument("--huber-delta", type=real, metavar="DELTA",
                    help="huber only: Trainer(loss_param=) (default: 1.0)")
    lo.add_argument("--loss-scale", type=real, default=tr["loss_scale"], metavar="S",
                    help=f"multiplies the loss and its gradient (default: {tr['loss_scale']})")

    d = t.add_argument_group("data and validation")
    d.add_argument("--target", metavar="COLUMN",
                   help="target column of a CSV file (default: the last column)")
    d.add_argument("--task", choices=("auto", "classification", "regression"), default="auto",
                   help="auto: from --loss, else from the target's values")
    d.add_argument("--sample-weight", metavar="COLUMN",
                   help="column (of a CSV; array of an .npz) of non-negative row weights, "
                        "fit(sample_weight=); not a feature")
    d.add_argument("--class-weight", type=_class_weight, metavar="balanced|LABEL:W,...",
                   help="fit(class_weight=): 'balanced' or a weight per class label")
    d.add_argument("--validation-split", type=_number(float, 0, 1, hi_open=True), default=0.1,
                   help="fraction of the training data held out for validation metrics "
                        "(default: 0.1)")
    d.add_argument("--test-size", type=_number(float, 0, 1, lo_open=True, hi_open=True),
                   default=0.2, help="fraction held out for the final report (default: 0.2)")
    d.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True,
                   help="standardise features (and regression targets); default: on")
    d.add_argument("--clip-outliers", action="store_true",
                   help="clip each feature to its 1%%..99%% training quantiles")
    d.add_argument("--early-stopping", action="store_true",
                   help="fit(early_stopping=EarlyStopping(...)): stop when --monitor stops "
                        "improving")
    d.add_argument("--monitor", choices=MONITORS, default=es["monitor"],
                   help=f"value watched by early stopping and --schedule plateau (default: "
                        f"{es['monitor']})")
    d.add_argument("--patience", type=_number(int, 1, _INT32_MAX), default=es["patience"],
                   help=f"epochs without improvement before early stopping (default: "
                        f"{es['patience']})")
    d.add_argument("--min-delta", type=real, metavar="DELTA",
                   help=f"smallest change that counts as an improvement, for early stopping "
                        f"and plateau (default: {es['min_delta']:g})")
    d.add_argument("--restore-best", action=argparse.BooleanOptionalAction,
                   default=es["restore_best_weights"],
                   help="early stopping: keep the best epoch's weights (default: on)")

    out = t.add_argument_group("output")
    out.add_argument("--save", metavar="MODEL.npz",
                     help="save the model, its preprocessing and training settings")
    out.add_argument("--plot", metavar="CURVES.png",
                     help="plot training/validation curves (needs matplotlib); a directory "
                          "gets training_curves.png inside it, a name without an extension "
                          "gets PNG data")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
