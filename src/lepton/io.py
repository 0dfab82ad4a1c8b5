"""Save and load lepton objects as ``.npz`` files that never contain pickle.

File format (``format_version`` 1)
----------------------------------
One ``.npz`` archive written by :func:`numpy.savez`. It holds

* ``__lepton__``: a 1-D uint8 array of UTF-8 JSON::

      {"format": "lepton", "format_version": 1, "lepton_version": "0.1.0",
       "kind": "<kind>", "config": {...}, "arrays": {"<name>": {"dtype": "<f4",
       "shape": [3, 4]}, ...}, "extra": {...}}

* every array of the saved object under ``obj/<name>``.

``save(obj, path, metadata={...})`` adds ``"metadata": {...}``, a free-form JSON object
(the ``lepton`` command stores the target, task, class labels and training settings there);
:func:`load` attaches it to the object as ``metadata_``.

``save([a, b], path)`` stores a list instead: ``"kind": "list"``, ``"items": [entry,
...]`` with arrays under ``items/<i>/<name>``. Keyword arguments attach more objects:
``save(model, path, preprocessing=[scaler])`` records ``"extra": {"preprocessing":
{"list": true, "items": [entry, ...]}}`` with arrays under ``extra/preprocessing/<i>/``, and
:func:`load` sets ``model.preprocessing = [scaler]``. An entry is ``{"kind", "config",
"arrays"}``. A class lists its own such parts in ``_lepton_parts`` (a Model: its
``preprocessing`` and ``target_preprocessing``): :func:`save` stores them unless given
explicitly, and :func:`load` sets them back through the class's validating setters.

Registry protocol
-----------------
A class becomes saveable with ``@lepton.io.register("kind")`` and two methods::

    def _lepton_state(self) -> tuple[dict, dict[str, np.ndarray]]   # JSON config, arrays
    @classmethod
    def _from_lepton_state(cls, config, arrays) -> instance

Loaders validate what they read with :func:`_require` (arrays: shape, dtype, finiteness),
:func:`_require_config` / :func:`_require_list` (JSON values: type, range, finiteness),
:func:`_require_keys` (no unknown entries) and :func:`_require_params`; any ValueError they
raise is reported as "<path> is not a valid lepton file: <reason>". They should check the
sizes a config declares against the arrays (and :data:`MAX_UNITS` / :data:`MAX_LAYERS`)
before building anything.

Untrusted files
---------------
:mod:`lepton._io_checks` checks the archive before anything is read: member names, sizes
and compression ratio from the zip directory, each ``.npy`` header against its member size
and the metadata, plain dtypes only (never pickle), and the metadata JSON's size, depth and
top-level schema. Extra objects attach only under names that shadow nothing of the object.
"""
import contextlib
import errno
import json
import os
import tempfile

import numpy as np

from lepton import _io_checks
# The value checks of ``_from_lepton_state`` methods, re-exported for registered classes.
from lepton._io_checks import (MAX_LAYERS, MAX_UNITS, _Invalid, _require,  # noqa: F401
                               _require_config, _require_keys, _require_list,
                               _require_params)

__all__ = ["save", "load", "register", "register_foreign", "read_metadata", "FORMAT_NAME",
           "FORMAT_VERSION"]

FORMAT_NAME = _io_checks.FORMAT_NAME
FORMAT_VERSION = _io_checks.FORMAT_VERSION
_META_KEY = _io_checks.META_KEY

_REGISTRY = {}       # kind -> class
_KIND_OF = {}        # class -> kind
# Modules whose classes register themselves on import; load() imports them on demand so a
# file can be read without the caller importing the right module first.
_PROVIDERS = ("lepton.preprocessing", "lepton.model", "lepton.estimators", "lepton.pipeline")
_RESERVED_KINDS = ("list",)
_FOREIGN = {}        # (module prefix, class name) -> converter to a registered object


def register_foreign(module, name, converter):
    """Let :func:`save` store instances of another library's class ``name`` (defined in a
    module starting with ``module``) as ``converter(obj)``, a registered lepton object;
    e.g. scikit-learn's ``Pipeline`` as :class:`lepton.Pipeline`."""
    _FOREIGN[(module, name)] = converter


def _adopt(obj):
    """``obj``, or the registered lepton object a foreign class converts to."""
    cls = type(obj)
    if cls in _KIND_OF:
        return obj
    for (module, name), convert in _FOREIGN.items():
        if cls.__name__ == name and cls.__module__.startswith(module):
            return convert(obj)
    return obj


def register(kind):
    """Class decorator that makes a class saveable under the name ``kind``.

    Parameters
    ----------
    kind : str
        Name stored in the file (e.g. ``"model"``, ``"standard_scaler"``).

    Returns
    -------
    decorator : callable
        Registers the class and returns it unchanged.

    Notes
    -----
    The class must implement ``_lepton_state(self) -> (config, arrays)``, where ``config``
    is a JSON-serialisable dict and ``arrays`` a dict of numeric ndarrays, and the classmethod
    ``_from_lepton_state(config, arrays)`` which rebuilds an instance. Registration is by exact
    class: a subclass must register its own kind.
    """
    if not isinstance(kind, str) or not kind or "/" in kind or kind in _RESERVED_KINDS:
        raise ValueError(f"kind must be a non-empty string without '/' and not one of "
                         f"{_RESERVED_KINDS}, got {kind!r}")

    def decorator(cls):
        for method in ("_lepton_state", "_from_lepton_state"):
            if not callable(getattr(cls, method, None)):
                raise TypeError(f"{cls.__qualname__} cannot be registered as {kind!r}: it does "
                                f"not implement {method}")
        old = _REGISTRY.get(kind)
        # Re-registering the same class (e.g. after importlib.reload) is harmless.
        if old is not None and (old.__module__, old.__qualname__) != (cls.__module__,
                                                                       cls.__qualname__):
            raise ValueError(f"kind {kind!r} is already registered by "
                             f"{old.__module__}.{old.__qualname__}")
        if _KIND_OF.get(cls, kind) != kind:
            raise ValueError(f"{cls.__qualname__} is already registered as {_KIND_OF[cls]!r}")
        _REGISTRY[kind] = cls
        _KIND_OF[cls] = kind
        return cls

    return decorator


def _registered_class(kind):
    if kind not in _REGISTRY:
        import importlib
        for module in _PROVIDERS:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:  # a real import error inside the module
                    raise
    return _REGISTRY.get(kind)


# ----------------------------------------------------------------------------- helpers

def _check_extra_name(obj, key, saving=False):
    """Refuse an extra-object name that would shadow anything of ``obj``: a method, a
    property, a private or fitted (``name_``) attribute, or an instance attribute, except,
    when ``saving``, one that already holds saved-alongside objects (re-saving a loaded
    file)."""
    if not (isinstance(key, str) and key.isidentifier()) or key.startswith("_") \
            or key.endswith("_"):
        raise ValueError(f"extra object names must be public identifiers not ending in "
                         f"'_', got {_io_checks._short(key)}")
    if key in getattr(type(obj), "_lepton_parts", ()):
        return      # a part the class saves and restores itself (validated by its setter)
    if hasattr(type(obj), key):
        raise ValueError(f"extra object name {key!r} would shadow "
                         f"{type(obj).__name__}.{key}")
    held = getattr(obj, "__dict__", {}).get(key)
    if key in getattr(obj, "__dict__", {}) and not (saving and all(
            type(o) in _KIND_OF for o in (held if isinstance(held, list) else [held]))):
        raise ValueError(f"extra object name {key!r} would replace the attribute "
                         f"{type(obj).__name__}.{key}")


def _json_default(value):
    if isinstance(value, np.generic):  # numpy scalars in a config are fine as plain numbers
        return value.item()
    raise TypeError(f"object of type {type(value).__name__} is not JSON serialisable")


def _state_of(obj, prefix, arrays_out):
    """Entry dict for ``obj``; its arrays go into ``arrays_out`` under ``prefix``."""
    obj = _adopt(obj)
    kind = _KIND_OF.get(type(obj))
    if kind is None:
        raise TypeError(f"cannot save an object of type {type(obj).__name__}: it is not "
                        f"registered with lepton.io.register (registered kinds: "
                        f"{sorted(_REGISTRY)})")
    state = obj._lepton_state()
    if not (isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict)
            and isinstance(state[1], dict)):
        raise TypeError(f"{type(obj).__name__}._lepton_state() must return (config dict, "
                        f"arrays dict)")
    config, arrays = state
    manifest = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name or name.endswith(".npy"):
            raise ValueError(f"array names must be non-empty strings, got {name!r} in "
                             f"{kind!r}")
        arr = np.asarray(value)
        # Object arrays would be pickled by np.save; structured ones are not validated.
        if arr.dtype.kind in "OV":
            raise TypeError(f"array {name!r} of {kind!r} has dtype {arr.dtype}; only "
                            f"numeric, bool and string arrays can be saved (no pickle)")
        arrays_out[prefix + name] = arr
        manifest[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape)}
    return {"kind": kind, "config": config, "arrays": manifest}


def _build(obj, extra, metadata=None):
    """All entries of the file for ``save(obj, path, metadata=, **extra)``, metadata
    included."""
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict (a JSON object), got "
                        f"{type(metadata).__name__}")
    arrays = {}
    if isinstance(obj, (list, tuple)):
        if extra:
            raise TypeError("extra objects can only be attached to a single object, not to "
                            "a list")
        meta = {"kind": "list", "config": {},
                "items": [_state_of(o, f"items/{i}/", arrays) for i, o in enumerate(obj)]}
    else:
        obj = _adopt(obj)
        meta = _state_of(obj, "obj/", arrays)
        # The object's own parts (e.g. a Model's preprocessing) unless given explicitly.
        get = getattr(obj, "_lepton_get_part", None) or (lambda name: getattr(obj, name))
        own = {name: get(name) for name in getattr(type(obj), "_lepton_parts", ())}
        extra = {**{k: v for k, v in own.items() if v is not None and len(v)}, **extra}
    extras = {}
    for key, value in extra.items():
        _check_extra_name(obj, key, saving=True)  # load() refuses what would shadow
        if value is None:
            continue
        is_list = isinstance(value, (list, tuple))
        items = list(value) if is_list else [value]
        extras[key] = {"list": is_list, "items": [
            _state_of(o, f"extra/{key}/{i}/", arrays) for i, o in enumerate(items)]}
    from lepton._version import __version__
    header = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
              "lepton_version": __version__}
    meta = {**header, **meta, "extra": extras}
    if metadata is not None:
        meta["metadata"] = metadata
    try:
        text = json.dumps(meta, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot save: the configuration is not JSON serialisable ({exc})") \
            from exc
    try:  # never write what load() refuses: NaN, too large or too deeply nested
        _io_checks.parse_json(text.encode("utf-8"))
    except _Invalid as exc:
        raise ValueError(f"cannot save: {exc}") from None
    arrays[_META_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    return arrays


def _current_umask():
    # os.umask() can only be read by setting it, which races with other threads: read
    # /proc instead and fall back to the common default.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


# --------------------------------------------------------------------------------- save

# O_TMPFILE unsupported by the file system (or the kernel): use a named temporary file.
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS)


def _write_named(directory, path, arrays):
    """Write to a named hidden temporary file, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        # mkstemp creates 0600 files; give the result the permissions open() would.
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as f:
            fd = None
            np.savez(f, **arrays)  # a file object: numpy does not append ".npz"
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd is not None:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_unnamed(directory, path, arrays):
    """Write to an unnamed ``O_TMPFILE`` file, then give it its name; False if unsupported.

    The file has no name while it is written, so a killed process leaves nothing behind.
    ``linkat`` cannot replace a name: over an existing file it links a temporary name and
    renames that, which leaves a name for an instant only.
    """
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return False
    try:
        fd = os.open(directory, flag | os.O_WRONLY, 0o666)  # mode & ~umask, as open()
    except OSError as exc:
        if exc.errno in _NO_TMPFILE:
            return False
        raise
    base = os.path.basename(path)
    dir_fd = tmp = None
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
            # O_PATH: only a handle for linkat, so a directory we may write but not list
            # still works.
            dir_fd = os.open(directory, getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY)
            # With dst_dir_fd os.link is linkat(..., AT_SYMLINK_FOLLOW): it links the file
            # the /proc symlink names, not the symlink.
            source = f"/proc/self/fd/{f.fileno()}"
            try:
                os.link(source, base, dst_dir_fd=dir_fd)
                return True
            except FileExistsError:
                pass
            except OSError as exc:
                if exc.errno in _NO_TMPFILE + (errno.ENOENT, errno.EXDEV, errno.EPERM):
                    return False  # no usable /proc or linkat here: write a named file
                raise
            while tmp is None:
                tmp = f".{base}.{os.urandom(6).hex()}.tmp"
                try:
                    os.link(source, tmp, dst_dir_fd=dir_fd)
                except FileExistsError:
                    tmp = None
        os.replace(os.path.join(directory, tmp), path)
        tmp = None
        return True
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp, dir_fd=dir_fd)
            except OSError:
                pass
        if dir_fd is not None:
            os.close(dir_fd)


def save(obj, path, *, metadata=None, **extra):
    """Save a lepton object (or a list of them) to ``path`` as one ``.npz`` file.

    Parameters
    ----------
    obj : registered object or list of registered objects
        A :class:`~lepton.Model`, a scaler from :mod:`lepton.preprocessing`, ... (any class
        registered with :func:`register`).
    path : str or os.PathLike
        Destination, used exactly as given (no ``.npz`` suffix is added).
    metadata : dict, optional
        Free-form JSON metadata (str keys; str, number, bool, None, list or dict values),
        stored in the file's header: :func:`read_metadata` returns it under ``"metadata"``
        and :func:`load` attaches it to the object as ``metadata_``.
    **extra : registered object or list of them
        Objects stored alongside ``obj`` and attached to it as attributes of the same name
        by :func:`load`, e.g. ``save(model, "m.npz", preprocessing=[scaler, clipper])``.

    Notes
    -----
    The write is atomic: the file is written to a temporary file in the same directory,
    flushed to disk and renamed over ``path``. If anything fails, ``path`` is left as it was
    and the temporary file is removed. Where the OS offers unnamed temporary files (Linux
    ``O_TMPFILE``) the file has no name until it is complete, so even a killed process
    leaves nothing behind. The file holds no pickled data.
    """
    path = os.fsdecode(os.fspath(path))
    # Everything that can fail on obj fails before any write.
    arrays = _build(obj, extra, metadata)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, f"cannot save {path!r}: directory does not "
                                f"exist", directory)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "cannot save: path is a directory", path)
    if not _write_unnamed(directory, path, arrays):
        _write_named(directory, path, arrays)
    # Persist the rename itself; best effort (not every platform can open a directory).
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# --------------------------------------------------------------------------------- load

def _load_entry(archive, entry, prefix, where, used, top=False):
    kind, config, manifest = _io_checks.check_entry(entry, where, top)
    cls = _registered_class(kind)
    if cls is None:
        raise _Invalid(f"{where}: unknown kind {_io_checks._short(kind)} (known kinds: "
                       f"{sorted(_REGISTRY)})")
    # Every header first: nothing is read (or built) until all arrays match the metadata.
    for name, spec in manifest.items():
        key = prefix + name
        if key not in archive.files:
            raise _Invalid(f"{where}: array {name!r} listed in the metadata is missing")
        shape, dtype, _ = archive.header(key)
        if dtype.str != spec["dtype"] or list(shape) != spec["shape"]:
            raise _Invalid(f"{where}: array {name!r} is {dtype.str} {list(shape)} but the "
                           f"metadata says {_io_checks._short(spec)}")
    arrays = {}
    for name in manifest:
        arrays[name] = archive.array(prefix + name)
        used.add(prefix + name)
    try:
        return cls._from_lepton_state(config, arrays)
    except (ValueError, KeyError, TypeError, IndexError, OverflowError) as exc:
        detail = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        raise _Invalid(f"{where} ({kind!r}): {detail}") from exc


@contextlib.contextmanager
def _open_archive(path):
    """The checked :class:`lepton._io_checks.Archive` of ``path``."""
    with open(path, "rb") as f:
        magic = f.read(4)
        if not magic:
            raise _Invalid("the file is empty")
        if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
            raise _Invalid(f"not an .npz (zip) archive: it starts with {magic!r}")
        archive = _io_checks.Archive(f, os.fstat(f.fileno()).st_size)
        try:
            yield archive
        finally:
            archive.close()


def _fail(path, exc):
    return ValueError(f"{path!r} is not a valid lepton file: {exc}")


def read_metadata(path):
    """Return the JSON metadata of a lepton file without building the objects.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    meta : dict
        ``format``, ``format_version``, ``lepton_version``, ``kind``, ``config``,
        ``arrays`` (name -> dtype and shape), ``extra`` (and ``items`` for a list), and
        ``metadata`` when :func:`save` was given one.
    """
    path = os.fsdecode(os.fspath(path))
    try:
        with _open_archive(path) as archive:
            return _io_checks.read_meta(archive)
    except _Invalid as exc:
        raise _fail(path, exc) from exc.__cause__


def load(path):
    """Load an object saved with :func:`save`.

    Parameters
    ----------
    path : str or os.PathLike
        File written by :func:`save`.

    Returns
    -------
    obj : object or list
        The saved object (or list of objects), with each extra object saved alongside
        attached as an attribute (e.g. ``model.preprocessing``), and the ``metadata``
        given to :func:`save` as ``metadata_``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a valid lepton file (empty, truncated, damaged, foreign, of an
        unsupported format version, holding pickled data, a zip bomb, declaring sizes or
        entries its arrays and schema do not allow, or holding state no fitted object can
        have, such as NaN or a negative step count); the message names the file and the
        reason. Nothing is allocated for an array before its size is known to be backed by
        the file.
    """
    path = os.fsdecode(os.fspath(path))
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "No such lepton file", path)
    try:
        with _open_archive(path) as archive:
            meta = _io_checks.read_meta(archive)
            used = {_META_KEY}
            if meta["kind"] == "list":
                obj = [_load_entry(archive, e, f"items/{i}/", f"item {i}", used)
                       for i, e in enumerate(meta["items"])]
            else:
                obj = _load_entry(archive, meta, "obj/", "object", used, top=True)
            for key, group in meta.get("extra", {}).items():
                try:  # before building the extras: only names that shadow nothing
                    if isinstance(obj, list):
                        raise ValueError("extra objects attach to a single object")
                    _check_extra_name(obj, key)
                except ValueError as exc:
                    raise _Invalid(f"cannot attach {key!r} to a {type(obj).__name__}: "
                                   f"{exc}") from None
                values = [_load_entry(archive, e, f"extra/{key}/{i}/", f"{key}[{i}]", used)
                          for i, e in enumerate(group["items"])]
                if group.get("list", True):
                    value = values
                elif len(values) == 1:
                    value = values[0]
                else:
                    raise _Invalid(f"extra entry {key!r} is not a list but has "
                                   f"{len(values)} items")
                put = getattr(obj, "_lepton_set_part", None)
                try:
                    if put is not None and key in type(obj)._lepton_parts:
                        put(key, value)
                    else:
                        setattr(obj, key, value)
                except (TypeError, ValueError) as exc:
                    raise _Invalid(f"cannot attach {key!r} to a {type(obj).__name__}: "
                                   f"{exc}") from None
            check = getattr(obj, "_lepton_check_parts", None)
            if check is not None:      # e.g. a Pipeline whose steps were not in the file
                try:
                    check()
                except (TypeError, ValueError) as exc:
                    raise _Invalid(f"{type(obj).__name__}: {exc}") from None
            if "metadata" in meta and not isinstance(obj, list):
                obj.metadata_ = meta["metadata"]
            unexpected = sorted(set(archive.files) - used)
            if unexpected:
                raise _Invalid(f"unexpected entries {unexpected[:5]} not described by the "
                               f"metadata")
    except _Invalid as exc:
        raise _fail(path, exc) from exc.__cause__
    return obj

