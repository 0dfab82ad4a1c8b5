# Argument validation shared by every def wrapper (GIL side): array checks (type, dtype
# agreement of all operands including out, ndim, C-contiguity, writability, aliasing),
# scalar checks, and the one translation of a kernel's failure status into an exception.
# Everything raises before any output is written; messages say what was wrong and what was
# expected.  Uses _nonfinite (reductions.pxi) for finiteness scans.
import numbers
import operator

from libc.math cimport INFINITY

cdef object _FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


cdef cnp.ndarray _check(object x, str name, int ndim, object dtype=None, bint writable=False):
    """Return ``x`` as an ndarray after checking type, dtype, ndim and C-contiguity."""
    if not isinstance(x, cnp.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>x
    if dtype is None:
        if arr.dtype not in _FLOAT_DTYPES:
            raise TypeError(f"{name} must have dtype float32 or float64, got {arr.dtype}")
    elif arr.dtype != dtype:
        raise TypeError(f"{name} has dtype {arr.dtype}, but dtype {dtype} was expected "
                        f"(all operands must share one dtype)")
    if ndim >= 0 and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got a {arr.ndim}-D array of shape {x.shape}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"{name} must be C-contiguous; pass np.ascontiguousarray({name})")
    if writable and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name} is read-only; pass a writable array")
    return arr


cdef inline bint _is_f_only(object x):
    return (isinstance(x, cnp.ndarray) and (<cnp.ndarray>x).ndim == 2
            and not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x)
            and cnp.PyArray_IS_F_CONTIGUOUS(<cnp.ndarray>x))


cdef inline bint _overlaps(cnp.ndarray out, cnp.ndarray x):
    return np.may_share_memory(out, x)


cdef double _real(object value, str name, double lo, double hi, bint lo_open=False,
                  bint hi_open=False) except? -1.0:
    """``value`` as a double, checked to be a real number in [lo, hi] (or open ends)."""
    cdef str interval = (("(" if lo_open else "[") + ("-inf" if lo == -INFINITY else f"{lo:g}")
                         + ", " + ("inf" if hi == INFINITY else f"{hi:g}")
                         + (")" if hi_open else "]"))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in {interval}, got "
                        f"{type(value).__name__} {value!r}")
    cdef double v = float(value)
    if not ((v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)):
        raise ValueError(f"{name} must be a real number in {interval}, got {value!r}")
    return v


cdef object _integer(object value, str name, object lo, object hi):
    """``value`` as a Python int, checked to be an integer in [lo, hi]."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got bool {value!r}")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}") from None
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {v}")
    return v


cdef bint _flag(object value, str name) except -1:
    """``value`` checked to be a bool (Python or NumPy); a truthy string is not a flag."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool (True or False), got "
                        f"{type(value).__name__} {value!r}")
    return bool(value)


cdef cnp.ndarray _operand(object x, str name, object dtype, tuple ndims, bint writable):
    """``x`` checked by _check (dtype None: float32 or float64), with its ndim one of
    ``ndims`` (empty: any ndim >= 1)."""
    cdef cnp.ndarray arr = _check(x, name, -1, dtype, writable)
    if ndims and arr.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {want}, got a {arr.ndim}-D array of shape "
                         f"{x.shape}" + (f"; use {name}.reshape(-1, 1) for a single column"
                                         if arr.ndim == 1 and 2 in ndims else ""))
    if arr.ndim == 0:
        raise ValueError(f"{name} must be an array, got a 0-D array")
    return arr


cdef int _same_shape(cnp.ndarray x, str name, cnp.ndarray ref, str ref_name) except -1:
    if (<object>x).shape != (<object>ref).shape:
        raise ValueError(f"{name} has shape {(<object>x).shape}, but {ref_name} has shape "
                         f"{(<object>ref).shape}; they must have the same shape")
    return 0


cdef cnp.ndarray _output(object out, cnp.ndarray ref, tuple shape, str name="out"):
    """A new array of ``shape`` and ref's dtype, or ``out`` checked to be exactly that."""
    if out is None:
        return np.empty(shape, dtype=ref.dtype)
    cdef cnp.ndarray arr = _check(out, name, -1, ref.dtype, writable=True)
    if (<object>arr).shape != shape:
        raise ValueError(f"{name} has shape {(<object>arr).shape}, expected {shape}")
    return arr


cdef object _unshared(object x, cnp.ndarray out):
    """``x``, or a copy if it overlaps ``out`` without being the very same buffer (in-place
    use, which the kernels support, keeps the original)."""
    if x is None or out is None:
        return x
    if (cnp.PyArray_DATA(<cnp.ndarray>x) == cnp.PyArray_DATA(out)
            and (<object>x).shape == (<object>out).shape):
        return x
    if np.may_share_memory(x, out):
        return (<cnp.ndarray>x).copy()
    return x


cdef int _require_finite(cnp.ndarray x, str name) except -1:
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x)
    cdef void* p = cnp.PyArray_DATA(x)
    cdef int bad
    if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
        with nogil:
            bad = _nonfinite(n, <const float*>p)
    else:
        with nogil:
            bad = _nonfinite(n, <const double*>p)
    if bad:
        raise ValueError(f"Input {name} contains NaN or infinity.")
    return 0


cdef inline bint _is_f32(cnp.ndarray x):
    return cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32


cdef inline void* _ptr(object x):
    """Data pointer of an ndarray, NULL for None."""
    return NULL if x is None else cnp.PyArray_DATA(<cnp.ndarray>x)


cdef tuple _rows_cols(cnp.ndarray x):
    """(rows, cols) of a 2-D array; a 1-D array is one row."""
    if x.ndim == 1:
        return 1, x.shape[0]
    return x.shape[0], x.shape[1]


cdef cnp.ndarray _check_rows(object x, str name, Py_ssize_t n, Py_ssize_t cols, object dtype):
    """x as a C-contiguous ndarray of `dtype`, shape (n, cols) (cols < 0: 1-D of length n)."""
    cdef cnp.ndarray arr = _check(x, name, 1 if cols < 0 else 2, dtype)
    if arr.shape[0] != n or (cols >= 0 and arr.shape[1] != cols):
        want = f"({n},)" if cols < 0 else f"({n}, {cols})"
        raise ValueError(f"{name} has shape {x.shape}, expected {want}")
    return arr


cdef int _raise_status(int rc, str where) except -1:
    """Raise for a kernel's failure status (STATUS_OK: return 0)."""
    if rc == STATUS_OK:
        return 0
    if rc == STATUS_NOMEM:
        raise MemoryError(f"{where}: could not allocate GEMM packing buffers")
    if rc == STATUS_BAD_CODE:   # the wrappers validate codes first: a bug if ever seen
        raise ValueError(f"{where}: unknown activation, loss or optimizer code; nothing "
                         f"was computed")
    raise RuntimeError(f"{where}: native status {rc}")
