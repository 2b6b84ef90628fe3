/* Running top-k selection for similarity search (private; loaded by dotwise/search/_native.py).
 *
 * Every query keeps a bounded heap of its k best (score, id) pairs. The root of the heap
 * is the *worst* kept pair, so it is also the threshold a new score must reach. The order is
 * total: a pair is better when its score is higher, or when the scores are equal and its id
 * is smaller. A score that is not finite (NaN, +inf from an overflow, -inf for a masked row)
 * is never kept. The NumPy code in dotwise/search/_kernel.py is the reference for each
 * function here and the fallback when this file was not compiled.
 *
 * dw_topk_push_{f,d}   — merge an (m x w) score tile into m heaps (after a GEMM block, or to
 *                         merge the heaps of several threads);
 * dw_topk_sort_{f,d}   — turn heaps into best-first rows (missing slots: -inf and id -1);
 * dw_ivf_scan_{f,d}    — an inverted-file search: for each list, the dot products of the
 *                         queries that probe it with the list's rows, pushed into their heaps
 *                         (also the exact search of up to 8 queries: one list, every row);
 * dw_topk_gemm_f       — exact float32 search of many queries: a register-blocked product
 *                         whose scores meet the thresholds in registers (AVX2+FMA; at the end).
 *
 * Callers pass trusted, C-contiguous arrays; ctypes releases the GIL during each call, so
 * threads working on disjoint heaps run in parallel.
 */
#include <stdint.h>
#include <math.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DW_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DW_CLONES
#endif

#define DW_CHUNK 32   /* columns tested at once before any candidate is looked at */
#define DW_RB 256     /* rows of a list scored together in dw_ivf_scan */
#ifndef DW_AHEAD
#define DW_AHEAD 16   /* rows ahead that a one-query scan prefetches */
#endif

#define DW_TOPK(S, T, V, VL)                                                                 \
typedef T dw_v##S __attribute__((vector_size(32)));                                           \
typedef T dw_vu##S __attribute__((vector_size(32), aligned(sizeof(T)), may_alias));           \
                                                                                              \
static inline __attribute__((always_inline)) int dw_better_##S(T s1, int64_t i1, T s2, int64_t i2)                          \
{                                                                                             \
    return s1 > s2 || (s1 == s2 && i1 < i2);                                                  \
}                                                                                             \
                                                                                              \
static inline __attribute__((always_inline)) int dw_finite_##S(T v) { return v - v == (T)0; }                               \
                                                                                              \
/* heap of n pairs, worst at the root: no child is worse than its parent */                   \
static inline __attribute__((always_inline)) void dw_sift_down_##S(T *hs, int64_t *hi, int64_t n, int64_t pos)                     \
{                                                                                             \
    T s = hs[pos];                                                                            \
    int64_t id = hi[pos];                                                                     \
    for (;;) {                                                                                \
        int64_t c = 2 * pos + 1;                                                              \
        if (c >= n) break;                                                                    \
        if (c + 1 < n && dw_better_##S(hs[c], hi[c], hs[c + 1], hi[c + 1])) c++;              \
        if (!dw_better_##S(s, id, hs[c], hi[c])) break;                                       \
        hs[pos] = hs[c]; hi[pos] = hi[c]; pos = c;                                            \
    }                                                                                         \
    hs[pos] = s; hi[pos] = id;                                                                \
}                                                                                             \
                                                                                              \
static inline __attribute__((always_inline)) void dw_sift_up_##S(T *hs, int64_t *hi, int64_t pos)                                  \
{                                                                                             \
    T s = hs[pos];                                                                            \
    int64_t id = hi[pos];                                                                     \
    while (pos > 0) {                                                                         \
        int64_t p = (pos - 1) / 2;                                                            \
        if (!dw_better_##S(hs[p], hi[p], s, id)) break;                                       \
        hs[pos] = hs[p]; hi[pos] = hi[p]; pos = p;                                            \
    }                                                                                         \
    hs[pos] = s; hi[pos] = id;                                                                \
}                                                                                             \
                                                                                              \
/* offer (v, id) to one heap; returns the new threshold (-inf while not full) */              \
static inline __attribute__((always_inline)) T dw_offer_##S(T *hs, int64_t *hi, int64_t *cnt, int64_t k, T v, int64_t id,   \
                             T thr)                                                           \
{                                                                                             \
    if (*cnt < k) {                                                                           \
        hs[*cnt] = v; hi[*cnt] = id;                                                          \
        dw_sift_up_##S(hs, hi, *cnt);                                                         \
        (*cnt)++;                                                                             \
        return *cnt == k ? hs[0] : thr;                                                       \
    }                                                                                         \
    if (dw_better_##S(v, id, hs[0], hi[0])) {                                                 \
        hs[0] = v; hi[0] = id;                                                                \
        dw_sift_down_##S(hs, hi, k, 0);                                                       \
    }                                                                                         \
    return hs[0];                                                                             \
}                                                                                             \
                                                                                              \
/* one row of scores s[0..w) into one heap; id of column j: ids[j] or base + j */             \
static inline __attribute__((always_inline)) void dw_row_##S(const T *s, int64_t w, const int64_t *ids, int64_t base,       \
                              const uint8_t *allowed, T *hs, int64_t *hi, int64_t *cnt,       \
                              int64_t k, T neg_inf)                                           \
{                                                                                             \
    T thr = *cnt < k ? neg_inf : hs[0];                                                       \
    for (int64_t j0 = 0; j0 < w; j0 += DW_CHUNK) {                                            \
        int64_t j1 = j0 + DW_CHUNK < w ? j0 + DW_CHUNK : w;                                   \
        int any = 0;                                                                          \
        if (j1 - j0 == DW_CHUNK) {                                                            \
            for (int64_t j = 0; j < DW_CHUNK; j++) any |= s[j0 + j] >= thr;                   \
        } else {                                                                              \
            for (int64_t j = j0; j < j1; j++) any |= s[j] >= thr;                             \
        }                                                                                     \
        if (!any) continue;                                                                   \
        for (int64_t j = j0; j < j1; j++) {                                                   \
            T v = s[j];                                                                       \
            if (!(v >= thr) || !dw_finite_##S(v)) continue;                                   \
            if (allowed && !allowed[j]) continue;                                             \
            thr = dw_offer_##S(hs, hi, cnt, k, v, ids ? ids[j] : base + j, thr);              \
        }                                                                                     \
    }                                                                                         \
}                                                                                             \
                                                                                              \
/* Rows i of the tile S (row stride lds) go to heap rows[i] (i when rows is NULL). Column j   \
 * scores S[i, j] * scale[j] + offset[j] (either may be NULL; S is overwritten then). Ids:   \
 * ids[i * ldi + j] when ids is given (ldi = 0: one id per column), else base + j. */        \
DW_CLONES                                                                                     \
int dw_topk_push_##S(T *Sm, int64_t m, int64_t w, int64_t lds, const T *scale,                \
                     const T *offset, const int64_t *ids, int64_t ldi, int64_t base,          \
                     const uint8_t *allowed, const int64_t *rows, T *hs, int64_t *hi,         \
                     int64_t *cnt, int64_t k, T neg_inf)                                      \
{                                                                                             \
    for (int64_t i = 0; i < m; i++) {                                                         \
        T *s = Sm + i * lds;                                                                  \
        if (scale && offset) {                                                                \
            for (int64_t j = 0; j < w; j++) s[j] = s[j] * scale[j] + offset[j];               \
        } else if (scale) {                                                                   \
            for (int64_t j = 0; j < w; j++) s[j] *= scale[j];                                 \
        } else if (offset) {                                                                  \
            for (int64_t j = 0; j < w; j++) s[j] += offset[j];                                \
        }                                                                                     \
        int64_t r = rows ? rows[i] : i;                                                       \
        dw_row_##S(s, w, ids ? ids + i * ldi : NULL, base, allowed, hs + r * k, hi + r * k,   \
                   cnt + r, k, neg_inf);                                                      \
    }                                                                                         \
    return 0;                                                                                 \
}                                                                                             \
                                                                                              \
/* heaps to best-first rows; slots past cnt get (neg_inf, -1) */                              \
int dw_topk_sort_##S(T *hs, int64_t *hi, int64_t *cnt, int64_t m, int64_t k, T neg_inf)      \
{                                                                                             \
    for (int64_t i = 0; i < m; i++) {                                                         \
        T *s = hs + i * k;                                                                    \
        int64_t *id = hi + i * k;                                                             \
        int64_t n = cnt[i];                                                                   \
        for (int64_t e = n - 1; e > 0; e--) {       /* the worst goes to the end */          \
            T ts = s[0]; int64_t ti = id[0];                                                  \
            s[0] = s[e]; id[0] = id[e];                                                       \
            s[e] = ts; id[e] = ti;                                                            \
            dw_sift_down_##S(s, id, e, 0);                                                    \
        }                                                                                     \
        for (int64_t e = n; e < k; e++) { s[e] = neg_inf; id[e] = -1; }                       \
    }                                                                                         \
    return 0;                                                                                 \
}                                                                                             \
                                                                                              \
static inline __attribute__((always_inline)) T dw_hsum_##S(dw_v##S v)                                                        \
{                                                                                             \
    /* pairwise: a chain of log2(VL) additions, not VL */                                    \
    for (int s = VL / 2; s >= 1; s /= 2)                                                      \
        for (int l = 0; l < s; l++) v[l] += v[l + s];                                         \
    return v[0];                                                                              \
}                                                                                             \
                                                                                              \
/* out[b * ldo + r] = q_b . x_r for nb <= 4 queries and nr rows of X (row stride d) */        \
static inline __attribute__((always_inline)) void dw_dots_##S(const T *const *q, int nb, const T *X, int64_t nr, int64_t d, \
                               T *out, int64_t ldo)                                           \
{                                                                                             \
    int64_t dv = d - d % VL;                                                                  \
    int64_t r = 0;                                                                            \
    if (nb == 4) {                                                                            \
        for (; r + 2 <= nr; r += 2) {                                                         \
            const T *x0 = X + r * d, *x1 = x0 + d;                                            \
            dw_v##S a00 = {0}, a01 = {0}, a10 = {0}, a11 = {0};                               \
            dw_v##S a20 = {0}, a21 = {0}, a30 = {0}, a31 = {0};                               \
            for (int64_t c = 0; c < dv; c += VL) {                                            \
                dw_v##S u = *(const dw_vu##S *)(x0 + c), w = *(const dw_vu##S *)(x1 + c);     \
                dw_v##S p;                                                                    \
                p = *(const dw_vu##S *)(q[0] + c); a00 += p * u; a01 += p * w;                \
                p = *(const dw_vu##S *)(q[1] + c); a10 += p * u; a11 += p * w;                \
                p = *(const dw_vu##S *)(q[2] + c); a20 += p * u; a21 += p * w;                \
                p = *(const dw_vu##S *)(q[3] + c); a30 += p * u; a31 += p * w;                \
            }                                                                                 \
            T t00 = dw_hsum_##S(a00), t01 = dw_hsum_##S(a01);                                 \
            T t10 = dw_hsum_##S(a10), t11 = dw_hsum_##S(a11);                                 \
            T t20 = dw_hsum_##S(a20), t21 = dw_hsum_##S(a21);                                 \
            T t30 = dw_hsum_##S(a30), t31 = dw_hsum_##S(a31);                                 \
            for (int64_t c = dv; c < d; c++) {                                                \
                t00 += q[0][c] * x0[c]; t01 += q[0][c] * x1[c];                               \
                t10 += q[1][c] * x0[c]; t11 += q[1][c] * x1[c];                               \
                t20 += q[2][c] * x0[c]; t21 += q[2][c] * x1[c];                               \
                t30 += q[3][c] * x0[c]; t31 += q[3][c] * x1[c];                               \
            }                                                                                 \
            out[r] = t00; out[r + 1] = t01;                                                   \
            out[ldo + r] = t10; out[ldo + r + 1] = t11;                                       \
            out[2 * ldo + r] = t20; out[2 * ldo + r + 1] = t21;                               \
            out[3 * ldo + r] = t30; out[3 * ldo + r + 1] = t31;                               \
        }                                                                                     \
    }                                                                                         \
    for (; r < nr; r++) {                                                                     \
        const T *x = X + r * d;                                                               \
        if (nb == 1)              /* one query streams X: ask for the rows ahead early */      \
            for (int64_t c = 0; c < d; c += 64 / (int64_t)sizeof(T))                          \
                __builtin_prefetch(x + DW_AHEAD * d + c);                                      \
        for (int b = 0; b < nb; b++) {                                                        \
            const T *qb = q[b];                                                               \
            dw_v##S a0 = {0}, a1 = {0};                                                       \
            int64_t c = 0;                                                                    \
            for (; c + 2 * VL <= dv; c += 2 * VL) {                                           \
                a0 += *(const dw_vu##S *)(qb + c) * *(const dw_vu##S *)(x + c);               \
                a1 += *(const dw_vu##S *)(qb + c + VL) * *(const dw_vu##S *)(x + c + VL);     \
            }                                                                                 \
            for (; c < dv; c += VL)                                                           \
                a0 += *(const dw_vu##S *)(qb + c) * *(const dw_vu##S *)(x + c);               \
            T t = dw_hsum_##S(a0 + a1);                                                       \
            for (c = dv; c < d; c++) t += qb[c] * x[c];                                       \
            out[b * ldo + r] = t;                                                             \
        }                                                                                     \
    }                                                                                         \
}                                                                                             \
                                                                                              \
/* For l < nl: list j = lists[l] holds rows offsets[j]..offsets[j+1] of X (n x d); the        \
 * queries gq[gptr[l]..gptr[l+1]) probe it. Each gets the scores (q . x) * xscale[row] +      \
 * xoff[row] (either may be NULL) of the list's allowed rows (allowed may be NULL) pushed     \
 * into its heap; the id of a row is ids[row] (row itself when ids is NULL). */              \
DW_CLONES                                                                                     \
int dw_ivf_scan_##S(const T *Q, int64_t d, const T *X, const T *xscale, const T *xoff,     \
                    const int64_t *ids,                                                       \
                    const uint8_t *allowed, const int64_t *offsets, const int64_t *lists,     \
                    int64_t nl, const int64_t *gptr, const int64_t *gq, T *hs, int64_t *hi,   \
                    int64_t *cnt, int64_t k, T neg_inf)                                       \
{                                                                                             \
    T buf[4 * DW_RB];                                                                         \
    for (int64_t l = 0; l < nl; l++) {                                                        \
        int64_t j = lists[l], r0 = offsets[j], r1 = offsets[j + 1];                           \
        for (int64_t g = gptr[l]; g < gptr[l + 1]; g += 4) {                                  \
            int nb = gptr[l + 1] - g < 4 ? (int)(gptr[l + 1] - g) : 4;                        \
            const T *q[4];                                                                    \
            for (int b = 0; b < nb; b++) q[b] = Q + gq[g + b] * d;                            \
            for (int64_t a = r0; a < r1; a += DW_RB) {                                        \
                int64_t nr = r1 - a < DW_RB ? r1 - a : DW_RB;                                 \
                dw_dots_##S(q, nb, X + a * d, nr, d, buf, DW_RB);                             \
                for (int b = 0; b < nb; b++) {                                                \
                    T *s = buf + b * DW_RB;                                                   \
                    if (xscale)                                                               \
                        for (int64_t e = 0; e < nr; e++) s[e] *= xscale[a + e];               \
                    if (xoff)                                                                 \
                        for (int64_t e = 0; e < nr; e++) s[e] += xoff[a + e];                 \
                    int64_t qi = gq[g + b];                                                   \
                    dw_row_##S(s, nr, ids ? ids + a : NULL, a, allowed ? allowed + a : NULL, hs + qi * k, \
                               hi + qi * k, cnt + qi, k, neg_inf);                            \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    return 0;                                                                                 \
}

DW_TOPK(f, float, dw_vf, 8)
DW_TOPK(d, double, dw_vd, 4)

/* ---------------------------------------------------------------------------------------------
 * dw_topk_gemm_f — exact float32 search of many queries with the scores never stored.
 *
 * A register-blocked matrix product fused with the top-k: each step of the inner kernel
 * computes a 16 x 6 block of scores (16 queries against 6 rows of X) in twelve AVX2
 * registers, over the whole dimension, then compares it with the 16 queries' thresholds
 * (their k-th best score so far). Only a score at or above its threshold leaves the
 * registers and is offered to that query's heap, so after the first rows almost every block
 * is dropped by two compares. There is no score tile and no packing of X: the kernel
 * broadcasts X's elements straight from its rows, and reads the queries from Qp, packed
 * once per search as panels of 16 (panel p, dimension c: Qp[(p * d + c) * 16 + lane] is
 * q[16p + lane][c], zero past the last query; 32-byte aligned).
 *
 * Rows r0..r1 of X (row stride d) are walked in bands that stay in the level-2 cache while
 * every query panel (kept in level 1) passes over them. The score of row r is
 * (q . x_r) * scale[r] + offset[r] (each optional, rounded separately as the NumPy
 * reference does), its id ids[r] or r. Rows with allowed[r] == 0 are skipped. Each score
 * is a plain sum over the dimension in order, with fused multiply-adds.
 *
 * Returns 0, or -1 (nothing done) when the CPU lacks AVX2+FMA or the build is not for x86-64
 * with GCC or Clang: the caller then runs its GEMM blocks. dw_topk_gemm_ok() says which.
 * ------------------------------------------------------------------------------------------- */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#include <stdlib.h>
#define DW_GEMM 1
#define DW_GQ 24          /* queries per panel (three registers) */
#define DW_GR 4           /* rows of X per kernel step */
#define DW_L2_BYTES (512 << 10)  /* query panels that meet each row before the next row */

__attribute__((target("avx2,fma")))
static void dw_gemm_offer(const float *sc, int64_t q0, int64_t m, int mask, int64_t id, float *hs, int64_t *hi, int64_t *cnt, int64_t k,
                          float *thr)
{
    while (mask) {
        int l = __builtin_ctz(mask);
        mask &= mask - 1;
        int64_t q = q0 + l;
        float v = sc[l];
        if (q >= m || !dw_finite_f(v)) continue;
        float t = dw_offer_f(hs + q * k, hi + q * k, cnt + q, k, v, id, -INFINITY);
        thr[q] = cnt[q] < k ? -INFINITY : t;
    }
}

/* acc[3 * j + h] = the scores of rows x_j (j < NR, row stride d) against the panel's queries
 * 8h..8h+7, each a sum over the dimension in order */
#define DW_FMA3(j)                                                                            \
    { __m256 b = _mm256_broadcast_ss(x##j + e);                                               \
      c##j##0 = _mm256_fmadd_ps(a0, b, c##j##0);                                              \
      c##j##1 = _mm256_fmadd_ps(a1, b, c##j##1);                                              \
      c##j##2 = _mm256_fmadd_ps(a2, b, c##j##2); }

__attribute__((target("avx2,fma"), always_inline)) static inline void
dw_gemm_kernel4(const float *qp, const float *x, int64_t d, __m256 *acc)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    const float *x0 = x, *x1 = x + d, *x2 = x + 2 * d, *x3 = x + 3 * d;
    for (int64_t e = 0; e < d; e++) {
        const float *a = qp + e * DW_GQ;
        __m256 a0 = _mm256_load_ps(a), a1 = _mm256_load_ps(a + 8), a2 = _mm256_load_ps(a + 16);
        DW_FMA3(0) DW_FMA3(1) DW_FMA3(2) DW_FMA3(3)
    }
    acc[0] = c00; acc[1] = c01; acc[2] = c02; acc[3] = c10; acc[4] = c11; acc[5] = c12;
    acc[6] = c20; acc[7] = c21; acc[8] = c22; acc[9] = c30; acc[10] = c31; acc[11] = c32;
}

__attribute__((target("avx2,fma"), always_inline)) static inline void
dw_gemm_kernel1(const float *qp, const float *x0, int64_t d, __m256 *acc)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00;
    for (int64_t e = 0; e < d; e++) {
        const float *a = qp + e * DW_GQ;
        __m256 a0 = _mm256_load_ps(a), a1 = _mm256_load_ps(a + 8), a2 = _mm256_load_ps(a + 16);
        DW_FMA3(0)
    }
    acc[0] = c00; acc[1] = c01; acc[2] = c02;
}

/* rows b0..b1 against panels p0..p1: a few rows of X (in level 1) meet each panel in turn
 * (the panels p0..p1 stay in level 2) */
__attribute__((target("avx2,fma")))
static void dw_gemm_block(const float *Qp, int64_t m, int64_t d, const float *X, int64_t b0,
                          int64_t b1, int64_t p0, int64_t p1, const float *scale,
                          const float *offset, const int64_t *ids, const uint8_t *allowed,
                          float *hs, int64_t *hi, int64_t *cnt, int64_t k, float *thr)
{
    float sc[DW_GQ] __attribute__((aligned(32)));
    __m256 acc[3 * DW_GR];
    for (int64_t r = b0; r < b1;) {
        int nr = b1 - r >= DW_GR ? DW_GR : 1;
        for (int64_t p = p0; p < p1; p++) {
            const float *qp = Qp + p * d * DW_GQ;
            const float *tp = thr + p * DW_GQ;
            int64_t q0 = p * DW_GQ;
            if (nr == DW_GR) dw_gemm_kernel4(qp, X + r * d, d, acc);
            else dw_gemm_kernel1(qp, X + r * d, d, acc);
            for (int j = 0; j < nr; j++) {
                int64_t row = r + j;
                __m256 s0 = acc[3 * j], s1 = acc[3 * j + 1], s2 = acc[3 * j + 2];
                if (scale) {
                    __m256 f = _mm256_broadcast_ss(scale + row);
                    s0 = _mm256_mul_ps(s0, f); s1 = _mm256_mul_ps(s1, f); s2 = _mm256_mul_ps(s2, f);
                }
                if (offset) {
                    __m256 f = _mm256_broadcast_ss(offset + row);
                    s0 = _mm256_add_ps(s0, f); s1 = _mm256_add_ps(s1, f); s2 = _mm256_add_ps(s2, f);
                }
                int mask = _mm256_movemask_ps(_mm256_cmp_ps(s0, _mm256_load_ps(tp), _CMP_GE_OQ))
                    | (_mm256_movemask_ps(_mm256_cmp_ps(s1, _mm256_load_ps(tp + 8), _CMP_GE_OQ)) << 8)
                    | (_mm256_movemask_ps(_mm256_cmp_ps(s2, _mm256_load_ps(tp + 16), _CMP_GE_OQ)) << 16);
                if (!mask || (allowed && !allowed[row])) continue;
                _mm256_store_ps(sc, s0); _mm256_store_ps(sc + 8, s1); _mm256_store_ps(sc + 16, s2);
                dw_gemm_offer(sc, q0, m, mask, ids ? ids[row] : row, hs, hi, cnt, k, thr);
            }
        }
        r += nr;
    }
}
#endif

int dw_topk_gemm_ok(void)
{
#ifdef DW_GEMM
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int dw_topk_gemm_f(const float *Qp, int64_t m, int64_t d, const float *X, int64_t r0,
                   int64_t r1, const float *scale, const float *offset, const int64_t *ids,
                   const uint8_t *allowed, float *hs, int64_t *hi, int64_t *cnt, int64_t k)
{
#ifdef DW_GEMM
    if (d < 1 || !dw_topk_gemm_ok()) return -1;
    int64_t panels = (m + DW_GQ - 1) / DW_GQ, padded = panels * DW_GQ;
    float *thr = _mm_malloc((size_t)padded * sizeof(float), 32);
    if (!thr) return -2;
    for (int64_t q = 0; q < padded; q++)
        thr[q] = q >= m ? INFINITY : cnt[q] < k ? -INFINITY : hs[q * k];
    int64_t group = DW_L2_BYTES / (d * DW_GQ * (int64_t)sizeof(float));
    group = group < 1 ? 1 : group;
    for (int64_t p0 = 0; p0 < panels; p0 += group) {
        int64_t p1 = p0 + group < panels ? p0 + group : panels;
        dw_gemm_block(Qp, m, d, X, r0, r1, p0, p1, scale, offset, ids, allowed, hs, hi, cnt,
                      k, thr);
    }
    _mm_free(thr);
    return 0;
#else
    (void)Qp; (void)m; (void)d; (void)X; (void)r0; (void)r1; (void)scale; (void)offset;
    (void)ids; (void)allowed; (void)hs; (void)hi; (void)cnt; (void)k;
    return -1;
#endif
}
