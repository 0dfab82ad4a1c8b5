# TEMPORARY scalar stand-ins for the elementwise / loss / optimizer / dropout kernels of the
# C-level contract (/work/contract_kernels.pxd), so the training path builds and is tested
# before branch `kernels` lands.  Deleted when `kernels` is merged (its definitions replace
# these one for one).  Serial, libm-based, no attempt at speed.
from libc.math cimport exp, log, tanh, sqrt, fabs, erf, log1p, isfinite
from libc.string cimport memcpy, memset


cdef inline double _sig(double z) noexcept nogil:
    if z >= 0:
        return 1.0 / (1.0 + exp(-z))
    cdef double e = exp(z)
    return e / (1.0 + e)


cdef inline double _softplus(double z) noexcept nogil:
    return (z if z > 0 else 0.0) + log1p(exp(-fabs(z)))


cdef void act_forward(int act, Py_ssize_t rows, Py_ssize_t cols, const floating* z,
                      floating* a, double param, int n_threads) noexcept nogil:
    """a = f(z) (softmax row-wise)"""
    cdef Py_ssize_t i, j, n = rows * cols
    cdef double v, mx, s
    if act == ACT_SOFTMAX:
        for i in range(rows):
            mx = z[i * cols]
            for j in range(cols):
                if z[i * cols + j] > mx:
                    mx = z[i * cols + j]
            s = 0
            for j in range(cols):
                v = exp(z[i * cols + j] - mx)
                a[i * cols + j] = <floating>v
                s += v
            for j in range(cols):
                a[i * cols + j] = <floating>(a[i * cols + j] / s)
        return
    for i in range(n):
        v = z[i]
        if act == ACT_SIGMOID:
            v = _sig(v)
        elif act == ACT_TANH:
            v = tanh(v)
        elif act == ACT_RELU:
            v = v if v > 0 else 0.0
        elif act == ACT_LEAKY_RELU:
            v = v if v > 0 else param * v
        elif act == ACT_ELU:
            v = v if v > 0 else param * (exp(v) - 1.0)
        elif act == ACT_GELU:
            v = 0.5 * v * (1.0 + erf(v * 0.7071067811865476))
        elif act == ACT_SOFTPLUS:
            v = _softplus(v)
        a[i] = <floating>v


cdef void act_backward(int act, Py_ssize_t rows, Py_ssize_t cols, const floating* z,
                       const floating* a, const floating* da, floating* dz, double param,
                       int n_threads) noexcept nogil:
    """dz = da * f'(z)"""
    cdef Py_ssize_t i, j, n = rows * cols
    cdef double v, d, s
    if act == ACT_SOFTMAX:
        for i in range(rows):
            s = 0
            for j in range(cols):
                s += da[i * cols + j] * a[i * cols + j]
            for j in range(cols):
                dz[i * cols + j] = <floating>(a[i * cols + j] * (da[i * cols + j] - s))
        return
    for i in range(n):
        v = z[i]
        if act == ACT_IDENTITY:
            d = 1.0
        elif act == ACT_SIGMOID:
            d = _sig(v) * (1.0 - _sig(v))
        elif act == ACT_TANH:
            d = 1.0 - tanh(v) * tanh(v)
        elif act == ACT_RELU:
            d = 1.0 if v > 0 else 0.0
        elif act == ACT_LEAKY_RELU:
            d = 1.0 if v > 0 else param
        elif act == ACT_ELU:
            d = 1.0 if v > 0 else param * exp(v)
        elif act == ACT_GELU:
            d = 0.5 * (1.0 + erf(v * 0.7071067811865476)) + v * exp(-0.5 * v * v) * 0.3989422804014327
        else:  # softplus
            d = _sig(v)
        dz[i] = <floating>(da[i] * d)


cdef double loss_grad(int loss, Py_ssize_t rows, Py_ssize_t cols, const floating* z,
                      const floating* y, const floating* sw, floating* dz, double param,
                      double scale, int n_threads) noexcept nogil:
    """scale * L and dz = scale * dL/dz"""
    cdef Py_ssize_t i, j
    cdef double total = 0, li, w, mx, s, lse, zi, yi, d, g, ysum
    for i in range(rows):
        w = sw[i] if sw != NULL else 1.0
        li = 0
        if loss == LOSS_SOFTMAX_CE:
            mx = z[i * cols]
            for j in range(cols):
                if z[i * cols + j] > mx:
                    mx = z[i * cols + j]
            s = 0
            for j in range(cols):
                s += exp(z[i * cols + j] - mx)
            lse = mx + log(s)
            ysum = 0
            for j in range(cols):
                li -= y[i * cols + j] * (z[i * cols + j] - lse)
                ysum += y[i * cols + j]
            if dz != NULL:
                for j in range(cols):
                    g = exp(z[i * cols + j] - lse) * ysum - y[i * cols + j]
                    dz[i * cols + j] = <floating>(scale * w * g / rows)
        else:
            for j in range(cols):
                zi = z[i * cols + j]
                yi = y[i * cols + j]
                d = zi - yi
                if loss == LOSS_BCE_LOGITS:
                    li += _softplus(zi) - yi * zi
                    g = _sig(zi) - yi
                elif loss == LOSS_MSE:
                    li += d * d / cols
                    g = 2 * d / cols
                elif loss == LOSS_MAE:
                    li += fabs(d) / cols
                    g = (1.0 if d > 0 else (-1.0 if d < 0 else 0.0)) / cols
                else:
                    if fabs(d) <= param:
                        li += 0.5 * d * d / cols
                        g = d / cols
                    else:
                        li += param * (fabs(d) - 0.5 * param) / cols
                        g = (param if d > 0 else -param) / cols
                if dz != NULL:
                    dz[i * cols + j] = <floating>(scale * w * g / rows)
        total += w * li
    return scale * total / rows


cdef void col_sum(Py_ssize_t rows, Py_ssize_t cols, const floating* x, floating* out,
                  int n_threads) noexcept nogil:
    """out_j = sum_i x_ij"""
    cdef Py_ssize_t i, j
    for j in range(cols):
        out[j] = 0
    for i in range(rows):
        for j in range(cols):
            out[j] += x[i * cols + j]


cdef double sq_norm(Py_ssize_t n, const floating* x, int n_threads) noexcept nogil:
    """sum_i x_i^2"""
    cdef Py_ssize_t i
    cdef double s = 0
    for i in range(n):
        s += <double>x[i] * x[i]
    return s


cdef void optim_step(int opt, Py_ssize_t n, floating* w, const floating* g, floating* m,
                     floating* v, const unsigned char* is_weight, double lr, double momentum,
                     double beta1, double beta2, double eps, double l2, double weight_decay,
                     double grad_scale, long long t, int n_threads) noexcept nogil:
    """w := w - lr * update(g)"""
    cdef Py_ssize_t i
    cdef double gi, wi, isw, step
    cdef double c = sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t) if opt >= OPT_ADAM else 0.0
    for i in range(n):
        isw = 1.0 if (is_weight == NULL or is_weight[i]) else 0.0
        wi = w[i]
        gi = grad_scale * g[i] + l2 * isw * wi
        if weight_decay > 0 or opt == OPT_ADAMW:
            wi -= lr * weight_decay * isw * wi
        if opt == OPT_SGD:
            wi -= lr * gi
        elif opt == OPT_MOMENTUM:
            m[i] = <floating>(momentum * m[i] - lr * gi)
            wi += m[i]
        elif opt == OPT_NESTEROV:
            m[i] = <floating>(momentum * m[i] - lr * gi)
            wi += momentum * m[i] - lr * gi
        else:
            m[i] = <floating>(beta1 * m[i] + (1 - beta1) * gi)
            v[i] = <floating>(beta2 * v[i] + (1 - beta2) * gi * gi)
            wi -= lr * c * m[i] / (sqrt(v[i]) + eps)
        w[i] = <floating>wi


cdef inline uint64_t _mix(uint64_t x) noexcept nogil:
    x ^= x >> 33
    x *= 0xff51afd7ed558ccdULL
    x ^= x >> 33
    x *= 0xc4ceb9fe1a85ec53ULL
    x ^= x >> 33
    return x


cdef void dropout_apply(Py_ssize_t rows, Py_ssize_t cols, floating* x, double rate,
                        uint64_t seed, uint64_t step, uint32_t layer,
                        int n_threads) noexcept nogil:
    """x_ij *= keep_ij / (1 - rate)"""
    cdef Py_ssize_t i
    cdef uint64_t key = _mix(_mix(_mix(seed) ^ step) ^ layer)
    cdef double u, inv = 1.0 / (1.0 - rate)
    for i in range(rows * cols):
        u = (_mix(key ^ <uint64_t>i) >> 11) * (1.0 / 9007199254740992.0)
        x[i] = <floating>(x[i] * inv) if u >= rate else 0
