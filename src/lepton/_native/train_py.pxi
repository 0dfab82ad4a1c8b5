# GIL-side holders of the native network (Net) and training state (TrainState): checked
# wrappers over the kernels of train.pxi (whose workspace layout, _align and PREDICT_CHUNK,
# they size).  They validate every argument (types, dtypes, shapes, contiguity, ranges,
# activation / loss / optimizer codes against the enums' count sentinels) while holding the
# GIL, then make ONE nogil call.  Value checks that need a pass over user data (NaN in y,
# label ranges) belong to lepton.model / lepton.trainer, which run them once per fit, not
# once per call.
from libc.stdlib cimport malloc, free


cdef inline int _dtype_num(bint f64) noexcept:
    return cnp.NPY_FLOAT64 if f64 else cnp.NPY_FLOAT32


cdef class Net:
    """Native plan of a Model (internal): sizes, activations, dropout, flat parameter layout.

    Holds a reference to the Model's flat parameter buffer ``params`` (never reallocated:
    weights are always written into it in place).
    """
    cdef NetPlan plan
    cdef void* _mem
    cdef readonly object dtype
    cdef bint f64
    cdef readonly cnp.ndarray params
    cdef cnp.ndarray _ws          # inference workspace, grow-only
    cdef bint _ws_busy            # set while a call uses _ws (another Python thread gets its own)

    def __cinit__(self, dims, acts, act_params, drops, use_bias, params):
        cdef Py_ssize_t L = len(acts), l, off = 0
        if L < 1:
            raise ValueError("a network needs at least one Dense layer")
        if not (len(dims) == L + 1 and len(act_params) == L and len(drops) == L
                and len(use_bias) == L):
            raise ValueError("dims must have one more entry than acts; act_params, drops and "
                             "use_bias one per layer")
        self._mem = malloc(L * (4 * sizeof(Py_ssize_t) + sizeof(int) + 2 * sizeof(double)
                                + sizeof(unsigned char)) + 2 * sizeof(Py_ssize_t))
        if self._mem == NULL:
            raise MemoryError()
        cdef char* p = <char*>self._mem
        self.plan.act_param = <double*>p; p += L * sizeof(double)
        self.plan.drop = <double*>p; p += L * sizeof(double)
        self.plan.dims = <Py_ssize_t*>p; p += (L + 1) * sizeof(Py_ssize_t)
        self.plan.w_off = <Py_ssize_t*>p; p += L * sizeof(Py_ssize_t)
        self.plan.b_off = <Py_ssize_t*>p; p += L * sizeof(Py_ssize_t)
        self.plan.acts = <int*>p; p += L * sizeof(int)
        self.plan.use_bias = <unsigned char*>p
        self.plan.n_layers = <int>L
        self.plan.max_width = 1
        for l in range(L + 1):
            if int(dims[l]) < 1:
                raise ValueError(f"layer sizes must be >= 1, got {list(dims)}")
            self.plan.dims[l] = dims[l]
            if l > 0 and dims[l] > self.plan.max_width:
                self.plan.max_width = dims[l]
        for l in range(L):
            if not 0 <= int(acts[l]) < ACT_COUNT:
                raise ValueError(f"unknown activation code {acts[l]}")
            if not 0.0 <= float(drops[l]) < 1.0:
                raise ValueError(f"dropout rates must be in [0, 1), got {drops[l]}")
            self.plan.acts[l] = acts[l]
            self.plan.act_param[l] = act_params[l]
            self.plan.drop[l] = drops[l]
            self.plan.use_bias[l] = bool(use_bias[l])
            self.plan.w_off[l] = off
            off += self.plan.dims[l] * self.plan.dims[l + 1]
            self.plan.b_off[l] = off
            off += self.plan.dims[l + 1]
        self.plan.n_params = off
        if self.plan.drop[L - 1] > 0:
            raise ValueError("dropout after the output layer is not supported")
        arr = _check(params, "params", 1, None, writable=True)
        if arr.shape[0] != off:
            raise ValueError(f"params has {arr.shape[0]} entries, the network needs {off}")
        self.params = arr
        self.dtype = arr.dtype
        self.f64 = arr.dtype == np.float64
        self._ws = None

    def __dealloc__(self):
        free(self._mem)

    @property
    def n_params(self):
        return self.plan.n_params

    @property
    def dims(self):
        return tuple(self.plan.dims[l] for l in range(self.plan.n_layers + 1))

    cdef cnp.ndarray _workspace(self, Py_ssize_t size, bint* owned):
        """The shared inference workspace (grown if needed), or a private one if it is busy."""
        cdef cnp.npy_intp shape[1]
        shape[0] = size
        if self._ws_busy:
            owned[0] = False
            return cnp.PyArray_EMPTY(1, shape, _dtype_num(self.f64), 0)
        if self._ws is None or self._ws.shape[0] < size:
            self._ws = cnp.PyArray_EMPTY(1, shape, _dtype_num(self.f64), 0)
        owned[0] = True
        self._ws_busy = True
        return self._ws

    def predict(self, X, batch_size=None, n_threads=None):
        """out = network(X), inference (no dropout); one nogil call.

        X must be a C-contiguous 2-D ndarray of the network's dtype (else TypeError: convert
        it first); wrong feature count, no rows or non-finite values raise ValueError.
        """
        if not isinstance(X, cnp.ndarray):
            raise TypeError(f"X must be a numpy.ndarray, got {type(X).__name__}")
        cdef cnp.ndarray A = <cnp.ndarray>X
        if A.dtype is not self.dtype and A.dtype != self.dtype:
            raise TypeError(f"X has dtype {A.dtype}, expected {self.dtype}")
        if A.ndim != 2 or not cnp.PyArray_IS_C_CONTIGUOUS(A):
            raise TypeError("X must be a 2-D C-contiguous array")
        cdef Py_ssize_t n = A.shape[0], L = self.plan.n_layers
        if A.shape[1] != self.plan.dims[0]:
            raise ValueError(f"X has {A.shape[1]} features, but the model expects "
                             f"{self.plan.dims[0]}")
        if n == 0:
            raise ValueError("X has 0 samples; at least 1 is required")
        cdef Py_ssize_t chunk = PREDICT_CHUNK
        if batch_size is not None:
            chunk = _integer(batch_size, "batch_size", 1, 2**31 - 1)
        cdef int nt = _resolve_threads(n_threads)
        cdef Py_ssize_t n_chunks = (n + chunk - 1) // chunk
        cdef Py_ssize_t n_ws = nt if 1 < nt < n_chunks else (n_chunks if 1 < nt else 1)
        cdef Py_ssize_t stride = _align(_min(n, chunk) * self.plan.max_width)
        cdef bint owned
        cdef cnp.ndarray ws = self._workspace(2 * stride * n_ws, &owned)
        cdef cnp.npy_intp shape[2]
        shape[0] = n
        shape[1] = self.plan.dims[L]
        cdef cnp.ndarray out = cnp.PyArray_EMPTY(2, shape, _dtype_num(self.f64), 0)
        cdef void* px = cnp.PyArray_DATA(A)
        cdef void* pp = cnp.PyArray_DATA(self.params)
        cdef void* pw = cnp.PyArray_DATA(ws)
        cdef void* po = cnp.PyArray_DATA(out)
        cdef int rc = 0, finite
        cdef unsigned int fpo
        try:
            with nogil:
                fpo = lepton_fp_flush()  # subnormals flushed (see lepton.h)
                if self.f64:
                    finite = all_finite[double](n * self.plan.dims[0], <double*>px)
                    if finite:
                        rc = predict_rows[double](&self.plan, n, chunk, <double*>px,
                                                  <double*>pp, <double*>pw, <double*>po, nt)
                else:
                    finite = all_finite[float](n * self.plan.dims[0], <float*>px)
                    if finite:
                        rc = predict_rows[float](&self.plan, n, chunk, <float*>px,
                                                 <float*>pp, <float*>pw, <float*>po, nt)
                lepton_fp_set(fpo)
        finally:
            if owned:
                self._ws_busy = False
        if not finite:
            raise ValueError("Input X contains NaN or infinity")
        _raise_status(rc, "predict")
        return out


cdef class TrainState:
    """Native training state of one (Net, loss, optimizer) (internal).

    Owns the flat gradient and optimizer-moment buffers, the weight mask used for L2 and
    weight decay, the step count, and the workspace for up to ``capacity`` rows per call.

    One call at a time: ``train``, ``loss_and_grad`` and ``evaluate`` mark the state busy
    (under the GIL) for the length of their nogil call, and any call made meanwhile from
    another thread raises RuntimeError instead of sharing or reallocating the workspace the
    running call writes to.  Callers that may train from several threads serialise with
    their own lock (Trainer and the estimators do).
    """
    cdef Net net
    cdef TrainPlan plan
    cdef Py_ssize_t* _offs
    cdef readonly cnp.ndarray grads, m, v, is_weight
    cdef cnp.ndarray _ws
    cdef readonly Py_ssize_t capacity
    cdef public long long step_count
    cdef bint _busy

    def __cinit__(self, Net net, int loss, int optimizer):
        cdef int L = net.plan.n_layers, l
        if not loss_known(loss):
            raise ValueError(f"unknown loss code {loss}")
        if not opt_known(optimizer):
            raise ValueError(f"unknown optimizer code {optimizer}")
        self.net = net
        self.plan.loss = loss
        self.plan.opt = optimizer
        # Cross-entropies consume the logits (softmax / sigmoid fused into the loss).
        self.plan.logits = loss == LOSS_SOFTMAX_CROSS_ENTROPY or loss == LOSS_BINARY_CROSS_ENTROPY
        if loss == LOSS_SOFTMAX_CROSS_ENTROPY and net.plan.acts[L - 1] != ACT_SOFTMAX:
            raise ValueError("softmax_cross_entropy needs a softmax output layer")
        if loss == LOSS_BINARY_CROSS_ENTROPY and net.plan.acts[L - 1] != ACT_SIGMOID:
            raise ValueError("binary_cross_entropy needs a sigmoid output layer")
        self._offs = <Py_ssize_t*>malloc(3 * L * sizeof(Py_ssize_t))
        if self._offs == NULL:
            raise MemoryError()
        self.plan.z_off = self._offs
        self.plan.a_off = self._offs + L
        self.plan.h_off = self._offs + 2 * L
        dt = net.dtype
        n = net.plan.n_params
        self.grads = np.zeros(n, dtype=dt)
        self.m = np.zeros(n, dtype=dt)
        self.v = np.zeros(n, dtype=dt)
        mask = np.zeros(n, dtype=np.uint8)
        for l in range(L):
            mask[net.plan.w_off[l]:net.plan.b_off[l]] = 1
        self.is_weight = mask
        self.capacity = 0
        self._ws = None
        self.step_count = 0
        self.configure()

    def __dealloc__(self):
        free(self._offs)

    cdef int _claim(self) except -1:
        if self._busy:
            raise RuntimeError(
                "this training state is in use by a call running in another thread; train "
                "one model from one thread at a time (lepton's Trainer and estimators "
                "serialise their own calls)")
        self._busy = True
        return 0

    def configure(self, *, double loss_param=1.0, double loss_scale=1.0, double momentum=0.9,
                  double beta1=0.9, double beta2=0.999, double eps=1e-8, double l2=0.0,
                  double weight_decay=0.0, clip_norm=None, unsigned long long seed=0,
                  double report_scale=1.0):
        """Set hyper-parameters (validated by the Trainer; re-checked for finiteness here).

        ``loss_scale`` multiplies the data loss and its gradient; ``report_scale`` multiplies
        only the data term of the losses reported (a policy's own loss convention).
        """
        self._claim()
        self._busy = False
        vals = (loss_param, loss_scale, momentum, beta1, beta2, eps, l2, weight_decay,
                report_scale)
        if not all(isfinite(x) for x in vals):
            raise ValueError("hyper-parameters must be finite")
        self.plan.loss_param = loss_param
        self.plan.loss_scale = loss_scale
        self.plan.momentum = momentum
        self.plan.beta1 = beta1
        self.plan.beta2 = beta2
        self.plan.eps = eps
        self.plan.l2 = l2
        self.plan.weight_decay = weight_decay
        self.plan.clip_norm = 0.0 if clip_norm is None else float(clip_norm)
        self.plan.seed = seed
        self.plan.report_scale = report_scale

    def reserve(self, Py_ssize_t rows):
        """Make the workspace hold ``rows`` rows per call (grow-only; no-op if it does)."""
        self._claim()
        self._busy = False
        if rows <= self.capacity:
            return
        cdef NetPlan* net = &self.net.plan
        cdef int L = net.n_layers, l
        cdef Py_ssize_t pos = 0, w
        for l in range(L):
            w = rows * net.dims[l + 1]
            self.plan.z_off[l] = pos
            pos += _align(w)
            if net.acts[l] == ACT_IDENTITY or (l == L - 1 and self.plan.logits):
                self.plan.a_off[l] = self.plan.z_off[l]
            else:
                self.plan.a_off[l] = pos
                pos += _align(w)
            if net.drop[l] > 0:
                self.plan.h_off[l] = pos
                pos += _align(w)
            else:
                self.plan.h_off[l] = self.plan.a_off[l]
        w = _align(rows * net.max_width)
        self.plan.g0_off = pos
        self.plan.g1_off = pos + w
        pos += 2 * w
        self.plan.xb_off = pos
        pos += _align(rows * net.dims[0])
        self.plan.yb_off = pos
        pos += _align(rows * net.dims[L])
        self.plan.sw_off = pos
        pos += _align(rows)
        self._ws = np.zeros(pos, dtype=self.net.dtype)
        self.capacity = rows

    def reset(self):
        """Forget the optimizer state: zero moments, step count 0."""
        self._claim()
        self._busy = False
        self.m.fill(0)
        self.v.fill(0)
        self.step_count = 0

    def _data(self, X, Y, sw):
        dt = self.net.dtype
        A = _check(X, "X", 2, dt)
        n = A.shape[0]
        if A.shape[1] != self.net.plan.dims[0]:
            raise ValueError(f"X has {A.shape[1]} features, expected {self.net.plan.dims[0]}")
        B = _check_rows(Y, "Y", n, self.net.plan.dims[self.net.plan.n_layers], dt)
        S = None if sw is None else _check_rows(sw, "sample_weight", n, -1, dt)
        return A, B, S

    def train(self, X, Y, sw, perm, Py_ssize_t batch_size, Py_ssize_t b0, Py_ssize_t nb,
              lrs, losses, n_threads=None):
        """Run mini-batches b0 .. b0+nb-1 of (X, Y, sw) (rows in ``perm`` order) in ONE call.

        Batch b holds rows perm[b*batch_size : (b+1)*batch_size] (the last may be short).
        ``lrs[i]`` is the learning rate of batch b0+i; its loss goes to ``losses[i]``.
        Returns the number of batches applied: ``nb``, or the index of the first batch whose
        loss was not finite (that batch's update is skipped).
        """
        A, B, S = self._data(X, Y, sw)
        cdef Py_ssize_t n = A.shape[0], i
        cdef cnp.ndarray P = None
        cdef const Py_ssize_t* pp = NULL
        if batch_size < 1 or batch_size > self.capacity:
            raise ValueError(f"batch_size must be in [1, {self.capacity}] (call reserve() "
                             f"first), got {batch_size}")
        if b0 < 0 or nb < 0 or (nb > 0 and (b0 + nb - 1) * batch_size >= n):
            raise ValueError(f"batches {b0}..{b0 + nb - 1} of {batch_size} rows do not fit "
                             f"in {n} rows")
        if perm is not None:
            P = _check_rows(perm, "perm", n, -1, np.dtype(np.intp))
            pp = <const Py_ssize_t*>cnp.PyArray_DATA(P)
            # Only the entries these batches read: checking all n per call would make a
            # one-batch-per-call epoch (batch callbacks) quadratic in the row count.
            for i in range(b0 * batch_size, min(n, (b0 + nb) * batch_size)):
                if pp[i] < 0 or pp[i] >= n:
                    raise ValueError(f"perm[{i}] = {pp[i]} is not a row index of X")
        LR = _check_rows(lrs, "lrs", nb, -1, np.dtype(np.float64))
        LO = _check_rows(losses, "losses", nb, -1, np.dtype(np.float64))
        if not cnp.PyArray_ISWRITEABLE(LO):
            raise ValueError("losses is read-only")
        cdef int nt = _resolve_threads(n_threads)
        cdef void* px = cnp.PyArray_DATA(A)
        cdef void* py = cnp.PyArray_DATA(B)
        cdef void* ps = NULL if S is None else cnp.PyArray_DATA(S)
        cdef void* pw = cnp.PyArray_DATA(self.net.params)
        cdef void* pg = cnp.PyArray_DATA(self.grads)
        cdef void* pm = cnp.PyArray_DATA(self.m)
        cdef void* pv = cnp.PyArray_DATA(self.v)
        cdef void* pk = cnp.PyArray_DATA(self._ws)
        cdef const unsigned char* pmask = <const unsigned char*>cnp.PyArray_DATA(self.is_weight)
        cdef const double* plr = <const double*>cnp.PyArray_DATA(LR)
        cdef double* plo = <double*>cnp.PyArray_DATA(LO)
        cdef Py_ssize_t done
        cdef unsigned int fpo
        self._claim()
        try:
            with nogil:
                fpo = lepton_fp_flush()  # subnormals flushed (see lepton.h)
                if self.net.f64:
                    done = train_batches[double](
                        &self.net.plan, &self.plan, n, <double*>px, <double*>py,
                        <double*>ps, pp, batch_size, b0, nb, plr, plo, <double*>pw,
                        <double*>pg, <double*>pm, <double*>pv, pmask, <double*>pk,
                        &self.step_count, nt)
                else:
                    done = train_batches[float](
                        &self.net.plan, &self.plan, n, <float*>px, <float*>py, <float*>ps,
                        pp, batch_size, b0, nb, plr, plo, <float*>pw, <float*>pg,
                        <float*>pm, <float*>pv, pmask, <float*>pk, &self.step_count, nt)
                lepton_fp_set(fpo)
        finally:
            self._busy = False
        if done < 0:
            _raise_status(<int>done, "train")
        return done

    def loss_and_grad(self, X, Y, sw=None, *, bint train=True, step=None, n_threads=None):
        """Loss (+ L2 penalty) of (X, Y) and, into ``self.grads``, its gradient WITHOUT the
        L2 term; no update.  Dropout (if ``train``) uses the masks of step ``step``
        (default: the next step).  X must fit the workspace (``reserve(len(X))``)."""
        A, B, S = self._data(X, Y, sw)
        cdef Py_ssize_t n = A.shape[0]
        if n < 1 or n > self.capacity:
            raise ValueError(f"X must have 1..{self.capacity} rows, got {n}")
        cdef uint64_t st = self.step_count + 1 if step is None else step
        cdef int nt = _resolve_threads(n_threads), status = 0
        cdef void* px = cnp.PyArray_DATA(A)
        cdef void* py = cnp.PyArray_DATA(B)
        cdef void* ps = NULL if S is None else cnp.PyArray_DATA(S)
        cdef void* pw = cnp.PyArray_DATA(self.net.params)
        cdef void* pg = cnp.PyArray_DATA(self.grads)
        cdef void* pk = cnp.PyArray_DATA(self._ws)
        cdef double loss
        cdef unsigned int fpo
        self._claim()
        try:
            with nogil:
                fpo = lepton_fp_flush()  # subnormals flushed (see lepton.h)
                if self.net.f64:
                    loss = forward_backward[double](
                        &self.net.plan, &self.plan, n, <double*>px, <double*>py, <double*>ps,
                        <double*>pw, <double*>pg, <double*>pk, NULL, st, train, True,
                        &status, nt)
                    loss = loss * self.plan.report_scale + l2_penalty[double](
                        &self.net.plan, <double*>pw, self.plan.l2, nt)
                else:
                    loss = forward_backward[float](
                        &self.net.plan, &self.plan, n, <float*>px, <float*>py, <float*>ps,
                        <float*>pw, <float*>pg, <float*>pk, NULL, st, train, True,
                        &status, nt)
                    loss = loss * self.plan.report_scale + l2_penalty[float](
                        &self.net.plan, <float*>pw, self.plan.l2, nt)
                lepton_fp_set(fpo)
        finally:
            self._busy = False
        _raise_status(status, "loss_and_grad")
        return loss

    def evaluate(self, X, Y, sw=None, out=None, n_threads=None):
        """Mean loss (+ L2 penalty) of (X, Y) in inference mode, in chunks of ``capacity``
        rows; the output activations are written to ``out`` (n x n_outputs) if given."""
        A, B, S = self._data(X, Y, sw)
        cdef Py_ssize_t n = A.shape[0], r0, rows, cap = self.capacity
        cdef Py_ssize_t d_in = self.net.plan.dims[0]
        cdef Py_ssize_t K = self.net.plan.dims[self.net.plan.n_layers]
        if n < 1:
            raise ValueError("X has 0 samples; at least 1 is required")
        if cap < 1:
            raise ValueError("call reserve() first")
        O = None if out is None else _check_rows(out, "out", n, K, self.net.dtype)
        if O is not None and not cnp.PyArray_ISWRITEABLE(O):
            raise ValueError("out is read-only")
        cdef int nt = _resolve_threads(n_threads), status = 0
        cdef char* px = <char*>cnp.PyArray_DATA(A)
        cdef char* py = <char*>cnp.PyArray_DATA(B)
        cdef char* ps = NULL if S is None else <char*>cnp.PyArray_DATA(S)
        cdef char* po = NULL if O is None else <char*>cnp.PyArray_DATA(O)
        cdef void* pw = cnp.PyArray_DATA(self.net.params)
        cdef void* pk = cnp.PyArray_DATA(self._ws)
        cdef Py_ssize_t isz = self.net.dtype.itemsize
        cdef double total = 0
        cdef unsigned int fpo
        self._claim()
        try:
            with nogil:
                fpo = lepton_fp_flush()  # subnormals flushed (see lepton.h)
                r0 = 0
                while r0 < n and status == 0:
                    rows = _min(cap, n - r0)
                    if self.net.f64:
                        total += rows * forward_backward[double](
                            &self.net.plan, &self.plan, rows, <double*>(px + r0 * d_in * isz),
                            <double*>(py + r0 * K * isz),
                            <double*>(ps + r0 * isz) if ps != NULL else NULL,
                            <double*>pw, NULL, <double*>pk,
                            <double*>(po + r0 * K * isz) if po != NULL else NULL,
                            0, False, False, &status, nt)
                    else:
                        total += rows * forward_backward[float](
                            &self.net.plan, &self.plan, rows, <float*>(px + r0 * d_in * isz),
                            <float*>(py + r0 * K * isz),
                            <float*>(ps + r0 * isz) if ps != NULL else NULL,
                            <float*>pw, NULL, <float*>pk,
                            <float*>(po + r0 * K * isz) if po != NULL else NULL,
                            0, False, False, &status, nt)
                    r0 += rows
                if self.net.f64:
                    total = total / n * self.plan.report_scale + l2_penalty[double](
                        &self.net.plan, <double*>pw, self.plan.l2, nt)
                else:
                    total = total / n * self.plan.report_scale + l2_penalty[float](
                        &self.net.plan, <float*>pw, self.plan.l2, nt)
                lepton_fp_set(fpo)
        finally:
            self._busy = False
        _raise_status(status, "evaluate")
        return total
