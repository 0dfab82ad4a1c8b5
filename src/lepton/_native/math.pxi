# Fused-type elementary functions over _native/lepton_math.h, and their test-only range
# kernel.  Nothing here raises.
#
# Design:
#   1. Per-element math (exp, log1p, sigmoid, tanh, ...) comes from lepton_math.h: branch-free
#      Cephes-style code that inlines into the callers' loops, which GCC -O3 vectorises at
#      every ISA level.  No libm call sits in a per-element loop.
#   2. One fused wrapper per function picks the float or double version at compile time, so
#      each kernel is written once for both dtypes.
from libc.math cimport sqrt, sqrtf

cdef extern from "_native/lepton_math.h" nogil:
    float lepton_expf(float x) noexcept
    double lepton_exp(double x) noexcept
    float lepton_logf(float x) noexcept
    double lepton_log(double x) noexcept
    float lepton_log1pf(float x) noexcept
    double lepton_log1p(double x) noexcept
    float lepton_expm1f(float x) noexcept
    double lepton_expm1(double x) noexcept
    float lepton_sigmoidf(float x) noexcept
    double lepton_sigmoid(double x) noexcept
    float lepton_tanhf(float x) noexcept
    double lepton_tanh(double x) noexcept
    float lepton_softplusf(float x) noexcept
    double lepton_softplus(double x) noexcept
    # gelu (tanh form): gelu(x) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3); C macros,
    # so the loops see constants rather than module globals they would have to reload.
    const double GELU_C "LEPTON_GELU_C"
    const double GELU_A "LEPTON_GELU_A"
    void lepton_philox4x32_10(uint64_t b0, Py_ssize_t nb, uint32_t c1, uint32_t c2,
                              uint32_t c3, uint32_t k0, uint32_t k1,
                              uint32_t* words) noexcept


cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return lepton_expf(x)
    else:
        return lepton_exp(x)


cdef inline floating _expm1(floating x) noexcept nogil:
    if floating is float:
        return lepton_expm1f(x)
    else:
        return lepton_expm1(x)


cdef inline floating _log(floating x) noexcept nogil:
    if floating is float:
        return lepton_logf(x)
    else:
        return lepton_log(x)


cdef inline floating _log1p(floating x) noexcept nogil:
    if floating is float:
        return lepton_log1pf(x)
    else:
        return lepton_log1p(x)


cdef inline floating _sigmoid(floating x) noexcept nogil:
    if floating is float:
        return lepton_sigmoidf(x)
    else:
        return lepton_sigmoid(x)


cdef inline floating _tanh(floating x) noexcept nogil:
    if floating is float:
        return lepton_tanhf(x)
    else:
        return lepton_tanh(x)


cdef inline floating _softplus(floating x) noexcept nogil:
    if floating is float:
        return lepton_softplusf(x)
    else:
        return lepton_softplus(x)


cdef inline floating _sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef inline floating _gelu(floating x) noexcept nogil:
    """x * sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)) == 0.5 x (1 + tanh(...))"""
    cdef floating u = <floating>(2 * GELU_C) * (x + <floating>GELU_A * x * x * x)
    return x * _sigmoid(u)


cdef inline floating _gelu_grad(floating x) noexcept nogil:
    """gelu'(x) = s + x s (1 - s) 2u'(x), s = sigmoid(2u)"""
    cdef floating u = <floating>(2 * GELU_C) * (x + <floating>GELU_A * x * x * x)
    cdef floating s = _sigmoid(u)
    cdef floating t = s * (1 - s)
    # t == 0 where x^2 may overflow; skip the term there instead of forming 0 * inf.
    cdef floating du = <floating>(2 * GELU_C) * (1 + <floating>(3 * GELU_A) * x * x)
    return s + (x * t * du if t > 0 else <floating>0)


cdef enum MathFunc:
    MATH_EXP = 0
    MATH_LOG = 1
    MATH_LOG1P = 2
    MATH_EXPM1 = 3
    MATH_COUNT = 4


cdef int _math_range(int f, Py_ssize_t n,
                     const floating* x,                  # IN  n
                     floating* y) noexcept nogil:        # OUT n
    """y = f(x) elementwise (exp, log, log1p, expm1); -2 with nothing written for unknown f."""
    cdef Py_ssize_t i
    if f == MATH_EXP:
        for i in range(n):
            y[i] = _exp(x[i])
    elif f == MATH_LOG:
        for i in range(n):
            y[i] = _log(x[i])
    elif f == MATH_LOG1P:
        for i in range(n):
            y[i] = _log1p(x[i])
    elif f == MATH_EXPM1:
        for i in range(n):
            y[i] = _expm1(x[i])
    else:
        return STATUS_BAD_CODE
    return STATUS_OK
