/*
 * dotwise._dwconv — compiled inner loops (the image convolution engine, a finiteness check).
 *
 * Two entry points per dtype (float32 "f", float64 "d"), both called through ctypes by
 * dotwise/_native.py on a stripe of output rows [y0, y1) of a C-contiguous
 * channel-last image (H, W, C). ctypes releases the GIL, so stripes run in parallel.
 *
 *   dw_direct_*: out[y, x, c] = sum_{i,j} k[i, j] * img[rowmap[y + i], colmap[x + j], c]
 *   dw_sep_*:    the same for a rank-1 kernel k = col ⊗ row, as a vertical pass into a
 *                padded row buffer and a horizontal pass out of it (kh + kw multiply-adds
 *                per value instead of kh·kw); `accumulate` adds to `out` (rank > 1 plans).
 *
 * rowmap (length H + kh - 1) and colmap (length W + kw - 1) give, for every padded
 * position, the source row / column by the boundary rule, or -1 for the constant `cval`.
 *
 * Every output value is a dot product of a tap vector with a window of the image. The
 * loops hold a block of DW_BLOCK consecutive output values in registers and stream each
 * tap's shifted source row through them once, so a value costs one load per tap and one
 * store. The compiler vectorises the fixed-length block loops; on x86-64 Linux with GCC,
 * target_clones adds AVX-512 and AVX2+FMA versions picked at load time by the CPU.
 *
 * dw_all_finite_* checks an input for NaN and infinity in one vectorised pass.
 *
 * A small CPython module init is included only so that setuptools can build this file
 * as an extension module; it exposes no functions.
 */
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
#define DW_TAPS_VARIANT(T, S, TAG, VBYTES, NACC, ATTR)                                      \
typedef T dw_v_##S##TAG __attribute__((vector_size(VBYTES)));                              \
typedef T dw_vu_##S##TAG __attribute__((vector_size(VBYTES), aligned(sizeof(T)), may_alias)); \
ATTR static void taps_##S##TAG(T *restrict out, int64_t n, const T *const *src,            \
                               const T *w, int64_t ntaps, int accumulate)                  \
{                                                                                          \
    typedef dw_v_##S##TAG V;                                                               \
    typedef dw_vu_##S##TAG VU;                                                             \
    enum { L = VBYTES / sizeof(T), B = NACC * (VBYTES / sizeof(T)) };                      \
    int64_t x0 = 0;                                                                        \
    for (; x0 + B <= n; x0 += B) {                                                         \
        V a[NACC];                                                                         \
        _Pragma("GCC unroll 16")                                                           \
        for (int v = 0; v < NACC; v++) {                                                   \
            a[v] = (V){0};                                                                 \
            if (accumulate) a[v] = *(const VU *)(out + x0 + v * L);                        \
        }                                                                                  \
        for (int64_t t = 0; t < ntaps; t++) {                                              \
            const T *s = src[t] + x0;                                                      \
            const V wt = (V){0} + w[t];                                                    \
            _Pragma("GCC unroll 16")                                                       \
            for (int v = 0; v < NACC; v++) a[v] += wt * *(const VU *)(s + v * L);          \
        }                                                                                  \
        _Pragma("GCC unroll 16")                                                           \
        for (int v = 0; v < NACC; v++) *(VU *)(out + x0 + v * L) = a[v];                   \
    }                                                                                      \
    for (; x0 + L <= n; x0 += L) {                                                         \
        V a = (V){0};                                                                      \
        if (accumulate) a = *(const VU *)(out + x0);                                       \
        for (int64_t t = 0; t < ntaps; t++) a += ((V){0} + w[t]) * *(const VU *)(src[t] + x0); \
        *(VU *)(out + x0) = a;                                                             \
    }                                                                                      \
    for (; x0 < n; x0++) {                                                                 \
        T a = accumulate ? out[x0] : (T)0;                                                 \
        for (int64_t t = 0; t < ntaps; t++) a += w[t] * src[t][x0];                        \
        out[x0] = a;                                                                       \
    }                                                                                      \
}

typedef void (*dw_taps_f)(float *, int64_t, const float *const *, const float *, int64_t, int);
typedef void (*dw_taps_d)(double *, int64_t, const double *const *, const double *, int64_t,
                          int);

#if (defined(__GNUC__) || defined(__clang__))
DW_TAPS_VARIANT(float, f, _base, 16, 4, )
DW_TAPS_VARIANT(double, d, _base, 16, 4, )
#if DW_X86
DW_TAPS_VARIANT(float, f, _avx2, 32, 8, __attribute__((target("avx2,fma"))))
DW_TAPS_VARIANT(double, d, _avx2, 32, 8, __attribute__((target("avx2,fma"))))
DW_TAPS_VARIANT(float, f, _avx512, 64, 4, __attribute__((target("avx512f"))))
DW_TAPS_VARIANT(double, d, _avx512, 64, 4, __attribute__((target("avx512f"))))
#endif
#else
#define DW_PLAIN_TAPS(T, S)                                                                \
static void taps_##S##_base(T *out, int64_t n, const T *const *src, const T *w,           \
                            int64_t ntaps, int accumulate)                                 \
{                                                                                          \
    for (int64_t x = 0; x < n; x++) {                                                      \
        T a = accumulate ? out[x] : (T)0;                                                  \
        for (int64_t t = 0; t < ntaps; t++) a += w[t] * src[t][x];                         \
        out[x] = a;                                                                        \
    }                                                                                      \
}
DW_PLAIN_TAPS(float, f)
DW_PLAIN_TAPS(double, d)
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

int dw_isa(void) { return dw_isa_forced >= 0 ? dw_isa_forced : dw_detect_isa(); }

/* Force a variant (0, 1, 2) for later calls; refuses one the CPU lacks. -1 = detect again. */
int dw_force_isa(int isa)
{
    if (isa > dw_detect_isa()) return -1;
    dw_isa_forced = isa < 0 ? -1 : isa;
    return 0;
}

static void taps_f(float *out, int64_t n, const float *const *src, const float *w,
                   int64_t ntaps, int accumulate)
{
    static const dw_taps_f variants[3] = {
        taps_f_base,
#if DW_X86 && (defined(__GNUC__) || defined(__clang__))
        taps_f_avx2, taps_f_avx512,
#else
        taps_f_base, taps_f_base,
#endif
    };
    variants[dw_isa()](out, n, src, w, ntaps, accumulate);
}

static void taps_d(double *out, int64_t n, const double *const *src, const double *w,
                   int64_t ntaps, int accumulate)
{
    static const dw_taps_d variants[3] = {
        taps_d_base,
#if DW_X86 && (defined(__GNUC__) || defined(__clang__))
        taps_d_avx2, taps_d_avx512,
#else
        taps_d_base, taps_d_base,
#endif
    };
    variants[dw_isa()](out, n, src, w, ntaps, accumulate);
}

#define DW_DEFINE(T, S)                                                                    \
/* dst (W + kw - 1 pixels) = row `src` (W pixels) padded by colmap; -1 gives `fill` */     \
static void pad_row_##S(T *restrict dst, const T *restrict src, int64_t W, int64_t C,     \
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
int dw_direct_##S(const T *img, T *out, int64_t H, int64_t W, int64_t C,                  \
                  const T *k, int64_t kh, int64_t kw, const int64_t *rowmap,               \
                  const int64_t *colmap, double cval, int64_t y0, int64_t y1, int check)   \
{                                                                                          \
    const int64_t WC = W * C, PW = (W + kw - 1) * C, q = kw / 2;                          \
    (void)H;                                  /* rowmap already encodes the height */  \
    /* a ring of kh padded source rows: each row is padded once per stripe */            \
    T *ring = (T *)malloc((size_t)(kh * PW) * sizeof(T));                                 \
    const T **src = (const T **)malloc((size_t)(kh * kw) * sizeof(T *));                   \
    T *w = (T *)malloc((size_t)(kh * kw) * sizeof(T));                                     \
    if (!ring || !src || !w) { free(ring); free(src); free(w); return -1; }                \
    int status = 0;                                                                        \
    for (int64_t y = y0; y < y1; y++) {                                                    \
        for (int64_t p = (y == y0 ? y : y + kh - 1); p < y + kh; p++) {                    \
            const int64_t sy = rowmap[p];                 /* padded row p - r of image */  \
            T *d = ring + (p % kh) * PW;                                                   \
            if (sy < 0) { for (int64_t e = 0; e < PW; e++) d[e] = (T)cval; }               \
            else pad_row_##S(d, img + sy * WC, W, C, q, kw, colmap, (T)cval);              \
        }                                                                                  \
        int64_t nt = 0;                                                                    \
        for (int64_t i = 0; i < kh; i++)                                                   \
            for (int64_t j = 0; j < kw; j++)                                               \
                if (k[i * kw + j] != 0) {                                                  \
                    src[nt] = ring + ((y + i) % kh) * PW + j * C;                          \
                    w[nt++] = k[i * kw + j];                                               \
                }                                                                          \
        taps_##S(out + y * WC, WC, src, w, nt, 0);                                         \
        if (check && !finite_block_##S(img + y * WC, WC)) { status = 1; break; }           \
    }                                                                                      \
    free(ring); free(src); free(w);                                                        \
    return status;                                                                         \
}                                                                                          \
                                                                                           \
int dw_sep_##S(const T *img, T *out, int64_t H, int64_t W, int64_t C,                     \
               const T *col, int64_t kh, const T *row, int64_t kw,                         \
               const int64_t *rowmap, const int64_t *colmap, double cval,                  \
               int64_t y0, int64_t y1, int accumulate, int check)                          \
{                                                                                          \
    const int64_t WC = W * C, PW = (W + kw - 1) * C, q = kw / 2;                          \
    (void)H;                                  /* rowmap already encodes the height */  \
    T *tmp = (T *)malloc((size_t)PW * sizeof(T));                                          \
    T *crow = (T *)malloc((size_t)WC * sizeof(T));                                         \
    const T **src = (const T **)malloc((size_t)(kh + kw) * sizeof(T *));                   \
    T *cw = (T *)malloc((size_t)(kh + 1) * sizeof(T));                                     \
    T *rw = (T *)malloc((size_t)kw * sizeof(T));                                           \
    if (!tmp || !crow || !src || !cw || !rw) {                                             \
        free(tmp); free(crow); free(src); free(cw); free(rw); return -1;                   \
    }                                                                                      \
    int status = 0;                                                                        \
    for (int64_t e = 0; e < WC; e++) crow[e] = (T)cval;                                    \
    T colsum = 0;                                                                          \
    for (int64_t i = 0; i < kh; i++) colsum += col[i];                                     \
    int64_t nr = 0;                                                                        \
    for (int64_t j = 0; j < kw; j++) if (row[j] != 0) rw[nr++] = row[j];                   \
    for (int64_t y = y0; y < y1; y++) {                                                    \
        int64_t nc = 0;                                                                    \
        for (int64_t i = 0; i < kh; i++) {                                                 \
            if (col[i] == 0) continue;                                                     \
            const int64_t sy = rowmap[y + i];                                              \
            src[nc] = sy < 0 ? crow : img + sy * WC;                                       \
            cw[nc++] = col[i];                                                             \
        }                                                                                  \
        T *mid = tmp + q * C;                                                              \
        taps_##S(mid, WC, src, cw, nc, 0);                  /* vertical pass */            \
        for (int64_t x = 0; x < W + kw - 1; x++) {          /* border columns */           \
            if (x >= q && x < q + W) { x = q + W - 1; continue; }                          \
            const int64_t sx = colmap[x];                                                  \
            for (int64_t c = 0; c < C; c++)                                                \
                tmp[x * C + c] = sx < 0 ? (T)cval * colsum : mid[sx * C + c];              \
        }                                                                                  \
        nr = 0;                                                                            \
        for (int64_t j = 0; j < kw; j++) if (row[j] != 0) src[nr++] = tmp + j * C;         \
        taps_##S(out + y * WC, WC, src, rw, nr, accumulate);  /* horizontal pass */        \
        if (check && !finite_block_##S(img + y * WC, WC)) { status = 1; break; }           \
    }                                                                                      \
    free(tmp); free(crow); free(src); free(cw); free(rw);                                  \
    return status;                                                                         \
}

/* 1 when x[0:n] holds only finite numbers: x - x is 0 for those, NaN for inf and NaN */
#define DW_FINITE(T, S)                                                                    \
DW_CLONES static int finite_block_##S(const T *x, int64_t n)                              \
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
        if (!finite_block_##S(x + i, n - i < (1 << 16) ? n - i : (1 << 16))) return 0;    \
    return 1;                                                                              \
}

DW_FINITE(float, f)
DW_FINITE(double, d)
DW_DEFINE(float, f)
DW_DEFINE(double, d)

static struct PyModuleDef dw_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_dwconv",
    .m_doc = "Compiled loops of dotwise (called through ctypes by dotwise._native).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__dwconv(void) { return PyModule_Create(&dw_module); }
