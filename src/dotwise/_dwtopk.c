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
 *                         queries that probe it with the list's rows, pushed into their heaps.
 *
 * Callers pass trusted, C-contiguous arrays; ctypes releases the GIL during each call, so
 * threads working on disjoint heaps run in parallel.
 */
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DW_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DW_CLONES
#endif

#define DW_CHUNK 32   /* columns tested at once before any candidate is looked at */
#define DW_RB 256     /* rows of a list scored together in dw_ivf_scan */

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
    T t = 0;                                                                                  \
    for (int l = 0; l < VL; l++) t += v[l];                                                   \
    return t;                                                                                 \
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
