/* hls_tile.c: the batched exact fast path: 8 events per vector lane set, raw values held exactly as
 * doubles, Dense/Conv as register-blocked FMA kernels (rows x 4 outputs), casts and tables fused.
 */
#include "hls/hls_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Eight events' values of one element (lane = event in the tile). */
typedef double v8 __attribute__((vector_size(64), aligned(8), may_alias));
typedef long long v8l __attribute__((vector_size(64), aligned(8), may_alias));
typedef unsigned long long v8u __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));

enum { TILE = HLS_TILE_EVENTS, JB = 4 };

/* Row geometry of a Dense (rows = event tiles) or Conv (rows = output pixels of one tile). */
typedef struct geo {
    int ow, iwp;   /* output width, padded input width (1 and 1 for Dense) */
    long instride; /* doubles from one input pixel (Dense: tile) to the next */
    long rs;       /* doubles from one kernel row to the next */
    int kh, seg;   /* kernel rows, contiguous ops per kernel row */
    long ostride;  /* doubles from one output row to the next */
} geo;

/* The kernel shapes (hls_tile_kern.h): AVX-512, 6 tiles x 4 outputs of one 8-double register (24
 * of 32 registers); AVX2, 3 half tiles x 4 outputs of 4 doubles (12 accumulators, 3 inputs and a
 * weight in 16 registers); plain x86-64 (SSE2, 16 registers of 2 doubles), 3 x 4 as well. */
typedef double v4 __attribute__((vector_size(32), aligned(8), may_alias));
typedef long long v4l __attribute__((vector_size(32), aligned(8), may_alias));
typedef unsigned long long v4u __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef double v2 __attribute__((vector_size(16), aligned(8), may_alias));
typedef long long v2l __attribute__((vector_size(16), aligned(8), may_alias));
typedef unsigned long long v2u __attribute__((vector_size(16)));
typedef float v2f __attribute__((vector_size(8)));
#define KV v8
#define KL v8l
#define KU v8u
#define KF v8f
#define KW 8
#define KR 6
#define KSFX v8
#include "hls/hls_tile_kern.h"
#define KV v4
#define KL v4l
#define KU v4u
#define KF v4f
#define KW 4
#define KR 3
#define KSFX v4
#include "hls/hls_tile_kern.h"
#define KV v2
#define KL v2l
#define KU v2u
#define KF v2f
#define KW 2
#define KR 3
#define KSFX v2
#include "hls/hls_tile_kern.h"

/* The function NAME of the shape of kw doubles per vector (a constant in each variant). */
#define BY_WIDTH(kw, name, ...)                                                                    \
    do {                                                                                           \
        if ((kw) == 8)                                                                             \
            name##_v8(__VA_ARGS__);                                                                \
        else if ((kw) == 4)                                                                        \
            name##_v4(__VA_ARGS__);                                                                \
        else                                                                                       \
            name##_v2(__VA_ARGS__);                                                                \
    } while (0)

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

/* One chunk of nt tiles (nv valid events) through every layer, Dense/Conv by the kernel of kw
 * doubles per vector (a constant once inlined into a variant below); out: float, or double when
 * the model's outputs are float64. */
static inline __attribute__((always_inline)) void
run_chunk(const hls_model *m, double *tw, const float *in, void *out, int nv, int nt, int kw)
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
                BY_WIDTH(kw, tile_input, l, in + (size_t)t * TILE * l->size, (int)l->size,
                         v > TILE ? TILE : v, y + (size_t)t * l->size * TILE);
            }
            break;
        case HLS_L_DENSE: {
            geo g = {1, 1, a->size * TILE, 0, 1, l->n_ops, (long)l->n_out * TILE};
            BY_WIDTH(kw, gemm_rows, l, &g, x, y, nt);
            if (!l->cast_id)
                BY_WIDTH(kw, cast_vals, &l->rq, y, y, n, 0);
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
                BY_WIDTH(kw, gemm_rows, l, &g, xp, y + (size_t)t * l->size * TILE, l->h * l->w);
            }
            if (!l->cast_id)
                BY_WIDTH(kw, cast_vals, &l->rq, y, y, n, 0);
            break;
        }
        case HLS_L_RELU:
            BY_WIDTH(kw, cast_vals, &l->rq, x, y, n, 1);
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
    BY_WIDTH(kw, out_tiles, m, tw, out, nv);
}

/* The variants, each compiled for its ISA (explicit targets, not an ifunc: chosen at load, also
 * under ThreadSanitizer, and a narrower one can be forced to measure it). avx2-v8 is the kernel
 * before the AVX2 shape (the AVX-512 shape compiled for AVX2 without FMA: it spills), kept to
 * compare against. */
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f"))) static void
chunk_avx512(const hls_model *m, double *tw, const float *in, void *out, int nv, int nt)
{
    run_chunk(m, tw, in, out, nv, nt, 8);
}
__attribute__((target("avx2,fma"))) static void
chunk_avx2(const hls_model *m, double *tw, const float *in, void *out, int nv, int nt)
{
    run_chunk(m, tw, in, out, nv, nt, 4);
}
__attribute__((target("avx2"))) static void
chunk_avx2_v8(const hls_model *m, double *tw, const float *in, void *out, int nv, int nt)
{
    run_chunk(m, tw, in, out, nv, nt, 8);
}
#endif
static void chunk_generic(const hls_model *m, double *tw, const float *in, void *out, int nv,
                          int nt)
{
    run_chunk(m, tw, in, out, nv, nt, 2);
}

typedef void (*chunk_fn)(const hls_model *, double *, const float *, void *, int, int);
typedef struct tile_kern {
    const char *name, *isa; /* the variant; the ngt_cpu_isa() it needs at least */
    int old;                /* only when NGT_HLS_KERNEL names it */
    chunk_fn run;
} tile_kern;
static const tile_kern KERNS[] = {
#if defined(__x86_64__) || defined(__i386__)
    {"avx512 (6 tiles x 4 outputs, zmm)", "avx512", 0, chunk_avx512},
    {"avx2 (3 half tiles x 4 outputs, ymm, fma)", "avx2", 0, chunk_avx2},
    {"avx2-v8 (6 tiles x 4 outputs as ymm pairs, no fma)", "avx2", 1, chunk_avx2_v8},
#endif
    {"generic (3 quarter tiles x 4 outputs, 2 doubles)", "generic", 0, chunk_generic},
};
enum { N_KERNS = sizeof KERNS / sizeof KERNS[0] };

static int isa_rank(const char *isa)
{
    return !strcmp(isa, "avx512") ? 3 : !strcmp(isa, "avx2") ? 2 : !strcmp(isa, "sse2") ? 1 : 0;
}

/* The kernel for this CPU (ngt_cpu_isa(), which NGT_ISA can lower), or the one NGT_HLS_KERNEL
 * names (its first word: avx512, avx2, avx2-v8, generic) when the CPU can run it. */
static int pick_kernel(void)
{
    int have = isa_rank(ngt_cpu_isa()), pick = N_KERNS - 1;
    for (int k = N_KERNS - 1; k >= 0;
         k--) /* the widest the CPU runs (the list goes widest first) */
        if (!KERNS[k].old && isa_rank(KERNS[k].isa) <= have)
            pick = k;
    const char *want = getenv("NGT_HLS_KERNEL");
    for (int k = 0; want && *want && k < N_KERNS; k++) {
        size_t n = strcspn(KERNS[k].name, " ");
        if (strlen(want) == n && !strncmp(want, KERNS[k].name, n) && isa_rank(KERNS[k].isa) <= have)
            pick = k;
    }
    return pick;
}

const char *hls_tile_kernel(const hls_model *m)
{
    return m->tiled ? KERNS[m->tkern].name : "none (one event at a time)";
}

int hls_tile_infer(const hls_model *m, void *ws, const float *in, void *out, int n)
{
    int64_t *ev = ws;
    double *tw = (double *)(void *)((char *)ws + ((hls_ws_words(m) * 8 + 63) / 64 * 64));
    size_t ni = (size_t)m->layers[0].size, no = (size_t)m->layers[m->out_layer].size;
    size_t osz = m->out_f64 ? sizeof(double) : sizeof(float);
    int chunk = m->tile_n * TILE;
    for (int e = 0; e < n; e += chunk) {
        int nv = n - e < chunk ? n - e : chunk;
        KERNS[m->tkern].run(m, tw, in + (size_t)e * ni, (char *)out + (size_t)e * no * osz, nv,
                            (nv + TILE - 1) / TILE);
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
    m->tile_n = conv ? 1 : 6;
    m->tkern = pick_kernel();
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
