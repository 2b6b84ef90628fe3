/*
 * dotwise._dwattn — fused scaled dot-product attention for the CPU.
 *
 * out = softmax(q kᵀ · scale + mask) v for one batch of 2-D slices, computed tile by
 * tile so that no L × S matrix is ever written. Called through ctypes by
 * dotwise/_attn.py; ctypes releases the GIL, so several threads call dw_attn_* at once
 * and share the work through an atomic counter of work items.
 *
 * Work item = one slice × one tile of QB = 32 query rows, or, when a slice's k and v
 * outgrow L2, DW_GROUP such tiles that walk the key blocks together (each block read
 * from memory once per item). For a tile, keys are taken BK at a time and the scores
 * are kept *transposed*, one row per key and one column per query:
 *
 *     Sᵀ[j, i] = Σ_e k[j, e] · q̃[e, i]           q̃ = (q_tile · scale · log₂e)ᵀ, packed once
 *
 * so that everything the online softmax keeps per query (running max m, running sum
 * ℓ, the rescale factor α) is one vector register wide across queries, and both tile
 * products read k and v as they lie in memory (row-major, any row stride):
 *
 *     m' = max(m, max_j Sᵀ[j, ·]),   α = 2^(m − m'),    Pᵀ = 2^(Sᵀ − m'),
 *     ℓ' = α ℓ + Σ_j Pᵀ[j, ·],       Oᵀ[c, ·] = α Oᵀ[c, ·] + Σ_j v[j, c] Pᵀ[j, ·]
 *
 * (scores in log₂ units, so that the exponentials are powers of 2; a float mask is
 * scaled by log₂e too) and out[i, c] = Oᵀ[c, i] / ℓ[i] at the end (0 where ℓ = 0: every
 * key masked). With a work flag the items also report NaN/inf in what they read and
 * write (the Python side's finiteness check, done while the data is in cache). Both
 * products are register-blocked micro-kernels (MR = 6 rows × two vectors of columns,
 * 12 accumulators); exp is a polynomial in vector registers (2ⁿ · p(f) with the exponent
 * put together in integer bits). Masks: a boolean mask (True = takes part, uint8) or a
 * float mask added to the scores, both with arbitrary strides (0 = broadcast);
 * is_causal masks j > i and skips the key blocks and micro-tiles that lie wholly above
 * the diagonal. Extra memory: one work buffer of QB·(BK + G·(E + Ev + 5)) values per
 * thread (G = 1 or DW_GROUP tiles per item).
 *
 * Runtime ISA dispatch as in _dwconv.c: the body below is compiled three times, for
 * AVX-512 (64-byte vectors), AVX2+FMA (32 bytes) and a baseline (16 bytes), and
 * dw_attn_* picks the widest variant the CPU supports at the first call (dw_attn_isa
 * says which; dw_attn_force_isa narrows it for tests and benchmarks).
 *
 * The CPython module exposes one function, attend, which reads the NumPy arrays itself,
 * works out each slice's offsets and runs the kernel with the GIL released; the dw_attn_*
 * C functions are also reachable through ctypes.
 */
#ifndef DW_ATTN_BODY

#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define DW_X86 1
#else
#define DW_X86 0
#endif
#if DW_X86
#include <immintrin.h>
#endif
#if defined(__GNUC__) || defined(__clang__)
#define DW_VEC 1
#define DW_INLINE static inline __attribute__((always_inline))
#else
#define DW_VEC 0
#define DW_INLINE static inline
#endif

/* Tile sizes (a multiple of 2 × the widest vector, 32 floats, for QB): with 32 × 64 the
 * score tile (8 KiB in float), q̃ and Oᵀ (8 KiB each at E = Ev = 64) and the key and value
 * blocks (16 KiB each) stay in a 32 KiB L1 cache for most of a block's work; measured
 * against 64 × 128 on a Zen3 core (AVX2): a few percent faster at L = 512 .. 4096. */
#ifndef DW_QB
#define DW_QB 32     /* query rows per tile: the width of every per-query vector row */
#endif
#ifndef DW_BK
#define DW_BK 64     /* keys per block: the score tile is DW_BK × DW_QB */
#endif
#define DW_MR 6      /* rows of a micro-tile */

#define DW_CAT_(a, b) a##b
#define DW_CAT(a, b) DW_CAT_(a, b)

/* one work item's arguments, shared by the variants */
typedef struct {
    const void *q, *k, *v;          /* slice bases (element 0 of each slice) */
    void *o;
    const void *mask;               /* NULL, uint8 (bool) or the compute dtype */
    int mkind;                      /* 0 none, 1 bool, 2 float */
    int causal;
    int64_t r0, nq;                 /* query rows r0 .. r0 + nq (nq <= DW_QB) */
    int64_t S, E, Ev;
    int64_t ldq, ldk, ldv, ldo;     /* row strides in elements (unit column stride) */
    int64_t msi, msj;               /* mask strides in elements (0 = broadcast) */
    int64_t kc0, kc1;               /* with check: the k/v rows this item scans */
    int check;                      /* scan q rows, k/v rows kc0..kc1 and the output */
    double scale;
} dw_item;

/* the flags an item returns (OR-ed into ctl[1]): a NaN/inf in q, k or v; in the output */
#define DW_BAD_INPUT 1
#define DW_BAD_OUTPUT 2

/* The largest |x| over rows × cols values of x (leading dimension ld, in values) as the
 * unsigned bit pattern of its magnitude: U is the float's width. Inlined into each
 * variant's non-finite scan, where it vectorises for that target. */
#define DW_ABSMAX_BITS(U, MAGNITUDE)                                                       \
static inline __attribute__((always_inline))                                              \
U dw_absmax_bits_##U(const void *x, int64_t ld, int64_t rows, int64_t cols)               \
{                                                                                          \
    U mx = 0;                                                                              \
    for (int64_t r = 0; r < rows; r++) {                                                   \
        const char *row = (const char *)x + r * ld * (int64_t)sizeof(U);                   \
        for (int64_t c = 0; c < cols; c++) {                                               \
            U b;                                                                           \
            memcpy(&b, row + sizeof(U) * c, sizeof(U));                                    \
            b &= MAGNITUDE;                                                                \
            mx = b > mx ? b : mx;                                                          \
        }                                                                                  \
    }                                                                                      \
    return mx;                                                                             \
}
DW_ABSMAX_BITS(uint32_t, 0x7fffffffu)
DW_ABSMAX_BITS(uint64_t, 0x7fffffffffffffffull)

/* ---- the variants: the body at the end of this file, included once per target ---- */
#define DW_ATTN_BODY 1
#if DW_VEC
#define T float
#define IT int32_t
#define ISDBL 0
#define VB 16
#define SUF f_base
#define ATTR
#include "_dwattn.c"
#undef T
#undef IT
#undef ISDBL
#undef SUF
#define T double
#define IT int64_t
#define ISDBL 1
#define SUF d_base
#include "_dwattn.c"
#undef T
#undef IT
#undef ISDBL
#undef VB
#undef SUF
#undef ATTR
#if DW_X86
#define VB 32
#define ATTR __attribute__((target("avx2,fma")))
#define T float
#define IT int32_t
#define ISDBL 0
#define SUF f_avx2
#include "_dwattn.c"
#undef T
#undef IT
#undef ISDBL
#undef SUF
#define T double
#define IT int64_t
#define ISDBL 1
#define SUF d_avx2
#include "_dwattn.c"
#undef T
#undef IT
#undef ISDBL
#undef VB
#undef SUF
#undef ATTR
#define VB 64
#define ATTR __attribute__((target("avx512f")))
#define T float
#define IT int32_t
#define ISDBL 0
#define SUF f_avx512
#include "_dwattn.c"
#undef T
#undef IT
#undef ISDBL
#undef SUF
#define T double
#define IT int64_t
#define ISDBL 1
#define SUF d_avx512
#include "_dwattn.c"
#undef T
#undef IT
#undef ISDBL
#undef VB
#undef SUF
#undef ATTR
#endif /* DW_X86 */
#else  /* no vector extensions: a plain scalar version of the same algorithm */
#define T float
#define SUF f_base
#include "_dwattn.c"
#undef T
#undef SUF
#define T double
#define SUF d_base
#include "_dwattn.c"
#undef T
#undef SUF
#endif
#undef DW_ATTN_BODY

/* ---------------------------------------------------------------- dispatch */

/* 2 = AVX-512, 1 = AVX2+FMA, 0 = baseline: the widest variant this CPU runs */
static int dw_attn_detect(void)
{
#if DW_X86 && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

static int dw_attn_forced = -1;  /* set by dw_attn_force_isa (tests, benchmarks) */

int dw_attn_isa(void) { return dw_attn_forced >= 0 ? dw_attn_forced : dw_attn_detect(); }

/* Force a variant (0, 1, 2) for later calls; refuses one the CPU lacks. -1 = detect again. */
int dw_attn_force_isa(int isa)
{
    if (isa > dw_attn_detect()) return -1;
    dw_attn_forced = isa < 0 ? -1 : isa;
    return 0;
}

typedef int (*dw_item_fn)(const dw_item *, void *);

#ifndef DW_GROUP
#define DW_GROUP 8            /* sub-tiles of QB queries per work item when k and v are long */
#endif
#ifndef DW_GROUP_BYTES
#define DW_GROUP_BYTES (1 << 20)  /* "long": one slice's k and v exceed this (about L2) */
#endif

/* Sub-tiles per work item: one while a slice's k and v stay in L2 between query tiles,
 * else DW_GROUP, so that each key block read from L3 serves DW_GROUP · QB queries. */
static int64_t dw_group(int64_t S, int64_t E, int64_t Ev, size_t itemsize)
{
    return (double)S * (double)(E + Ev) * (double)itemsize > DW_GROUP_BYTES ? DW_GROUP : 1;
}

/* Work buffer of one thread, in elements: Sᵀ (BK × QB), then per sub-tile q̃ (E × QB),
 * Oᵀ (Ev × QB) and five per-query rows (m, ℓ, shift, α, the shift in use). */
static size_t dw_work_elems(int64_t E, int64_t Ev, int64_t G)
{
    return (size_t)(DW_BK + G * (E + Ev + 5)) * DW_QB;
}

/*
 * The exported entry point (S = f, d). Every calling thread takes work items from
 * ctl[0] (the work counter) until none is left; an item t is slice t / ntiles and query
 * span t % ntiles of G · QB rows (the heavy spans first when causal, so that the threads
 * finish together).
 *
 * offs holds, per slice, the element offsets of q, k, v, out and mask from the base
 * pointers; ld = {ldq, ldk, ldv, ldo, msi, msj}. With ctl[2] != 0 the items also scan
 * what they read and write for NaN and infinity (each item its q rows, its share of the
 * slice's k and v rows, its output rows, all while in cache) and OR DW_BAD_INPUT /
 * DW_BAD_OUTPUT into ctl[1]. Returns 0, or -1 when the work buffer cannot be allocated.
 */
#define DW_ENTRY(TT, SX)                                                                    \
int dw_attn_##SX(const TT *q, const TT *k, const TT *v, TT *o, const void *mask,            \
                const int64_t *offs, int64_t nslices, int64_t L, int64_t S_,              \
                int64_t E, int64_t Ev, const int64_t *ld, int mkind, int causal,           \
                double scale, int64_t *ctl)                                                \
{                                                                                          \
    static const dw_item_fn variants[3] = {                                                \
        DW_CAT(dw_item_, SX##_base),                                                        \
        DW_VARIANTS_##SX                                                                    \
    };                                                                                     \
    const dw_item_fn fn = variants[dw_attn_isa()];                                         \
    const int64_t G = dw_group(S_, E, Ev, sizeof(TT)), span = G * DW_QB;                   \
    const int64_t ntiles = (L + span - 1) / span, nitems = ntiles * nslices;               \
    void *work = NULL;                                                                     \
    size_t bytes = dw_work_elems(E, Ev, G) * sizeof(TT);                                   \
    bytes = (bytes + 63) / 64 * 64;                                                        \
    const size_t mbytes = mkind == 1 ? 1 : sizeof(TT);                                     \
    const int check = ctl[2] != 0;                                                         \
    int flags = 0;                                                                         \
    for (;;) {                                                                             \
        const int64_t t = __atomic_fetch_add(ctl, 1, __ATOMIC_RELAXED);                    \
        if (t >= nitems) break;                                                            \
        if (work == NULL && (work = aligned_alloc(64, bytes)) == NULL) return -1;          \
        const int64_t s = t / ntiles, tile = causal ? ntiles - 1 - t % ntiles : t % ntiles; \
        const int64_t *of = offs + 5 * s;                                                  \
        dw_item it;                                                                        \
        it.q = q + of[0]; it.k = k + of[1]; it.v = v + of[2]; it.o = o + of[3];            \
        it.mask = mkind ? (const void *)((const char *)mask + of[4] * (int64_t)mbytes) : NULL; \
        it.mkind = mkind; it.causal = causal;                                              \
        it.r0 = tile * span;                                                               \
        it.nq = L - it.r0 < span ? L - it.r0 : span;                                       \
        it.S = S_; it.E = E; it.Ev = Ev;                                                   \
        it.ldq = ld[0]; it.ldk = ld[1]; it.ldv = ld[2]; it.ldo = ld[3];                    \
        it.msi = ld[4]; it.msj = ld[5];                                                    \
        it.scale = scale;                                                                  \
        it.check = check;                                                                  \
        it.kc0 = S_ * tile / ntiles; it.kc1 = S_ * (tile + 1) / ntiles;                    \
        flags |= fn(&it, work);                                                            \
    }                                                                                      \
    free(work);                                                                            \
    if (flags) __atomic_fetch_or(ctl + 1, (int64_t)flags, __ATOMIC_RELAXED);               \
    return 0;                                                                              \
}

#if DW_X86 && DW_VEC
#define DW_VARIANTS_f dw_item_f_avx2, dw_item_f_avx512
#define DW_VARIANTS_d dw_item_d_avx2, dw_item_d_avx512
#else
#define DW_VARIANTS_f dw_item_f_base, dw_item_f_base
#define DW_VARIANTS_d dw_item_d_base, dw_item_d_base
#endif

DW_ENTRY(float, f)
DW_ENTRY(double, d)

/*
 * dw_attn_par_* — the same work on nthreads OpenMP threads (when built with OpenMP; else
 * on the calling thread). OpenMP's threads wait spinning for a moment after a parallel
 * region before they sleep, as PyTorch's do, so back-to-back calls on small problems do
 * not pay a thread wake-up each (on a virtual machine that costs as much as an L = 512
 * attention). dw_attn_openmp() says whether this build has OpenMP.
 */
int dw_attn_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

#define DW_ENTRY_PAR(TT, SX)                                                                \
int dw_attn_par_##SX(const TT *q, const TT *k, const TT *v, TT *o, const void *mask,        \
                    const int64_t *offs, int64_t nslices, int64_t L, int64_t S_,          \
                    int64_t E, int64_t Ev, const int64_t *ld, int mkind, int causal,       \
                    double scale, int64_t *ctl, int nthreads)                              \
{                                                                                          \
    int failed = 0;                                                                        \
    (void)nthreads;                                                                        \
    _Pragma("omp parallel num_threads(nthreads) reduction(|:failed)")                      \
    failed |= dw_attn_##SX(q, k, v, o, mask, offs, nslices, L, S_, E, Ev, ld, mkind,       \
                           causal, scale, ctl) != 0;                                       \
    return failed ? -1 : 0;                                                                \
}

DW_ENTRY_PAR(float, f)
DW_ENTRY_PAR(double, d)

/* The tile sizes, for the Python side's documentation and tests: {QB, BK, MR}. */
void dw_attn_tiles(int64_t *out3)
{
    out3[0] = DW_QB;
    out3[1] = DW_BK;
    out3[2] = DW_MR;
}

/* ------------------------------------------------------ the Python entry point */

#define DW_MAXDIM 32

/* A buffer's element strides (unit last axis, aligned, every stride a multiple of the
 * item size), or 0 when the layout needs a copy first. */
static int dw_elem_strides(const Py_buffer *b, int64_t *st)
{
    const Py_ssize_t isz = b->itemsize;
    if (((uintptr_t)b->buf) % (uintptr_t)isz) return 0;
    for (int d = 0; d < b->ndim; d++) {
        if (b->strides[d] % isz) return 0;
        st[d] = b->strides[d] / isz;
    }
    return b->ndim >= 2 && (b->shape[b->ndim - 1] <= 1 || st[b->ndim - 1] == 1);
}

/* A buffer's format as one type letter: 'f', 'd', '?' (native byte order, '@' or '='
 * prefix as NumPy writes for an unaligned array; '<' on a little-endian machine), or 0. */
static char dw_format(const Py_buffer *b)
{
    const char *f = b->format;
    if (f == NULL) return 'B';
    if (*f == '@' || *f == '=') f++;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    else if (*f == '<') f++;
#endif
    return (f[0] != 0 && f[1] == 0) ? f[0] : 0;
}

/*
 * _dwattn.attend(q, k, v, mask, out, causal, scale, nthreads, ctl) -> int
 *
 * q, k, v, out (and mask unless None) are arrays of one ndim with the same leading
 * (batch) shape (broadcast views are fine: stride 0); q, k, v, out float32 or float64
 * alike, mask bool or of that dtype. ctl is a writable buffer of three int64: the work
 * counter (0 at the start; calls given the same ctl share the items), the flags
 * (DW_BAD_*, OR-ed in) and whether to check. The work runs with the GIL released, on
 * nthreads OpenMP threads (1: the calling thread). Returns 0, or -2 when q, k, v or
 * mask needs a compact copy first (a strided last axis, misaligned); raises ValueError
 * for arguments that do not fit and MemoryError when a work buffer cannot be allocated.
 * Shape checks against user input are the Python side's job; these guard the memory.
 */
static PyObject *dw_py_attend(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "attend takes 9 arguments");
        return NULL;
    }
    const int causal = PyObject_IsTrue(args[5]);
    const double scale = PyFloat_AsDouble(args[6]);
    const long nthreads = PyLong_AsLong(args[7]);
    if (causal < 0 || PyErr_Occurred()) return NULL;
    Py_buffer b[6];
    int got = 0, status = 0;
    const int has_mask = args[3] != Py_None;
    PyObject *objs[6] = {args[0], args[1], args[2], args[4], has_mask ? args[3] : NULL, args[8]};
    const int flags_of[6] = {PyBUF_STRIDES | PyBUF_FORMAT, PyBUF_STRIDES | PyBUF_FORMAT,
                             PyBUF_STRIDES | PyBUF_FORMAT,
                             PyBUF_STRIDES | PyBUF_FORMAT | PyBUF_WRITABLE,
                             PyBUF_STRIDES | PyBUF_FORMAT,
                             PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE};
    int64_t st[5][DW_MAXDIM];
    for (; got < 6; got++) {
        if (objs[got] == NULL) { memset(&b[got], 0, sizeof(Py_buffer)); continue; }
        if (PyObject_GetBuffer(objs[got], &b[got], flags_of[got]) != 0) goto fail;
    }
    const Py_buffer *bq = &b[0], *bk = &b[1], *bv = &b[2], *bo = &b[3], *bm = &b[4];
    const int nd = bo->ndim;
    const Py_ssize_t isz = bo->itemsize;
    const char fmt = dw_format(bo);
    if (b[5].len < 3 * (Py_ssize_t)sizeof(int64_t)) {
        PyErr_SetString(PyExc_ValueError, "attend: ctl must hold 3 int64");
        goto fail;
    }
    if (nd < 2 || nd > DW_MAXDIM || !((fmt == 'f' && isz == 4) || (fmt == 'd' && isz == 8))
        || bq->ndim != nd || bk->ndim != nd || bv->ndim != nd || (has_mask && bm->ndim != nd)) {
        PyErr_SetString(PyExc_ValueError, "attend: q, k, v, out (and mask) must share one "
                        "ndim >= 2, out float32 or float64");
        goto fail;
    }
    for (int i = 0; i < 3; i++)
        if (b[i].itemsize != isz || dw_format(&b[i]) != fmt) {
            PyErr_SetString(PyExc_ValueError, "attend: q, k, v and out must share one dtype");
            goto fail;
        }
    const int64_t L = bq->shape[nd - 2], S = bk->shape[nd - 2], E = bq->shape[nd - 1],
                  Ev = bv->shape[nd - 1];
    int mkind = 0;
    if (has_mask) {
        const char mf = dw_format(bm);
        if (bm->itemsize == 1 && mf == '?') mkind = 1;
        else if (bm->itemsize == isz && mf == fmt) mkind = 2;
        else {
            PyErr_SetString(PyExc_ValueError, "attend: mask must be bool or of q's dtype");
            goto fail;
        }
        if (bm->shape[nd - 2] != L || bm->shape[nd - 1] != S) {
            PyErr_SetString(PyExc_ValueError, "attend: mask must have shape (..., L, S)");
            goto fail;
        }
    }
    int bad_shape = bk->shape[nd - 1] != E || bv->shape[nd - 2] != S
                    || bo->shape[nd - 2] != L || bo->shape[nd - 1] != Ev;
    int64_t nslices = 1;
    for (int d = 0; d < nd - 2; d++) {
        for (int i = 0; i < 5; i++)
            if (b[i].obj != NULL && b[i].shape[d] != bo->shape[d]) bad_shape = 1;
        nslices *= bo->shape[d];
    }
    if (bad_shape) {
        PyErr_SetString(PyExc_ValueError, "attend: q (..., L, E), k (..., S, E), v (..., S, Ev) "
                        "and out (..., L, Ev) must agree, with one batch shape");
        goto fail;
    }
    if (!dw_elem_strides(bo, st[3])) {
        PyErr_SetString(PyExc_ValueError, "attend: out must have a contiguous, aligned last axis");
        goto fail;
    }
    for (int i = 0; i < 5; i++) {
        if (b[i].obj == NULL || i == 3) continue;
        if (i == 4 && mkind == 1) {        /* bytes: any stride */
            for (int d = 0; d < nd; d++) st[4][d] = bm->strides[d];
            continue;
        }
        if (!dw_elem_strides(&b[i], st[i])) { status = -2; goto done; }
    }
    if (!has_mask) for (int d = 0; d < nd; d++) st[4][d] = 0;
    if (L == 0 || S == 0 || nslices == 0) goto done;
    {
        int64_t *ctl = (int64_t *)b[5].buf, ld[6] = {st[0][nd - 2], st[1][nd - 2], st[2][nd - 2],
                                                     st[3][nd - 2], st[4][nd - 2], st[4][nd - 1]};
        int64_t *offs = (int64_t *)malloc((size_t)(5 * nslices) * sizeof(int64_t));
        if (offs == NULL) { PyErr_NoMemory(); goto fail; }
        for (int64_t s_ = 0; s_ < nslices; s_++) {    /* the slice's multi-index, last axis fastest */
            int64_t rest = s_, of[5] = {0, 0, 0, 0, 0};
            for (int d = nd - 3; d >= 0; d--) {
                const int64_t n = bo->shape[d], i = rest % n;
                rest /= n;
                for (int a = 0; a < 5; a++) of[a] += i * st[a][d];
            }
            memcpy(offs + 5 * s_, of, sizeof of);
        }
        const void *mp = has_mask ? bm->buf : NULL;
        int rc;
        Py_BEGIN_ALLOW_THREADS
        if (isz == 4) {
            rc = nthreads > 1 ? dw_attn_par_f(bq->buf, bk->buf, bv->buf, bo->buf, mp, offs,
                                              nslices, L, S, E, Ev, ld, mkind, causal, scale,
                                              ctl, (int)nthreads)
                              : dw_attn_f(bq->buf, bk->buf, bv->buf, bo->buf, mp, offs, nslices,
                                          L, S, E, Ev, ld, mkind, causal, scale, ctl);
        } else {
            rc = nthreads > 1 ? dw_attn_par_d(bq->buf, bk->buf, bv->buf, bo->buf, mp, offs,
                                              nslices, L, S, E, Ev, ld, mkind, causal, scale,
                                              ctl, (int)nthreads)
                              : dw_attn_d(bq->buf, bk->buf, bv->buf, bo->buf, mp, offs, nslices,
                                          L, S, E, Ev, ld, mkind, causal, scale, ctl);
        }
        Py_END_ALLOW_THREADS
        free(offs);
        if (rc != 0) {
            PyErr_SetString(PyExc_MemoryError, "dotwise.attention: the compiled kernel could "
                            "not allocate its work buffer");
            goto fail;
        }
    }
done:
    for (int i = 0; i < got; i++) if (b[i].obj != NULL) PyBuffer_Release(&b[i]);
    return PyLong_FromLong(status);
fail:
    for (int i = 0; i < got; i++) if (b[i].obj != NULL) PyBuffer_Release(&b[i]);
    return NULL;
}

static PyMethodDef dw_methods[] = {
    {"attend", (PyCFunction)(void (*)(void))dw_py_attend, METH_FASTCALL,
     "attend(q, k, v, mask, out, causal, scale, nthreads, ctl) -> 0, or -2 (copy first)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef dw_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_dwattn",
    .m_doc = "Fused attention kernel of dotwise (dotwise._attn calls it).",
    .m_size = -1,
    .m_methods = dw_methods,
};

PyMODINIT_FUNC PyInit__dwattn(void) { return PyModule_Create(&dw_module); }

#else /* ======================== DW_ATTN_BODY: one variant ======================== */

#define N_(name) DW_CAT(name, SUF)
#define QB DW_QB
#define BK DW_BK
#define MR DW_MR
#ifdef ATTR
#define N_ATTR ATTR
#else
#define N_ATTR
#endif

/* Whether rows [0, rows) × columns [0, cols) of x hold a NaN or an infinity: the largest
 * |x| as an unsigned bit pattern reaches the all-ones exponent (vectorises without
 * reassociating floating-point sums). */
N_ATTR static int N_(nonfinite)(const T *x, int64_t ld, int64_t rows, int64_t cols)
{
    if (ld == cols) {            /* contiguous rows: one run (one reduction at the end) */
        cols *= rows;
        rows = 1;
    }
    if (sizeof(T) == 4)
        return dw_absmax_bits_uint32_t(x, ld, rows, cols) >= 0x7f800000u;
    return dw_absmax_bits_uint64_t(x, ld, rows, cols) >= 0x7ff0000000000000ull;
}

/* with it->check: DW_BAD_INPUT when the item's q rows or share of k/v rows are not finite */
N_ATTR static int N_(check_inputs)(const dw_item *it)
{
    if (!it->check) return 0;
    const int bad = N_(nonfinite)((const T *)it->q + it->r0 * it->ldq, it->ldq, it->nq, it->E)
        || N_(nonfinite)((const T *)it->k + it->kc0 * it->ldk, it->ldk, it->kc1 - it->kc0, it->E)
        || N_(nonfinite)((const T *)it->v + it->kc0 * it->ldv, it->ldv, it->kc1 - it->kc0, it->Ev);
    return bad ? DW_BAD_INPUT : 0;
}

/* with it->check: DW_BAD_OUTPUT when the item's output rows are not finite */
N_ATTR static int N_(check_output)(const dw_item *it)
{
    if (!it->check) return 0;
    return N_(nonfinite)((const T *)it->o + it->r0 * it->ldo, it->ldo, it->nq, it->Ev)
        ? DW_BAD_OUTPUT : 0;
}

#if DW_VEC

typedef T N_(v_) __attribute__((vector_size(VB)));
typedef IT N_(vi_) __attribute__((vector_size(VB)));
#define V N_(v_)
#define VI N_(vi_)
#define W ((int)(VB / sizeof(T)))     /* lanes */
#define NRW (2 * W)                    /* columns of a micro-tile: two vectors */
#define NV (QB / W)                    /* vectors in a row of QB columns */

/* max(a, b) lane by lane; a NaN in b is kept (maxps returns its second operand then) */
#if DW_X86 && VB == 16 && ISDBL
#define VMAX(a, b) ((V)_mm_max_pd((__m128d)(a), (__m128d)(b)))
#elif DW_X86 && VB == 16
#define VMAX(a, b) ((V)_mm_max_ps((__m128)(a), (__m128)(b)))
#elif DW_X86 && VB == 32 && ISDBL
#define VMAX(a, b) ((V)_mm256_max_pd((__m256d)(a), (__m256d)(b)))
#elif DW_X86 && VB == 32
#define VMAX(a, b) ((V)_mm256_max_ps((__m256)(a), (__m256)(b)))
#elif DW_X86 && VB == 64 && ISDBL
#define VMAX(a, b) ((V)_mm512_max_pd((__m512d)(a), (__m512d)(b)))
#elif DW_X86 && VB == 64
#define VMAX(a, b) ((V)_mm512_max_ps((__m512)(a), (__m512)(b)))
#else
#define VMAX(a, b) N_(vmax_)(a, b)
ATTR DW_INLINE V N_(vmax_)(V a, V b)
{
    const VI gt = (VI)(a > b);
    return (V)(((VI)a & gt) | ((VI)b & ~gt));
}
#endif

/* 2^x for x <= 0, -inf (gives exactly 0) and NaN (gives NaN): 2ⁿ · 2^f, with
 * n = round(x), f in [-1/2, 1/2], 2^f a polynomial (double: Taylor of e^(f ln 2) to
 * degree 13, 2e-16; float: degree 5 fitted for least relative error, 2e-7), 2ⁿ put together in the exponent bits; below
 * the normal range n gives 0. Callers pass x = s · log2(e) − shift · log2(e). */
ATTR DW_INLINE V N_(exp2v)(V x)
{
#if ISDBL   /* magic = 1.5·2⁵² + 1023: t = x + magic holds n + 1023 in its low bits */
    const V lo = (V){0} + (T)-1023.0, magic = (V){0} + (T)6755399441056767.0;
#else       /* magic = 1.5·2²³ + 127: t = x + magic holds n + 127 in its low bits */
    const V lo = (V){0} + (T)-127.0, magic = (V){0} + (T)12583039.0;
#endif
    x = VMAX(lo, x);                                       /* -inf → lo → 2ⁿ = 0 */
    const V t = x + magic;                                 /* rounds x to an integer n */
    const V f = x - (t - magic);                           /* t − magic = n exactly */
#if ISDBL
    V p = (V){0} + (T)1.3691488853904124e-12;                          /* Σ (f ln2)^k / k!, k <= 13 */
    p = p * f + (T)2.5678435993488196e-11;
    p = p * f + (T)4.44553827187081e-10;
    p = p * f + (T)7.054911620801121e-09;
    p = p * f + (T)1.0178086009239696e-07;
    p = p * f + (T)1.3215486790144305e-06;
    p = p * f + (T)1.5252733804059838e-05;
    p = p * f + (T)0.00015403530393381606;
    p = p * f + (T)0.0013333558146428441;
    p = p * f + (T)0.009618129107628477;
    p = p * f + (T)0.055504108664821576;
    p = p * f + (T)0.2402265069591007;
    p = p * f + (T)0.6931471805599453;
    p = p * f + (T)1.0;
    const VI e = (VI)t << 52;                              /* (n + 1023) in the exponent */
#else
    /* 1 + f·q(f), q of degree 4 fitted for the least relative error on [-1/2, 1/2]
     * (about 9e-8 in exact arithmetic, 2e-7 evaluated in float; p(0) = 1 exactly) */
    V p = (V){0} + (T)0.0013264727186626211;
    p = p * f + (T)0.0096715127165369;
    p = p * f + (T)0.055507337439988036;
    p = p * f + (T)0.24022242084168177;
    p = p * f + (T)0.6931469775983218;
    p = p * f + (T)1.0;
    const VI e = (VI)t << 23;                              /* (n + 127) in the exponent */
#endif
    return p * (V)e;
}

/* Sᵀ rows [0, mr) × one panel of NRW query columns: st[r, ·] = Σ_e kk[r, e] · qp[e, ·];
 * with mxp (the panel's two running-max vectors), also their maxima while in registers */
ATTR DW_INLINE void N_(st_tile)(T *restrict st, const T *restrict kk, int64_t ldk,
                                const T *restrict qp, int64_t E, const int mr, V *mxp)
{
    V a0[MR], a1[MR];
    _Pragma("GCC unroll 6")
    for (int r = 0; r < MR; r++) { a0[r] = (V){0}; a1[r] = (V){0}; }
    for (int64_t e = 0; e < E; e++) {
        const V b0 = *(const V *)(qp + e * NRW), b1 = *(const V *)(qp + e * NRW + W);
        _Pragma("GCC unroll 6")
        for (int r = 0; r < mr; r++) {
            const V x = kk[r * ldk + e] - (V){0};
            a0[r] += x * b0;
            a1[r] += x * b1;
        }
    }
    _Pragma("GCC unroll 6")
    for (int r = 0; r < mr; r++) {
        *(V *)(st + r * QB) = a0[r];
        *(V *)(st + r * QB + W) = a1[r];
    }
    if (mxp != NULL) {
        V m0 = mxp[0], m1 = mxp[1];
        _Pragma("GCC unroll 6")
        for (int r = 0; r < mr; r++) { m0 = VMAX(m0, a0[r]); m1 = VMAX(m1, a1[r]); }
        mxp[0] = m0;
        mxp[1] = m1;
    }
}

/* Oᵀ rows [0, mr) × one panel: ot[r, ·] = α · ot[r, ·] + Σ_j vv[j, r] · pt[j, ·] */
ATTR DW_INLINE void N_(pv_tile)(T *restrict ot, const T *restrict vv, int64_t ldv,
                                const T *restrict pt, int64_t nb, V al0, V al1, const int mr)
{
    V a0[MR], a1[MR];
    _Pragma("GCC unroll 6")
    for (int r = 0; r < mr; r++) {
        a0[r] = *(const V *)(ot + r * QB) * al0;
        a1[r] = *(const V *)(ot + r * QB + W) * al1;
    }
    for (int64_t j = 0; j < nb; j++) {
        const V b0 = *(const V *)(pt + j * QB), b1 = *(const V *)(pt + j * QB + W);
        _Pragma("GCC unroll 6")
        for (int r = 0; r < mr; r++) {
            const V x = vv[j * ldv + r] - (V){0};
            a0[r] += x * b0;
            a1[r] += x * b1;
        }
    }
    _Pragma("GCC unroll 6")
    for (int r = 0; r < mr; r++) {
        *(V *)(ot + r * QB) = a0[r];
        *(V *)(ot + r * QB + W) = a1[r];
    }
}

#define DW_SWITCH_MR(mr, CALL)                                                             \
    switch (mr) {                                                                          \
    case 6: CALL(6); break;                                                                \
    case 5: CALL(5); break;                                                                \
    case 4: CALL(4); break;                                                                \
    case 3: CALL(3); break;                                                                \
    case 2: CALL(2); break;                                                                \
    default: CALL(1); break;                                                               \
    }

/* One sub-tile of QB query rows (r0 .. r0 + nq) keeps its state in tw: q̃ (E × QB), Oᵀ
 * (Ev × QB) and five per-query rows (running max, sum, shift, α, the shift in use); st is
 * the Sᵀ / Pᵀ scratch (BK × QB) that the sub-tiles of an item take turns with. */
#define DW_TILE_VARS \
    const T *q = (const T *)it->q, *k = (const T *)it->k, *v = (const T *)it->v; \
    T *o = (T *)it->o; \
    const int64_t S = it->S, E = it->E, Ev = it->Ev; \
    const int64_t ldq = it->ldq, ldk = it->ldk, ldv = it->ldv, ldo = it->ldo; \
    const int causal = it->causal; \
    T *qt = tw;                         /* q̃, panel-major: [panel][e][NRW] */ \
    T *ot = qt + E * QB;                /* Oᵀ: [Ev][QB] */ \
    T *mrun = ot + Ev * QB, *lrun = mrun + QB, *shift = lrun + QB, *alpha = shift + QB; \
    T *used = alpha + QB;               /* the previous block's shift, or -inf */ \
    /* scores in log2 units: q̃ = q · scale · log2(e), so exp(s) = 2^(q̃·k) */ \
    const T scale = (T)(it->scale * 1.4426950408889634), ninf = (T)-INFINITY; \
    const T log2e = (T)1.4426950408889634; \
    const int NP = QB / NRW; \
    (void)q; (void)k; (void)v; (void)o; (void)S; (void)ldq; (void)ldk; (void)ldv; (void)ldo; \
    (void)causal; (void)qt; (void)ot; (void)mrun; (void)lrun; (void)shift; (void)alpha; \
    (void)used; (void)scale; (void)ninf; (void)log2e; (void)NP;

static inline size_t N_(tile_elems)(int64_t E, int64_t Ev) { return (size_t)(E + Ev + 5) * QB; }

/* the sub-tile's start: q̃ packed (scaled), Oᵀ = 0, m = -inf, ℓ = 0 */
ATTR static void N_(tile_init)(const dw_item *it, const int64_t r0, const int64_t nq, T *tw, T *st)
{
    DW_TILE_VARS
    (void)st;
    for (int p = 0; p < NP; p++)
        for (int c = 0; c < NRW; c++) {
            const int64_t i = p * NRW + c;
            T *dst = qt + (int64_t)p * E * NRW + c;
            if (i < nq) {
                const T *src = q + (r0 + i) * ldq;
                for (int64_t e = 0; e < E; e++) dst[e * NRW] = src[e] * scale;
            } else {
                for (int64_t e = 0; e < E; e++) dst[e * NRW] = 0;
            }
        }
    memset(ot, 0, (size_t)(Ev * QB) * sizeof(T));
    for (int i = 0; i < QB; i++) { mrun[i] = ninf; used[i] = ninf; lrun[i] = 0; }

}

/* keys j0 .. j0 + nb of the sub-tile: scores, masks, online softmax, Oᵀ update */
ATTR static void N_(tile_block)(const dw_item *it, const int64_t r0, const int64_t nq, T *tw, T *st,
                                const int64_t j0, const int64_t nb)
{
    DW_TILE_VARS
    const int diag = causal && j0 + nb - 1 > r0;   /* some key j > some query i */
    /* a block with nothing to mask takes its maxima from the score micro-kernel */
    const int fused = !diag && it->mkind == 0;
    V bmx[NV];
    _Pragma("GCC unroll 16")
    for (int c = 0; c < NV; c++) bmx[c] = (V){0} + ninf;

    /* scores: Sᵀ = k[j0 : j0 + nb] q̃ (a micro-tile's 6 key rows stay in L1 for every panel) */
    for (int64_t jr = 0; jr < nb; jr += MR) {
        const int mr = nb - jr < MR ? (int)(nb - jr) : MR;
        const T *kk = k + (j0 + jr) * ldk;
        for (int p = 0; p < NP; p++) {
            if (diag && j0 + jr > r0 + (int64_t)p * NRW + NRW - 1) continue;  /* masked */
            T *dst = st + jr * QB + p * NRW;
            const T *qp = qt + (int64_t)p * E * NRW;
            V *mxp = fused ? bmx + 2 * p : NULL;
#define DW_ST(m) N_(st_tile)(dst, kk, ldk, qp, E, m, mxp)
            DW_SWITCH_MR(mr, DW_ST)
#undef DW_ST
        }
    }
    if (diag) {                      /* key j > query i: -inf (covers skipped tiles) */
        for (int64_t j = 0; j < nb; j++) {
            int64_t cut = j0 + j - r0;
            if (cut <= 0) continue;
            if (cut > QB) cut = QB;
            T *row = st + j * QB;
            for (int64_t i = 0; i < cut; i++) row[i] = ninf;
        }
    }
    if (it->mkind == 1) {
        const uint8_t *m = (const uint8_t *)it->mask;
        for (int64_t i = 0; i < nq; i++) {
            const uint8_t *mr_ = m + (r0 + i) * it->msi + j0 * it->msj;
            for (int64_t j = 0; j < nb; j++)
                if (!mr_[j * it->msj]) st[j * QB + i] = ninf;
        }
    } else if (it->mkind == 2) {
        const T *m = (const T *)it->mask;
        for (int64_t i = 0; i < nq; i++) {
            const T *mr_ = m + (r0 + i) * it->msi + j0 * it->msj;
            for (int64_t j = 0; j < nb; j++) st[j * QB + i] += mr_[j * it->msj] * log2e;
        }
    }

    /* running max, shift (0 while a query has seen only -inf), rescale factor */
    V mx[NV], sm[NV];
    _Pragma("GCC unroll 16")
    for (int c = 0; c < NV; c++) { mx[c] = *(const V *)(mrun + c * W); sm[c] = (V){0}; }
    if (fused) {
        _Pragma("GCC unroll 16")
        for (int c = 0; c < NV; c++) mx[c] = VMAX(mx[c], bmx[c]);
    } else {
        for (int64_t j = 0; j < nb; j++) {
            _Pragma("GCC unroll 16")
            for (int c = 0; c < NV; c++) mx[c] = VMAX(mx[c], *(const V *)(st + j * QB + c * W));
        }
    }
    _Pragma("GCC unroll 16")
    for (int c = 0; c < NV; c++) {
        const VI isninf = (VI)(mx[c] == (V){0} + ninf);
        const V sh = (V)((VI)mx[c] & ~isninf);
        /* α from the shifts actually used (their rounding cancels), 0 after only -inf */
        *(V *)(alpha + c * W) = N_(exp2v)(*(const V *)(used + c * W) - sh);
        *(V *)(used + c * W) = (V)(((VI)sh & ~isninf) | ((VI)((V){0} + ninf) & isninf));
        *(V *)(shift + c * W) = sh;
        *(V *)(mrun + c * W) = mx[c];
    }
    /* Pᵀ = exp(Sᵀ − shift) in place, and its column sums */
    for (int64_t j = 0; j < nb; j++) {
        T *row = st + j * QB;
        _Pragma("GCC unroll 16")
        for (int c = 0; c < NV; c++) {
            const V pv = N_(exp2v)(*(const V *)(row + c * W) - *(const V *)(shift + c * W));
            *(V *)(row + c * W) = pv;
            sm[c] += pv;
        }
    }
    _Pragma("GCC unroll 16")
    for (int c = 0; c < NV; c++)
        *(V *)(lrun + c * W) = *(const V *)(alpha + c * W) * *(const V *)(lrun + c * W) + sm[c];

    /* Oᵀ = α Oᵀ + v[j0 : j0 + nb]ᵀ Pᵀ (rows of Pᵀ past a panel's last query are 0) */
    for (int p = 0; p < NP; p++) {
        int64_t nbp = nb;
        if (diag) {
            const int64_t lim = r0 + (int64_t)p * NRW + NRW - j0;
            nbp = lim < 0 ? 0 : (lim < nb ? lim : nb);
        }
        const V al0 = *(const V *)(alpha + p * NRW), al1 = *(const V *)(alpha + p * NRW + W);
        const T *pt = st + p * NRW;
        for (int64_t c0 = 0; c0 < Ev; c0 += MR) {
            const int mr = Ev - c0 < MR ? (int)(Ev - c0) : MR;
            T *dst = ot + c0 * QB + p * NRW;
            const T *vv = v + j0 * ldv + c0;
#define DW_PV(m) N_(pv_tile)(dst, vv, ldv, pt, nbp, al0, al1, m)
            DW_SWITCH_MR(mr, DW_PV)
#undef DW_PV
        }
    }
}

/* the sub-tile's end: its output rows */
ATTR static void N_(tile_finish)(const dw_item *it, const int64_t r0, const int64_t nq, T *tw, T *st)
{
    DW_TILE_VARS
    (void)st;
    /* out[i, c] = Oᵀ[c, i] / ℓ[i]; ℓ = 0 (every key masked) gives 0, a NaN stays NaN */
    for (int64_t i = 0; i < nq; i++) {
        const T l = lrun[i];
        T *dst = o + (r0 + i) * ldo;
        if (l > 0) {
            const T inv = (T)1 / l;
            for (int64_t c = 0; c < Ev; c++) dst[c] = ot[c * QB + i] * inv;
        } else {
            const T fill = l == l ? (T)0 : l;
            for (int64_t c = 0; c < Ev; c++) dst[c] = fill;
        }
    }
}

/*
 * One work item: it->nq <= it->group · QB query rows from it->r0, as sub-tiles of QB rows
 * that walk the key blocks together, so that each block of k and v (BK rows) is read from
 * memory once per item and then used by every sub-tile while it is in cache (with one
 * sub-tile per item, a long k and v would be streamed from L3 for every 32 queries).
 */
ATTR static int N_(dw_item_)(const dw_item *it, void *work_)
{
    const int64_t G = (it->nq + QB - 1) / QB, E = it->E, Ev = it->Ev;
    T *st = (T *)work_, *tw = st + BK * QB;
    const size_t per = N_(tile_elems)(E, Ev);
    int64_t kmax = 0;
    for (int64_t g = 0; g < G; g++) {
        const int64_t r0 = it->r0 + g * QB, nq = it->nq - g * QB < QB ? it->nq - g * QB : QB;
        N_(tile_init)(it, r0, nq, tw + g * per, st);
        const int64_t kend = it->causal ? (it->S < r0 + nq ? it->S : r0 + nq) : it->S;
        kmax = kend > kmax ? kend : kmax;
    }
    for (int64_t j0 = 0; j0 < kmax; j0 += BK)
        for (int64_t g = 0; g < G; g++) {
            const int64_t r0 = it->r0 + g * QB, nq = it->nq - g * QB < QB ? it->nq - g * QB : QB;
            const int64_t kend = it->causal ? (it->S < r0 + nq ? it->S : r0 + nq) : it->S;
            if (j0 >= kend) continue;
            N_(tile_block)(it, r0, nq, tw + g * per, st, j0, kend - j0 < BK ? kend - j0 : BK);
        }
    for (int64_t g = 0; g < G; g++) {
        const int64_t r0 = it->r0 + g * QB, nq = it->nq - g * QB < QB ? it->nq - g * QB : QB;
        N_(tile_finish)(it, r0, nq, tw + g * per, st);
    }
    return N_(check_inputs)(it) | N_(check_output)(it);
}

#undef DW_TILE_VARS

#undef W
#undef NRW
#undef NV
#undef V
#undef VI
#undef VMAX

#else  /* !DW_VEC: scalar reference of the same algorithm (row by row) */

static int N_(dw_item_)(const dw_item *it, void *work_)
{
    const T *q = (const T *)it->q, *k = (const T *)it->k, *v = (const T *)it->v;
    T *o = (T *)it->o;
    T *s = (T *)work_, *acc = s + BK;
    for (int64_t i = it->r0; i < it->r0 + it->nq; i++) {
        const int64_t kend = it->causal ? (it->S < i + 1 ? it->S : i + 1) : it->S;
        T m = (T)-INFINITY, l = 0;
        for (int64_t c = 0; c < it->Ev; c++) acc[c] = 0;
        for (int64_t j0 = 0; j0 < kend; j0 += BK) {
            const int64_t nb = kend - j0 < BK ? kend - j0 : BK;
            T mn = m;
            for (int64_t j = 0; j < nb; j++) {
                T d = 0;
                for (int64_t e = 0; e < it->E; e++)
                    d += q[i * it->ldq + e] * (T)it->scale * k[(j0 + j) * it->ldk + e];
                if (it->mkind == 1 &&
                    !((const uint8_t *)it->mask)[i * it->msi + (j0 + j) * it->msj])
                    d = (T)-INFINITY;
                else if (it->mkind == 2)
                    d += ((const T *)it->mask)[i * it->msi + (j0 + j) * it->msj];
                s[j] = d;
                if (d > mn) mn = d;
            }
            const T sh = mn == (T)-INFINITY ? 0 : mn, a = exp(m - sh);
            l *= a;
            for (int64_t c = 0; c < it->Ev; c++) acc[c] *= a;
            for (int64_t j = 0; j < nb; j++) {
                const T p = exp(s[j] - sh);
                l += p;
                for (int64_t c = 0; c < it->Ev; c++) acc[c] += p * v[(j0 + j) * it->ldv + c];
            }
            m = mn;
        }
        for (int64_t c = 0; c < it->Ev; c++)
            o[i * it->ldo + c] = l > 0 ? acc[c] / l : (l == l ? (T)0 : l);
    }
    return N_(check_inputs)(it) | N_(check_output)(it);
}

#endif /* DW_VEC */

#undef N_
#undef N_ATTR
#undef QB
#undef BK
#undef MR

#endif /* DW_ATTN_BODY */
