/* The block codec's entropy coder: an adaptive binary range coder with context models
 * of quantised 8x8 transform coefficients (optional extension, loaded with ctypes).
 *
 * dotwise/image/_arith.py holds the same coder in pure Python and documents the
 * bitstream; both must produce and read identical bytes (the tests compare them).
 *
 * Coder: LZMA-style binary range coder (32-bit range, carry propagation through a
 * cached byte), probabilities of a 0 bit in 16 bits, adapted by p += (65536 - p) >> s
 * or p -= p >> s with s = min(RATE_MAX, bit_length(n + 1)), n = updates so far
 * (capped at 255): fast learning at first, steady later.
 *
 * Per plane, blocks in raster order, coefficients in scan order k = 0..63:
 *   DC: residual against a MED prediction from the left, above and above-left DCs;
 *       zero flag, sign, |r| - 1 in adaptive Exp-Golomb; context: |residual| of the
 *       left and above blocks.
 *   N:  the number of nonzero AC coefficients (0..63), a 6-level binary tree;
 *       context: the neighbours' N.
 *   AC: for k = 1.. while coefficients remain: a significance flag (context: k, how
 *       many remain, the magnitude at k in the neighbours; implicit once every
 *       remaining position must be nonzero), then |v| - 1 in adaptive Exp-Golomb
 *       (context: band class of k, neighbour magnitude) and the sign (context: the
 *       neighbours' signs at k).
 * Plane 0 uses context set 0, the chroma planes share set 1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#define DW_EXPORT __declspec(dllexport)
#else
#define DW_EXPORT __attribute__((visibility("default")))
#endif

#define RATE_MAX 7
#define MAXE 20
#define DC_MAX (1 << 18)   /* |quantised DC| above this is refused (no int overflow) */
/* context layout of one set (offsets in units of contexts) */
#define C_DCZERO 0                         /* [5] */
#define C_DCSIGN (C_DCZERO + 5)            /* [5] */
#define C_DCPRE (C_DCSIGN + 5)             /* [5][MAXE] */
#define C_DCSUF (C_DCPRE + 5 * MAXE)       /* [MAXE][MAXE] */
#define C_NTREE (C_DCSUF + MAXE * MAXE)    /* [10][64] */
#define C_SIG (C_NTREE + 10 * 64)          /* [64][5][4] */
#define C_MAGPRE (C_SIG + 64 * 5 * 4)      /* [10][6][MAXE] */
#define C_MAGSUF (C_MAGPRE + 10 * 6 * MAXE) /* [MAXE][MAXE] */
#define C_ACSIGN (C_MAGSUF + MAXE * MAXE)  /* [6] */
#define C_SET (C_ACSIGN + 6)

typedef struct { uint16_t p; uint8_t n; } ctx_t;

static const uint8_t KCLASS[64] = {
    0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5,
    6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

static int bitlen(uint32_t x) { int n = 0; while (x) { n++; x >>= 1; } return n; }

static void ctx_init(ctx_t *c, int64_t n) {
    for (int64_t i = 0; i < n; i++) { c[i].p = 32768; c[i].n = 0; }
}

static inline void adapt(ctx_t *c, int bit) {
    int s = bitlen((uint32_t)c->n + 1);
    if (s > RATE_MAX) s = RATE_MAX;
    if (bit) c->p -= c->p >> s; else c->p += (65536 - c->p) >> s;
    if (c->n < 255) c->n++;
}

/* ------------------------------------------------------------------ encoder */
typedef struct {
    uint64_t low; uint32_t range; uint8_t cache; int64_t cache_size;
    uint8_t *out; int64_t pos, cap; int overflow;
} enc_t;

static void put(enc_t *e, uint8_t b) {
    if (e->pos < e->cap) e->out[e->pos] = b; else e->overflow = 1;
    e->pos++;
}

static void shift_low(enc_t *e) {
    if ((uint32_t)e->low < 0xFF000000u || (e->low >> 32) != 0) {
        uint8_t carry = (uint8_t)(e->low >> 32), temp = e->cache;
        do { put(e, (uint8_t)(temp + carry)); temp = 0xFF; } while (--e->cache_size != 0);
        e->cache = (uint8_t)(e->low >> 24);
    }
    e->cache_size++;
    e->low = (e->low & 0x00FFFFFFu) << 8;
}

static inline void enc_bit(enc_t *e, ctx_t *c, int bit) {
    uint32_t bound = (e->range >> 16) * c->p;
    if (bit) { e->low += bound; e->range -= bound; } else e->range = bound;
    adapt(c, bit);
    while (e->range < (1u << 24)) { e->range <<= 8; shift_low(e); }
}

static int enc_expg(enc_t *e, ctx_t *pre, ctx_t *suf, uint32_t m) {
    uint32_t x = m + 1;
    int ex = bitlen(x) - 1;
    if (ex >= MAXE) return -1;
    for (int i = 0; i < ex; i++) enc_bit(e, &pre[i], 1);
    enc_bit(e, &pre[ex], 0);
    for (int j = ex - 1; j >= 0; j--) enc_bit(e, &suf[ex * MAXE + j], (x >> j) & 1);
    return 0;
}

/* ------------------------------------------------------------------ decoder */
typedef struct {
    uint32_t range, code; const uint8_t *data; int64_t pos, len;
} dec_t;

static inline uint8_t get(dec_t *d) {
    uint8_t b = d->pos < d->len ? d->data[d->pos] : 0;
    d->pos++;
    return b;
}

static inline int dec_bit(dec_t *d, ctx_t *c) {
    uint32_t bound = (d->range >> 16) * c->p;
    int bit;
    if (d->code < bound) { d->range = bound; bit = 0; }
    else { d->code -= bound; d->range -= bound; bit = 1; }
    adapt(c, bit);
    while (d->range < (1u << 24)) { d->range <<= 8; d->code = (d->code << 8) | get(d); }
    return bit;
}

static int dec_expg(dec_t *d, ctx_t *pre, ctx_t *suf, uint32_t *m) {
    int ex = 0;
    while (dec_bit(d, &pre[ex])) { if (++ex >= MAXE) return -1; }
    uint32_t x = 1;
    for (int j = ex - 1; j >= 0; j--) x = (x << 1) | (uint32_t)dec_bit(d, &suf[ex * MAXE + j]);
    *m = x - 1;
    return 0;
}

/* ------------------------------------------------------------------ contexts */
static inline int dc_bucket(int32_t e) { return e == 0 ? 0 : e <= 2 ? 1 : e <= 6 ? 2 : e <= 16 ? 3 : 4; }
static inline int n_bucket(int32_t x) {
    return x <= 2 ? x : x <= 4 ? 3 : x <= 6 ? 4 : x <= 9 ? 5 : x <= 14 ? 6 : x <= 22 ? 7 : 8;
}
static inline int rem_bucket(int r) { return r == 1 ? 0 : r == 2 ? 1 : r <= 4 ? 2 : r <= 8 ? 3 : 4; }
static inline int sig_bucket(int32_t v) { return v == 0 ? 0 : v <= 2 ? 1 : v <= 5 ? 2 : 3; }
static inline int mag_bucket(int32_t v) {
    return v == 0 ? 0 : v <= 2 ? 1 : v <= 4 ? 2 : v <= 8 ? 3 : v <= 16 ? 4 : 5;
}
static inline int32_t iabs(int32_t v) { return v < 0 ? -v : v; }
static inline int sgn(int32_t v) { return (v > 0) - (v < 0); }

static int32_t med(int32_t a, int32_t l, int32_t c) {
    int32_t mx = a > l ? a : l, mn = a < l ? a : l;
    if (c >= mx) return mn;
    if (c <= mn) return mx;
    return a + l - c;
}

/* Everything the encoder and decoder share about one block's neighbourhood. */
typedef struct { const int32_t *A, *L; int32_t nA, nL; int hasA, hasL; } nbr_t;

static void neighbours(const int32_t *coef, const int32_t *nz, int64_t b, int64_t bx, nbr_t *nb) {
    nb->hasL = (b % bx) != 0;
    nb->hasA = b >= bx;
    nb->L = nb->hasL ? coef + (b - 1) * 64 : NULL;
    nb->A = nb->hasA ? coef + (b - bx) * 64 : NULL;
    nb->nL = nb->hasL ? nz[b - 1] : 0;
    nb->nA = nb->hasA ? nz[b - bx] : 0;
}

static int32_t dc_pred(const nbr_t *nb, const int32_t *coef, int64_t b, int64_t bx) {
    if (nb->hasA && nb->hasL) return med(nb->A[0], nb->L[0], coef[(b - bx - 1) * 64]);
    if (nb->hasL) return nb->L[0];
    if (nb->hasA) return nb->A[0];
    return 0;
}

static int32_t dc_ctx_of(const nbr_t *nb, const int32_t *res, int64_t b, int64_t bx) {
    int32_t e = 0;
    if (nb->hasL) e += iabs(res[b - 1]);
    if (nb->hasA) e += iabs(res[b - bx]);
    if (nb->hasL != nb->hasA) e *= 2;
    return dc_bucket(e);
}

static int n_ctx_of(const nbr_t *nb) {
    if (nb->hasA && nb->hasL) return n_bucket((nb->nA + nb->nL + 1) >> 1);
    if (nb->hasA) return n_bucket(nb->nA);
    if (nb->hasL) return n_bucket(nb->nL);
    return 9;
}

static inline int32_t nb_mag(const nbr_t *nb, int k) {
    int32_t v = 0;
    if (nb->hasA) v += iabs(nb->A[k]);
    if (nb->hasL) v += iabs(nb->L[k]);
    if (nb->hasA != nb->hasL) v *= 2;
    return v;
}

static inline int sign_ctx_of(const nbr_t *nb, int k) {
    int s = (nb->hasA ? sgn(nb->A[k]) : 0) + (nb->hasL ? sgn(nb->L[k]) : 0);
    return (k <= 2 ? 0 : 3) + (s < 0 ? 0 : s == 0 ? 1 : 2);
}

/* ------------------------------------------------------------------ entry points */
/* coef: the planes' quantised coefficients, (sum nblocks) x 64 int32, scan order.
 * Returns the number of bytes (written when <= cap), -2 when a value is too large. */
DW_EXPORT int64_t dwc_encode(const int32_t *coef, int nplanes, const int64_t *nblocks,
                             const int64_t *bxs, uint8_t *out, int64_t cap) {
    ctx_t *ctx = (ctx_t *)malloc(sizeof(ctx_t) * 2 * C_SET);
    int64_t total = 0;
    for (int p = 0; p < nplanes; p++) total += nblocks[p];
    int32_t *nz = (int32_t *)malloc(sizeof(int32_t) * (total + 1));
    int32_t *res = (int32_t *)malloc(sizeof(int32_t) * (total + 1));
    if (!ctx || !nz || !res) { free(ctx); free(nz); free(res); return -3; }
    ctx_init(ctx, 2 * C_SET);
    enc_t e = {0, 0xFFFFFFFFu, 0, 1, out, 0, cap, 0};
    int64_t rc = 0, base = 0;
    for (int p = 0; p < nplanes && rc == 0; p++) {
        ctx_t *c = ctx + (p == 0 ? 0 : C_SET);
        const int32_t *pc = coef + base * 64;
        int32_t *pnz = nz + base, *pres = res + base;
        int64_t nb = nblocks[p], bx = bxs[p];
        for (int64_t b = 0; b < nb && rc == 0; b++) {
            const int32_t *q = pc + b * 64;
            nbr_t n;
            neighbours(pc, pnz, b, bx, &n);
            if (q[0] > DC_MAX || q[0] < -DC_MAX) { rc = -2; break; }
            int32_t r = q[0] - dc_pred(&n, pc, b, bx);
            int dctx = dc_ctx_of(&n, pres, b, bx);
            pres[b] = r;
            enc_bit(&e, &c[C_DCZERO + dctx], r != 0);
            if (r != 0) {
                enc_bit(&e, &c[C_DCSIGN + dctx], r < 0);
                if (enc_expg(&e, &c[C_DCPRE + dctx * MAXE], &c[C_DCSUF], (uint32_t)iabs(r) - 1)) { rc = -2; break; }
            }
            int cnt = 0;
            for (int k = 1; k < 64; k++) cnt += q[k] != 0;
            pnz[b] = cnt;
            ctx_t *tree = &c[C_NTREE + n_ctx_of(&n) * 64];
            int node = 1;
            for (int i = 5; i >= 0; i--) {
                int bit = (cnt >> i) & 1;
                enc_bit(&e, &tree[node], bit);
                node = node * 2 + bit;
            }
            int rem = cnt;
            for (int k = 1; k < 64 && rem > 0; k++) {
                int32_t v = q[k], m = nb_mag(&n, k);
                if (rem < 64 - k)
                    enc_bit(&e, &c[C_SIG + (k * 5 + rem_bucket(rem)) * 4 + sig_bucket(m)], v != 0);
                if (v == 0) continue;
                if (enc_expg(&e, &c[C_MAGPRE + (KCLASS[k] * 6 + mag_bucket(m)) * MAXE], &c[C_MAGSUF],
                             (uint32_t)iabs(v) - 1)) { rc = -2; break; }
                enc_bit(&e, &c[C_ACSIGN + sign_ctx_of(&n, k)], v < 0);
                rem--;
            }
        }
        base += nb;
    }
    if (rc == 0) {
        for (int i = 0; i < 5; i++) shift_low(&e);
        rc = e.pos;
    }
    free(ctx); free(nz); free(res);
    return rc;
}

/* Returns 0, or 1: the data ends early, 2: an impossible value, 3: bytes left over or a
 * bad first byte, -3: out of memory. */
DW_EXPORT int dwc_decode(const uint8_t *data, int64_t len, int32_t *coef, int nplanes,
                         const int64_t *nblocks, const int64_t *bxs) {
    if (len < 5 || data[0] != 0) return len < 5 ? 1 : 3;
    ctx_t *ctx = (ctx_t *)malloc(sizeof(ctx_t) * 2 * C_SET);
    int64_t total = 0;
    for (int p = 0; p < nplanes; p++) total += nblocks[p];
    int32_t *nz = (int32_t *)malloc(sizeof(int32_t) * (total + 1));
    int32_t *res = (int32_t *)malloc(sizeof(int32_t) * (total + 1));
    if (!ctx || !nz || !res) { free(ctx); free(nz); free(res); return -3; }
    ctx_init(ctx, 2 * C_SET);
    dec_t d = {0xFFFFFFFFu, 0, data, 1, len};
    for (int i = 0; i < 4; i++) d.code = (d.code << 8) | get(&d);
    int rc = 0;
    int64_t base = 0;
    for (int p = 0; p < nplanes && rc == 0; p++) {
        ctx_t *c = ctx + (p == 0 ? 0 : C_SET);
        int32_t *pc = coef + base * 64;
        int32_t *pnz = nz + base, *pres = res + base;
        int64_t nb = nblocks[p], bx = bxs[p];
        for (int64_t b = 0; b < nb && rc == 0; b++) {
            int32_t *q = pc + b * 64;
            memset(q, 0, 64 * sizeof(int32_t));
            nbr_t n;
            neighbours(pc, pnz, b, bx, &n);
            int32_t pred = dc_pred(&n, pc, b, bx), r = 0;
            int dctx = dc_ctx_of(&n, pres, b, bx);
            if (dec_bit(&d, &c[C_DCZERO + dctx])) {
                int neg = dec_bit(&d, &c[C_DCSIGN + dctx]);
                uint32_t m;
                if (dec_expg(&d, &c[C_DCPRE + dctx * MAXE], &c[C_DCSUF], &m)) { rc = 2; break; }
                r = neg ? -(int32_t)(m + 1) : (int32_t)(m + 1);
            }
            pres[b] = r;
            q[0] = pred + r;
            if (q[0] > DC_MAX || q[0] < -DC_MAX) { rc = 2; break; }
            ctx_t *tree = &c[C_NTREE + n_ctx_of(&n) * 64];
            int node = 1;
            for (int i = 0; i < 6; i++) node = node * 2 + dec_bit(&d, &tree[node]);
            int cnt = node - 64;
            pnz[b] = cnt;
            int rem = cnt;
            for (int k = 1; k < 64 && rem > 0; k++) {
                int32_t m = nb_mag(&n, k);
                int s = 1;
                if (rem < 64 - k)
                    s = dec_bit(&d, &c[C_SIG + (k * 5 + rem_bucket(rem)) * 4 + sig_bucket(m)]);
                if (!s) continue;
                uint32_t mag;
                if (dec_expg(&d, &c[C_MAGPRE + (KCLASS[k] * 6 + mag_bucket(m)) * MAXE], &c[C_MAGSUF], &mag)) { rc = 2; break; }
                int neg = dec_bit(&d, &c[C_ACSIGN + sign_ctx_of(&n, k)]);
                q[k] = neg ? -(int32_t)(mag + 1) : (int32_t)(mag + 1);
                rem--;
            }
            if (d.pos > len + 8) rc = 1;        /* garbage in: stop early, say truncated */
        }
        base += nb;
    }
    if (rc == 0 && d.pos != len) rc = d.pos > len ? 1 : 3;
    free(ctx); free(nz); free(res);
    return rc;
}
