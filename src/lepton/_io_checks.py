"""Reading lepton files that may be hostile: the archive, the arrays and the metadata.

Design:

1. Nothing is read before it is known to be small or backed by the file.  The zip
   directory is checked first (member count, names, compression method, declared sizes
   against the bytes actually present); a ``.npy`` header is parsed from at most
   :data:`MAX_NPY_HEADER` bytes and its shape times its item size must equal the member's
   declared size before one data byte is read.  So every array :func:`Archive.array`
   returns is backed by at most :data:`MAX_RATIO` times its compressed bytes.
2. Only plain dtypes (bool, integers, floats, unicode strings) are read; object,
   structured and sub-array dtypes are refused from the header, so pickle is never reached.
3. The JSON metadata is capped at :data:`MAX_META_BYTES` and :data:`MAX_JSON_DEPTH` before
   :func:`json.loads` sees it; NaN is refused by the parser, and :func:`check_meta` checks
   the type of every top-level key and rejects unknown ones.
4. Every failure raises :class:`_Invalid`; :func:`lepton.io.load` adds the file name.
5. The value checks that registered classes use in ``_from_lepton_state`` (``_require``,
   ``_require_config``, ``_require_list``, ``_require_keys``, ``_require_params``) live here
   too, re-exported by :mod:`lepton.io`: one definition of "finite", "in range" and "no
   unknown entries" for every class.
"""
import io as _stdio
import json
import math
import struct
import zipfile
import zlib

import numpy as np

FORMAT_NAME = "lepton"
FORMAT_VERSION = 1
META_KEY = "__lepton__"

MAX_MEMBERS = 10_000          # zip members; a list of 1,000 scalers needs ~5,000
MAX_META_BYTES = 1 << 20      # JSON metadata; feature names of 20,000 columns fit easily
MAX_JSON_DEPTH = 64           # lepton writes depth <= 6
MAX_RATIO = 32                # deflated members: uncompressed <= 32 x compressed + slack
MAX_NPY_HEADER = 10_000       # numpy's own default limit for .npy headers
MAX_NDIM = 32
_SLACK = 4096                 # per member: a small array's .npy header barely compresses
_PLAIN_KINDS = "biufU"        # bool, signed, unsigned, float, unicode string
# What zipfile raises on bytes that do not match their CRC, length or compression.
_DAMAGED = (zipfile.BadZipFile, EOFError, OSError, zlib.error)


class _Invalid(ValueError):
    """A reason why a file is not a valid lepton file (re-raised naming the file)."""


def _short(value, n=80):
    text = repr(value)
    return text if len(text) <= n else text[:n] + "..."


# ----------------------------------------------------------------------------- values

# Sane limits on sizes declared in a file's config, checked before anything is built (the
# arrays' own sizes are bounded by the file's bytes, see Archive).
MAX_UNITS = 1 << 26       # units of one layer, input features, classes
MAX_LAYERS = 1024         # Dense layers of one network
_INT64 = (-(1 << 63), (1 << 63) - 1)


def _require(arrays, name, shape=None, dtype=None, *, finite=False, nonnegative=False):
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
    finite : bool, default False
        Require every value to be finite (NaN and infinities are refused).
    nonnegative : bool, default False
        Require every value to be ``>= 0``.

    Returns
    -------
    array : ndarray

    Raises
    ------
    ValueError
        If the entry is missing, is an object array, has another shape or dtype, or holds
        values that ``finite`` / ``nonnegative`` refuse.
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
    if finite and arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"array {name!r} contains non-finite values")
    if nonnegative and arr.dtype.kind in "if" and (arr < 0).any():
        raise ValueError(f"array {name!r} contains negative values")
    return arr


def _check_value(value, what, types, *, low=None, high=None, allow_inf=False, choices=None):
    """``value`` after checking its type, and for numbers NaN, infinity and range.

    ``bool`` never passes as a number; ints outside int64 never pass (they would overflow
    in native code); floats must be finite unless ``allow_inf``.
    """
    types = types if isinstance(types, tuple) else (types,)
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
        raise ValueError(f"{what} must be {expected}, got {_short(value)}")
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(value, float) and (value != value or (not allow_inf
                                                         and value in (np.inf, -np.inf))):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if isinstance(value, int) and number and not _INT64[0] <= value <= _INT64[1]:
        raise ValueError(f"{what} must fit in 64 bits, got {_short(value)}")
    if number and ((low is not None and value < low) or (high is not None and value > high)):
        bounds = (f"in [{low}, {high}]" if low is not None and high is not None
                  else f">= {low}" if low is not None else f"<= {high}")
        raise ValueError(f"{what} must be {bounds}, got {_short(value)}")
    if choices is not None and value not in choices:
        raise ValueError(f"{what} must be one of {list(choices)}, got {_short(value)}")
    return value


def _require_config(config, name, types, *, optional=False, default=None,
                    what="config entry", **checks):
    """Return ``config[name]`` after checking its type and value (see ``_check_value``).

    Raises ValueError naming the key (``what`` names the kind of key) when it is missing
    (and not ``optional``), has another type, is NaN or infinite (unless
    ``allow_inf=True``), or is outside ``low`` / ``high`` / ``choices``.
    """
    if not isinstance(config, dict):
        raise ValueError(f"config must be a JSON object, got {type(config).__name__}")
    if name not in config:
        if optional:
            return default
        raise ValueError(f"missing {what} {name!r}")
    return _check_value(config[name], f"{what} {name!r}", types, **checks)


def _require_list(config, name, types, *, min_len=0, max_len=MAX_UNITS, optional=False,
                  what="config entry", **checks):
    """Return the list ``config[name]`` after checking its length and each item."""
    values = _require_config(config, name, list, optional=optional, what=what)
    if values is None:
        return None
    if not min_len <= len(values) <= max_len:
        raise ValueError(f"{what} {name!r} must hold {min_len} to {max_len} items, got "
                         f"{len(values)}")
    for i, v in enumerate(values):
        _check_value(v, f"{what} {name!r}[{i}]", types, **checks)
    return values


def _require_keys(mapping, required=(), optional=(), what="config entry"):
    """Check that ``mapping`` has every ``required`` key and no key outside both lists.

    ``what`` names one key in messages: "missing config entry 'n'", "unknown array 'x'".
    """
    if not isinstance(mapping, dict):
        raise ValueError(f"{what} container must be a JSON object, got "
                         f"{type(mapping).__name__}")
    missing = [k for k in required if k not in mapping]
    if missing:
        raise ValueError(f"missing {what} {missing[0]!r}")
    unknown = sorted(set(mapping) - set(required) - set(optional))
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise ValueError(f"unknown {what} {_short(unknown[0])}{more}")


def _require_params(config, cls, allow_inf=()):
    """The constructor parameters ``config["params"]`` of ``cls``, checked for names and
    numbers: unknown names, NaN, infinities (unless named in ``allow_inf``) and ints
    beyond int64 are refused at any depth of the value."""
    params = _require_config(config, "params", dict)
    unknown = set(params) - set(cls._get_param_names())
    if unknown:
        raise ValueError(f"unknown {cls.__name__} parameters {_short(sorted(unknown))}")

    def walk(value, what, inf_ok):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            _check_value(value, what, (int, float), allow_inf=inf_ok)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{what}[{i}]", inf_ok)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{what}[{k!r}]", inf_ok)

    for key, value in params.items():
        walk(value, f"parameter {key!r}", key in allow_inf)
    return params


# ----------------------------------------------------------------------------- archive

class Archive:
    """A zip archive whose directory has been checked; reads ``.npy`` members safely.

    Parameters
    ----------
    f : binary file object
        Open, seekable file positioned anywhere.
    size : int
        Size of the file in bytes.
    """

    def __init__(self, f, size):
        try:
            self._zf = zipfile.ZipFile(f)
            infos = self._zf.infolist()
        except Exception as exc:  # BadZipFile, struct.error, OSError, ... on damaged bytes
            raise _Invalid(f"not an .npz archive ({type(exc).__name__}: {exc})") from None
        if len(infos) > MAX_MEMBERS:
            raise _Invalid(f"{len(infos)} archive members, more than the {MAX_MEMBERS} "
                           f"allowed")
        self._infos = {}
        for info in infos:
            name = info.filename
            if len(name) > 1024:
                raise _Invalid(f"archive member name {_short(name)} is too long")
            # Members other than .npy arrays are never read: load() reports them unexpected.
            key = name[:-4] if name.endswith(".npy") else name
            if key in self._infos:
                raise _Invalid(f"archive member {_short(name)} appears twice")
            self._check_sizes(info, size)
            self._infos[key] = info
        self.files = list(self._infos)

    @staticmethod
    def _check_sizes(info, size):
        name = _short(info.filename)
        if info.flag_bits & 0x1:
            raise _Invalid(f"archive member {name} is encrypted")
        if info.header_offset < 0 or info.header_offset + info.compress_size > size:
            raise _Invalid(f"archive member {name} extends past the end of the file")
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                raise _Invalid(f"archive member {name} is stored uncompressed but declares "
                               f"{info.file_size} bytes for {info.compress_size}")
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            # Deflate can reach ~1000:1 on zeros; lepton writes uncompressed members, so a
            # ratio beyond this is a decompression bomb, not a model.
            if info.file_size > MAX_RATIO * info.compress_size + _SLACK:
                raise _Invalid(f"archive member {name} declares {info.file_size} bytes "
                               f"from {info.compress_size} compressed (a zip bomb?)")
        else:
            raise _Invalid(f"archive member {name} uses unsupported compression method "
                           f"{info.compress_type}")

    def close(self):
        self._zf.close()

    def _open(self, key):
        try:
            return self._zf.open(self._infos[key])
        except Exception as exc:
            raise _Invalid(f"array {key!r} is damaged ({type(exc).__name__}: {exc})") \
                from None

    @staticmethod
    def _read_header(f, key):
        """``(shape, fortran_order, dtype, data offset)`` of the ``.npy`` stream ``f``."""
        lib = np.lib.format
        version = lib.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported .npy format version {version}")
        fmt = "<H" if version == (1, 0) else "<I"
        raw = f.read(struct.calcsize(fmt))
        if len(raw) != struct.calcsize(fmt):
            raise ValueError("truncated .npy header")
        n = struct.unpack(fmt, raw)[0]
        if n > MAX_NPY_HEADER:
            raise ValueError(f".npy header of {n} bytes, more than {MAX_NPY_HEADER}")
        text = f.read(n)
        if len(text) != n:
            raise ValueError("truncated .npy header")
        reader = lib.read_array_header_1_0 if version == (1, 0) else lib.read_array_header_2_0
        shape, fortran, dtype = reader(_stdio.BytesIO(raw + text))
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or \
                dtype.kind not in _PLAIN_KINDS:
            what = "pickled objects, which lepton never writes or loads" \
                if dtype.hasobject else f"unsupported dtype {dtype}"
            raise _Invalid(f"array {key!r} holds {what}")
        if len(shape) > MAX_NDIM or any(s < 0 for s in shape):
            raise ValueError(f"invalid shape {shape}")
        return tuple(shape), fortran, dtype, 8 + len(raw) + n

    def header(self, key):
        """``(shape, dtype, fortran_order)`` of member ``key``, checked against its size.

        Raises
        ------
        _Invalid
            If the header is malformed, the dtype is not plain, or the data the header
            declares does not fill the member exactly.
        """
        with self._open(key) as f:
            return self._header(f, key)[:3]

    def _header(self, f, key):
        try:
            shape, fortran, dtype, offset = self._read_header(f, key)
        except _Invalid:
            raise
        except _DAMAGED as exc:
            raise _Invalid(f"array {key!r} is damaged ({type(exc).__name__}: {exc})") \
                from None
        except Exception as exc:  # ValueError, UnicodeDecodeError, SyntaxError, ...
            raise _Invalid(f"array {key!r} cannot be read ({type(exc).__name__}: {exc})") \
                from None
        nbytes = math.prod(shape) * dtype.itemsize
        if offset + nbytes != self._infos[key].file_size:
            raise _Invalid(f"array {key!r} declares shape {shape} of {dtype} "
                           f"({nbytes} bytes) in a member of {self._infos[key].file_size}")
        return shape, dtype, fortran, nbytes

    def array(self, key):
        """Member ``key`` (name without ``.npy``) as an ndarray, its header checked first
        as :meth:`header` does."""
        with self._open(key) as f:
            shape, dtype, fortran, nbytes = self._header(f, key)
            arr = np.empty(math.prod(shape), dtype=dtype)
            view = arr.view(np.uint8)
            pos = 0
            try:
                while pos < nbytes:  # chunked: never a second copy of a large array
                    chunk = f.read(min(1 << 22, nbytes - pos))
                    if not chunk:
                        raise EOFError(f"{nbytes - pos} bytes missing")
                    view[pos:pos + len(chunk)] = np.frombuffer(chunk, np.uint8)
                    pos += len(chunk)
                f.read(1)  # reaching the end makes zipfile check the CRC
            except Exception as exc:  # BadZipFile (CRC), EOFError, zlib.error, OSError
                raise _Invalid(f"array {key!r} is damaged ({type(exc).__name__}: {exc})") \
                    from None
        return arr.reshape(shape, order="F" if fortran else "C")


# ----------------------------------------------------------------------------- metadata

def _json_depth(raw):
    """Deepest bracket nesting of JSON bytes, brackets inside strings not counted (O(n))."""
    b = np.frombuffer(raw, dtype=np.uint8)
    if not b.size:
        return 0
    idx = np.arange(b.size, dtype=np.int32)
    # A quote delimits a string unless an odd run of backslashes precedes it.
    last_plain = np.maximum.accumulate(np.where(b != 0x5C, idx, -1))
    run = np.zeros(b.size, dtype=np.int32)
    run[1:] = idx[:-1] - last_plain[:-1]
    delim = (b == 0x22) & (run % 2 == 0)
    outside = np.cumsum(delim, dtype=np.int32) % 2 == 0
    step = (np.isin(b, (0x5B, 0x7B)).astype(np.int8) - np.isin(b, (0x5D, 0x7D))) * outside
    return int(np.cumsum(step, dtype=np.int32).max())


def parse_json(raw):
    """Decode the metadata bytes after capping their size and nesting depth."""
    if len(raw) > MAX_META_BYTES:
        raise _Invalid(f"metadata of {len(raw)} bytes, more than the {MAX_META_BYTES} "
                       f"allowed")
    if _json_depth(raw) > MAX_JSON_DEPTH:
        raise _Invalid(f"metadata is nested more than {MAX_JSON_DEPTH} levels deep")

    def no_nan(name):
        if name == "NaN":
            raise _Invalid("metadata holds NaN, which no lepton setting or state can be")
        return float(name)

    try:
        return json.loads(raw.decode("utf-8"), parse_constant=no_nan)
    except _Invalid:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Invalid(f"metadata is not valid UTF-8 JSON ({exc})") from None


def _keys(obj, required, optional, where):
    missing = [k for k in required if k not in obj]
    if missing:
        raise _Invalid(f"{where}: missing {missing}")
    unknown = sorted(set(obj) - set(required) - set(optional))
    if unknown:
        raise _Invalid(f"{where}: unknown entries {_short(unknown)}")


def check_meta(meta):
    """Check the top level of the metadata: format, version, keys and their types."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise _Invalid(f"metadata does not declare format {FORMAT_NAME!r}")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise _Invalid(f"format_version must be an integer, got {_short(version)}")
    if version != FORMAT_VERSION:
        newer = " (written by a newer lepton; upgrade lepton)" if version > FORMAT_VERSION \
            else ""
        raise _Invalid(f"unsupported format_version {version}; this lepton reads "
                       f"format_version {FORMAT_VERSION}{newer}")
    header = ("format", "format_version", "kind", "config")
    optional = ("lepton_version", "extra", "metadata")
    if meta.get("kind") == "list":
        _keys(meta, header + ("items",), optional, "metadata")
        if not isinstance(meta["items"], list) or len(meta["items"]) > MAX_MEMBERS:
            raise _Invalid("a 'list' file must have a list of 'items'")
    else:
        _keys(meta, header + ("arrays",), optional, "metadata")
    if not isinstance(meta.get("lepton_version", ""), str):
        raise _Invalid("'lepton_version' must be a string")
    if not isinstance(meta.get("metadata", {}), dict):
        raise _Invalid("'metadata' must be a JSON object")
    extras = meta.get("extra", {})
    if not isinstance(extras, dict):
        raise _Invalid("'extra' must be a JSON object")
    for key, group in extras.items():
        if not (key.isidentifier() and isinstance(group, dict)
                and isinstance(group.get("items"), list)
                and isinstance(group.get("list", True), bool)
                and set(group) <= {"list", "items"}):
            raise _Invalid(f"malformed extra entry {_short(key)}")
    return meta


def check_entry(entry, where, top=False):
    """``(kind, config, manifest)`` of one saved object, each checked for type.

    ``top``: ``entry`` is the whole metadata, whose keys :func:`check_meta` checked.
    """
    if not isinstance(entry, dict):
        raise _Invalid(f"{where}: entry must be a JSON object")
    kind, config, manifest = entry.get("kind"), entry.get("config"), entry.get("arrays")
    if not isinstance(kind, str):
        raise _Invalid(f"{where}: 'kind' must be a string, got {_short(kind)}")
    if not isinstance(config, dict):
        raise _Invalid(f"{where}: 'config' must be a JSON object")
    if not isinstance(manifest, dict):
        raise _Invalid(f"{where}: 'arrays' must be a JSON object")
    if not top:
        _keys(entry, ("kind", "config", "arrays"), (), where)
    for name, spec in manifest.items():
        ok = (name and len(name) <= 256 and not name.endswith(".npy")
              and isinstance(spec, dict) and set(spec) == {"dtype", "shape"}
              and isinstance(spec["dtype"], str) and isinstance(spec["shape"], list)
              and len(spec["shape"]) <= MAX_NDIM
              and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                      for s in spec["shape"]))
        if not ok:
            raise _Invalid(f"{where}: malformed description of array {_short(name)}: "
                           f"{_short(spec)}")
    return kind, config, manifest


def read_meta(archive):
    """The checked metadata dict of an :class:`Archive`."""
    if META_KEY not in archive.files:
        raise _Invalid(f"no {META_KEY!r} metadata entry (an .npz archive not written by "
                       f"lepton?)")
    shape, dtype, _ = archive.header(META_KEY)
    if dtype != np.uint8 or len(shape) != 1:
        raise _Invalid(f"metadata entry must be a 1-D uint8 array, got {dtype} {shape}")
    if shape[0] > MAX_META_BYTES:  # before reading: a JSON bomb stops here
        raise _Invalid(f"metadata of {shape[0]} bytes, more than the {MAX_META_BYTES} "
                       f"allowed")
    return check_meta(parse_json(archive.array(META_KEY).tobytes()))
