"""Data handling of the ``lepton`` command: reading CSV / .npz files, choosing features and
target, detecting the task, splitting, and the text reports.

:func:`read_csv` parses a CSV file step by step into one float64 array (never all rows as
Python lists), so its peak memory stays near the size of the result; :func:`read_npz`
recognises a file by its first bytes before handing it to NumPy.

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
                 named=True, values=None):
        self.names, self.columns, self.source, self.n_rows = names, columns, source, n_rows
        # CSV files: every column in one float64 array (NaN in non-numeric columns); the
        # numeric entries of ``columns`` are views of it.
        self.values = values
        self.named = named  # False: the feature names are made up (x0, x1, ...)
        # Set for .npz files and the embedded dataset: the arrays and the target's name;
        # ``arrays``: names of an .npz file's other arrays, at ``path``.
        self.X, self.y, self.target = X, y, target
        self.arrays, self.path = [], None


# ---------------------------------------------------------------------------- CSV files
_CHUNK_CELLS = 1 << 16  # cells parsed per step: bounds the Python objects alive at once
_NPZ_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive (empty archives: the latter)
_NPY_MAGIC = b"\x93NUMPY"


def _csv_chunks(path, chunk_cells):
    """Yield the header (stripped names), then lists of data rows (lists of str).

    Blank lines (only whitespace in every cell) are skipped; a row whose field count
    differs from the header's raises :class:`DataError`.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header, chunk, n_rows, size = None, [], 0, 0
            for row in reader:
                if not row or (not row[0].strip() and not any(c.strip() for c in row)):
                    continue
                if header is None:
                    header = [h.strip() for h in row]
                    _check_header(header, path)
                    # At least a few rows per step: per-step costs are per column.
                    size = max(16, chunk_cells // len(header))
                    yield header
                    continue
                n_rows += 1
                if len(row) != len(header):
                    raise DataError(f"{path}: data row {n_rows} (line {reader.line_num}) has "
                                    f"{len(row)} fields, but the header has {len(header)}")
                chunk.append(row)
                if len(chunk) == size:
                    yield chunk
                    chunk = []
            if header is None:
                raise DataError(f"{path} is empty")
            if chunk:
                yield chunk
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a UTF-8 text (CSV) file") from None
    except csv.Error as exc:
        raise DataError(f"{path} is not a valid CSV file: {exc}") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def _check_header(header, path):
    seen = set()
    for h in header:
        if not h:
            raise DataError(f"{path}: the header has an empty column name")
        if h in seen:
            raise DataError(f"{path}: column {shorten(h)!r} appears twice in the header")
        seen.add(h)


def _first_rows_estimate(path, chunk, n_columns):
    """Rows the file probably holds, from its size and the first chunk's row length."""
    chars = sum(len(c) for row in chunk for c in row) + len(chunk) * n_columns
    try:
        size = os.path.getsize(path)
    except OSError:
        return len(chunk)
    return max(len(chunk), int(size / max(chars / len(chunk), 1.0) * 1.05) + 16)


def read_csv(path, *, chunk_cells=_CHUNK_CELLS):
    """Read a CSV file with a header line, parsing it incrementally into one float64 array.

    Parameters
    ----------
    path : str
        A UTF-8 text file: a header line of unique column names, then one row per sample.
        Blank lines are skipped.
    chunk_cells : int, optional
        Cells converted per step.  Only one step's rows exist as Python strings at a time.

    Returns
    -------
    table : Table
        ``table.values`` is an ``(n_rows, n_columns)`` float64 array holding every numeric
        column (NaN in the others); ``table.columns[name]`` is a view of its column, or a
        str array of the stripped values for a column with any non-numeric entry (class
        labels, or a mistake reported by :func:`select` if used as a feature).

    Notes
    -----
    The array is allocated for the row count estimated from the file size and grown in
    place (``ndarray.resize``, i.e. realloc) if the estimate was short, so the peak memory
    stays near the size of the result, instead of the ~10x of rows held as Python lists.
    A column found non-numeric after its first step is read again in a second pass, so
    its text values are exactly those of the file.
    """
    chunks = _csv_chunks(path, chunk_cells)
    header = next(chunks)
    m = len(header)
    numeric = [True] * m
    text = {}       # column -> str arrays, one per step (non-numeric from the first step)
    late = set()    # columns found non-numeric after the first step: read again below
    values, n = None, 0
    for chunk in chunks:
        k = len(chunk)
        if values is None:
            values = np.empty((_first_rows_estimate(path, chunk, m), m))
        elif n + k > len(values):
            # realloc, in place when it can; no view of `values` is kept across steps.
            values.resize((max(n + k, len(values) * 3 // 2), m), refcheck=False)
        block = values[n:n + k]
        if all(numeric):
            try:  # one conversion for the whole step, the common all-numeric case
                block[...] = np.array(chunk, dtype=np.float64)
                del block
                n += k
                continue
            except ValueError:
                pass  # find the non-numeric column(s) below
        for j in range(m):
            if numeric[j]:
                try:
                    block[:, j] = np.array([row[j] for row in chunk], dtype=np.float64)
                    continue
                except ValueError:  # some entry is not a number: the column is text
                    numeric[j] = False
                    if n:
                        late.add(j)
                    else:
                        text[j] = []
            block[:, j] = np.nan
            if j in text:
                text[j].append(np.array([row[j].strip() for row in chunk], dtype=str))
        del block
        n += k
    if not n:
        raise DataError(f"{path} has a header but no data rows")
    values.resize((n, m), refcheck=False)  # trim the estimate, in place
    if late:
        values[:, sorted(late)] = np.nan
        text.update({j: [] for j in late})
        second = _csv_chunks(path, chunk_cells)
        next(second)
        for chunk in second:
            for j in late:
                text[j].append(np.array([row[j].strip() for row in chunk], dtype=str))
    columns = {h: (values[:, j] if numeric[j] else np.concatenate(text.pop(j)))
               for j, h in enumerate(header)}
    return Table(header, columns, os.path.basename(path), n, values=values)


# ---------------------------------------------------------------------------- .npz files
def _magic(path, size=8):
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_npz(path):
    """Read an .npz file holding ``X`` (2-D numeric) and optionally ``y`` and
    ``feature_names``.

    Parameters
    ----------
    path : str

    Returns
    -------
    table : Table
        With ``X`` as float64, ``y`` (or None) and the feature names (``x0, x1, ...`` when
        the file has none).
    """
    magic = _magic(path)
    if not magic:
        raise DataError(f"{path} is empty")
    if magic.startswith(_NPY_MAGIC):
        raise DataError(f"{path} is a single .npy array, not an .npz archive; save X and y "
                        "with numpy.savez(path, X=X, y=y)")
    if magic[:4] not in _NPZ_MAGIC:
        raise DataError(f"{path} is not an .npz archive (it starts with {magic[:8]!r}); "
                        "a CSV file needs the .csv extension")
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            files = set(npz.files)
            if "X" not in files:
                raise DataError(f"{path} has no array 'X' (arrays: "
                                f"{names_text(sorted(files), 8) or 'none'}); lepton expects X "
                                "(n_samples x n_features) and y")
            X = _member(npz, "X", path)
            y = _member(npz, "y", path) if "y" in files else None
            names = _member(npz, "feature_names", path) if "feature_names" in files else None
            # Other arrays are read on demand (e.g. --sample-weight): names only here.
            others = sorted(files - {"X", "y", "feature_names"})
    except (DataError, MemoryError):
        raise
    except Exception as exc:  # BadZipFile, EOFError, zlib.error, ...: damaged bytes
        raise DataError(f"{path} is not a valid .npz archive: it is damaged or truncated "
                        f"({type(exc).__name__}: {exc})") from None
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        raise DataError(f"{path}: X must be a 2-D numeric array, got shape {X.shape} and "
                        f"dtype {X.dtype}")
    if X.shape[0] == 0:
        raise DataError(f"{path} has no rows (X has shape {X.shape})")
    if X.shape[1] == 0:
        raise DataError(f"{path} has no feature columns (X has shape {X.shape})")
    if y is not None and (y.ndim != 1 or len(y) != len(X)):
        raise DataError(f"{path}: y must be 1-D with one value per row of X "
                        f"({len(X)}), got shape {y.shape}")
    if y is not None and y.dtype.kind not in "biufU":
        raise DataError(f"{path}: y must hold numbers or strings, got dtype {y.dtype}")
    named = names is not None and names.shape == (X.shape[1],)
    names = [str(n) for n in names] if named else [f"x{i}" for i in range(X.shape[1])]
    X = X.astype(np.float64)
    cols = {n: X[:, j] for j, n in enumerate(names)}
    table = Table(names, cols, os.path.basename(path), len(X), X=X, y=y, named=named)
    table.arrays, table.path = others, path
    return table



def _member(npz, key, path):
    try:
        arr = npz[key]
    except ValueError as exc:
        if "pickle" not in str(exc).lower():
            raise
        raise DataError(f"array {key!r} of {path} holds Python objects (pickled), which "
                        "lepton does not load; save plain numeric arrays") from None
    if not isinstance(arr, np.ndarray):  # NpzFile returns the bytes of non-.npy members
        raise DataError(f"{path}: member {key!r} is not a .npy array")
    if arr.dtype.kind in "OVMm":
        raise DataError(f"{path}: array {key!r} has unsupported dtype {arr.dtype}")
    return arr


def digits_table():
    """The embedded UCI handwritten digits as a :class:`Table`."""
    from lepton.datasets import load_digits

    d = load_digits()
    names = list(d.feature_names)
    return Table(names + ["digit"], {n: d.data[:, j] for j, n in enumerate(names)},
                 "digits (embedded UCI handwritten digits)", len(d.target), X=d.data,
                 y=d.target, target="digit")


def read_data(path):
    """A :class:`Table` from a .csv or .npz path (format by extension, CSV otherwise).

    Parameters
    ----------
    path : str

    Returns
    -------
    table : Table

    Raises
    ------
    DataError
        With a one-line message naming ``path`` for anything that is not readable data.
    """
    if not os.path.exists(path):
        raise DataError(f"no such file: {path}")
    if os.path.isdir(path):
        raise DataError(f"{path} is a directory, not a data file")
    if path.lower().endswith(".npz"):
        return read_npz(path)
    head = _magic(path, 4096)
    if head[:4] in _NPZ_MAGIC or head.startswith(_NPY_MAGIC):
        what = "a zip (.npz) archive" if head[:4] in _NPZ_MAGIC else "a NumPy .npy file"
        raise DataError(f"{path} is {what}, not a CSV text file; lepton reads .csv files "
                        "and .npz archives (arrays X, y) named with the .npz extension")
    if b"\x00" in head:  # text never holds NUL bytes (how grep and file tell binary)
        raise DataError(f"{path} is a binary file, not a CSV text file")
    return read_csv(path)


def select(table, target=None, features=None, need_target=True, exclude=()):
    """(X float64, y or None, feature names, target name) from a table.

    ``features``: the model's feature names, picked by name from a CSV (extra columns are
    ignored); None = every column except the target and those in ``exclude``.  ``target``
    None: the .npz ``y``, or for CSV the last column (only when ``need_target``).  X is a
    new C-contiguous array and y a copy, so the table can be dropped.
    """
    if table.X is not None:  # .npz / embedded data: X and y are given
        if target not in (None, table.target):
            raise DataError(f"{table.source} holds arrays X and y: its target is "
                            f"{table.target!r}, there is no column {shorten(target)!r}")
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
        raise DataError(f"column {shorten(target)!r} not found in {table.source}; columns: "
                        f"{names_text(table.names)}")
    if target is None and need_target:
        if len(table.names) < 2:
            raise DataError(f"{table.source} has a single column; need features and a target")
        target = table.names[-1]
    if features is None:
        names = [n for n in table.names if n != target and n not in exclude]
    else:
        missing = [n for n in features if n not in table.columns]
        if missing:
            raise DataError(f"{table.source} lacks {len(missing)} feature column(s) the model "
                            f"was trained on: {names_text(missing)}")
        names = list(features)
    if not names:
        raise DataError(f"{table.source} has no feature columns besides the target "
                        f"{target!r}")
    for n in names:
        col = table.columns[n]
        if col.dtype.kind != "f":
            bad = next((i for i, v in enumerate(col) if not _is_number(v)), 0)
            what = "is empty" if col[bad] == "" else f"is {shorten(col[bad])!r}"
            raise DataError(f"column {shorten(n)!r} is not numeric: its value on data row "
                            f"{bad + 1} {what}; lepton needs numeric features (encode "
                            "categories first)")
    if table.values is not None:  # one gather from the CSV's array
        index = {n: j for j, n in enumerate(table.names)}
        X = np.take(table.values, [index[n] for n in names], axis=1)  # C-contiguous copy
    else:
        X = np.column_stack([table.columns[n] for n in names]).astype(np.float64)
    y = None
    if target is not None and target in table.columns:
        y = table.columns[target].copy()  # a view would keep the whole table alive
        if y.dtype.kind != "f" and np.any(y == ""):
            raise DataError(f"target column {target!r} has missing values (first on data row "
                            f"{int(np.argmax(y == '')) + 1})")
    return _check_finite(X, names, table), y, names, target


def weights(table, name, target):
    """The float64 column (CSV) or 1-D array (.npz) ``name`` of non-negative finite row
    weights, for ``--sample-weight``."""
    what = f"--sample-weight {shorten(name)!r}"
    if name == target:
        raise DataError(f"{what} is the target column")
    if table.X is not None:
        if name not in table.arrays:
            raise DataError(f"{table.source} has no array {shorten(name)!r} for {what} "
                            f"(other arrays: {names_text(table.arrays) or 'none'})")
        with open(table.path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            w = _member(npz, name, table.path)
        if w.ndim != 1 or len(w) != len(table.X) or w.dtype.kind not in "biuf":
            raise DataError(f"{what}: the array must be numeric and 1-D with one value per "
                            f"row of X ({len(table.X)}), got {w.dtype} {w.shape}")
        w = w.astype(np.float64)
    else:
        if name not in table.columns:
            raise DataError(f"{what}: column not found in {table.source}; columns: "
                            f"{names_text(table.names)}")
        w = table.columns[name]
        if w.dtype.kind != "f":
            raise DataError(f"{what}: the column is not numeric")
        w = w.copy()
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise DataError(f"{what}: weights must be finite and non-negative, got {w[bad][0]!r} "
                        f"on data row {int(np.argmax(bad)) + 1}")
    return w


def _is_number(v):
    try:
        float(v)
        return True
    except ValueError:
        return False


def _check_finite(X, names, table):
    finite = np.isfinite(X).all(axis=0)
    if not finite.all():
        col = int(np.argmin(finite))
        row = int(np.argmin(np.isfinite(X[:, col])))
        what = "a missing" if np.isnan(X[row, col]) else "an infinite (or beyond float64's " \
            "range)"
        raise DataError(f"{table.source}: feature {shorten(names[col])!r} has {what} value on "
                        f"data row {row + 1}; fill or drop such rows first")
    return X


def check_magnitude(X, names, source, limit, why, kind="feature"):
    """Raise :class:`DataError` if an entry of ``X`` exceeds ``limit`` in magnitude.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features) or (n_samples,)
    names : list of str
        Feature names (or one name for a 1-D ``X``), for the message.
    source : str
        The data's description, for the message.
    limit : float
    why : str
        Why such values are a problem and how to fix it, appended to the message.
    kind : str, optional
        What ``names`` name ("feature", "target").
    """
    X2 = X.reshape(len(X), -1)
    if not len(X2):
        return
    over = (X2.max(axis=0) > limit) | (X2.min(axis=0) < -limit)  # no |X| temporary
    if over.any():
        col = int(np.argmax(over))
        row = int(np.argmax(np.abs(X2[:, col]) > limit))
        raise DataError(f"{source}: {kind} {shorten(names[col])!r} has a value too large "
                        f"({X2[row, col]:.4g} on data row {row + 1}); {why}")


def standardize_limit(n):
    """Largest magnitude whose standardisation cannot overflow float64 for ``n`` samples.

    The variance sums squared deviations (each up to ``(2 max|x|)**2``) and squares their
    sum (up to ``2 n max|x|``); both must stay below float64's maximum.
    """
    return float(np.sqrt(np.finfo(np.float64).max)) / (2.0 * max(int(n), 1))


def shorten(value, limit=60):
    """``str(value)``, cut to ``limit`` characters with "..." (names and values in messages
    come from user files and can be arbitrarily long)."""
    text = str(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def names_text(names, limit=12):
    names = [shorten(n) for n in names]
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def abbreviate(values, what="labels", head=3):
    """``[0, 1, 2, ..., 299] (300 labels)``: a long list of values for a one-line message.

    Parameters
    ----------
    values : iterable
    what : str, optional
        Noun for the count.
    head : int, optional
        Values shown before the ellipsis (the last one is always shown).

    Returns
    -------
    text : str
    """
    values = [shorten(v, 30) for v in values]
    if len(values) <= 2 * head + 2:
        return "[" + ", ".join(values) + "]"
    return f"[{', '.join(values[:head])}, ..., {values[-1]}] ({len(values)} {what})"


def detect_task(y, task):
    """'classification' or 'regression' for target ``y`` (``task`` 'auto' decides)."""
    if y.dtype.kind in "biuf" and not np.all(np.isfinite(y)):
        row = int(np.argmin(np.isfinite(y)))
        raise DataError(f"the target has a missing or infinite value (first on data row "
                        f"{row + 1})")
    if task != "auto":
        if task == "regression" and y.dtype.kind not in "biuf":
            raise DataError("--task regression needs a numeric target; this one has values "
                            f"like {shorten(y[0])!r}")
        return task
    if y.dtype.kind not in "biuf":
        return "classification"
    if np.all(y == np.round(y)) and len(np.unique(y)) <= max(2, min(20, len(y) // 5)):
        return "classification"
    return "regression"


def class_labels(y):
    """Class labels as ints when they are integral numbers (that fit int64), else as is."""
    if y.dtype.kind == "f" and np.all(y == np.round(y)) and np.all(np.abs(y) < 2.0 ** 62):
        return y.astype(np.int64)
    return y




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
