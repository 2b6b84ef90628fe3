/*
 * dotwise._dwconv — compiled inner loops (the image convolution engine, a finiteness check).
 *
 * Two entry points per dtype (float32 "f", float64 "d"), each on a stripe of output rows
 * [y0, y1) of a C-contiguous channel-last image (H, W, C), and their _mt forms, which
 * run a whole image in stripes on the C thread pool of _dwpool.h; dotwise/image/_engine.py
 * calls the _mt forms through ctypes (one call per image, the GIL released), or the
 * one-stripe forms on its Python pool where the build has no POSIX threads.
 *
 *   dw_direct_*: out[y, x, c] = sum_{i,j} k[i, j] * img[rowmap[y + i], colmap[x + j], c].
 *                The interior columns [q, W - q) read the kh source rows in place (a tap
 *                is a pointer into an image row); the q border columns on each side are
 *                summed tap by tap, their source columns from a table made once per
 *                call by the boundary rule.
 *   dw_sep_*:    the same for a rank-1 kernel k = col ⊗ row, as a vertical pass into a
 *                row buffer and a horizontal pass out of it (kh + kw multiply-adds per
 *                value instead of kh·kw), one column tile at a time so that the tile's kh
 *                source rows stay in L2 (DW_TILE_BYTES); `accumulate` adds to `out`
 *                (rank > 1 plans).
 *
 * Three loops cut the loads per value further (each measured faster on AMD Zen 3):
 *   - the vertical pass of dw_sep_* computes DW_ROWS output rows per sweep (mrows), so a
 *     block of rows reads each of its kh + DW_ROWS - 1 source rows from L2 once;
 *   - a box factor (all taps equal) is a sum, not a dot product: vertically a running sum
 *     down a block of rows (vbox), horizontally the taps added, then one multiply (hbox);
 *   - a kernel of 3 dense rows (3×3, 3×k) runs 4 output rows per sweep with a column's
 *     3 weights in registers (d3): each source vector is loaded once per kernel column
 *     for up to 3 output rows.
 *
 * rowmap (length H + kh - 1) and colmap (length W + kw - 1) give, for every padded
 * position, the source row / column by the boundary rule, or -1 for the constant `cval`.
 *
 * Every output value is a dot product of a tap vector with a window of the image. The
 * loops hold a block of consecutive output values in registers and stream each tap's
 * shifted source row through them once, so a value costs one load per tap and one store.
 * Plain IEEE arithmetic (no -ffast-math): the taps are added in kernel order, row by row
 * (d3: column by column; box sums: in row order, the vertical one as a running sum).
 * (Folding equal mirror taps as w·(x + x') was tried and measured no faster on AMD Zen 3:
 * the loop is bound by its loads as much as by its multiplies.)
 *
 * Both loops can scan for NaN and infinity while the data is in cache (`check`, below),
 * so that the public functions' finiteness check costs no extra pass over memory.
 * dw_all_finite_* checks an input for NaN and infinity in one vectorised pass.
 *
 * A small CPython module init is included only so that setuptools can build this file
 * as an extension module; it exposes no functions.
 */
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_dwpool.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DW_CLONES __attribute__((target_clones("avx512f", "fma", "default")))
#else
#define DW_CLONES
#endif

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define DW_X86 1
#else
#define DW_X86 0
#endif

/*
 * The tap loop, written once and compiled three times, each at the native vector width
 * of its target so that the accumulators live in registers:
 *   AVX-512: 64-byte vectors (zmm), AVX2+FMA: 32-byte vectors (ymm), baseline: 16 bytes.
 * (A 64-byte generic vector compiled for AVX2 is split into pairs of ymm halves that
 * GCC spills to the stack; that clone ran 3–4.5x slower than NumPy on AMD Zen 3.)
 * DW_NACC independent accumulators hide the FMA latency. The variant is picked once, at
 * the first call, from what the CPU reports (__builtin_cpu_supports); dw_isa() says which.
 */
#define DW_TAPS_VARIANT(T, S, TAG, VBYTES, NACC, ATTR)                                     \
typedef T dw_v_##S##TAG __attribute__((vector_size(VBYTES)));                              \
typedef T dw_vu_##S##TAG __attribute__((vector_size(VBYTES), aligned(sizeof(T)), may_alias)); \
ATTR static int taps_##S##TAG(T *restrict out, int64_t n, const T *const *src,             \
                              const T *w, int64_t ntaps, int accumulate, int check)        \
{                                                                                          \
    typedef dw_v_##S##TAG V;                                                               \
    typedef dw_vu_##S##TAG VU;                                                             \
    enum { L = VBYTES / sizeof(T), B = NACC * (VBYTES / sizeof(T)) };                      \
    V z = (V){0};                          /* sum of (a - a): 0 unless a value is not finite */ \
    int64_t x0 = 0;                                                                        \
    for (;;) {           /* the blocks; then the tail as one more block ending at n */     \
        for (; x0 + B <= n; x0 += B) {                                                     \
            V a[NACC];                                                                     \
            _Pragma("GCC unroll 16")                                                       \
            for (int v = 0; v < NACC; v++) {                                               \
                a[v] = (V){0};                                                             \
                if (accumulate) a[v] = *(const VU *)(out + x0 + v * L);                    \
            }                                                                              \
            for (int64_t t = 0; t < ntaps; t++) {                                          \
                const T *s = src[t] + x0;                                                  \
                const V wt = (V){0} + w[t];                                                \
                _Pragma("GCC unroll 16")                                                   \
                for (int v = 0; v < NACC; v++) a[v] += wt * *(const VU *)(s + v * L);      \
            }                                                                              \
            _Pragma("GCC unroll 16")                                                       \
            for (int v = 0; v < NACC; v++) *(VU *)(out + x0 + v * L) = a[v];               \
            if (check) {                                                                   \
                _Pragma("GCC unroll 16")                                                   \
                for (int v = 0; v < NACC; v++) z += a[v] - a[v];                           \
            }                                                                              \
        }                                                                                  \
        if (accumulate || x0 >= n || n < B) break;  /* (overlap recomputed, not added) */  \
        x0 = n - B;                                                                        \
    }                                                                                      \
    for (; x0 + L <= n; x0 += L) {                                                         \
        V a = (V){0};                                                                      \
        if (accumulate) a = *(const VU *)(out + x0);                                       \
        for (int64_t t = 0; t < ntaps; t++) a += ((V){0} + w[t]) * *(const VU *)(src[t] + x0); \
        *(VU *)(out + x0) = a;                                                             \
        z += a - a;                                                                        \
    }                                                                                      \
    T zs = 0;                                                                              \
    for (; x0 < n; x0++) {                                                                 \
        T a = accumulate ? out[x0] : (T)0;                                                 \
        for (int64_t t = 0; t < ntaps; t++) a += w[t] * src[t][x0];                        \
        out[x0] = a;                                                                       \
        zs += a - a;                                                                       \
    }                                                                                      \
    for (int v = 0; v < L; v++) zs += z[v];                                                \
    return check && zs != 0;                         /* NaN != 0 */                        \
}

/*
 * The same dot products for DW_ROWS output rows at once (register blocking over rows):
 *   out[o][x] (+)= sum_t w[t] * rows[o + ti[t]][toff[t] + x],  o < DW_ROWS, x < n.
 * A tap's source row serves DW_ROWS - 1 more output rows while it is in L1, so a block of
 * output rows reads each of its kh + DW_ROWS - 1 source rows from L2 (or memory) once,
 * instead of kh times; the loads that remain hit L1.
 */
#ifndef DW_ROWS
#define DW_ROWS 4
#endif
#define DW_MROWS_VARIANT(T, S, TAG, VBYTES, NACC, ATTR)                                    \
ATTR static int mrows_##S##TAG(T *const *out, int64_t n, const T *const *rows,             \
                               const int64_t *ti, const int64_t *toff, const T *w,         \
                               int64_t ntaps, int accumulate, int check)                   \
{                                                                                          \
    typedef dw_v_##S##TAG V;                                                               \
    typedef dw_vu_##S##TAG VU;                                                             \
    enum { L = VBYTES / sizeof(T), B = NACC * (VBYTES / sizeof(T)), R = DW_ROWS };         \
    V z = (V){0};                                                                          \
    int64_t x0 = 0;                                                                        \
    for (;;) {           /* the blocks; then the tail as one more block ending at n */     \
        for (; x0 + B <= n; x0 += B) {                                                     \
            V a[R][NACC];                                                                  \
            _Pragma("GCC unroll 16")                                                       \
            for (int o = 0; o < R; o++) {                                                  \
                _Pragma("GCC unroll 16")                                                   \
                for (int v = 0; v < NACC; v++) {                                           \
                    a[o][v] = (V){0};                                                      \
                    if (accumulate) a[o][v] = *(const VU *)(out[o] + x0 + v * L);          \
                }                                                                          \
            }                                                                              \
            for (int64_t t = 0; t < ntaps; t++) {                                          \
                const V wt = (V){0} + w[t];                                                \
                const T *const *rr = rows + ti[t];                                         \
                const int64_t off = toff[t] + x0;                                          \
                _Pragma("GCC unroll 16")                                                   \
                for (int o = 0; o < R; o++) {                                              \
                    const T *s = rr[o] + off;                                              \
                    _Pragma("GCC unroll 16")                                               \
                    for (int v = 0; v < NACC; v++) a[o][v] += wt * *(const VU *)(s + v * L); \
                }                                                                          \
            }                                                                              \
            _Pragma("GCC unroll 16")                                                       \
            for (int o = 0; o < R; o++) {                                                  \
                _Pragma("GCC unroll 16")                                                   \
                for (int v = 0; v < NACC; v++) *(VU *)(out[o] + x0 + v * L) = a[o][v];     \
            }                                                                              \
            if (check) {                                                                   \
                _Pragma("GCC unroll 16")                                                   \
                for (int o = 0; o < R; o++) {                                              \
                    _Pragma("GCC unroll 16")                                               \
                    for (int v = 0; v < NACC; v++) z += a[o][v] - a[o][v];                 \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        if (accumulate || x0 >= n || n < B) break;  /* (overlap recomputed, not added) */  \
        x0 = n - B;                                                                        \
    }                                                                                      \
    for (; x0 + L <= n; x0 += L) {                                                         \
        V a[R];                                                                            \
        _Pragma("GCC unroll 16")                                                           \
        for (int o = 0; o < R; o++) {                                                      \
            a[o] = (V){0};                                                                 \
            if (accumulate) a[o] = *(const VU *)(out[o] + x0);                             \
        }                                                                                  \
        for (int64_t t = 0; t < ntaps; t++) {                                              \
            const V wt = (V){0} + w[t];                                                    \
            _Pragma("GCC unroll 16")                                                       \
            for (int o = 0; o < R; o++)                                                    \
                a[o] += wt * *(const VU *)(rows[o + ti[t]] + toff[t] + x0);                \
        }                                                                                  \
        _Pragma("GCC unroll 16")                                                           \
        for (int o = 0; o < R; o++) { *(VU *)(out[o] + x0) = a[o]; z += a[o] - a[o]; }     \
    }                                                                                      \
    T zs = 0;                                                                              \
    for (; x0 < n; x0++) {                                                                 \
        for (int o = 0; o < R; o++) {                                                      \
            T a = accumulate ? out[o][x0] : (T)0;                                          \
            for (int64_t t = 0; t < ntaps; t++) a += w[t] * rows[o + ti[t]][toff[t] + x0]; \
            out[o][x0] = a;                                                                \
            zs += a - a;                                                                   \
        }                                                                                  \
    }                                                                                      \
    for (int v = 0; v < L; v++) zs += z[v];                                                \
    return check && zs != 0;                                                               \
}

/*
 * Box passes (every tap of a 1-D factor equal): sums instead of dot products, one
 * multiply per value, and far fewer loads.
 *   vbox: out[o][x] = w * sum_{i<kh} rows[o + i][x] for o < m, a running sum down the
 *         m rows of a block (each new row adds its bottom row and drops its top one, so a
 *         block reads kh + 2(m - 1) rows instead of m·kh; m is small, so the running sum
 *         rounds about as little as the direct one);
 *   hbox: out[x] (+)= w * sum_{j<kw} src[x + j·C], the sum before the multiply.
 */
#define DW_BOX_VARIANT(T, S, TAG, VBYTES, NACC, ATTR)                                      \
ATTR static void vbox_##S##TAG(T *const *out, int64_t m, int64_t n, const T *const *rows,  \
                               int64_t off, int64_t kh, T w)                               \
{                                                                                          \
    typedef dw_v_##S##TAG V;                                                               \
    typedef dw_vu_##S##TAG VU;                                                             \
    enum { L = VBYTES / sizeof(T), B = NACC * (VBYTES / sizeof(T)) };                      \
    const V wv = (V){0} + w;                                                               \
    int64_t x0 = 0;                                                                        \
    /* after the first block, go on from where rows[0]'s loads (and, the row buffer \
     * being laid out to match, the stores) are aligned: overlap recomputed, not added */\
    int64_t adv = B - (int64_t)(((uintptr_t)(rows[0] + off + B) % VBYTES) / sizeof(T));   \
    for (int last = 0; !last && x0 < n; x0 += adv, adv = B) {                              \
        if (x0 + B > n) {     /* the tail: one more block ending at n, overlapping */      \
            if (n < B) break;                  /* (its values recomputed, not added) */    \
            x0 = n - B;                                                                    \
            last = 1;                                                                      \
        }                                                                                  \
        V a[NACC];                                                                         \
        _Pragma("GCC unroll 16")                                                           \
        for (int v = 0; v < NACC; v++) a[v] = *(const VU *)(rows[0] + off + x0 + v * L);   \
        for (int64_t i = 1; i < kh; i++) {                                                 \
            _Pragma("GCC unroll 16")                                                       \
            for (int v = 0; v < NACC; v++) a[v] += *(const VU *)(rows[i] + off + x0 + v * L); \
        }                                                                                  \
        _Pragma("GCC unroll 16")                                                           \
        for (int v = 0; v < NACC; v++) *(VU *)(out[0] + x0 + v * L) = a[v] * wv;           \
        for (int64_t o = 1; o < m; o++) {                                                  \
            const T *add = rows[o + kh - 1] + off + x0, *drop = rows[o - 1] + off + x0;    \
            _Pragma("GCC unroll 16")                                                       \
            for (int v = 0; v < NACC; v++) {                                               \
                a[v] += *(const VU *)(add + v * L) - *(const VU *)(drop + v * L);          \
                *(VU *)(out[o] + x0 + v * L) = a[v] * wv;                                  \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
    for (; x0 < n; x0++) {                                                                 \
        T a = rows[0][off + x0];                                                           \
        for (int64_t i = 1; i < kh; i++) a += rows[i][off + x0];                           \
        out[0][x0] = a * w;                                                                \
        for (int64_t o = 1; o < m; o++) {                                                  \
            a += rows[o + kh - 1][off + x0] - rows[o - 1][off + x0];                       \
            out[o][x0] = a * w;                                                            \
        }                                                                                  \
    }                                                                                      \
}                                                                                          \
                                                                                           \
ATTR static int hbox_##S##TAG(T *restrict out, int64_t n, const T *src, int64_t C,         \
                              int64_t kw, T w, int accumulate, int check)                  \
{                                                                                          \
    typedef dw_v_##S##TAG V;                                                               \
    typedef dw_vu_##S##TAG VU;                                                             \
    enum { L = VBYTES / sizeof(T), B = 2 * NACC * (VBYTES / sizeof(T)) };                  \
    const V wv = (V){0} + w;                                                               \
    V z = (V){0};                                                                          \
    int64_t x0 = 0;                                                                        \
    /* stores aligned after the first block (its overlap recomputed: not when adding) */ \
    int64_t adv = accumulate ? B : B - (int64_t)(((uintptr_t)(out + B) % VBYTES) / sizeof(T)); \
    for (;;) {           /* the blocks; then the tail as one more block ending at n */     \
        for (; x0 + B <= n; x0 += adv, adv = B) {                                          \
            V a[2 * NACC];                                                                 \
            _Pragma("GCC unroll 16")                                                       \
            for (int v = 0; v < 2 * NACC; v++) a[v] = *(const VU *)(src + x0 + v * L);     \
            for (int64_t j = 1; j < kw; j++) {                                             \
                const T *s = src + x0 + j * C;                                             \
                _Pragma("GCC unroll 16")                                                   \
                for (int v = 0; v < 2 * NACC; v++) a[v] += *(const VU *)(s + v * L);       \
            }                                                                              \
            _Pragma("GCC unroll 16")                                                       \
            for (int v = 0; v < 2 * NACC; v++) {                                           \
                V r = a[v] * wv;                                                           \
                if (accumulate) r += *(const VU *)(out + x0 + v * L);                      \
                *(VU *)(out + x0 + v * L) = r;                                             \
                if (check) z += r - r;                                                     \
            }                                                                              \
        }                                                                                  \
        if (accumulate || x0 >= n || n < B) break;  /* (overlap recomputed, not added) */  \
        x0 = n - B;                                                                        \
    }                                                                                      \
    T zs = 0;                                                                              \
    for (; x0 < n; x0++) {                                                                 \
        T a = src[x0];                                                                     \
        for (int64_t j = 1; j < kw; j++) a += src[x0 + j * C];                             \
        T r = a * w;                                                                       \
        if (accumulate) r += out[x0];                                                      \
        out[x0] = r;                                                                       \
        zs += r - r;                                                                       \
    }                                                                                      \
    for (int v = 0; v < L; v++) zs += z[v];                                                \
    return check && zs != 0;                                                               \
}

/*
 * A kernel of 3 dense rows (3×3, 3×5, ...) on 4 output rows at once: each source row
 * vector is loaded once per kernel column and feeds the (up to) 3 output rows that use
 * it, with the column's 3 weights in registers: 1.5 loads per multiply-add, against 1 +
 * a weight load in the one-row loop. For every output, the taps are summed column by
 * column.
 */
#define DW_D3_VARIANT(T, S, TAG, VBYTES, NACC, ATTR)                                       \
ATTR static int d3_##S##TAG(T *const *out, int64_t n, const T *const *rows, const T *k,    \
                            int64_t kw, int64_t C, int check)                              \
{                                                                                          \
    typedef dw_v_##S##TAG V;                                                               \
    typedef dw_vu_##S##TAG VU;                                                             \
    enum { L = VBYTES / sizeof(T), B = NACC * (VBYTES / sizeof(T)) };                      \
    const T *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3], *r4 = rows[4],     \
            *r5 = rows[5];                                                                 \
    V z = (V){0};                                                                          \
    int64_t x0 = 0;                                                                        \
    for (;;) {           /* the blocks; then the tail as one more block ending at n */     \
        for (; x0 + B <= n; x0 += B) {                                                     \
            V a0[NACC], a1[NACC], a2[NACC], a3[NACC];                                      \
            _Pragma("GCC unroll 16")                                                       \
            for (int v = 0; v < NACC; v++) a0[v] = a1[v] = a2[v] = a3[v] = (V){0};         \
            for (int64_t j = 0; j < kw; j++) {                                             \
                const V w0 = (V){0} + k[j], w1 = (V){0} + k[kw + j], w2 = (V){0} + k[2 * kw + j];\
                const int64_t off = x0 + j * C;                                            \
                _Pragma("GCC unroll 16")                                                   \
                for (int v = 0; v < NACC; v++) {                                           \
                    const int64_t e = off + v * L;                                         \
                    V r = *(const VU *)(r0 + e);                                           \
                    a0[v] += w0 * r;                                                       \
                    r = *(const VU *)(r1 + e);                                             \
                    a0[v] += w1 * r; a1[v] += w0 * r;                                      \
                    r = *(const VU *)(r2 + e);                                             \
                    a0[v] += w2 * r; a1[v] += w1 * r; a2[v] += w0 * r;                     \
                    r = *(const VU *)(r3 + e);                                             \
                    a1[v] += w2 * r; a2[v] += w1 * r; a3[v] += w0 * r;                     \
                    r = *(const VU *)(r4 + e);                                             \
                    a2[v] += w2 * r; a3[v] += w1 * r;                                      \
                    r = *(const VU *)(r5 + e);                                             \
                    a3[v] += w2 * r;                                                       \
                }                                                                          \
            }                                                                              \
            _Pragma("GCC unroll 16")                                                       \
            for (int v = 0; v < NACC; v++) {                                               \
                *(VU *)(out[0] + x0 + v * L) = a0[v];                                      \
                *(VU *)(out[1] + x0 + v * L) = a1[v];                                      \
                *(VU *)(out[2] + x0 + v * L) = a2[v];                                      \
                *(VU *)(out[3] + x0 + v * L) = a3[v];                                      \
                if (check) z += (a0[v] - a0[v]) + (a1[v] - a1[v]) + (a2[v] - a2[v]) +      \
                                (a3[v] - a3[v]);                                           \
            }                                                                              \
        }                                                                                  \
        if (x0 >= n || n < B) break;                /* (overlap recomputed, not added) */  \
        x0 = n - B;                                                                        \
    }                                                                                      \
    T zs = 0;                                                                              \
    for (; x0 < n; x0++) {                                                                 \
        for (int o = 0; o < 4; o++) {                                                      \
            T a = 0;                                                                       \
            for (int64_t j = 0; j < kw; j++)                                               \
                for (int64_t i = 0; i < 3; i++) a += k[i * kw + j] * rows[o + i][x0 + j * C]; \
            out[o][x0] = a;                                                                \
            zs += a - a;                                                                   \
        }                                                                                  \
    }                                                                                      \
    for (int v = 0; v < L; v++) zs += z[v];                                                \
    return check && zs != 0;                                                               \
}

typedef int (*dw_taps_f)(float *, int64_t, const float *const *, const float *, int64_t, int,
                         int);
typedef int (*dw_taps_d)(double *, int64_t, const double *const *, const double *, int64_t,
                         int, int);

#if (defined(__GNUC__) || defined(__clang__))
DW_TAPS_VARIANT(float, f, _base, 16, 4, )
DW_TAPS_VARIANT(double, d, _base, 16, 4, )
DW_MROWS_VARIANT(float, f, _base, 16, 3, )
DW_MROWS_VARIANT(double, d, _base, 16, 3, )
DW_BOX_VARIANT(float, f, _base, 16, 4, )
DW_BOX_VARIANT(double, d, _base, 16, 4, )
DW_D3_VARIANT(float, f, _base, 16, 2, )
DW_D3_VARIANT(double, d, _base, 16, 2, )
#if DW_X86
DW_TAPS_VARIANT(float, f, _avx2, 32, 8, __attribute__((target("avx2,fma"))))
DW_TAPS_VARIANT(double, d, _avx2, 32, 8, __attribute__((target("avx2,fma"))))
DW_TAPS_VARIANT(float, f, _avx512, 64, 4, __attribute__((target("avx512f"))))
DW_TAPS_VARIANT(double, d, _avx512, 64, 4, __attribute__((target("avx512f"))))
DW_MROWS_VARIANT(float, f, _avx2, 32, 3, __attribute__((target("avx2,fma"))))
DW_MROWS_VARIANT(double, d, _avx2, 32, 3, __attribute__((target("avx2,fma"))))
DW_MROWS_VARIANT(float, f, _avx512, 64, 6, __attribute__((target("avx512f"))))
DW_MROWS_VARIANT(double, d, _avx512, 64, 6, __attribute__((target("avx512f"))))
DW_BOX_VARIANT(float, f, _avx2, 32, 4, __attribute__((target("avx2,fma"))))
DW_BOX_VARIANT(double, d, _avx2, 32, 4, __attribute__((target("avx2,fma"))))
DW_BOX_VARIANT(float, f, _avx512, 64, 4, __attribute__((target("avx512f"))))
DW_BOX_VARIANT(double, d, _avx512, 64, 4, __attribute__((target("avx512f"))))
DW_D3_VARIANT(float, f, _avx2, 32, 2, __attribute__((target("avx2,fma"))))
DW_D3_VARIANT(double, d, _avx2, 32, 2, __attribute__((target("avx2,fma"))))
DW_D3_VARIANT(float, f, _avx512, 64, 4, __attribute__((target("avx512f"))))
DW_D3_VARIANT(double, d, _avx512, 64, 4, __attribute__((target("avx512f"))))
#endif
#else
#define DW_PLAIN_TAPS(T, S)                                                                \
static int taps_##S##_base(T *out, int64_t n, const T *const *src, const T *w,             \
                           int64_t ntaps, int accumulate, int check)                       \
{                                                                                          \
    T zs = 0;                                                                              \
    for (int64_t x = 0; x < n; x++) {                                                      \
        T a = accumulate ? out[x] : (T)0;                                                  \
        for (int64_t t = 0; t < ntaps; t++) a += w[t] * src[t][x];                         \
        out[x] = a;                                                                        \
        zs += a - a;                                                                       \
    }                                                                                      \
    return check && zs != 0;                                                               \
}
DW_PLAIN_TAPS(float, f)
DW_PLAIN_TAPS(double, d)
#define DW_PLAIN_MROWS(T, S)                                                               \
static int mrows_##S##_base(T *const *out, int64_t n, const T *const *rows,                \
                            const int64_t *ti, const int64_t *toff, const T *w,            \
                            int64_t ntaps, int accumulate, int check)                      \
{                                                                                          \
    T zs = 0;                                                                              \
    for (int o = 0; o < DW_ROWS; o++)                                                      \
        for (int64_t x = 0; x < n; x++) {                                                  \
            T a = accumulate ? out[o][x] : (T)0;                                           \
            for (int64_t t = 0; t < ntaps; t++) a += w[t] * rows[o + ti[t]][toff[t] + x];  \
            out[o][x] = a;                                                                 \
            zs += a - a;                                                                   \
        }                                                                                  \
    return check && zs != 0;                                                               \
}
DW_PLAIN_MROWS(float, f)
DW_PLAIN_MROWS(double, d)
#define DW_PLAIN_BOX(T, S)                                                                 \
static void vbox_##S##_base(T *const *out, int64_t m, int64_t n, const T *const *rows,     \
                            int64_t off, int64_t kh, T w)                                  \
{                                                                                          \
    for (int64_t o = 0; o < m; o++)                                                        \
        for (int64_t x = 0; x < n; x++) {                                                  \
            T a = 0;                                                                       \
            for (int64_t i = 0; i < kh; i++) a += rows[o + i][off + x];                    \
            out[o][x] = a * w;                                                             \
        }                                                                                  \
}                                                                                          \
static int hbox_##S##_base(T *out, int64_t n, const T *src, int64_t C, int64_t kw, T w,    \
                           int accumulate, int check)                                      \
{                                                                                          \
    T zs = 0;                                                                              \
    for (int64_t x = 0; x < n; x++) {                                                      \
        T a = 0;                                                                           \
        for (int64_t j = 0; j < kw; j++) a += src[x + j * C];                              \
        T r = a * w + (accumulate ? out[x] : (T)0);                                        \
        out[x] = r;                                                                        \
        zs += r - r;                                                                       \
    }                                                                                      \
    return check && zs != 0;                                                               \
}
DW_PLAIN_BOX(float, f)
DW_PLAIN_BOX(double, d)
#define DW_PLAIN_D3(T, S)                                                                  \
static int d3_##S##_base(T *const *out, int64_t n, const T *const *rows, const T *k,       \
                         int64_t kw, int64_t C, int check)                                 \
{                                                                                          \
    T zs = 0;                                                                              \
    for (int o = 0; o < 4; o++)                                                            \
        for (int64_t x = 0; x < n; x++) {                                                  \
            T a = 0;                                                                       \
            for (int64_t j = 0; j < kw; j++)                                               \
                for (int64_t i = 0; i < 3; i++) a += k[i * kw + j] * rows[o + i][x + j * C]; \
            out[o][x] = a;                                                                 \
            zs += a - a;                                                                   \
        }                                                                                  \
    return check && zs != 0;                                                               \
}
DW_PLAIN_D3(float, f)
DW_PLAIN_D3(double, d)
#endif

/* 2 = AVX-512, 1 = AVX2+FMA, 0 = baseline: the widest variant this CPU runs */
static int dw_detect_isa(void)
{
#if DW_X86 && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

static int dw_isa_forced = -1;   /* set by dw_force_isa (tests, benchmarks), else detected */
static int dw_isa_detected = -1;

int dw_isa(void)
{
    if (dw_isa_forced >= 0) return dw_isa_forced;
    if (dw_isa_detected < 0) dw_isa_detected = dw_detect_isa();
    return dw_isa_detected;
}

/* Force a variant (0, 1, 2) for later calls; refuses one the CPU lacks. -1 = detect again. */
int dw_force_isa(int isa)
{
    if (isa > dw_detect_isa()) return -1;
    dw_isa_forced = isa < 0 ? -1 : isa;
    return 0;
}

static int taps_f(float *out, int64_t n, const float *const *src, const float *w,
                  int64_t ntaps, int accumulate, int check)
{
    static const dw_taps_f variants[3] = {
        taps_f_base,
#if DW_X86 && (defined(__GNUC__) || defined(__clang__))
        taps_f_avx2, taps_f_avx512,
#else
        taps_f_base, taps_f_base,
#endif
    };
    return variants[dw_isa()](out, n, src, w, ntaps, accumulate, check);
}

static int taps_d(double *out, int64_t n, const double *const *src, const double *w,
                  int64_t ntaps, int accumulate, int check)
{
    static const dw_taps_d variants[3] = {
        taps_d_base,
#if DW_X86 && (defined(__GNUC__) || defined(__clang__))
        taps_d_avx2, taps_d_avx512,
#else
        taps_d_base, taps_d_base,
#endif
    };
    return variants[dw_isa()](out, n, src, w, ntaps, accumulate, check);
}


typedef int (*dw_mrows_f)(float *const *, int64_t, const float *const *, const int64_t *,
                          const int64_t *, const float *, int64_t, int, int);
typedef int (*dw_mrows_d)(double *const *, int64_t, const double *const *, const int64_t *,
                          const int64_t *, const double *, int64_t, int, int);
#define DW_MROWS_DISPATCH(T, S)                                                            \
static int mrows_##S(T *const *out, int64_t n, const T *const *rows, const int64_t *ti,    \
                     const int64_t *toff, const T *w, int64_t ntaps, int accumulate,       \
                     int check)                                                            \
{                                                                                          \
    static const dw_mrows_##S variants[3] = {                                              \
        mrows_##S##_base, DW_WIDE(mrows_##S##_avx2, mrows_##S##_base),                     \
        DW_WIDE(mrows_##S##_avx512, mrows_##S##_base),                                     \
    };                                                                                     \
    return variants[dw_isa()](out, n, rows, ti, toff, w, ntaps, accumulate, check);        \
}
#if DW_X86 && (defined(__GNUC__) || defined(__clang__))
#define DW_WIDE(wide, base) wide
#else
#define DW_WIDE(wide, base) base
#endif
DW_MROWS_DISPATCH(float, f)
DW_MROWS_DISPATCH(double, d)


typedef void (*dw_vbox_f)(float *const *, int64_t, int64_t, const float *const *, int64_t,
                          int64_t, float);
typedef void (*dw_vbox_d)(double *const *, int64_t, int64_t, const double *const *, int64_t,
                          int64_t, double);
typedef int (*dw_hbox_f)(float *, int64_t, const float *, int64_t, int64_t, float, int, int);
typedef int (*dw_hbox_d)(double *, int64_t, const double *, int64_t, int64_t, double, int,
                         int);
#define DW_BOX_DISPATCH(T, S)                                                              \
static void vbox_##S(T *const *out, int64_t m, int64_t n, const T *const *rows,            \
                     int64_t off, int64_t kh, T w)                                         \
{                                                                                          \
    static const dw_vbox_##S variants[3] = {                                               \
        vbox_##S##_base, DW_WIDE(vbox_##S##_avx2, vbox_##S##_base),                        \
        DW_WIDE(vbox_##S##_avx512, vbox_##S##_base),                                       \
    };                                                                                     \
    variants[dw_isa()](out, m, n, rows, off, kh, w);                                       \
}                                                                                          \
static int hbox_##S(T *out, int64_t n, const T *src, int64_t C, int64_t kw, T w,           \
                    int accumulate, int check)                                             \
{                                                                                          \
    static const dw_hbox_##S variants[3] = {                                               \
        hbox_##S##_base, DW_WIDE(hbox_##S##_avx2, hbox_##S##_base),                        \
        DW_WIDE(hbox_##S##_avx512, hbox_##S##_base),                                       \
    };                                                                                     \
    return variants[dw_isa()](out, n, src, C, kw, w, accumulate, check);                   \
}
DW_BOX_DISPATCH(float, f)
DW_BOX_DISPATCH(double, d)


typedef int (*dw_d3_f)(float *const *, int64_t, const float *const *, const float *, int64_t,
                       int64_t, int);
typedef int (*dw_d3_d)(double *const *, int64_t, const double *const *, const double *,
                       int64_t, int64_t, int);
#define DW_D3_DISPATCH(T, S)                                                               \
static int d3_##S(T *const *out, int64_t n, const T *const *rows, const T *k, int64_t kw,  \
                  int64_t C, int check)                                                    \
{                                                                                          \
    static const dw_d3_##S variants[3] = {                                                 \
        d3_##S##_base, DW_WIDE(d3_##S##_avx2, d3_##S##_base),                              \
        DW_WIDE(d3_##S##_avx512, d3_##S##_base),                                           \
    };                                                                                     \
    return variants[dw_isa()](out, n, rows, k, kw, C, check);                              \
}
DW_D3_DISPATCH(float, f)
DW_D3_DISPATCH(double, d)

#ifndef DW_TILE_BYTES
#define DW_TILE_BYTES (192 * 1024)   /* the separable plan's kh source rows of one column tile */
#endif

/*
 * `check` asks the loops to look for NaN and infinity while the data is in cache:
 *   1: scan each image row [y0, y1) right after its output row (stops at the first bad
 *      row, returns 1);
 *   2: scan the output values as they leave the registers (returns 2 when one is not
 *      finite, and finishes the stripe). The caller uses 2 only when the kernel's centre
 *      tap is non-zero: then every NaN or infinity of the input reaches the output at
 *      its own position, and a non-finite output from finite input is overflow, which
 *      the caller tells apart by scanning the input.
 */
#define DW_DEFINE(T, S)                                                                    \
/* the non-zero taps of v[0:n]: their indices into idx, weights into w; returns how many */ \
static int64_t nonzero_taps_##S(const T *v, int64_t n, int64_t *idx, T *w)                 \
{                                                                                          \
    int64_t nt = 0;                                                                        \
    for (int64_t m = 0; m < n; m++)                                                        \
        if (v[m] != 0) { idx[nt] = m; w[nt++] = v[m]; }                                    \
    return nt;                                                                             \
}                                                                                          \
                                                                                           \
/* 1 when every v[0:n] equals v[0] (a box factor: sums, then one multiply) */              \
static int equal_taps_##S(const T *v, int64_t n)                                           \
{                                                                                          \
    for (int64_t m = 1; m < n; m++)                                                        \
        if (v[m] != v[0]) return 0;                                                        \
    return 1;                                                                              \
}                                                                                          \
                                                                                           \
/* dst (W + kw - 1 pixels) = row `src` (W pixels) padded by colmap; -1 gives `fill` */     \
static void pad_row_##S(T *restrict dst, const T *restrict src, int64_t W, int64_t C,      \
                        int64_t q, int64_t kw, const int64_t *colmap, T fill)              \
{                                                                                          \
    memcpy(dst + q * C, src, (size_t)(W * C) * sizeof(T));                                 \
    for (int64_t x = 0; x < W + kw - 1; x++) {                                             \
        if (x >= q && x < q + W) { x = q + W - 1; continue; }                              \
        const int64_t sx = colmap[x];                                                      \
        for (int64_t c = 0; c < C; c++) dst[x * C + c] = sx < 0 ? fill : src[sx * C + c];  \
    }                                                                                      \
}                                                                                          \
                                                                                           \
/* images at most 2q pixels wide: every row padded into a ring, all taps from the ring */  \
static int direct_padded_##S(const T *img, T *out, int64_t W, int64_t C, const T *k,       \
                             int64_t kh, int64_t kw, const int64_t *rowmap,                \
                             const int64_t *colmap, double cval, int64_t y0, int64_t y1,   \
                             int check)                                                    \
{                                                                                          \
    const int64_t WC = W * C, PW = (W + kw - 1) * C, q = kw / 2;                           \
    T *ring = (T *)malloc((size_t)(kh * PW) * sizeof(T));                                  \
    const T **src = (const T **)malloc((size_t)(kh * kw) * sizeof(T *));                   \
    T *w = (T *)malloc((size_t)(kh * kw) * sizeof(T));                                     \
    int64_t *ti = (int64_t *)malloc((size_t)(kh * kw) * sizeof(int64_t));                  \
    if (!ring || !src || !w || !ti) { free(ring); free(src); free(w); free(ti); return -1; } \
    const int64_t nt = nonzero_taps_##S(k, kh * kw, ti, w);                                \
    int status = 0;                                                                        \
    for (int64_t y = y0; y < y1; y++) {                                                    \
        for (int64_t p = (y == y0 ? y : y + kh - 1); p < y + kh; p++) {                    \
            const int64_t sy = rowmap[p];                 /* padded row p - r of image */  \
            T *d = ring + (p % kh) * PW;                                                   \
            if (sy < 0) { for (int64_t e = 0; e < PW; e++) d[e] = (T)cval; }               \
            else pad_row_##S(d, img + sy * WC, W, C, q, kw, colmap, (T)cval);              \
        }                                                                                  \
        for (int64_t t = 0; t < nt; t++)                                                   \
            src[t] = ring + ((y + ti[t] / kw) % kh) * PW + (ti[t] % kw) * C;               \
        if (taps_##S(out + y * WC, WC, src, w, nt, 0, check == 2)) status = 2;             \
        if (check == 1 && !finite_block_##S(img + y * WC, WC)) { status = 1; break; }      \
    }                                                                                      \
    free(ring); free(src); free(w); free(ti);                                              \
    return status;                                                                         \
}                                                                                          \
                                                                                           \
/*                                                                                         \
 * Direct plan: the interior columns [q, W - q) read the image rows in place (no padded    \
 * copy); the q border columns on each side read a strip of 3q pixels per kernel row,      \
 * padded by colmap.                                                                       \
 */                                                                                        \
int dw_direct_##S(const T *img, T *out, int64_t H, int64_t W, int64_t C,                   \
                  const T *k, int64_t kh, int64_t kw, const int64_t *rowmap,               \
                  const int64_t *colmap, double cval, int64_t y0, int64_t y1, int check)   \
{                                                                                          \
    const int64_t WC = W * C, q = kw / 2;                                                  \
    (void)H;                                  /* rowmap already encodes the height */      \
    if (W <= 2 * q)                                                                        \
        return direct_padded_##S(img, out, W, C, k, kh, kw, rowmap, colmap, cval, y0, y1,  \
                                 check);                                                   \
    T *crow = (T *)malloc((size_t)WC * sizeof(T));                                         \
    int64_t *bsx = (int64_t *)malloc((size_t)(2 * q * kh * kw + 1) * sizeof(int64_t));     \
    const T **rows = (const T **)malloc((size_t)(kh + 3) * sizeof(T *));                   \
    const T **src = (const T **)malloc((size_t)(kh * kw) * sizeof(T *));                   \
    T *w = (T *)malloc((size_t)(kh * kw) * sizeof(T));                                     \
    int64_t *ti = (int64_t *)malloc((size_t)(2 * kh * kw) * sizeof(int64_t));              \
    if (!crow || !bsx || !rows || !src || !w || !ti) {                                     \
        free(crow); free(bsx); free(rows); free(src); free(w); free(ti);    return -1;     \
    }                                                                                      \
    for (int64_t e = 0; e < WC; e++) crow[e] = (T)cval;                                    \
    const int64_t nt = nonzero_taps_##S(k, kh * kw, ti, w);                                \
    int64_t *tr = ti + kh * kw;                          /* each tap's kernel row */       \
    for (int64_t t = 0; t < nt; t++) tr[t] = ti[t] / kw;                                   \
    for (int64_t e = 0; e < 2 * q; e++) {    /* border column e (q left, q right) ... */   \
        const int64_t x = e < q ? e : W - 2 * q + e;                                       \
        for (int64_t t = 0; t < nt; t++) {   /* ... reads source column bsx[e·nt + t] */   \
            const int64_t sx = colmap[x + ti[t] % kw];                                     \
            bsx[e * nt + t] = sx < 0 ? -1 : sx * C;                                        \
        }                                                                                  \
    }                                                                                      \
    const T fill = (T)cval;                                                                \
    /* 3 dense kernel rows: the interior of 4 output rows at once (zero taps are skipped   \
       in the other loops, so that 0·inf does not turn a pixel no tap reads into NaN) */   \
    /* ... unless the rows are a multiple of 4 KiB apart (give or take 256 bytes): then    \
       the 6 source and 4 output rows of a sweep share L1 sets and alias (2048 floats      \
       × 3 channels: measured slower than one row at a time) */                            \
    const int64_t skew = (int64_t)(((size_t)WC * sizeof(T)) & 4095);                       \
    const int dense3 = kh == 3 && nt == kh * kw && skew >= 256 && skew <= 4096 - 256;      \
    int64_t blocked = y0;                          /* rows before this one: interior done */ \
    int status = 0;                                                                        \
    for (int64_t y = y0; y < y1; y++) {                                                    \
        T *o = out + y * WC;                                                               \
        for (int64_t i = 0; i < kh; i++) {                                                 \
            const int64_t sy = rowmap[y + i];                                              \
            rows[i] = sy < 0 ? crow : img + sy * WC;                                       \
        }                                                                                  \
        int bad = 0;                                                                       \
        if (dense3 && y >= blocked && y + 4 <= y1) {                                       \
            for (int64_t i = 3; i < 6; i++) {                                              \
                const int64_t sy = rowmap[y + i];                                          \
                rows[i] = sy < 0 ? crow : img + sy * WC;                                   \
            }                                                                              \
            T *outs[4] = {o + q * C, o + WC + q * C, o + 2 * WC + q * C, o + 3 * WC + q * C}; \
            bad = d3_##S(outs, (W - 2 * q) * C, rows, k, kw, C, check == 2);               \
            blocked = y + 4;                                                               \
        } else if (y >= blocked) {                                                         \
            for (int64_t t = 0; t < nt; t++)                                               \
                src[t] = rows[tr[t]] + (ti[t] % kw) * C;                                   \
            bad = taps_##S(o + q * C, (W - 2 * q) * C, src, w, nt, 0, check == 2);         \
        }                                                                                  \
        T zs = 0;                      /* border columns: the taps one by one, by colmap */ \
        for (int64_t e = 0; e < 2 * q; e++) {                                              \
            const int64_t *bs = bsx + e * nt;                                              \
            T *oe = o + (e < q ? e : W - 2 * q + e) * C;                                   \
            for (int64_t c = 0; c < C; c++) {                                              \
                T acc = 0;                                                                 \
                for (int64_t t = 0; t < nt; t++)                                           \
                    acc += w[t] * (bs[t] < 0 ? fill : rows[tr[t]][bs[t] + c]);             \
                oe[c] = acc;                                                               \
                zs += acc - acc;                                                           \
            }                                                                              \
        }                                                                                  \
        if (check == 2 && zs != 0) bad = 1;                                                \
        if (bad) status = 2;                                                               \
        if (check == 1 && !finite_block_##S(img + y * WC, WC)) { status = 1; break; }      \
    }                                                                                      \
    free(crow); free(bsx); free(rows); free(src); free(w); free(ti);                       \
    return status;                                                                         \
}                                                                                          \
                                                                                           \
/*                                                                                         \
 * Separable plan, one column tile at a time (so that the kh source rows of a tile stay    \
 * in L2 from one output row to the next): a vertical pass from the image rows in place    \
 * into a row buffer of the tile and its 2q halo columns, then a horizontal pass out of    \
 * it. Halo columns outside the image come from colmap.                                    \
 */                                                                                        \
int dw_sep_##S(const T *img, T *out, int64_t H, int64_t W, int64_t C,                      \
               const T *col, int64_t kh, const T *row, int64_t kw,                         \
               const int64_t *rowmap, const int64_t *colmap, double cval,                  \
               int64_t y0, int64_t y1, int accumulate, int check)                          \
{                                                                                          \
    const int64_t WC = W * C, q = kw / 2;                                                  \
    (void)H;                                  /* rowmap already encodes the height */      \
    int64_t TW = (int64_t)(DW_TILE_BYTES / ((size_t)(kh * C) * sizeof(T))) - 2 * q;        \
    if (TW < 64) TW = 64;                                                                  \
    if (TW > W) TW = W;                                                                    \
    /* R rows of the vertical pass, each 64-byte aligned plus a shift (set per tile) that \
     * aligns a row's columns like the image's, so vbox loads and stores align at once */ \
    const int64_t PT = ((TW + 2 * q) * C + 31) / 16 * 16, R = DW_ROWS;                   \
    void *tmp_mem = malloc((size_t)(R * PT) * sizeof(T) + 64);                             \
    T *const tmp0 = tmp_mem ? (T *)(((uintptr_t)tmp_mem + 63) & ~(uintptr_t)63) : NULL;    \
    T *tmp = tmp0;                                                                         \
    T *crow = (T *)malloc((size_t)WC * sizeof(T));                                         \
    const T **rows = (const T **)malloc((size_t)(kh + R) * sizeof(T *));                   \
    const T **src = (const T **)malloc((size_t)(kh + kw) * sizeof(T *));                   \
    T *cw = (T *)malloc((size_t)(kh + 1) * sizeof(T));                                     \
    T *rw = (T *)malloc((size_t)(kw + 1) * sizeof(T));                                     \
    int64_t *rj = (int64_t *)malloc((size_t)(kw + 1) * sizeof(int64_t));                   \
    int64_t *ci = (int64_t *)malloc((size_t)(2 * kh + 2) * sizeof(int64_t));               \
    if (!tmp || !crow || !rows || !src || !cw || !rw || !rj || !ci) {                      \
        free(tmp_mem); free(crow); free(rows); free(src); free(cw); free(rw); free(rj);        \
        free(ci); return -1;                                                               \
    }                                                                                      \
    int status = 0;                                                                        \
    for (int64_t e = 0; e < WC; e++) crow[e] = (T)cval;                                    \
    T colsum = 0;                                                                          \
    for (int64_t i = 0; i < kh; i++) colsum += col[i];                                     \
    const int64_t nc = nonzero_taps_##S(col, kh, ci, cw);                                  \
    const int64_t nr = nonzero_taps_##S(row, kw, rj, rw);                                  \
    int64_t *coff = ci + kh + 1;                 /* every vertical tap starts at column a */ \
    const int vbox = nc == kh && kh > 1 && equal_taps_##S(col, kh);                        \
    const int hbox = nr == kw && kw > 1 && equal_taps_##S(row, kw);                        \
    for (int64_t tx0 = 0; tx0 < W; tx0 += TW) {                                            \
        const int64_t tx1 = tx0 + TW < W ? tx0 + TW : W;                                   \
        const int64_t a = tx0 - q > 0 ? tx0 - q : 0, b = tx1 + q < W ? tx1 + q : W;        \
        for (int64_t n = 0; n < nc; n++) coff[n] = a * C;                                  \
        {                          /* column a of the row buffer aligned like img's */ \
            const int64_t want = (int64_t)(((uintptr_t)(img + a * C) % 64) / sizeof(T));  \
            const int64_t have = (a - (tx0 - q)) * C;                                      \
            tmp = tmp0 + ((want - have) % 16 + 16) % 16;                                   \
        }                                                                                  \
        for (int64_t y = y0, m; y < y1; y += m) {                                          \
            m = y1 - y < R ? y1 - y : R;              /* output rows y .. y + m - 1 */     \
            for (int64_t i = 0; i < m + kh - 1; i++) {                                     \
                const int64_t sy = rowmap[y + i];                                          \
                rows[i] = sy < 0 ? crow : img + sy * WC;                                   \
            }                                                                              \
            T *mids[DW_ROWS];                                 /* vertical pass, m rows */  \
            for (int64_t o = 0; o < m; o++) mids[o] = tmp + o * PT + (a - (tx0 - q)) * C;  \
            if (vbox) vbox_##S(mids, m, (b - a) * C, rows, a * C, kh, col[0]);             \
            else if (m == R) mrows_##S(mids, (b - a) * C, rows, ci, coff, cw, nc, 0, 0);   \
            for (int64_t o = 0; o < m; o++) {                                              \
                T *t_o = tmp + o * PT;                   /* t_o[p] is column tx0 - q + p */ \
                T *mid = t_o + (a - (tx0 - q)) * C;                                        \
                const T **base = rows + o;                                                 \
                if (m < R && !vbox) {                                                      \
                    for (int64_t n = 0; n < nc; n++) src[n] = base[ci[n]] + a * C;         \
                    taps_##S(mid, (b - a) * C, src, cw, nc, 0, 0);      /* vertical */     \
                }                                                                          \
                for (int64_t x = tx0 - q; x < tx1 + q; x++) {          /* halo outside */  \
                    if (x >= a && x < b) { x = b - 1; continue; }                          \
                    const int64_t sx = colmap[x + q];                                      \
                    T *d = t_o + (x - (tx0 - q)) * C;                                      \
                    for (int64_t c = 0; c < C; c++) {                                      \
                        if (sx < 0) { d[c] = (T)cval * colsum; continue; }                 \
                        if (sx >= a && sx < b) { d[c] = mid[(sx - a) * C + c]; continue; } \
                        T acc = 0;                              /* wrap: a far column */   \
                        for (int64_t i = 0; i < kh; i++) acc += col[i] * base[i][sx * C + c]; \
                        d[c] = acc;                                                        \
                    }                                                                      \
                }                                                                          \
                for (int64_t n = 0; n < nr; n++) src[n] = t_o + rj[n] * C;                 \
                T *orow = out + (y + o) * WC + tx0 * C;                /* horizontal */    \
                if (hbox ? hbox_##S(orow, (tx1 - tx0) * C, t_o, C, kw, row[0], accumulate, \
                                    check == 2)                                            \
                         : taps_##S(orow, (tx1 - tx0) * C, src, rw, nr, accumulate,        \
                                    check == 2))                                           \
                    status = 2;                                                            \
                if (check == 1 &&                                                          \
                    !finite_block_##S(img + (y + o) * WC + tx0 * C, (tx1 - tx0) * C)) {    \
                    status = 1;                                                            \
                    goto done;                                                             \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
done:                                                                                      \
    free(tmp_mem); free(crow); free(rows); free(src); free(cw); free(rw); free(rj);       \
    free(ci);                                                                              \
    return status;                                                                         \
}

/* 1 when x[0:n] holds only finite numbers: x - x is 0 for those, NaN for inf and NaN */
#define DW_FINITE(T, S)                                                                    \
DW_CLONES static int finite_block_##S(const T *x, int64_t n)                               \
{                                                                                          \
    T acc[16] = {0};                                                                       \
    int64_t i = 0;                                                                         \
    for (; i + 16 <= n; i += 16)                                                           \
        for (int b = 0; b < 16; b++) acc[b] += x[i + b] - x[i + b];                        \
    for (; i < n; i++) acc[0] += x[i] - x[i];                                              \
    T total = 0;                                                                           \
    for (int b = 0; b < 16; b++) total += acc[b];                                          \
    return total == 0;                                                                     \
}                                                                                          \
                                                                                           \
int dw_all_finite_##S(const T *x, int64_t n)                                               \
{                                                                                          \
    for (int64_t i = 0; i < n; i += 1 << 16)            /* stop at the first bad block */  \
        if (!finite_block_##S(x + i, n - i < (1 << 16) ? n - i : (1 << 16))) return 0;     \
    return 1;                                                                              \
}

DW_FINITE(float, f)
DW_FINITE(double, d)
DW_DEFINE(float, f)
DW_DEFINE(double, d)

/*
 * The whole image on the pool of _dwpool.h: dw_direct_mt_* and dw_sep_mt_* run rows
 * [0, H) in `stripes` stripes on up to `nthreads` threads (the caller one of them), with
 * the statuses of the one-stripe entries above. dw_sep_mt_* applies `npasses` rank-1
 * factors (factors[2t] the column, factors[2t + 1] the row of pass t, as addresses), every
 * pass after the first adding to `out`, all passes of a stripe while its rows are in
 * cache; `check` scans the input in the first pass (CHECK_INPUT) or the output in the
 * last (CHECK_OUTPUT).
 */
#define DW_MT(T, S)                                                                        \
typedef struct {                                                                           \
    const T *img; T *out; int64_t H, W, C, kh, kw, npasses;                                \
    const T *k; const int64_t *factors, *rowmap, *colmap; double cval; int check;          \
} dw_mt_job_##S;                                                                           \
                                                                                           \
static int direct_stripe_##S(void *p, int64_t y0, int64_t y1)                              \
{                                                                                          \
    const dw_mt_job_##S *j = (const dw_mt_job_##S *)p;                                     \
    return dw_direct_##S(j->img, j->out, j->H, j->W, j->C, j->k, j->kh, j->kw, j->rowmap,  \
                         j->colmap, j->cval, y0, y1, j->check);                            \
}                                                                                          \
                                                                                           \
static int sep_stripe_##S(void *p, int64_t y0, int64_t y1)                                 \
{                                                                                          \
    const dw_mt_job_##S *j = (const dw_mt_job_##S *)p;                                     \
    int status = 0;                                                                        \
    for (int64_t t = 0; t < j->npasses; t++) {                                             \
        const int mode = (t == 0 && j->check == 1) ||                                      \
                         (t == j->npasses - 1 && j->check == 2) ? j->check : 0;            \
        const int st = dw_sep_##S(j->img, j->out, j->H, j->W, j->C,                        \
                                  (const T *)(intptr_t)j->factors[2 * t], j->kh,           \
                                  (const T *)(intptr_t)j->factors[2 * t + 1], j->kw,       \
                                  j->rowmap, j->colmap, j->cval, y0, y1, t > 0, mode);     \
        if (st == -1 || st == 1) return st;                                                \
        if (st) status = st;                                                               \
    }                                                                                      \
    return status;                                                                         \
}                                                                                          \
                                                                                           \
int dw_direct_mt_##S(const T *img, T *out, int64_t H, int64_t W, int64_t C, const T *k,    \
                     int64_t kh, int64_t kw, const int64_t *rowmap, const int64_t *colmap, \
                     double cval, int check, int nthreads, int64_t stripes)                \
{                                                                                          \
    dw_mt_job_##S j = {img, out, H, W, C, kh, kw, 0, k, NULL, rowmap, colmap, cval, check}; \
    return dw_pool_run(direct_stripe_##S, &j, H, stripes, nthreads);                       \
}                                                                                          \
                                                                                           \
int dw_sep_mt_##S(const T *img, T *out, int64_t H, int64_t W, int64_t C,                   \
                  const int64_t *factors, int64_t npasses, int64_t kh, int64_t kw,         \
                  const int64_t *rowmap, const int64_t *colmap, double cval, int check,    \
                  int nthreads, int64_t stripes)                                           \
{                                                                                          \
    dw_mt_job_##S j = {img, out, H, W, C, kh, kw, npasses, NULL, factors, rowmap, colmap,  \
                       cval, check};                                                       \
    return dw_pool_run(sep_stripe_##S, &j, H, stripes, nthreads);                          \
}

DW_MT(float, f)
DW_MT(double, d)

/* 1 when the _mt entries run on threads (POSIX), 0 when they run serially */
int dw_threaded(void) { return dw_pool_threaded(); }

static struct PyModuleDef dw_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_dwconv",
    .m_doc = "Compiled loops of dotwise (called through ctypes by dotwise._native).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__dwconv(void) { return PyModule_Create(&dw_module); }
