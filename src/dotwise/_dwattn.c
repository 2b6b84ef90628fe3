/*
 * dotwise._dwattn — fused scaled dot-product attention for the CPU.
 *
 * out = softmax(q kᵀ · scale + mask) v for one batch of 2-D slices, computed tile by
 * tile so that no L × S matrix is ever written. Called through ctypes by
 * dotwise/_attn.py; ctypes releases the GIL, so several threads call dw_attn_* at once
 * and share the work through an atomic counter of work items.
 *
 * Work item = one slice × one tile of QB = 64 query rows. For a tile, keys are taken
 * BK at a time and the scores are kept *transposed*, one row per key and one column
 * per query:
 *
 *     Sᵀ[j, i] = Σ_e k[j, e] · q̃[e, i]           q̃ = (q_tile · scale)ᵀ, packed once
 *
 * so that everything the online softmax keeps per query (running max m, running sum
 * ℓ, the rescale factor α) is one vector register wide across queries, and both tile
 * products read k and v as they lie in memory (row-major, any row stride):
 *
 *     m' = max(m, max_j Sᵀ[j, ·]),   α = exp(m − m'),   Pᵀ = exp(Sᵀ − m'),
 *     ℓ' = α ℓ + Σ_j Pᵀ[j, ·],       Oᵀ[c, ·] = α Oᵀ[c, ·] + Σ_j v[j, c] Pᵀ[j, ·]
 *
 * and out[i, c] = Oᵀ[c, i] / ℓ[i] at the end (0 where ℓ = 0: every key masked). Both
 * products are register-blocked micro-kernels (MR = 6 rows × two vectors of columns,
 * 12 accumulators); exp is a polynomial in vector registers (2ⁿ · p(f) with the exponent
 * put together in integer bits). Masks: a boolean mask (True = takes part, uint8) or a
 * float mask added to the scores, both with arbitrary strides (0 = broadcast);
 * is_causal masks j > i and skips the key blocks and micro-tiles that lie wholly above
 * the diagonal. Extra memory: one work buffer of QB·(E + BK + Ev) values per thread.
 *
 * Runtime ISA dispatch as in _dwconv.c: the body below is compiled three times, for
 * AVX-512 (64-byte vectors), AVX2+FMA (32 bytes) and a baseline (16 bytes), and
 * dw_attn_* picks the widest variant the CPU supports at the first call (dw_attn_isa
 * says which; dw_attn_force_isa narrows it for tests and benchmarks).
 *
 * A small CPython module init is included only so that setuptools can build this file
 * as an extension module; it exposes no functions.
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

#ifndef DW_QB
#define DW_QB 64     /* query rows per tile: the width of every per-query vector row */
#endif
#ifndef DW_BK
#define DW_BK 128    /* keys per block: the score tile is DW_BK × DW_QB */
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
    double scale;
} dw_item;

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

typedef void (*dw_item_fn)(const dw_item *, void *);

/* Work buffer of one thread, in elements: q̃ (E × QB), Sᵀ (BK × QB), Oᵀ (Ev × QB), and
 * five per-query rows (m, ℓ, shift, α, the shift in use). */
static size_t dw_work_elems(int64_t E, int64_t Ev)
{
    return (size_t)(E + DW_BK + Ev + 5) * DW_QB;
}

/*
 * The exported entry point (S = f, d). Every calling thread takes work items from
 * *counter until none is left; an item t is slice t / ntiles and query tile t % ntiles
 * (the heavy tiles first when causal, so that the threads finish together).
 *
 * offs holds, per slice, the element offsets of q, k, v, out and mask from the base
 * pointers; ld = {ldq, ldk, ldv, ldo, msi, msj}. Returns 0, or -1 when the work buffer
 * cannot be allocated.
 */
#define DW_ENTRY(TT, SX)                                                                    \
int dw_attn_##SX(const TT *q, const TT *k, const TT *v, TT *o, const void *mask,            \
                const int64_t *offs, int64_t nslices, int64_t L, int64_t S_,              \
                int64_t E, int64_t Ev, const int64_t *ld, int mkind, int causal,           \
                double scale, int64_t *counter)                                            \
{                                                                                          \
    static const dw_item_fn variants[3] = {                                                \
        DW_CAT(dw_item_, SX##_base),                                                        \
        DW_VARIANTS_##SX                                                                    \
    };                                                                                     \
    const dw_item_fn fn = variants[dw_attn_isa()];                                         \
    const int64_t ntiles = (L + DW_QB - 1) / DW_QB, nitems = ntiles * nslices;           \
    void *work = NULL;                                                                     \
    size_t bytes = dw_work_elems(E, Ev) * sizeof(TT);                                      \
    bytes = (bytes + 63) / 64 * 64;                                                        \
    const size_t mbytes = mkind == 1 ? 1 : sizeof(TT);                                     \
    for (;;) {                                                                             \
        const int64_t t = __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);                \
        if (t >= nitems) break;                                                            \
        if (work == NULL && (work = aligned_alloc(64, bytes)) == NULL) return -1;          \
        const int64_t s = t / ntiles, tile = causal ? ntiles - 1 - t % ntiles : t % ntiles; \
        const int64_t *of = offs + 5 * s;                                                  \
        dw_item it;                                                                        \
        it.q = q + of[0]; it.k = k + of[1]; it.v = v + of[2]; it.o = o + of[3];            \
        it.mask = mkind ? (const void *)((const char *)mask + of[4] * (int64_t)mbytes) : NULL; \
        it.mkind = mkind; it.causal = causal;                                              \
        it.r0 = tile * DW_QB;                                                              \
        it.nq = L - it.r0 < DW_QB ? L - it.r0 : DW_QB;                                     \
        it.S = S_; it.E = E; it.Ev = Ev;                                                   \
        it.ldq = ld[0]; it.ldk = ld[1]; it.ldv = ld[2]; it.ldo = ld[3];                    \
        it.msi = ld[4]; it.msj = ld[5];                                                    \
        it.scale = scale;                                                                  \
        fn(&it, work);                                                                     \
    }                                                                                      \
    free(work);                                                                            \
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
                    double scale, int64_t *counter, int nthreads)                          \
{                                                                                          \
    int failed = 0;                                                                        \
    (void)nthreads;                                                                        \
    _Pragma("omp parallel num_threads(nthreads) reduction(|:failed)")                      \
    failed |= dw_attn_##SX(q, k, v, o, mask, offs, nslices, L, S_, E, Ev, ld, mkind,       \
                           causal, scale, counter) != 0;                                   \
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

static struct PyModuleDef dw_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_dwattn",
    .m_doc = "Fused attention kernel of dotwise (called through ctypes by dotwise._attn).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__dwattn(void) { return PyModule_Create(&dw_module); }

#else /* ======================== DW_ATTN_BODY: one variant ======================== */

#define N_(name) DW_CAT(name, SUF)
#define QB DW_QB
#define BK DW_BK
#define MR DW_MR

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
 * n = round(x), f in [-1/2, 1/2], 2^f a Taylor polynomial of e^(f ln 2) (relative error
 * about 1e-7 for float, 2e-16 for double), 2ⁿ put together in the exponent bits; below
 * the normal range n gives 0. Callers pass x = s · log2(e) − shift · log2(e). */
ATTR DW_INLINE V N_(exp2v)(V x)
{
#if ISDBL
    const V lo = (V){0} + (T)-1023.0, magic = (V){0} + (T)6755399441055744.0;  /* 1.5·2⁵² */
#else
    const V lo = (V){0} + (T)-127.0, magic = (V){0} + (T)12582912.0;           /* 1.5·2²³ */
#endif
    x = VMAX(lo, x);                                       /* -inf → lo → 2ⁿ = 0 */
    const V t = x + magic;                                 /* n = round(x) in t's low bits */
    const V f = x - (t - magic);
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
    const VI e = ((VI)t + (IT)1023) << 52;
#else
    V p = (V){0} + (T)0.00015403530393381606;                           /* Σ (f ln2)^k / k!, k <= 6 */
    p = p * f + (T)0.0013333558146428441;
    p = p * f + (T)0.009618129107628477;
    p = p * f + (T)0.055504108664821576;
    p = p * f + (T)0.2402265069591007;
    p = p * f + (T)0.6931471805599453;
    p = p * f + (T)1.0;
    const VI e = ((VI)t + (IT)127) << 23;
#endif
    return p * (V)e;
}

/* Sᵀ rows [0, mr) × one panel of NRW query columns: st[r, ·] = Σ_e kk[r, e] · qp[e, ·] */
ATTR DW_INLINE void N_(st_tile)(T *restrict st, const T *restrict kk, int64_t ldk,
                                const T *restrict qp, int64_t E, const int mr)
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

ATTR static void N_(dw_item_)(const dw_item *it, void *work_)
{
    const T *q = (const T *)it->q, *k = (const T *)it->k, *v = (const T *)it->v;
    T *o = (T *)it->o;
    const int64_t r0 = it->r0, nq = it->nq, S = it->S, E = it->E, Ev = it->Ev;
    const int64_t ldq = it->ldq, ldk = it->ldk, ldv = it->ldv, ldo = it->ldo;
    const int causal = it->causal;
    T *qt = (T *)work_;                 /* q̃, panel-major: [panel][e][NRW] */
    T *st = qt + E * QB;                /* Sᵀ / Pᵀ: [BK][QB] */
    T *ot = st + BK * QB;               /* Oᵀ: [Ev][QB] */
    T *mrun = ot + Ev * QB, *lrun = mrun + QB, *shift = lrun + QB, *alpha = shift + QB;
    T *used = alpha + QB;               /* the previous block's shift (log2 units), or -inf */
    const T scale = (T)it->scale, ninf = (T)-INFINITY;
    const int NP = QB / NRW;

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

    const int64_t kend = causal ? (S < r0 + nq ? S : r0 + nq) : S;
    for (int64_t j0 = 0; j0 < kend; j0 += BK) {
        const int64_t nb = kend - j0 < BK ? kend - j0 : BK;
        const int diag = causal && j0 + nb - 1 > r0;   /* some key j > some query i */

        /* scores: Sᵀ = k[j0 : j0 + nb] q̃ (a micro-tile's 6 key rows stay in L1 for every panel) */
        for (int64_t jr = 0; jr < nb; jr += MR) {
            const int mr = nb - jr < MR ? (int)(nb - jr) : MR;
            const T *kk = k + (j0 + jr) * ldk;
            for (int p = 0; p < NP; p++) {
                if (diag && j0 + jr > r0 + (int64_t)p * NRW + NRW - 1) continue;  /* masked */
                T *dst = st + jr * QB + p * NRW;
                const T *qp = qt + (int64_t)p * E * NRW;
#define DW_ST(m) N_(st_tile)(dst, kk, ldk, qp, E, m)
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
                for (int64_t j = 0; j < nb; j++) st[j * QB + i] += mr_[j * it->msj];
            }
        }

        /* running max, shift (0 while a query has seen only -inf), rescale factor */
        V mx[NV], sm[NV];
        _Pragma("GCC unroll 16")
        for (int c = 0; c < NV; c++) { mx[c] = *(const V *)(mrun + c * W); sm[c] = (V){0}; }
        for (int64_t j = 0; j < nb; j++) {
            _Pragma("GCC unroll 16")
            for (int c = 0; c < NV; c++) mx[c] = VMAX(mx[c], *(const V *)(st + j * QB + c * W));
        }
        const T log2e = (T)1.4426950408889634;            /* exp(x) = 2^(x log2 e) */
        _Pragma("GCC unroll 16")
        for (int c = 0; c < NV; c++) {
            const VI isninf = (VI)(mx[c] == (V){0} + ninf);
            const V sh = (V)((VI)(mx[c] * log2e) & ~isninf);
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
                const V pv = N_(exp2v)(*(const V *)(row + c * W) * log2e
                                       - *(const V *)(shift + c * W));
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

#undef W
#undef NRW
#undef NV
#undef V
#undef VI
#undef VMAX

#else  /* !DW_VEC: scalar reference of the same algorithm (row by row) */

static void N_(dw_item_)(const dw_item *it, void *work_)
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
}

#endif /* DW_VEC */

#undef N_
#undef QB
#undef BK
#undef MR

#endif /* DW_ATTN_BODY */
