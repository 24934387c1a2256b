/* hls_tile_kern.h: one register-blocked Dense/Conv kernel of the tiled path, included by
 * hls_tile.c once per vector shape, with the casts and conversions at the same width. Before
 * including, define KV (the vector of doubles), KL, KU, KF (the same lanes as long long, unsigned
 * long long, float), KW (doubles per vector: 8, 4 or 2), KR (sub-rows per block) and KSFX (the
 * name suffix). A sub-row is KW of a
 * tile's 8 events of one row (Dense: a tile; Conv: an output pixel); a block is KR sub-rows x JB
 * outputs, KR * JB accumulators. Every sum is exact, so the shape never changes a bit.
 */
#define KCAT2(a, b) a##_##b
#define KCAT(a, b) KCAT2(a, b)

/* KR sub-rows from u0 (R of them) x JB outputs from output j0: y = bias + sum x * w. */
static inline __attribute__((always_inline)) void KCAT(block, KSFX)(const hls_layer *l,
                                                                    const geo *g, const double *x,
                                                                    double *y, int u0, int R,
                                                                    int j0)
{
    KV acc[KR][JB];
    const double *xr[KR];
    double *yr[KR];
    const double *bias = l->bd + j0;
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        int p = (u0 + r) / (TILE / KW), part = (u0 + r) % (TILE / KW);
        xr[r] = x + ((long)(p / g->ow) * g->iwp + p % g->ow) * g->instride + part * KW;
        yr[r] = y + p * g->ostride + part * KW;
#pragma GCC unroll 4
        for (int q = 0; q < JB; q++)
            acc[r][q] = (KV){0} + bias[q];
    }
    for (int ky = 0; ky < g->kh; ky++) {
        const double *wk = l->wd + (size_t)ky * g->seg * l->np + j0;
        long xo = ky * g->rs;
        for (int s = 0; s < g->seg; s++) {
            const double *wp = wk + (size_t)s * l->np;
            KV xv[KR];
#pragma GCC unroll 8
            for (int r = 0; r < R; r++)
                xv[r] = *(const KV *)(const void *)(xr[r] + xo + (long)s * TILE);
                /* one output's weight at a time: KR inputs + 1 weight + KR * JB sums live */
#pragma GCC unroll 4
            for (int q = 0; q < JB; q++) {
                double w = wp[q];
#pragma GCC unroll 8
                for (int r = 0; r < R; r++)
                    acc[r][q] += xv[r] * w;
            }
        }
    }
    int nq = l->n_out - j0 < JB ? l->n_out - j0 : JB;
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int q = 0; q < JB; q++)
            if (q < nq)
                *(KV *)(void *)(yr[r] + (long)(j0 + q) * TILE) = acc[r][q];
}

/* rows x n_out: blocks of KR sub-rows, then one sub-row at a time. */
static inline __attribute__((always_inline)) void
KCAT(gemm_rows, KSFX)(const hls_layer *l, const geo *g, const double *x, double *y, int rows)
{
    int u = 0, nu = rows * (TILE / KW);
    for (; u + KR <= nu; u += KR)
        for (int j = 0; j < l->n_out; j += JB)
            KCAT(block, KSFX)(l, g, x, y, u, KR, j);
    for (; u < nu; u++)
        for (int j = 0; j < l->n_out; j += JB)
            KCAT(block, KSFX)(l, g, x, y, u, 1, j);
}

/* y[i] = cast(v[i]) for n (a multiple of 8) doubles holding raw integers (|v| < 2^51) at the
 * cast's source fraction; relu: 0 where v <= 0; y may be v (a Dense/Conv result cast in place).
 * floor(v / 2^d) is nearest((v + 1/2 - 2^(d-1)) / 2^d) (RND: v + 1/2), every step exact, and
 * nearest is adding and taking away 1.5 * 2^52. A value is in range when half the range minus its
 * distance to the middle keeps the sign bit clear; where any value of a block wraps or
 * saturates, that block takes the int64 cast (in place, a block is stored only after its check,
 * so the cast reads the sums). No vector compares: cheap on every ISA. */
static inline __attribute__((always_inline)) void
KCAT(cast_vals, KSFX)(const hls_cast *c, const double *v, double *y, size_t n, int relu)
{
    enum { BLK = 32 }; /* doubles per block: a multiple of KW, n's blocks all full but the last */
    double mn = (double)c->mn + (c->t.o == HLS_SAT_SYM && c->t.sign), mx = (double)c->mx;
    double s = ldexp(1.0, -c->d);
    const KV sc = (KV){0} + s, big = (KV){0} + 0x1.8p52;
    const KV off = (KV){0} + (c->t.q == HLS_RND ? 0.5 : 0.5 - ldexp(1.0, c->d - 1));
    const KV mid = (KV){0} + (mx + mn) / 2, hs = (KV){0} + (mx - mn) / 2;
    const KL nosign = (KL){0} + 0x7fffffffffffffffLL;
    int rnd = c->d > 0;
    KV rb[BLK / KW] = {{0}}; /* (written through dst) */
    for (size_t i0 = 0; i0 < n; i0 += BLK) {
        size_t nb = n - i0 < BLK ? n - i0 : BLK;
        double *dst = v == y ? (double *)rb : y + i0; /* in place: the block held back */
        KL bad = {0};
        for (size_t i = 0; i < nb; i += KW) {
            KV x = *(const KV *)(const void *)(v + i0 + i);
            KV r = rnd ? ((x + off) * sc + big) - big : x * sc;
            if (relu) /* sign bit set (x <= 0, an integer): 0; x = +0 casts to +0 anyway */
                r = (KV)((KL)r & ((KL)((KU)x >> 63) - 1));
            bad |= (KL)(hs - (KV)((KL)(r - mid) & nosign));
            *(KV *)(void *)(dst + i) = r;
        }
        int any = 0;
        for (int k = 0; k < KW; k++)
            any |= bad[k] < 0;
        if (__builtin_expect(any, 0)) {
            for (size_t i = i0; i < i0 + nb; i++)
                y[i] = !relu || v[i] > 0 ? (double)hls_castv(c, (int64_t)v[i]) : 0.0;
        } else if (v == y) {
            memcpy(y + i0, rb, sizeof(double) * nb);
        }
    }
}

/* Float input (ONNX layout, nv valid events) -> the input type, channels last: v = x * 2^f is
 * exact; floor(v) is the nearest integer t, less one where v - t is negative (TRN; RND: of v +
 * 1/2). Values out of range, beyond 2^51, NaN or infinite take the scalar cast of the exact path.
 */
static inline __attribute__((always_inline)) void
KCAT(tile_input, KSFX)(const hls_layer *l, const float *in, int ni, int nv, double *y)
{
    int hw = l->w ? l->h * l->w : 1, c = l->w ? l->c : (int)l->size;
    double scale = ldexp(1.0, hls_frac(&l->res)), mn = (double)l->rq.mn, mx = (double)l->rq.mx;
    const KV sc = (KV){0} + scale, big = (KV){0} + 0x1.8p52, one = (KV){0} + 1.0;
    const KV half = (KV){0} + (l->res.q == HLS_RND ? 0.5 : 0.0);
    const KV mid = (KV){0} + (mx + mn) / 2, hs = (KV){0} + (mx - mn) / 2;
    const KL nosign = (KL){0} + 0x7fffffffffffffffLL, sign = ~nosign;
    KL bad = {0};
    /* first the floats to doubles in place, event by event (a vector gather through memory
     * would stall on store forwarding), the missing events of a partial tile 0 */
    for (int e = 0; e < TILE; e++)
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++)
                y[((size_t)p * c + ch) * TILE + e] =
                    e < nv ? (double)in[(size_t)e * ni + (size_t)ch * hw + p] : 0.0;
    for (size_t i = 0; i < (size_t)hw * c * TILE; i += KW) {
        KV v = *(const KV *)(const void *)(y + i) * sc + half, t = (v + big) - big;
        KV r = t - (KV)(-(KL)((KU)(v - t) >> 63) & (KL)one);
        bad |= ((KL)(hs - (KV)((KL)(r - mid) & nosign)) & sign) | (KL)(r - r);
        *(KV *)(void *)(y + i) = r;
    }
    int any = 0;
    for (int k = 0; k < KW; k++)
        any |= bad[k] != 0;
    if (__builtin_expect(any, 0))
        for (int e = 0; e < nv; e++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < hw; p++)
                    y[((size_t)p * c + ch) * TILE + e] =
                        (double)hls_quant_in(l, in[(size_t)e * ni + (size_t)ch * hw + p], scale);
}

/* The output layer's values of nv events (channels last, tiles) -> float32, or float64
 * (NgtOutput f64: raw * 2^-f is exact, the raw values being integers below 2^51), in the ONNX
 * layout. */
static inline __attribute__((always_inline)) void
KCAT(out_tiles, KSFX)(const hls_model *m, const double *tw, void *out, int nv)
{
    const hls_layer *o = &m->layers[m->out_layer];
    const double *y = tw + m->toff[m->out_layer];
    int hw = o->w ? o->h * o->w : 1, c = o->w ? o->c : (int)o->size;
    double so = ldexp(1.0, -hls_frac(&o->res));
    KV sc = (KV){0} + so;
    for (int t = 0; t * TILE < nv; t++) { /* channels last -> the ONNX layout */
        const double *yt = y + (size_t)t * o->size * TILE;
        size_t first = (size_t)t * TILE * o->size;
        int ne = nv - t * TILE < TILE ? nv - t * TILE : TILE;
        if (m->out_f64) { /* event by event: each event's values contiguous */
            for (int e = 0; e < ne; e++) {
                double *od = (double *)out + first + (size_t)e * o->size;
                for (int ch = 0; ch < c; ch++)
                    for (int p = 0; p < hw; p++)
                        od[(size_t)ch * hw + p] = yt[((size_t)p * c + ch) * TILE + e] * so;
            }
            continue;
        }
        float *ot = (float *)out + first;
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++)
                for (int e0 = 0; e0 < ne; e0 += KW) {
                    KF f = __builtin_convertvector(
                        *(const KV *)(const void *)(yt + ((size_t)p * c + ch) * TILE + e0) * sc,
                        KF);
                    for (int e = 0; e < KW && e0 + e < ne; e++)
                        ot[(size_t)(e0 + e) * o->size + (size_t)ch * hw + p] = f[e];
                }
    }
}

#undef KCAT
#undef KCAT2
#undef KV
#undef KL
#undef KU
#undef KF
#undef KW
#undef KR
#undef KSFX
