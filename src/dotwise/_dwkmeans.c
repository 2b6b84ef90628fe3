/* The assignment step of k-means, fused (private; loaded by dotwise/models/_kmeans_kernel.py).
 *
 * After the GEMM has produced, for a block of m samples, D[i, j] = ||x_i - c_j||^2 - ||x_i||^2
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

#define DW_KM_ASSIGN(S, T)                                                                  \
int dw_km_assign_##S(const T *D, int64_t m, int64_t k, const T *X, int64_t q,               \
                     int64_t ldx, int32_t *labels, double *sums, T *mind, const T *xsq)     \
{                                                                                           \
    for (int64_t i = 0; i < m; i++) {                                                       \
        const T *d = D + i * k;                                                             \
        int64_t best = 0;                                                                   \
        T bv = d[0];                                                                        \
        for (int64_t j = 1; j < k; j++) {                                                   \
            if (d[j] < bv) { bv = d[j]; best = j; }                                         \
        }                                                                                   \
        labels[i] = (int32_t)best;                                                          \
        if (mind) {                                                                         \
            T v = bv + xsq[i];                                                              \
            mind[i] = v > (T)0 ? v : (T)0;                                                  \
        }                                                                                   \
        if (sums) {                                                                         \
            double *s = sums + best * q;                                                    \
            const T *x = X + i * ldx;                                                       \
            for (int64_t c = 0; c < q; c++) s[c] += (double)x[c];                           \
        }                                                                                   \
    }                                                                                       \
    return 0;                                                                               \
}

DW_KM_ASSIGN(f, float)
DW_KM_ASSIGN(d, double)
