"""The ``lepton`` command's error guard: every failure becomes one line on stderr.

A user of the command should never see a Python traceback, whatever file or option they
pass.  :func:`guarded` runs a command and turns

* a :class:`~lepton.cli._parser.UsageError` into ``lepton: error: ...`` and status 2;
* a known failure (bad data or model file, :class:`ValueError`, :class:`TypeError`,
  :class:`OSError`, :class:`MemoryError`, a damaged zip archive, a diverged training run)
  into ``lepton: error: <its message>`` and status 1;
* anything else (a bug) into one line naming the command, its files and the exception
  type, status 1;
* Ctrl-C into ``lepton: interrupted`` and status 130; a closed stdout pipe into silence.

``LEPTON_DEBUG=1`` in the environment re-raises instead, for the full traceback.
"""
import os
import re
import sys
import zipfile

from lepton.cli._data import DataError
from lepton.cli._parser import UsageError

MAX_MESSAGE = 400  # characters of one error line; longer ones are cut
_LIST = re.compile(r"\[([^\[\]]*)\]")


def _abbreviate_list(match, keep=3, limit=10):
    items = [s.strip() for s in match.group(1).split(",")]
    if len(items) <= limit:
        return match.group(0)
    return f"[{', '.join(items[:keep])}, ..., {items[-1]}] ({len(items)} items)"


def one_line(exc_or_text):
    """A message flattened to one line, long lists abbreviated, at most ``MAX_MESSAGE``.

    Parameters
    ----------
    exc_or_text : BaseException or str

    Returns
    -------
    line : str
        E.g. ``"unseen labels [0, 1, 2, ..., 299] (300 items)"``.
    """
    if isinstance(exc_or_text, BaseException):
        text = str(exc_or_text) or type(exc_or_text).__name__
    else:
        text = str(exc_or_text)
    text = " ".join(part.strip() for part in text.splitlines() if part.strip())
    text = _LIST.sub(_abbreviate_list, text)
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE - 5].rstrip() + " ..."
    return text


def _where(context):
    """'lepton train on data.csv' from the guard's context."""
    command = context.get("command")
    files = [str(f) for f in context.get("files", ()) if f is not None]
    what = f"'lepton {command}'" if command else "lepton"
    return what + (f" on {', '.join(files)}" if files else "")


def describe(exc, context):
    """The one-line message for an exception raised while running a command.

    Parameters
    ----------
    exc : Exception
    context : dict
        ``command`` (str or None) and ``files`` (the paths the command was given).

    Returns
    -------
    message : str
        Without the ``lepton: error:`` prefix.
    """
    if isinstance(exc, (DataError, UsageError)):
        return one_line(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        name = os.fsdecode(exc.filename)
        if isinstance(exc, FileNotFoundError):
            return f"no such file: {name}"
        if isinstance(exc, PermissionError):
            return f"cannot open {name}: permission denied"
        if isinstance(exc, IsADirectoryError):
            return f"{name} is a directory, not a file"
        return one_line(f"{name}: {exc.strerror or exc}")
    if isinstance(exc, MemoryError):
        detail = str(exc)
        return one_line(f"out of memory in {_where(context)}" + (f": {detail}" if detail
                                                                  else ""))
    if isinstance(exc, zipfile.BadZipFile):
        return one_line(f"a damaged zip archive in {_where(context)}: {exc}")
    if isinstance(exc, RecursionError):
        return one_line(f"input nested too deeply in {_where(context)} ({exc})")
    if isinstance(exc, (ValueError, TypeError, OSError, ArithmeticError)):
        return one_line(exc)
    return one_line(f"unexpected {type(exc).__name__} in {_where(context)}: {exc} (a bug in "
                    "lepton: please report it; LEPTON_DEBUG=1 shows the traceback)")


def guarded(body, context):
    """Run ``body()``, turning any exception into one stderr line and an exit status.

    Parameters
    ----------
    body : callable
        Returns the command's exit status.
    context : dict
        Filled in by ``body`` as soon as it knows them: ``command`` and ``files``, named in
        the message of an unexpected error.

    Returns
    -------
    status : int
        ``body``'s status, or 2 (usage), 1 (any other error), 130 (interrupted).
    """
    debug = bool(os.environ.get("LEPTON_DEBUG"))
    try:
        return body()
    except UsageError as exc:
        print(f"lepton: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        print("\nlepton: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do, and keep
        # Python from complaining when it flushes stdout at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 0
    except Exception as exc:
        if debug:
            raise
        print(f"lepton: error: {describe(exc, context)}", file=sys.stderr)
        return 1
