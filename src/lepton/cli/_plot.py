"""``lepton train --plot PATH``: where the curves go, checked before training, and drawing.

The file written is exactly the one reported: ``PATH`` itself (PNG data when it has no
extension; matplotlib would otherwise append ``.png``), or ``PATH/training_curves.png``
when ``PATH`` is a directory.
"""
import os

import numpy as np

from lepton.cli._data import DataError

DEFAULT_NAME = "training_curves.png"


def plot_path(path):
    """The file ``--plot path`` writes.

    Parameters
    ----------
    path : str

    Returns
    -------
    file : str
        ``path``, or ``path/training_curves.png`` when ``path`` is an existing directory
        or ends with a path separator.
    """
    seps = tuple(s for s in (os.sep, os.altsep) if s)
    if os.path.isdir(path) or path.endswith(seps):
        return os.path.join(path, DEFAULT_NAME)
    return path


def check_plot(path):
    """Check ``--plot path`` before training; return ``(file, format)`` to pass to
    :func:`plot`.

    Raises :class:`DataError` when matplotlib is missing, the directory does not exist,
    the file is a directory or matplotlib cannot write its extension.
    """
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise DataError("--plot needs matplotlib, which is not installed (pip install "
                        "matplotlib)") from None
    target = plot_path(path)
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        raise DataError(f"cannot write {target}: directory {directory} does not exist")
    if os.path.isdir(target):
        raise DataError(f"cannot write {target}: it is a directory")
    ext = os.path.splitext(target)[1][1:].lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if ext and ext not in formats:
        raise DataError(f"--plot {path}: matplotlib cannot write .{ext} files; use one of "
                        f"{', '.join('.' + f for f in sorted(formats))} (or no extension "
                        "for PNG)")
    return target, ext or "png"


def plot(target, fmt, history):
    """Draw the loss and validation curves of ``history`` into the file ``target``."""
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
    fig.suptitle("lepton: " + history["title"].replace("$", r"\$"))  # no mathtext
    fig.tight_layout()
    try:
        # An explicit format: matplotlib then writes `target` verbatim, adding no extension.
        fig.savefig(target, format=fmt, dpi=100)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot write plot {target}: {exc}") from None
    finally:
        plt.close(fig)
