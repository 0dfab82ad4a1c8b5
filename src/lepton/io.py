"""Save and load lepton objects as ``.npz`` files that never contain pickle.

File format (``format_version`` 1)
----------------------------------
One ``.npz`` archive written by :func:`numpy.savez`. It holds

* ``__lepton__``: a 1-D uint8 array of UTF-8 JSON::

      {"format": "lepton", "format_version": 1, "lepton_version": "0.1.0",
       "kind": "<kind>", "config": {...}, "arrays": {"<name>": {"dtype": "<f4",
       "shape": [3, 4]}, ...}, "extra": {...}}

* every array of the saved object under ``obj/<name>``.

``save([a, b], path)`` stores a list instead: ``"kind": "list"``, ``"items": [entry,
...]`` with arrays under ``items/<i>/<name>``. Keyword arguments attach more objects:
``save(model, path, preprocessing=[scaler])`` records ``"extra": {"preprocessing":
{"list": true, "items": [entry, ...]}}`` with arrays under ``extra/preprocessing/<i>/``, and
:func:`load` sets ``model.preprocessing = [scaler]``. An entry is ``{"kind", "config",
"arrays"}``.

Registry protocol
-----------------
A class becomes saveable with ``@lepton.io.register("kind")`` and two methods::

    def _lepton_state(self) -> tuple[dict, dict[str, np.ndarray]]   # JSON config, arrays
    @classmethod
    def _from_lepton_state(cls, config, arrays) -> instance

Loaders validate what they read with :func:`_require` and :func:`_require_config`; any
ValueError they raise is reported as "<path> is not a valid lepton file: <reason>".
"""
import contextlib
import errno
import json
import os
import tempfile

import numpy as np

__all__ = ["save", "load", "register", "read_metadata", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "lepton"
FORMAT_VERSION = 1
_META_KEY = "__lepton__"

_REGISTRY = {}       # kind -> class
_KIND_OF = {}        # class -> kind
# Modules whose classes register themselves on import; load() imports them on demand so a
# file can be read without the caller importing the right module first.
_PROVIDERS = ("lepton.preprocessing", "lepton.model", "lepton.estimators")
_RESERVED_KINDS = ("list",)


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

def _require(arrays, name, shape=None, dtype=None):
    """Return ``arrays[name]`` after checking that it exists and has the expected form.

    Parameters
    ----------
    arrays : dict of str to ndarray
        Arrays read from a file.
    name : str
        Entry to fetch.
    shape : tuple of (int or None), optional
        Expected shape; None matches any length on that axis.
    dtype : dtype-like or tuple of dtype-like, optional
        Accepted dtype(s).

    Returns
    -------
    array : ndarray

    Raises
    ------
    ValueError
        If the entry is missing, is an object array, or has another shape or dtype.
    """
    if name not in arrays:
        raise ValueError(f"missing array {name!r}")
    arr = arrays[name]
    if not isinstance(arr, np.ndarray) or arr.dtype.kind in "OV":
        raise ValueError(f"array {name!r} must be a plain numeric array, got "
                         f"{getattr(arr, 'dtype', type(arr).__name__)}")
    if dtype is not None:
        accepted = dtype if isinstance(dtype, (tuple, list)) else (dtype,)
        if not any(arr.dtype == np.dtype(d) for d in accepted):
            names = " or ".join(str(np.dtype(d)) for d in accepted)
            raise ValueError(f"array {name!r} has dtype {arr.dtype}, expected {names}")
    if shape is not None:
        shape = tuple(shape)
        if arr.ndim != len(shape) or any(s is not None and s != a
                                         for s, a in zip(shape, arr.shape)):
            expected = "(" + ", ".join("n" if s is None else str(s) for s in shape) + \
                ("," if len(shape) == 1 else "") + ")"
            raise ValueError(f"array {name!r} has shape {arr.shape}, expected {expected}")
    return arr


def _require_config(config, name, types, *, optional=False, default=None):
    """Return ``config[name]`` after checking its type (``bool`` never passes as int).

    Raises ValueError naming the key when it is missing (and not ``optional``) or has
    another type.
    """
    if not isinstance(config, dict):
        raise ValueError(f"config must be a JSON object, got {type(config).__name__}")
    if name not in config:
        if optional:
            return default
        raise ValueError(f"missing config entry {name!r}")
    value = config[name]
    types = types if isinstance(types, tuple) else (types,)
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        expected = " or ".join(t.__name__ for t in types)
        raise ValueError(f"config entry {name!r} must be {expected}, got {value!r}")
    return value


def _json_default(value):
    if isinstance(value, np.generic):  # numpy scalars in a config are fine as plain numbers
        return value.item()
    raise TypeError(f"object of type {type(value).__name__} is not JSON serialisable")


def _state_of(obj, prefix, arrays_out):
    """Entry dict for ``obj``; its arrays go into ``arrays_out`` under ``prefix``."""
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


def _build(obj, extra):
    """All entries of the file for ``save(obj, path, **extra)``, metadata included."""
    arrays = {}
    if isinstance(obj, (list, tuple)):
        if extra:
            raise TypeError("extra objects can only be attached to a single object, not to "
                            "a list")
        meta = {"kind": "list", "config": {},
                "items": [_state_of(o, f"items/{i}/", arrays) for i, o in enumerate(obj)]}
    else:
        meta = _state_of(obj, "obj/", arrays)
    extras = {}
    for key, value in extra.items():
        if not key.isidentifier() or key.startswith("_"):
            raise ValueError(f"extra object names must be public identifiers, got {key!r}")
        if value is None:
            continue
        is_list = isinstance(value, (list, tuple))
        items = list(value) if is_list else [value]
        extras[key] = {"list": is_list, "items": [
            _state_of(o, f"extra/{key}/{i}/", arrays) for i, o in enumerate(items)]}
    from lepton import __version__
    header = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
              "lepton_version": __version__}
    meta = {**header, **meta, "extra": extras}
    try:
        text = json.dumps(meta, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot save: the configuration is not JSON serialisable ({exc})") \
            from exc
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

def save(obj, path, **extra):
    """Save a lepton object (or a list of them) to ``path`` as one ``.npz`` file.

    Parameters
    ----------
    obj : registered object or list of registered objects
        A :class:`~lepton.Model`, a scaler from :mod:`lepton.preprocessing`, ... (any class
        registered with :func:`register`).
    path : str or os.PathLike
        Destination, used exactly as given (no ``.npz`` suffix is added).
    **extra : registered object or list of them
        Objects stored alongside ``obj`` and attached to it as attributes of the same name
        by :func:`load`, e.g. ``save(model, "m.npz", preprocessing=[scaler, clipper])``.

    Notes
    -----
    The write is atomic: the file is written to a temporary file in the same directory,
    flushed to disk and renamed over ``path``. If anything fails, ``path`` is left as it was
    and the temporary file is removed. The file holds no pickled data.
    """
    path = os.fsdecode(os.fspath(path))
    arrays = _build(obj, extra)  # everything that can fail on obj fails before any write
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, f"cannot save {path!r}: directory does not "
                                f"exist", directory)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "cannot save: path is a directory", path)
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

class _Invalid(ValueError):
    """A reason why a file is not a valid lepton file (re-raised naming the file)."""


def _read_metadata(npz):
    if _META_KEY not in npz.files:
        raise _Invalid(f"no {_META_KEY!r} metadata entry (an .npz archive not written by "
                       f"lepton?)")
    raw = _read_array(npz, _META_KEY)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _Invalid(f"metadata entry must be a 1-D uint8 array, got {raw.dtype} "
                       f"{raw.shape}")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Invalid(f"metadata is not valid UTF-8 JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise _Invalid(f"metadata does not declare format {FORMAT_NAME!r}")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise _Invalid(f"format_version must be an integer, got {version!r}")
    if version != FORMAT_VERSION:
        newer = " (written by a newer lepton; upgrade lepton)" if version > FORMAT_VERSION \
            else ""
        raise _Invalid(f"unsupported format_version {version}; this lepton reads "
                       f"format_version {FORMAT_VERSION}{newer}")
    return meta


def _check_entry(entry, where):
    if not isinstance(entry, dict):
        raise _Invalid(f"{where}: entry must be a JSON object")
    kind, config, manifest = entry.get("kind"), entry.get("config"), entry.get("arrays")
    if not isinstance(kind, str):
        raise _Invalid(f"{where}: 'kind' must be a string, got {kind!r}")
    if not isinstance(config, dict):
        raise _Invalid(f"{where}: 'config' must be a JSON object")
    if not isinstance(manifest, dict):
        raise _Invalid(f"{where}: 'arrays' must be a JSON object")
    return kind, config, manifest


def _read_array(npz, key):
    try:
        arr = npz[key]
    except ValueError as exc:
        if "pickle" in str(exc):
            raise _Invalid(f"array {key!r} holds pickled objects, which lepton never "
                           f"writes or loads") from None
        raise _Invalid(f"array {key!r} cannot be read ({exc})") from None
    except Exception as exc:  # BadZipFile (CRC), EOFError, zlib.error, ... from damaged bytes
        raise _Invalid(f"array {key!r} is damaged ({type(exc).__name__}: {exc})") from None
    if not isinstance(arr, np.ndarray):  # NpzFile returns raw bytes for non-.npy members
        raise _Invalid(f"entry {key!r} is not a .npy array")
    if arr.dtype.kind in "OV":
        raise _Invalid(f"array {key!r} has unsupported dtype {arr.dtype}")
    return arr


def _load_entry(npz, entry, prefix, where, used):
    kind, config, manifest = _check_entry(entry, where)
    cls = _registered_class(kind)
    if cls is None:
        raise _Invalid(f"{where}: unknown kind {kind!r} (known kinds: {sorted(_REGISTRY)})")
    arrays = {}
    for name, spec in manifest.items():
        key = prefix + name
        if key not in npz.files:
            raise _Invalid(f"{where}: array {name!r} listed in the metadata is missing")
        arr = _read_array(npz, key)
        if not isinstance(spec, dict) or arr.dtype.str != spec.get("dtype") or \
                list(arr.shape) != spec.get("shape"):
            raise _Invalid(f"{where}: array {name!r} is {arr.dtype.str} {list(arr.shape)} "
                           f"but the metadata says {spec!r}")
        arrays[name] = arr
        used.add(key)
    try:
        return cls._from_lepton_state(config, arrays)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        detail = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        raise _Invalid(f"{where} ({kind!r}): {detail}") from exc


@contextlib.contextmanager
def _open_npz(path):
    """np.load the file with pickle disabled; anything but an .npz archive is invalid."""
    # We own the file handle: np.load(path) leaks its handle when the zip is damaged.
    with open(path, "rb") as f:
        magic = f.read(4)
        if not magic:
            raise _Invalid("the file is empty")
        # Checked here so that np.load never falls back to its pickle reader on foreign bytes.
        if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
            raise _Invalid(f"not an .npz (zip) archive: it starts with {magic!r}")
        f.seek(0)
        try:
            npz = np.load(f, allow_pickle=False)
        except Exception as exc:
            raise _Invalid(f"not an .npz archive ({type(exc).__name__}: {exc})") from None
        with npz:
            yield npz


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
        ``arrays`` (name -> dtype and shape), ``extra`` (and ``items`` for a list).
    """
    path = os.fsdecode(os.fspath(path))
    try:
        with _open_npz(path) as npz:
            return _read_metadata(npz)
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
        attached as an attribute (e.g. ``model.preprocessing``).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a valid lepton file (empty, truncated, damaged, foreign, of an
        unsupported format version, or holding pickled data); the message names the file
        and the reason.
    """
    path = os.fsdecode(os.fspath(path))
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "No such lepton file", path)
    try:
        with _open_npz(path) as npz:
            meta = _read_metadata(npz)
            used = {_META_KEY}
            if meta.get("kind") == "list":
                items = meta.get("items")
                if not isinstance(items, list):
                    raise _Invalid("a 'list' file must have a list of 'items'")
                obj = [_load_entry(npz, e, f"items/{i}/", f"item {i}", used)
                       for i, e in enumerate(items)]
            else:
                obj = _load_entry(npz, meta, "obj/", "object", used)
            extras = meta.get("extra", {})
            if not isinstance(extras, dict):
                raise _Invalid("'extra' must be a JSON object")
            for key, group in extras.items():
                if not (isinstance(key, str) and key.isidentifier()) or not isinstance(
                        group, dict) or not isinstance(group.get("items"), list):
                    raise _Invalid(f"malformed extra entry {key!r}")
                values = [_load_entry(npz, e, f"extra/{key}/{i}/", f"{key}[{i}]", used)
                          for i, e in enumerate(group["items"])]
                if group.get("list", True):
                    value = values
                elif len(values) == 1:
                    value = values[0]
                else:
                    raise _Invalid(f"extra entry {key!r} is not a list but has "
                                   f"{len(values)} items")
                try:
                    setattr(obj, key, value)
                except AttributeError:
                    raise _Invalid(f"cannot attach {key!r} to a {type(obj).__name__}") \
                        from None
            unexpected = sorted(set(npz.files) - used)
            if unexpected:
                raise _Invalid(f"unexpected entries {unexpected[:5]} not described by the "
                               f"metadata")
    except _Invalid as exc:
        raise _fail(path, exc) from exc.__cause__
    return obj

