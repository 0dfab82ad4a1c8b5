"""Data handling of the ``lepton`` command: reading CSV / .npz files, choosing features and
target, detecting the task, splitting, and the text reports.

Every problem with the user's data raises :class:`DataError` with a one-line message; the
command prints it as ``lepton: error: ...`` and exits with status 1.
"""
import csv
import os

import numpy as np


class DataError(Exception):
    """A problem with the user's files or data (exit status 1)."""


class Table:
    """Columns of a data file: ``names`` in file order, ``columns[name]`` an ndarray (float64
    for numeric columns, str otherwise), ``source`` a short description for messages."""

    def __init__(self, names, columns, source, n_rows, X=None, y=None, target="y",
                 named=True):
        self.names, self.columns, self.source, self.n_rows = names, columns, source, n_rows
        self.named = named  # False: the feature names are made up (x0, x1, ...)
        # Set for .npz files and the embedded dataset: the arrays and the target's name.
        self.X, self.y, self.target = X, y, target


def _to_float(values):
    """float64 array of ``values`` and the index of the first bad entry (-1 if none)."""
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        try:
            out[i] = float(v)
        except ValueError:
            return None, i
    return out, -1


def read_csv(path):
    """Read a CSV file with a header line into a :class:`Table`."""
    name = os.path.basename(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a UTF-8 text (CSV) file") from None
    except csv.Error as exc:
        raise DataError(f"{path} is not a valid CSV file: {exc}") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise DataError(f"{path} is empty")
    header = [h.strip() for h in rows[0]]
    if len(rows) < 2:
        raise DataError(f"{path} has a header but no data rows")
    seen = set()
    for h in header:
        if not h:
            raise DataError(f"{path}: the header has an empty column name")
        if h in seen:
            raise DataError(f"{path}: column {h!r} appears twice in the header")
        seen.add(h)
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{path}: data row {line - 1} has {len(row)} fields, but the "
                            f"header has {len(header)}")
    columns = {}
    for j, h in enumerate(header):
        raw = [row[j].strip() for row in rows[1:]]
        values, _ = _to_float(raw)
        # Non-numeric (or partly empty) columns stay text: fine for a class-label target,
        # reported by select() if used as a feature.
        columns[h] = np.asarray(raw, dtype=str) if values is None else values
    return Table(header, columns, name, len(rows) - 1)


def read_npz(path):
    """Read an .npz file holding ``X`` (2-D numeric) and optionally ``y`` and
    ``feature_names``."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            files = set(npz.files)
            if "X" not in files:
                raise DataError(f"{path} has no array 'X' (arrays: "
                                f"{', '.join(sorted(files)) or 'none'}); lepton expects X "
                                "(n_samples x n_features) and y")
            X = npz["X"]
            y = npz["y"] if "y" in files else None
            names = npz["feature_names"] if "feature_names" in files else None
    except DataError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{path} holds pickled objects, which lepton does not load; "
                            "save plain numeric arrays") from None
        raise DataError(f"{path} is not a valid .npz file: {exc}") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path} is not a valid .npz file: {exc}") from None
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        raise DataError(f"{path}: X must be a 2-D numeric array, got shape {X.shape} and "
                        f"dtype {X.dtype}")
    if y is not None and (y.ndim != 1 or len(y) != len(X)):
        raise DataError(f"{path}: y must be 1-D with one value per row of X "
                        f"({len(X)}), got shape {y.shape}")
    named = names is not None and names.shape == (X.shape[1],)
    names = [str(n) for n in names] if named else [f"x{i}" for i in range(X.shape[1])]
    X = X.astype(np.float64)
    cols = {n: X[:, j] for j, n in enumerate(names)}
    return Table(names, cols, os.path.basename(path), len(X), X=X, y=y, named=named)


def digits_table():
    """The embedded UCI handwritten digits as a :class:`Table`."""
    from lepton.datasets import load_digits

    d = load_digits()
    names = list(d.feature_names)
    return Table(names + ["digit"], {n: d.data[:, j] for j, n in enumerate(names)},
                 "digits (embedded UCI handwritten digits)", len(d.target), X=d.data,
                 y=d.target, target="digit")


def read_data(path):
    """A :class:`Table` from a .csv or .npz path (format by extension, CSV otherwise)."""
    if not os.path.exists(path):
        raise DataError(f"no such file: {path}")
    if os.path.isdir(path):
        raise DataError(f"{path} is a directory, not a data file")
    if path.lower().endswith(".npz"):
        return read_npz(path)
    return read_csv(path)


def select(table, target=None, features=None, need_target=True):
    """(X float64, y or None, feature names, target name) from a table.

    ``features``: the model's feature names, picked by name from a CSV (extra columns are
    ignored); None = every column except the target.  ``target`` None: the .npz ``y``, or
    for CSV the last column (only when ``need_target``).
    """
    if table.X is not None:  # .npz / embedded data: X and y are given
        if target not in (None, table.target):
            raise DataError(f"{table.source} holds arrays X and y: its target is "
                            f"{table.target!r}, there is no column {target!r}")
        y = table.y
        if need_target and y is None:
            raise DataError(f"{table.source} has no array 'y' with the target values")
        X = table.X
        names = table.names[:X.shape[1]]
        if features is not None and len(features) != X.shape[1]:
            raise DataError(f"X has {X.shape[1]} features, but the model expects "
                            f"{len(features)}")
        return _check_finite(X, names, table), y, names, table.target
    if target is not None and target not in table.columns:
        raise DataError(f"column {target!r} not found in {table.source}; columns: "
                        f"{_list(table.names)}")
    if target is None and need_target:
        if len(table.names) < 2:
            raise DataError(f"{table.source} has a single column; need features and a target")
        target = table.names[-1]
    if features is None:
        names = [n for n in table.names if n != target]
    else:
        missing = [n for n in features if n not in table.columns]
        if missing:
            raise DataError(f"{table.source} lacks {len(missing)} feature column(s) the model "
                            f"was trained on: {_list(missing)}")
        names = list(features)
    if not names:
        raise DataError(f"{table.source} has no feature columns besides the target "
                        f"{target!r}")
    for n in names:
        col = table.columns[n]
        if col.dtype.kind != "f":
            bad = next((i for i, v in enumerate(col) if not _is_number(v)), 0)
            what = "is empty" if col[bad] == "" else f"is '{col[bad]}'"
            raise DataError(f"column {n!r} is not numeric: its value on data row {bad + 1} "
                            f"{what}; lepton needs numeric features (encode categories "
                            "first)")
    X = np.column_stack([table.columns[n] for n in names]).astype(np.float64)
    y = None
    if target is not None and target in table.columns:
        y = table.columns[target]
        if y.dtype.kind != "f" and np.any(y == ""):
            raise DataError(f"target column {target!r} has missing values (first on data row "
                            f"{int(np.argmax(y == '')) + 1})")
    return _check_finite(X, names, table), y, names, target


def _is_number(v):
    try:
        float(v)
        return True
    except ValueError:
        return False


def _check_finite(X, names, table):
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(f"{table.source}: feature {names[col]!r} has a missing or infinite "
                        f"value on data row {row + 1}; fill or drop such rows first")
    return X


def _list(names, limit=12):
    names = [str(n) for n in names]
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def detect_task(y, task):
    """'classification' or 'regression' for target ``y`` (``task`` 'auto' decides)."""
    if task != "auto":
        if task == "regression" and y.dtype.kind not in "biuf":
            raise DataError("--task regression needs a numeric target; this one has values "
                            f"like '{y[0]}'")
        return task
    if y.dtype.kind not in "biuf":
        return "classification"
    if not np.all(np.isfinite(y)):
        raise DataError("the target has missing or infinite values")
    if np.all(y == np.round(y)) and len(np.unique(y)) <= max(2, min(20, len(y) // 5)):
        return "classification"
    return "regression"


def class_labels(y):
    """Class labels as ints when they are integral numbers, else strings."""
    if y.dtype.kind == "f" and np.all(y == np.round(y)):
        return y.astype(np.int64)
    return y


def split(n, fraction, rng, stratify=None):
    """(train, held_out) index arrays; stratified when every class has >= 2 samples."""
    if fraction <= 0:
        return np.arange(n), np.arange(0)
    from lepton._sklcompat import train_val_split

    if stratify is not None:
        _, counts = np.unique(stratify, return_counts=True)
        if counts.min() < 2:
            stratify = None
    return train_val_split(n, fraction, rng, stratify)


# ---------------------------------------------------------------------------- reports
def confusion_text(cm, labels):
    """The confusion matrix as an aligned table (rows: true, columns: predicted)."""
    labels = [str(x) for x in labels]
    corner = "true \\ pred"
    w = max(max(len(s) for s in labels), len(str(int(cm.max()) if cm.size else 0)), 3)
    r = max(len(corner), max(len(s) for s in labels))
    lines = [f"{corner:<{r}}  " + " ".join(f"{s:>{w}}" for s in labels)]
    for s, row in zip(labels, cm):
        lines.append(f"{s:>{r}}  " + " ".join(f"{int(v):>{w}}" for v in row))
    return "\n".join(lines)


def classification_text(y_true, y_pred, labels):
    """classification_report + confusion matrix text (lepton.metrics)."""
    from lepton import metrics

    labels = np.asarray(labels)
    report = metrics.classification_report(y_true, y_pred, labels=labels,
                                           target_names=[str(x) for x in labels], digits=4,
                                           zero_division=0)
    cm = metrics.confusion_matrix(y_true, y_pred, labels=labels)
    acc = metrics.accuracy_score(y_true, y_pred)
    return (f"{report}\nConfusion matrix (rows: true class, columns: predicted class):\n"
            f"{confusion_text(cm, labels)}\n\naccuracy: {acc:.4f}"), acc


def regression_text(y_true, y_pred):
    """R^2, RMSE, MAE text (lepton.metrics)."""
    from lepton import metrics

    r2 = metrics.r2_score(y_true, y_pred)
    mse = metrics.mean_squared_error(y_true, y_pred)
    mae = metrics.mean_absolute_error(y_true, y_pred)
    return (f"R^2:  {r2:.4f}\nRMSE: {np.sqrt(mse):.6g}\nMAE:  {mae:.6g}\nMSE:  {mse:.6g}"), r2
