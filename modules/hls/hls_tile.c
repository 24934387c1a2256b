/* hls_tile.c: the batched exact fast path: 8 events per vector lane set, raw values held exactly as
 * doubles, Dense/Conv as register-blocked FMA kernels (rows x 4 outputs), casts and tables fused.
 */
#include "hls/hls_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Eight events' values of one element (lane = event in the tile). */
typedef double v8 __attribute__((vector_size(64), aligned(8), may_alias));
#define LD(p) (*(const v8 *)(const void *)(p))
#define ST(p, v) (*(v8 *)(void *)(p) = (v))
typedef long long v8l __attribute__((vector_size(64), aligned(8), may_alias));
typedef float v8f __attribute__((vector_size(32)));
typedef unsigned long long v8u __attribute__((vector_size(64)));

enum { TILE = HLS_TILE_EVENTS, ROWS = 6, JB = 4 };

/* Row geometry of a Dense (rows = event tiles) or Conv (rows = output pixels of one tile). */
typedef struct geo {
    int ow, iwp;   /* output width, padded input width (1 and 1 for Dense) */
    long instride; /* doubles from one input pixel (Dense: tile) to the next */
    long rs;       /* doubles from one kernel row to the next */
    int kh, seg;   /* kernel rows, contiguous ops per kernel row */
    long ostride;  /* doubles from one output row to the next */
} geo;

/* R rows x JB outputs from output j0: y = bias + sum x * w, all exact integers in doubles. */
static inline __attribute__((always_inline)) void
block(const hls_layer *l, const geo *g, const double *x, double *y, int r0, int R, int j0)
{
    v8 acc[ROWS][JB];
    const double *xr[ROWS];
    const double *bias = l->bd + j0;
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        int p = r0 + r;
        xr[r] = x + ((long)(p / g->ow) * g->iwp + p % g->ow) * g->instride;
#pragma GCC unroll 4
        for (int q = 0; q < JB; q++)
            acc[r][q] = (v8){0} + bias[q];
    }
    for (int ky = 0; ky < g->kh; ky++) {
        const double *wk = l->wd + (size_t)ky * g->seg * l->np + j0;
        long xo = ky * g->rs;
        for (int s = 0; s < g->seg; s++) {
            const double *wp = wk + (size_t)s * l->np;
            double w0 = wp[0], w1 = wp[1], w2 = wp[2], w3 = wp[3];
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
                v8 xv = LD(xr[r] + xo + (long)s * TILE);
                acc[r][0] += xv * w0;
                acc[r][1] += xv * w1;
                acc[r][2] += xv * w2;
                acc[r][3] += xv * w3;
            }
        }
    }
    int nq = l->n_out - j0 < JB ? l->n_out - j0 : JB;
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int q = 0; q < JB; q++)
            if (q < nq)
                ST(y + (r0 + r) * g->ostride + (long)(j0 + q) * TILE, acc[r][q]);
}

static inline __attribute__((always_inline)) void gemm_rows(const hls_layer *l, const geo *g,
                                                            const double *x, double *y, int rows)
{
    int r = 0;
    for (; r + ROWS <= rows; r += ROWS)
        for (int j = 0; j < l->n_out; j += JB)
            block(l, g, x, y, r, ROWS, j);
    for (; r < rows; r++)
        for (int j = 0; j < l->n_out; j += JB)
            block(l, g, x, y, r, 1, j);
}

/* y[i] = cast(v[i]) for n (a multiple of 8) doubles holding raw integers (|v| < 2^51) at the
 * cast's source fraction; relu: 0 where v <= 0. floor(v / 2^d) is nearest((v + 1/2 - 2^(d-1)) /
 * 2^d) (RND: v + 1/2), every step exact, and nearest is adding and taking away 1.5 * 2^52. A value
 * is in range when half the range minus its distance to the middle keeps the sign bit clear; where
 * any value wraps or saturates, the int64 cast. No vector compares: cheap on every ISA. */
static inline __attribute__((always_inline)) void cast_vals(const hls_cast *c, const double *v,
                                                            double *y, size_t n, int relu)
{
    double mn = (double)c->mn + (c->t.o == HLS_SAT_SYM && c->t.sign), mx = (double)c->mx;
    double s = ldexp(1.0, -c->d);
    const v8 sc = (v8){0} + s, big = (v8){0} + 0x1.8p52;
    const v8 off = (v8){0} + (c->t.q == HLS_RND ? 0.5 : 0.5 - ldexp(1.0, c->d - 1));
    const v8 mid = (v8){0} + (mx + mn) / 2, hs = (v8){0} + (mx - mn) / 2;
    const v8l nosign = (v8l){0} + 0x7fffffffffffffffLL;
    v8l bad = {0};
    int rnd = c->d > 0;
    for (size_t i = 0; i < n; i += TILE) {
        v8 x = LD(v + i), r = rnd ? ((x + off) * sc + big) - big : x * sc;
        if (relu) /* sign bit set (x <= 0, an integer): 0; x = +0 casts to +0 anyway */
            r = (v8)((v8l)r & ((v8l)((v8u)x >> 63) - 1));
        bad |= (v8l)(hs - (v8)((v8l)(r - mid) & nosign));
        ST(y + i, r);
    }
    int any = 0;
    for (int k = 0; k < TILE; k++)
        any |= bad[k] < 0;
    if (__builtin_expect(any, 0))
        for (size_t i = 0; i < n; i++)
            if (!relu || v[i] > 0)
                y[i] = (double)hls_castv(c, (int64_t)v[i]);
}

/* Float input (ONNX layout, nv valid events) -> the input type, channels last: v = x * 2^f is
 * exact; floor(v) is the nearest integer t, less one where v - t is negative (TRN; RND: of v +
 * 1/2). Values out of range, beyond 2^51, NaN or infinite take the scalar cast of the exact path.
 */
static inline __attribute__((always_inline)) void tile_input(const hls_layer *l, const float *in,
                                                             int ni, int nv, double *y)
{
    int hw = l->w ? l->h * l->w : 1, c = l->w ? l->c : (int)l->size;
    double scale = ldexp(1.0, hls_frac(&l->res)), mn = (double)l->rq.mn, mx = (double)l->rq.mx;
    const v8 sc = (v8){0} + scale, big = (v8){0} + 0x1.8p52, one = (v8){0} + 1.0;
    const v8 half = (v8){0} + (l->res.q == HLS_RND ? 0.5 : 0.0);
    const v8 mid = (v8){0} + (mx + mn) / 2, hs = (v8){0} + (mx - mn) / 2;
    const v8l nosign = (v8l){0} + 0x7fffffffffffffffLL, sign = ~nosign;
    v8l bad = {0};
    for (int ch = 0; ch < c; ch++)
        for (int p = 0; p < hw; p++) {
            v8f xf = {0};
            for (int e = 0; e < nv; e++)
                xf[e] = in[(size_t)e * ni + (size_t)ch * hw + p];
            v8 v = __builtin_convertvector(xf, v8) * sc + half, t = (v + big) - big;
            v8 r = t - (v8)(-(v8l)((v8u)(v - t) >> 63) & (v8l)one);
            bad |= ((v8l)(hs - (v8)((v8l)(r - mid) & nosign)) & sign) | (v8l)(r - r);
            ST(y + ((size_t)p * c + ch) * TILE, r);
        }
    int any = 0;
    for (int k = 0; k < TILE; k++)
        any |= bad[k] != 0;
    if (__builtin_expect(any, 0))
        for (int e = 0; e < nv; e++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < hw; p++)
                    y[((size_t)p * c + ch) * TILE + e] =
                        (double)hls_quant_in(l, in[(size_t)e * ni + (size_t)ch * hw + p], scale);
}

/* The conv input with its zero padding, so that each kernel row's ops are contiguous. */
static const double *pad_input(const hls_layer *l, const double *x, double *xp)
{
    if (!l->pt && !l->pb && !l->pl && !l->pr)
        return x;
    int iwp = l->iw + l->pl + l->pr, ihp = l->ih + l->pt + l->pb;
    size_t row = (size_t)l->ic * TILE;
    for (int y = 0; y < ihp; y++) {
        double *o = xp + (size_t)y * iwp * row;
        int iy = y - l->pt;
        if (iy < 0 || iy >= l->ih) {
            memset(o, 0, sizeof *o * iwp * row);
            continue;
        }
        memset(o, 0, sizeof *o * l->pl * row);
        memcpy(o + l->pl * row, x + (size_t)iy * l->iw * row, sizeof *o * l->iw * row);
        memset(o + (size_t)(l->pl + l->iw) * row, 0, sizeof *o * l->pr * row);
    }
    return xp;
}

/* A conv whose padding can be the zero margins kept around its input (1D). */
static int conv1d(const hls_layer *l)
{
    return l->kind == HLS_L_CONV && l->ih == 1 && l->kh == 1 && !l->pt && !l->pb;
}

/* One chunk of nt tiles (nv valid events) through every layer. */
HLS_CLONES static void run_chunk(const hls_model *m, double *tw, const float *in, float *out,
                                 int nv, int nt)
{
    for (int k = 0; k < m->n_layers; k++)
        if (m->tmarg[k]) {
            memset(tw + m->toff[k] - m->tmarg[k], 0, sizeof *tw * m->tmarg[k]);
            memset(tw + m->toff[k] + m->layers[k].size * TILE, 0, sizeof *tw * m->tmarg[k]);
        }
    for (int k = 0; k < m->n_layers; k++) {
        const hls_layer *l = &m->layers[k];
        const hls_layer *a = &m->layers[l->in[0]];
        double *y = tw + m->toff[k];
        const double *x = tw + m->toff[l->in[0]];
        size_t n = (size_t)l->size * TILE * nt;
        switch (l->kind) {
        case HLS_L_INPUT:
            for (int t = 0; t < nt; t++) {
                int v = nv - t * TILE;
                tile_input(l, in + (size_t)t * TILE * l->size, (int)l->size, v > TILE ? TILE : v,
                           y + (size_t)t * l->size * TILE);
            }
            break;
        case HLS_L_DENSE: {
            geo g = {1, 1, a->size * TILE, 0, 1, l->n_ops, (long)l->n_out * TILE};
            gemm_rows(l, &g, x, y, nt);
            if (!l->cast_id)
                cast_vals(&l->rq, y, y, n, 0);
            break;
        }
        case HLS_L_CONV: {
            int iwp = l->iw + l->pl + l->pr;
            geo g = {l->w,  iwp,           (long)l->ic * TILE,   (long)iwp * l->ic * TILE,
                     l->kh, l->kw * l->ic, (long)l->n_out * TILE};
            for (int t = 0; t < nt; t++) {
                const double *xt = x + (size_t)t * a->size * TILE;
                /* 1D: the zero margins around the input are its padding; else a padded copy */
                const double *xp =
                    conv1d(l) ? xt - (size_t)l->pl * l->ic * TILE : pad_input(l, xt, tw + m->tpad);
                gemm_rows(l, &g, xp, y + (size_t)t * l->size * TILE, l->h * l->w);
            }
            if (!l->cast_id)
                cast_vals(&l->rq, y, y, n, 0);
            break;
        }
        case HLS_L_RELU:
            cast_vals(&l->rq, x, y, n, 1);
            break;
        default: { /* sigmoid, tanh: the cast table at trunc(x / 2^shift) + N / 2, clamped */
            int half = l->table_size / 2;
            double sc = ldexp(1.0, -l->idx_shift), h = half;
            for (size_t i = 0; i < n; i++) {
                double q = trunc(x[i] * sc) + h;
                q = q < 0 ? 0 : q > l->table_size - 1 ? l->table_size - 1 : q;
                y[i] = l->tcast[(int)q];
            }
            break;
        }
        }
    }
    const hls_layer *o = &m->layers[m->out_layer];
    const double *y = tw + m->toff[m->out_layer];
    int hw = o->w ? o->h * o->w : 1, c = o->w ? o->c : (int)o->size;
    double so = ldexp(1.0, -hls_frac(&o->res));
    v8 sc = (v8){0} + so;
    for (int t = 0; t * TILE < nv; t++) { /* channels last -> the ONNX layout */
        const double *yt = y + (size_t)t * o->size * TILE;
        float *ot = out + (size_t)t * TILE * o->size;
        int ne = nv - t * TILE < TILE ? nv - t * TILE : TILE;
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++) {
                v8f f = __builtin_convertvector(LD(yt + ((size_t)p * c + ch) * TILE) * sc, v8f);
                for (int e = 0; e < ne; e++)
                    ot[(size_t)e * o->size + (size_t)ch * hw + p] = f[e];
            }
    }
}

int hls_tile_infer(const hls_model *m, void *ws, const float *in, float *out, int n)
{
    int64_t *ev = ws;
    double *tw = (double *)(void *)((char *)ws + ((hls_ws_words(m) * 8 + 63) / 64 * 64));
    size_t ni = (size_t)m->layers[0].size, no = (size_t)m->layers[m->out_layer].size;
    int chunk = m->tile_n * TILE;
    for (int e = 0; e < n; e += chunk) {
        int nv = n - e < chunk ? n - e : chunk;
        run_chunk(m, tw, in + (size_t)e * ni, out + (size_t)e * no, nv, (nv + TILE - 1) / TILE);
        if (e + nv == n) { /* the last event's raw output, for hls_output_raw */
            int last = nv - 1;
            const double *y = tw + m->toff[m->out_layer] + (size_t)(last / TILE) * no * TILE;
            for (size_t i = 0; i < no; i++)
                ev[m->offset[m->out_layer] + i] = (int64_t)y[i * TILE + last % TILE];
        }
    }
    return NGT_OK;
}

/* Whether every layer can run tiled (exact): kinds, casts by shifts, values below 2^51. Sets the
 * tile area's layout and the sigmoid/tanh cast tables. */
int hls_tile_prepare(hls_model *m)
{
    m->tiled = 0;
    int conv = 0;
    for (int k = 0; k < m->n_layers; k++) {
        hls_layer *l = &m->layers[k];
        const hls_layer *a = &m->layers[l->in[0]];
        int ok = l->res.w <= 51 && a->res.w <= 51 && l->rq.fast;
        switch (l->kind) {
        case HLS_L_INPUT:
            ok = ok && (l->res.q == HLS_TRN || l->res.q == HLS_RND);
            break;
        case HLS_L_CONV:
            conv = 1;
            /* fallthrough */
        case HLS_L_DENSE:
            ok = ok && l->wd && l->np % JB == 0;
            break;
        case HLS_L_RELU:
            break;
        case HLS_L_SIGMOID:
        case HLS_L_TANH:
            ok = ok && l->idx_fast;
            break;
        default:
            ok = 0;
        }
        if (!ok)
            return NGT_OK;
    }
    m->tile_n = conv ? 1 : ROWS;
    m->toff = malloc(sizeof *m->toff * (size_t)m->n_layers);
    m->tmarg = calloc((size_t)m->n_layers, sizeof *m->tmarg);
    if (!m->toff || !m->tmarg)
        return NGT_ENOMEM;
    for (int k = 0; k < m->n_layers; k++) { /* zero margins for the 1D convs reading a layer */
        const hls_layer *l = &m->layers[k];
        size_t mg = (size_t)(l->pl > l->pr ? l->pl : l->pr) * l->ic * TILE;
        if (conv1d(l) && mg > m->tmarg[l->in[0]])
            m->tmarg[l->in[0]] = mg;
    }
    size_t off = 0, pad = 0;
    for (int k = 0; k < m->n_layers; k++) {
        hls_layer *l = &m->layers[k];
        m->toff[k] = off + m->tmarg[k];
        off += ((size_t)l->size * TILE * m->tile_n + 7) / 8 * 8 + 2 * m->tmarg[k];
        /* a result cast that never changes a sum (lossless 'auto' results) is skipped */
        l->cast_id = (l->kind == HLS_L_DENSE || l->kind == HLS_L_CONV) && l->rq.d == 0 &&
                     l->worst < (double)l->rq.mx && -l->worst > (double)l->rq.mn + 1;
        if (l->kind == HLS_L_CONV && !conv1d(l)) {
            size_t p = (size_t)(l->ih + l->pt + l->pb) * (l->iw + l->pl + l->pr) * l->ic * TILE;
            pad = p > pad ? p : pad;
        }
        if (l->kind == HLS_L_SIGMOID || l->kind == HLS_L_TANH) {
            l->tcast = malloc(sizeof *l->tcast * (size_t)l->table_size);
            if (!l->tcast)
                return NGT_ENOMEM;
            for (int i = 0; i < l->table_size; i++)
                l->tcast[i] = (double)hls_castv(&l->rq, l->table[i]);
        }
    }
    m->tpad = off;
    m->tile_doubles = off + pad;
    m->tiled = 1;
    return NGT_OK;
}

/* Bytes of workspace the tiled path adds (alignment included). */
size_t hls_tile_bytes(const hls_model *m)
{
    return m->tiled ? m->tile_doubles * sizeof(double) + 64 : 0;
}
