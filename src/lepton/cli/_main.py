"""The commands of ``lepton`` and their dispatch (see :mod:`lepton.cli`)."""
import sys
import warnings

import numpy as np

from lepton.cli import _data as data
from lepton.cli import _model as models
from lepton.cli._data import DataError
from lepton.cli._errors import guarded, one_line
from lepton.cli._parser import UsageError, build_parser
from lepton.cli._train import cmd_train

__all__ = ["main", "build_parser", "UsageError", "DataError"]


# ---------------------------------------------------------------------------- saved models
def cmd_evaluate(args):
    """Report a saved model's metrics on labelled data."""
    obj = models.load_model(args.model)
    X, y, target, names, source = models.read_inputs(obj, args.data, args.target,
                                                     need_target=True)
    pred, _, task = models.model_outputs(obj, X, names, source)
    print(f"model: {args.model}; data: {source}: {len(y)} samples, target {target!r}")
    if task == "classification":
        labels = models.model_classes(obj)
        y = data.class_labels(np.asarray(y))
        if labels is None:  # a Model saved without its labels: class indices
            labels = np.unique(np.concatenate([y, pred]))
        elif y.dtype.kind in "iu" and np.asarray(labels).dtype.kind == "U":
            y = y.astype(str)
        unknown = sorted(set(np.unique(y).tolist()) - set(np.asarray(labels).tolist()))
        if unknown:
            raise DataError(f"the target {target!r} has labels the model does not know: "
                            f"{data.abbreviate(unknown)}; model classes: "
                            f"{data.abbreviate(np.asarray(labels).tolist())}")
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
    obj = models.load_model(args.model)
    X, _, target, names, source = models.read_inputs(obj, args.data, None,
                                                     need_target=False)
    pred, proba, task = models.model_outputs(obj, X, names, source)
    name = target or "prediction"
    header = [f"predicted_{name}" if target else "prediction"]
    columns = [np.asarray(pred)]
    if args.proba:
        if proba is None:
            raise UsageError("--proba needs a classifier (see 'lepton predict --help')")
        labels = models.model_classes(obj)
        labels = range(proba.shape[1]) if labels is None else labels
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
    obj, meta = models.load_model(args.model, with_metadata=True)
    short = data.shorten
    lines = [f"file: {args.model}",
             f"format: {short(meta.get('format'))} version {short(meta.get('format_version'))}"
             f" (written by lepton {short(meta.get('lepton_version'))}), kind "
             f"{short(meta.get('kind'))!r}"]
    lines += _describe(obj)
    meta_ = models.model_meta(obj)
    feats = models.model_features(obj)
    lines.append(f"inputs: {models.model_inputs(obj)} features"
                 + (f" ({data.names_text(feats, 8)})" if feats else ""))
    if meta_.get("target"):
        lines.append(f"target: {short(meta_['target'])!r} ({short(meta_.get('task', '?'))})")
    if meta_.get("source"):
        lines.append(f"trained on: {short(meta_['source'], 200)}")
    steps = obj.preprocessing
    lines.append("preprocessing: " + (", ".join(repr(s) for s in steps) if steps else "none"))
    tsteps = obj.target_preprocessing
    if tsteps:
        lines.append("target preprocessing: " + ", ".join(repr(s) for s in tsteps))
    if not models.is_estimator(obj):
        lines.append("layers:\n" + obj.summary())
    print("\n".join(lines))
    return 0


def _describe(obj):
    """Lines on the network, its classes and its training, from public attributes."""
    short = data.shorten
    arch = models.architecture(obj)
    parts = [str(arch[0])] + [f"{u} ({a}" + (f", dropout {d:g})" if d else ")")
                              for u, a, d in arch[1:]]
    kind = f"estimator: {type(obj).__name__}" if models.is_estimator(obj) else \
        "model: lepton.Model"
    lines = [kind, f"architecture: {' -> '.join(parts)}",
             f"parameters: {models.n_params(obj):,}", f"dtype: {models.model_dtype(obj).name}"]
    classes = models.model_classes(obj)
    if classes is not None:
        cl = [short(c) for c in classes]
        lines.append(f"classes ({len(cl)}): {', '.join(cl[:20])}"
                     + (" ..." if len(cl) > 20 else ""))
    meta = models.model_meta(obj)
    if models.is_estimator(obj):
        lines.append(f"training: {obj.n_iter_} epochs, final loss {obj.loss_:.6g}"
                     if obj.loss_ is not None else "training: none recorded")
    elif meta.get("fit") or meta.get("trainer"):
        fit, trainer = meta.get("fit") or {}, dict(meta.get("trainer") or {})
        schedule = trainer.pop("schedule", None)
        if isinstance(schedule, dict):
            args = ", ".join(f"{k}={v!r}" for k, v in schedule.items() if k != "type")
            trainer["schedule"] = f"{schedule.get('type')}({args})"
        loss = fit.get("final_loss")
        lines.append(short(f"training: {fit.get('epochs_run', '?')} epochs of "
                           f"{fit.get('epochs', '?')}, batch {fit.get('batch_size', '?')}"
                           + (f", final loss {loss:.6g}" if isinstance(loss, float) else ""),
                           200))
        lines.append(short("trainer: " + ", ".join(f"{k}={v}" for k, v in trainer.items()
                                                   if v is not None), 400))
    return lines


# ---------------------------------------------------------------------------- bench
def cmd_bench(args):
    """Quick same-run comparison with NumPy (the ``lepton bench`` module)."""
    from lepton.cli._bench import quick_bench

    quick_bench(n_threads=args.threads, rounds=args.rounds)
    return 0


# ---------------------------------------------------------------------------- entry point
_COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
             "info": cmd_info, "bench": cmd_bench}


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # A warning is one line too, without the source line Python would print.
    print(f"lepton: warning: {one_line(message)}", file=sys.stderr)


def main(argv=None):
    """Run the ``lepton`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 on success, 1 for a data, file or other error, 2 for a bad command line, 130 when
        interrupted.  Errors are one ``lepton: error: ...`` line on stderr, never a
        traceback (unless the environment sets ``LEPTON_DEBUG=1``).
    """
    context = {"command": None, "files": ()}

    def run():
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version: already printed
            return exc.code if isinstance(exc.code, int) else 0
        if args.command is None:
            parser.print_help()
            return 0
        context["command"] = args.command
        context["files"] = [getattr(args, name, None) for name in ("model", "data")]
        return _COMMANDS[args.command](args)

    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return guarded(run, context)
