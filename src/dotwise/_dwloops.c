/* Small fused loops that NumPy would run as several passes (private; loaded by
 * dotwise/_loops.py). NumPy is the reference and the fallback for each of them.
 *
 * dw_km_assign_{f,d} — the assignment step of k-means. After the GEMM has produced, for a block of m samples, D[i, j] = ||x_i - c_j||^2 - ||x_i||^2
 * (row-major m x k), one pass over the rows finds each nearest centre and adds the sample's
 * row of X (row-major m x q, leading dimension ldx) into that centre's row of `sums`
 * (k x q, double). NumPy needs an argmin, a gather and a sparse one-hot product for this,
 * three passes; here the row of D and the row of X are each read once, while in cache.
 *
 * `sums` may be NULL (labels only). When `mind` is non-NULL it receives
 * max(D[i, label] + xsq[i], 0), the squared distance to the nearest centre.
 * A NaN distance is never "less than", so such a row goes to centre 0.
 */
#include <stdint.h>
#include <string.h>

/* GCC on x86-64 Linux builds each loop twice, for AVX2 and for the baseline, and the
 * loader (an ifunc resolver reading CPUID) picks the one this CPU supports. Elsewhere
 * the baseline alone is built. No FMA: the AVX2 clone rounds exactly as the baseline. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DW_CLONES __attribute__((target_clones("avx2", "default")))
#define DW_CLONES_FMA __attribute__((target_clones("avx512f", "fma", "default")))
#else
#define DW_CLONES
#define DW_CLONES_FMA
#endif

/* One row's share of the assignment step, given its distances d[0..k): the nearest centre
 * (the first of equal ones, like argmin; branch-free, so no mispredicts), its label, the
 * squared distance max(d + xsq, 0) when mind is non-NULL, and the row x (q values) added
 * into the centre's row of sums when sums is non-NULL. Shared by both assignment loops. */
#define DW_KM_ROW(S, T)                                                                     \
static inline __attribute__((always_inline))                                               \
void dw_km_row_##S(const T *d, int64_t k, const T *x, int64_t q, int64_t i,                \
                   int32_t *labels, double *sums, T *mind, const T *xsq)                   \
{                                                                                           \
    int64_t best = 0;                                                                       \
    T bv = d[0];                                                                            \
    for (int64_t j = 1; j < k; j++) {                                                       \
        const int lt = d[j] < bv;                                                           \
        best = lt ? j : best;                                                               \
        bv = lt ? d[j] : bv;                                                                \
    }                                                                                       \
    labels[i] = (int32_t)best;                                                              \
    if (mind) {                                                                             \
        T v = bv + xsq[i];                                                                  \
        mind[i] = v > (T)0 ? v : (T)0;                                                      \
    }                                                                                       \
    if (sums) {                                                                             \
        double *s = sums + best * q;                                                        \
        for (int64_t c = 0; c < q; c++) s[c] += (double)x[c];                               \
    }                                                                                       \
}

DW_KM_ROW(f, float)
DW_KM_ROW(d, double)

#define DW_KM_ASSIGN(S, T)                                                                  \
DW_CLONES                                                                                   \
int dw_km_assign_##S(const T *D, int64_t m, int64_t k, const T *X, int64_t q,               \
                     int64_t ldx, int32_t *labels, double *sums, T *mind, const T *xsq)     \
{                                                                                           \
    for (int64_t i = 0; i < m; i++)                                                         \
        dw_km_row_##S(D + i * k, k, X + i * ldx, q, i, labels, sums, mind, xsq);            \
    return 0;                                                                               \
}

DW_KM_ASSIGN(f, float)
DW_KM_ASSIGN(d, double)

/* dw_km_fused_{f,d} — the whole assignment step of k-means in one pass, for small k.
 *
 * The GEMM route above writes the m x k block D and reads it back, and reads each row of X
 * twice. Here each row of X is read once: its distances to every centre are accumulated in
 * vector registers, d_j = ||c_j||^2 + sum_c x_c (-2 C[j, c]), from Ct (p x kp, row-major,
 * Ct[c * kp + j] = -2 C[j, c]; the kp - k padding columns are 0) and cn (kp norms, padding
 * +inf so that a pad never wins), R rows at a time so that every load of Ct serves R rows.
 * Then the nearest centre (the first of equal ones, like argmin), the label, the distance
 * (mind = max(d + xsq, 0) when mind is non-NULL) and the row of X (its q columns, the last
 * of which is the 1 that counts the cluster's members) added into sums[label] when sums is
 * non-NULL. X has ldx >= q >= p. kp is a multiple of the tile width DW_KT. */
#define DW_KT 16

/* One 32-byte vector (an AVX register; two SSE registers on the baseline); a tile of
 * centres is two of them, and R = 4 rows share each load of Ct: 8 accumulators. */
#define DW_KM_FUSED(S, T)                                                                   \
typedef T dw_kv_##S __attribute__((vector_size(32)));                                       \
DW_CLONES_FMA                                                                               \
int dw_km_fused_##S(const T *restrict X, int64_t m, int64_t p, int64_t q, int64_t ldx,      \
                    const T *restrict Ct, const T *restrict cn, int64_t k, int64_t kp,      \
                    int32_t *restrict labels, double *restrict sums, T *restrict mind,       \
                    const T *restrict xsq)                                                  \
{                                                                                           \
    enum { R = 4, VL = 32 / sizeof(T), KT = 2 * VL };                                       \
    T dist[R][256];                                                                         \
    if (kp > 256 || kp % DW_KT) return -1;                                                  \
    for (int64_t i0 = 0; i0 < m; i0 += R) {                                                 \
        const int64_t r = m - i0 < R ? m - i0 : R;                                          \
        const T *x0 = X + i0 * ldx;                                                         \
        const T *x1 = X + (i0 + (r > 1 ? 1 : 0)) * ldx;                                     \
        const T *x2 = X + (i0 + (r > 2 ? 2 : 0)) * ldx;                                     \
        const T *x3 = X + (i0 + (r > 3 ? 3 : 0)) * ldx;                                     \
        for (int64_t j = 0; j < kp; j += KT) {                                              \
            dw_kv_##S a0, b0, a1, b1, a2, b2, a3, b3;                                       \
            memcpy(&a0, cn + j, sizeof a0);                                                 \
            memcpy(&b0, cn + j + VL, sizeof b0);                                            \
            a1 = a0; a2 = a0; a3 = a0; b1 = b0; b2 = b0; b3 = b0;                           \
            const T *w = Ct + j;                                                            \
            for (int64_t c = 0; c < p; c++, w += kp) {                                      \
                dw_kv_##S wa, wb;                                                           \
                memcpy(&wa, w, sizeof wa);                                                  \
                memcpy(&wb, w + VL, sizeof wb);                                             \
                const T e0 = x0[c], e1 = x1[c], e2 = x2[c], e3 = x3[c];                     \
                a0 += e0 * wa; b0 += e0 * wb;                                               \
                a1 += e1 * wa; b1 += e1 * wb;                                               \
                a2 += e2 * wa; b2 += e2 * wb;                                               \
                a3 += e3 * wa; b3 += e3 * wb;                                               \
            }                                                                               \
            memcpy(&dist[0][j], &a0, sizeof a0); memcpy(&dist[0][j + VL], &b0, sizeof b0);  \
            memcpy(&dist[1][j], &a1, sizeof a1); memcpy(&dist[1][j + VL], &b1, sizeof b1);  \
            memcpy(&dist[2][j], &a2, sizeof a2); memcpy(&dist[2][j + VL], &b2, sizeof b2);  \
            memcpy(&dist[3][j], &a3, sizeof a3); memcpy(&dist[3][j + VL], &b3, sizeof b3);  \
        }                                                                                   \
        for (int64_t t = 0; t < r; t++)                                                     \
            dw_km_row_##S(dist[t], k, X + (i0 + t) * ldx, q, i0 + t, labels, sums, mind,    \
                          xsq);                                                             \
    }                                                                                       \
    return 0;                                                                               \
}

DW_KM_FUSED(f, float)
DW_KM_FUSED(d, double)

/* dw_affine2d_{f,d} — p' = A p + t for n interleaved points (x, y), out may not alias P.
 * M is the top two rows of the 3x3 homogeneous matrix, row-major, in double:
 * (a, b, tx, c, d, ty). The arithmetic is in double for float32 points too. A BLAS
 * product with an inner dimension of 2 spends its time on overhead; this is one
 * streaming pass. */
#define DW_AFFINE2D(S, T)                                                                   \
DW_CLONES                                                                                   \
int dw_affine2d_##S(const T *restrict P, int64_t n, const double *restrict M,              \
                    T *restrict out)                                                        \
{                                                                                           \
    const double a = M[0], b = M[1], tx = M[2], c = M[3], d = M[4], ty = M[5];              \
    for (int64_t i = 0; i < n; i++) {                                                       \
        const double x = (double)P[2 * i], y = (double)P[2 * i + 1];                        \
        out[2 * i] = (T)(a * x + b * y + tx);                                               \
        out[2 * i + 1] = (T)(c * x + d * y + ty);                                           \
    }                                                                                       \
    return 0;                                                                               \
}

DW_AFFINE2D(f, float)
DW_AFFINE2D(d, double)

/* dw_gram_aug_{f,d} — the Gram matrix of [A B] for the normal equations, in one pass.
 *
 * For rows [0, m) of A (m x n, leading dimension lda) and B (m x k, ldb), G += Z^T Z where
 * Z = [A B 0] is padded with zero columns to p (a multiple of 8, p >= n + k): G (p x p,
 * row-major, double) then holds A^T A, A^T B and B^T B, i.e. the Gram matrix, the
 * right-hand sides of the normal equations and the squared norms of B's columns. Only
 * tiles on or above the diagonal are accumulated (the lower triangle of G is left as it
 * was, except inside diagonal tiles). Sums are in double for float32 input too. With mu
 * (n doubles) non-NULL, A's rows are centred first, a - mu, in double: the Gram matrix of
 * the centred data (PCA's scatter matrix) without ever storing it.
 *
 * BLAS's syrk with n ~ 50 columns and ~1e5 rows spends most of its time packing; here R
 * rows at a time are copied once into a small zero-padded buffer (in L1), and every 4 x 8
 * tile of G is accumulated over those rows in 8 vector registers: each row costs the tile
 * 2 loads, 4 broadcasts and 8 multiply-adds. A, B and the outputs are read once, so the
 * caller can take A^T b and ||b||^2 from the same pass and give the diagonal's magnitude
 * to the overflow check without another sweep over A. Returns -1 if p is not a positive
 * multiple of 8 (at most 256) or is below n + k. */
typedef double dw_gv __attribute__((vector_size(32)));

/* Rows per chunk: up to 64, and the chunk within 24 KiB (L1) for wide Z. */
#define DW_GRAM_ZBUF 3072

#define DW_GRAM_AUG(S, T)                                                                   \
DW_CLONES_FMA                                                                               \
int dw_gram_aug_##S(const T *restrict A, int64_t m, int64_t n, int64_t lda,                 \
                    const T *restrict B, int64_t k, int64_t ldb, const double *restrict mu, \
                    double *restrict G, int64_t p)                                          \
{                                                                                           \
    if (p <= 0 || p % 8 || p < n + k || p > 256) return -1;                                 \
    const int64_t R = DW_GRAM_ZBUF / p < 64 ? DW_GRAM_ZBUF / p : 64;                        \
    double Z[DW_GRAM_ZBUF] __attribute__((aligned(32)));                                    \
    for (int64_t i0 = 0; i0 < m; i0 += R) {                                                 \
        const int64_t r = m - i0 < R ? m - i0 : R;                                          \
        for (int64_t t = 0; t < r; t++) {                                                   \
            double *z = Z + t * p;                                                          \
            const T *a = A + (i0 + t) * lda, *b = B + (i0 + t) * ldb;                       \
            if (mu)                                                                         \
                for (int64_t c = 0; c < n; c++) z[c] = (double)a[c] - mu[c];                \
            else                                                                            \
                for (int64_t c = 0; c < n; c++) z[c] = (double)a[c];                        \
            for (int64_t c = 0; c < k; c++) z[n + c] = (double)b[c];                        \
            for (int64_t c = n + k; c < p; c++) z[c] = 0.0;                                 \
        }                                                                                   \
        for (int64_t i = 0; i < p; i += 4) {                                                \
            for (int64_t j = i - i % 8; j < p; j += 8) {                                    \
                dw_gv g00 = {0}, g01 = {0}, g10 = {0}, g11 = {0};                           \
                dw_gv g20 = {0}, g21 = {0}, g30 = {0}, g31 = {0};                           \
                const double *z = Z;                                                        \
                for (int64_t t = 0; t < r; t++, z += p) {                                   \
                    dw_gv v0, v1;                                                           \
                    memcpy(&v0, z + j, sizeof v0);                                          \
                    memcpy(&v1, z + j + 4, sizeof v1);                                      \
                    const double e0 = z[i], e1 = z[i + 1], e2 = z[i + 2], e3 = z[i + 3];    \
                    g00 += e0 * v0; g01 += e0 * v1;                                         \
                    g10 += e1 * v0; g11 += e1 * v1;                                         \
                    g20 += e2 * v0; g21 += e2 * v1;                                         \
                    g30 += e3 * v0; g31 += e3 * v1;                                         \
                }                                                                           \
                double *o = G + i * p + j;                                                  \
                dw_gv s;                                                                    \
                memcpy(&s, o, sizeof s); s += g00; memcpy(o, &s, sizeof s);                 \
                memcpy(&s, o + 4, sizeof s); s += g01; memcpy(o + 4, &s, sizeof s);         \
                o += p;                                                                     \
                memcpy(&s, o, sizeof s); s += g10; memcpy(o, &s, sizeof s);                 \
                memcpy(&s, o + 4, sizeof s); s += g11; memcpy(o + 4, &s, sizeof s);         \
                o += p;                                                                     \
                memcpy(&s, o, sizeof s); s += g20; memcpy(o, &s, sizeof s);                 \
                memcpy(&s, o + 4, sizeof s); s += g21; memcpy(o + 4, &s, sizeof s);         \
                o += p;                                                                     \
                memcpy(&s, o, sizeof s); s += g30; memcpy(o, &s, sizeof s);                 \
                memcpy(&s, o + 4, sizeof s); s += g31; memcpy(o + 4, &s, sizeof s);         \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
    return 0;                                                                               \
}

DW_GRAM_AUG(f, float)
DW_GRAM_AUG(d, double)

/* dw_refine_{f,d} — one sweep for a step of iterative refinement of least squares.
 *
 * For rows [0, m) of A (m x n, lda) and B (m x k, ldb) and a solution Xt (k x n, row-major,
 * double: column c of x is row c), the residual r = b_c - a.x_c of every row and column
 * gives Gt[c] += r a (Gt k x n, double: A^T r, the right-hand side of the correction) and
 * ss[c] += r^2 (the squared residual norm). Each row of A is read once, for both products;
 * the sums are in double. */
#define DW_REFINE(S, T)                                                                     \
DW_CLONES_FMA                                                                               \
int dw_refine_##S(const T *restrict A, int64_t m, int64_t n, int64_t lda,                   \
                  const T *restrict B, int64_t k, int64_t ldb, const double *restrict Xt,   \
                  double *restrict Gt, double *restrict ss)                                 \
{                                                                                           \
    for (int64_t i = 0; i < m; i++) {                                                       \
        const T *a = A + i * lda;                                                           \
        for (int64_t c = 0; c < k; c++) {                                                   \
            const double *x = Xt + c * n;                                                   \
            double *g = Gt + c * n;                                                         \
            double d0 = 0.0, d1 = 0.0, d2 = 0.0, d3 = 0.0;                                  \
            int64_t j = 0;                                                                  \
            for (; j + 4 <= n; j += 4) {                                                    \
                d0 += (double)a[j] * x[j];                                                  \
                d1 += (double)a[j + 1] * x[j + 1];                                          \
                d2 += (double)a[j + 2] * x[j + 2];                                          \
                d3 += (double)a[j + 3] * x[j + 3];                                          \
            }                                                                               \
            for (; j < n; j++) d0 += (double)a[j] * x[j];                                   \
            const double res = (double)B[i * ldb + c] - ((d0 + d1) + (d2 + d3));            \
            ss[c] += res * res;                                                             \
            for (j = 0; j < n; j++) g[j] += res * (double)a[j];                             \
        }                                                                                   \
    }                                                                                       \
    return 0;                                                                               \
}

DW_REFINE(f, float)
DW_REFINE(d, double)
