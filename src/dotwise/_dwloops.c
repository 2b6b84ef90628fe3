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

/* GCC on x86-64 Linux builds each loop twice, for AVX2 and for the baseline, and the
 * loader (an ifunc resolver reading CPUID) picks the one this CPU supports. Elsewhere
 * the baseline alone is built. No FMA: the AVX2 clone rounds exactly as the baseline. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DW_CLONES
#endif

#define DW_KM_ASSIGN(S, T)                                                                  \
DW_CLONES                                                                                   \
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
