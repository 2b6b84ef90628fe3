/* Compiled loops of the recommender (private; loaded with ctypes by
 * dotwise/recommend/_compiled.py). Each has a NumPy reference in the recommender's
 * engine modules, which is also the fallback when this file was not built or
 * DOTWISE_PURE_NUMPY=1 is set; the tests compare the two.
 *
 * dw_rec_ridge     — one ALS half-step: for every entity e of [e0, e1), the ridge normal
 *                    equations (Z_e^T Z_e + diag(D_e)) x_e = Z_e^T y_e, solved by Cholesky,
 *                    and the residual sum of squares ||y_e - Z_e x_e||^2 at the solution.
 * dw_rec_neighbors — the sparse top-k lists of the item-item neighbourhood term: for each
 *                    item i of [i0, i1), the k items j with the largest positive shrunk
 *                    cosine s_ij = g_ij / (|e_i| |e_j|) * n_ij / (n_ij + beta) of the
 *                    residual columns (g_ij = sum_u e_ui e_uj over the n_ij users who rated
 *                    both), ties broken by the smaller j.
 * dw_rec_term      — the neighbourhood term of (user, item) pairs from those lists:
 *                    sum_{j in L(i), j rated by u} s_ij e_uj / (sum_{same j} s_ij + lambda),
 *                    the pairs visited user by user.
 *
 * All index arrays are int64 except the neighbour lists (int32, -1 padded); all values
 * are double except the stored similarities (float32). Every function works on a range
 * so that Python can run disjoint ranges on its thread pool (ctypes releases the GIL).
 * Return value: 0 on success, 1 when a buffer could not be allocated, 2 when a ridge
 * system is not positive definite.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* GCC on x86-64 Linux builds the ridge loop twice, for AVX2 and for the baseline, and
 * the loader picks the one this CPU supports. No FMA: both clones round alike. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DW_CLONES
#endif

DW_CLONES
int dw_rec_ridge(int64_t d, const int64_t *ptr, const int64_t *other, const double *y,
                 const double *Z, const double *diag, int64_t e0, int64_t e1, double *X,
                 double *rss)
{
    double *A = (double *)malloc(sizeof(double) * (size_t)(d * d + d));
    if (!A) return 1;
    double *b = A + d * d;
    int status = 0;
    for (int64_t e = e0; e < e1 && status == 0; e++) {
        double *x = X + e * d;
        int64_t lo = ptr[e], hi = ptr[e + 1];
        if (hi == lo) {
            memset(x, 0, sizeof(double) * (size_t)d);
            rss[e] = 0.0;
            continue;
        }
        memset(A, 0, sizeof(double) * (size_t)(d * d + d));
        int64_t l = lo;
        for (; l + 4 <= hi; l += 4) {                /* lower half of A += sum z z^T, 4 at once */
            const double *restrict z0 = Z + other[l] * d, *restrict z1 = Z + other[l + 1] * d;
            const double *restrict z2 = Z + other[l + 2] * d, *restrict z3 = Z + other[l + 3] * d;
            double w0 = y[l], w1 = y[l + 1], w2 = y[l + 2], w3 = y[l + 3];
            for (int64_t a = 0; a < d; a++) {
                double a0 = z0[a], a1 = z1[a], a2 = z2[a], a3 = z3[a];
                double *restrict row = A + a * d;
                for (int64_t c = 0; c <= a; c++)
                    row[c] += a0 * z0[c] + a1 * z1[c] + a2 * z2[c] + a3 * z3[c];
                b[a] += w0 * a0 + w1 * a1 + w2 * a2 + w3 * a3;
            }
        }
        for (; l < hi; l++) {
            const double *restrict z = Z + other[l] * d;
            double yl = y[l];
            for (int64_t a = 0; a < d; a++) {
                double za = z[a];
                double *restrict row = A + a * d;
                for (int64_t c = 0; c <= a; c++) row[c] += za * z[c];
                b[a] += yl * za;
            }
        }
        const double *De = diag + e * d;
        for (int64_t a = 0; a < d; a++) A[a * d + a] += De[a];
        for (int64_t j = 0; j < d; j++) {            /* A = L L^T, L in the lower half */
            double *rj = A + j * d;
            double s = rj[j];
            for (int64_t m = 0; m < j; m++) s -= rj[m] * rj[m];
            if (!(s > 0.0)) { status = 2; break; }
            double ljj = sqrt(s);
            rj[j] = ljj;
            for (int64_t i = j + 1; i < d; i++) {
                double *ri = A + i * d;
                double t = ri[j];
                for (int64_t m = 0; m < j; m++) t -= ri[m] * rj[m];
                ri[j] = t / ljj;
            }
        }
        if (status) break;
        for (int64_t i = 0; i < d; i++) {            /* L w = b */
            const double *ri = A + i * d;
            double t = b[i];
            for (int64_t m = 0; m < i; m++) t -= ri[m] * x[m];
            x[i] = t / ri[i];
        }
        for (int64_t i = d - 1; i >= 0; i--) {       /* L^T x = w */
            double t = x[i];
            for (int64_t m = i + 1; m < d; m++) t -= A[m * d + i] * x[m];
            x[i] = t / A[i * d + i];
        }
        double sse = 0.0;
        for (int64_t l = lo; l < hi; l++) {
            const double *z = Z + other[l] * d;
            double r = y[l];
            for (int64_t a = 0; a < d; a++) r -= z[a] * x[a];
            sse += r * r;
        }
        rss[e] = sse;
    }
    free(A);
    return status;
}

/* "a ranks before b": larger similarity first, then the smaller item index */
static inline int dw_before(float sa, int32_t ja, float sb, int32_t jb)
{
    return sa > sb || (sa == sb && ja < jb);
}

/* sift the worst-ranked entry of the heap (the root) down: a heap of the k best so far */
static void dw_sift(float *hs, int32_t *hj, int64_t n, int64_t at)
{
    for (;;) {
        int64_t l = 2 * at + 1, r = l + 1, worst = at;
        if (l < n && dw_before(hs[worst], hj[worst], hs[l], hj[l])) worst = l;
        if (r < n && dw_before(hs[worst], hj[worst], hs[r], hj[r])) worst = r;
        if (worst == at) return;
        float ts = hs[at]; hs[at] = hs[worst]; hs[worst] = ts;
        int32_t tj = hj[at]; hj[at] = hj[worst]; hj[worst] = tj;
        at = worst;
    }
}

int dw_rec_neighbors(int64_t n_items, const int64_t *iptr, const int64_t *iusers,
                     const double *iresid, const int64_t *uptr, const int64_t *uitems,
                     const double *uresid, const double *norms, double shrink, int64_t k,
                     int64_t i0, int64_t i1, int32_t *out_idx, float *out_sim)
{
    double *g = (double *)calloc((size_t)n_items, sizeof(double));
    int32_t *cnt = (int32_t *)calloc((size_t)n_items, sizeof(int32_t));
    int64_t *touched = (int64_t *)malloc(sizeof(int64_t) * (size_t)(n_items + 1));
    float *hs = (float *)malloc(sizeof(float) * (size_t)(k > 0 ? k : 1));
    int32_t *hj = (int32_t *)malloc(sizeof(int32_t) * (size_t)(k > 0 ? k : 1));
    if (!g || !cnt || !touched || !hs || !hj) {
        free(g); free(cnt); free(touched); free(hs); free(hj);
        return 1;
    }
    for (int64_t i = i0; i < i1; i++) {
        int64_t nt = 0, work = 0;
        for (int64_t p = iptr[i]; p < iptr[i + 1]; p++) work += uptr[iusers[p] + 1] - uptr[iusers[p]];
        /* a short pass: list the touched items; a long one: scan them all afterwards */
        int scan = n_items <= 2 * work;
        for (int64_t p = iptr[i]; p < iptr[i + 1]; p++) {
            int64_t u = iusers[p];
            double eu = iresid[p];
            const int64_t *items = uitems + uptr[u];
            const double *res = uresid + uptr[u];
            int64_t m = uptr[u + 1] - uptr[u];
            if (scan) {
                for (int64_t q = 0; q < m; q++) {
                    cnt[items[q]] += 1;
                    g[items[q]] += eu * res[q];
                }
            } else {
                for (int64_t q = 0; q < m; q++) {
                    int64_t j = items[q];
                    touched[nt] = j;                  /* kept only on j's first visit */
                    nt += cnt[j] == 0;
                    cnt[j] += 1;
                    g[j] += eu * res[q];
                }
            }
        }
        if (scan) {
            nt = 0;
            for (int64_t j = 0; j < n_items; j++) {
                touched[nt] = j;
                nt += cnt[j] != 0;
            }
        }
        int64_t n = 0;                                /* entries in the heap */
        for (int64_t t = 0; t < nt; t++) {
            int64_t j = touched[t];
            double c = (double)cnt[j];
            double s = g[j] / fmax(norms[i] * norms[j], 1e-12);
            if (shrink > 0.0) s *= c / (c + shrink);
            g[j] = 0.0;
            cnt[j] = 0;
            float sf = (float)s;
            if (j == i || !(sf > 0.0f)) continue;
            if (n < k) {                              /* grow, then restore the heap */
                hs[n] = sf; hj[n] = (int32_t)j;
                int64_t at = n++;
                while (at > 0) {
                    int64_t up = (at - 1) / 2;
                    if (!dw_before(hs[up], hj[up], hs[at], hj[at])) break;
                    float ts = hs[at]; hs[at] = hs[up]; hs[up] = ts;
                    int32_t tj = hj[at]; hj[at] = hj[up]; hj[up] = tj;
                    at = up;
                }
            } else if (k > 0 && dw_before(sf, (int32_t)j, hs[0], hj[0])) {
                hs[0] = sf; hj[0] = (int32_t)j;
                dw_sift(hs, hj, n, 0);
            }
        }
        int32_t *oi = out_idx + i * k;
        float *os = out_sim + i * k;
        for (int64_t t = n; t < k; t++) { oi[t] = -1; os[t] = 0.0f; }
        while (n > 0) {                               /* pop the worst into the last slot */
            n -= 1;
            oi[n] = hj[0]; os[n] = hs[0];
            hs[0] = hs[n]; hj[0] = hj[n];
            dw_sift(hs, hj, n, 0);
        }
    }
    free(g); free(cnt); free(touched); free(hs); free(hj);
    return 0;
}

int dw_rec_term(const int64_t *uc, const int64_t *ic, const int64_t *order, int64_t p0,
                int64_t p1, int64_t n_items, const int64_t *uptr, const int64_t *uitems,
                const double *uresid, const int32_t *nb_idx, const float *nb_sim, int64_t k,
                double lam, double *out)
{
    /* pairs order[p0..p1) come grouped by user: each user's residuals are scattered
     * once into a dense row (seen marks which entries are rated), so that every
     * neighbour lookup is one load */
    double *row = (double *)calloc((size_t)(n_items > 0 ? n_items : 1), sizeof(double));
    unsigned char *seen = (unsigned char *)calloc((size_t)(n_items > 0 ? n_items : 1), 1);
    if (!row || !seen) { free(row); free(seen); return 1; }
    int64_t current = -1;
    for (int64_t t = p0; t < p1; t++) {
        int64_t p = order[t];
        int64_t u = uc[p], i = ic[p];
        if (u < 0 || i < 0) { out[p] = 0.0; continue; }
        if (u != current) {
            if (current >= 0)
                for (int64_t q = uptr[current]; q < uptr[current + 1]; q++) seen[uitems[q]] = 0;
            for (int64_t q = uptr[u]; q < uptr[u + 1]; q++) {
                row[uitems[q]] = uresid[q];
                seen[uitems[q]] = 1;
            }
            current = u;
        }
        const int32_t *nb = nb_idx + i * k;
        const float *sv = nb_sim + i * k;
        double num = 0.0, den = 0.0;
        for (int64_t l = 0; l < k && nb[l] >= 0; l++) {
            double s = seen[nb[l]] ? (double)sv[l] : 0.0;
            num += s * row[nb[l]];
            den += s;
        }
        out[p] = den + lam > 0.0 ? num / (den + lam) : 0.0;
    }
    free(row); free(seen);
    return 0;
}
