/* ref_conv.c: Conv, MaxPool and AveragePool of the reference interpreter, 1D handled as 2D with
 * height 1; pads, strides, dilations and groups as the reader normalised them. */
#include "ref/ref.h"

#include <math.h>

typedef struct geo {
    int64_t n, c, h, w; /* input */
    int64_t m, oh, ow;  /* output channels and size */
    int64_t kh, kw, sh, sw, dh, dw, ph, pw, peh, pew;
} geo;

static void geometry(const ref_ctx *c, const onnx_node *nd, geo *g)
{
    int64_t x[4], y[4];
    int r = ref_dims(c, nd->in[0], x);
    ref_dims(c, nd->out[0], y);
    const int64_t *k, *s, *d, *p;
    onnx_attr_ints(nd, "kernel_shape", &k);
    onnx_attr_ints(nd, "strides", &s);
    onnx_attr_ints(nd, "dilations", &d);
    onnx_attr_ints(nd, "pads", &p);
    int two = r == 4;
    *g = (geo){.n = x[0],
               .c = x[1],
               .h = two ? x[2] : 1,
               .w = x[r - 1],
               .m = y[1],
               .oh = two ? y[2] : 1,
               .ow = y[r - 1],
               .kh = two ? k[0] : 1,
               .kw = k[two],
               .sh = two ? s[0] : 1,
               .sw = s[two],
               .dh = two ? d[0] : 1,
               .dw = d[two],
               .ph = two ? p[0] : 0,
               .pw = p[two],
               .peh = two ? p[2] : 0,
               .pew = p[two ? 3 : 1]};
}

int ref_conv(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    geo g;
    geometry(c, nd, &g);
    int64_t grp = onnx_attr_int(nd, "group", 1), cg = g.c / grp, mg = g.m / grp;
    const float *x = ref_ptr(c, nd->in[0]), *w = ref_ptr(c, nd->in[1]);
    const float *b = nd->n_in > 2 && nd->in[2] >= 0 ? ref_ptr(c, nd->in[2]) : NULL;
    float *y = ref_ptr(c, nd->out[0]);
    for (int64_t n = 0; n < g.n; n++)
        for (int64_t m = 0; m < g.m; m++) {
            const float *wm = w + m * cg * g.kh * g.kw;
            const float *xg = x + (n * g.c + (m / mg) * cg) * g.h * g.w;
            for (int64_t oh = 0; oh < g.oh; oh++)
                for (int64_t ow = 0; ow < g.ow; ow++) {
                    float acc = 0.0f;
                    for (int64_t ci = 0; ci < cg; ci++)
                        for (int64_t kh = 0; kh < g.kh; kh++) {
                            int64_t ih = oh * g.sh - g.ph + kh * g.dh;
                            if (ih < 0 || ih >= g.h)
                                continue;
                            const float *xr = xg + (ci * g.h + ih) * g.w;
                            const float *wr = wm + (ci * g.kh + kh) * g.kw;
                            for (int64_t kw = 0; kw < g.kw; kw++) {
                                int64_t iw = ow * g.sw - g.pw + kw * g.dw;
                                if (iw >= 0 && iw < g.w)
                                    acc += xr[iw] * wr[kw];
                            }
                        }
                    y[((n * g.m + m) * g.oh + oh) * g.ow + ow] = acc + (b ? b[m] : 0.0f);
                }
        }
    return NGT_OK;
}

/* One pooling window at (oh, ow) of plane xp: max, or average over the window clipped to the
 * input (count_include_pad: to the padded input, as ONNX Runtime counts it). */
static float pool_one(const geo *g, const float *xp, int64_t oh, int64_t ow, int avg, int incl)
{
    float mx = -INFINITY, sum = 0.0f;
    int64_t cnt = 0, hs = oh * g->sh - g->ph, ws = ow * g->sw - g->pw;
    for (int64_t kh = 0; kh < g->kh; kh++) {
        int64_t ih = hs + kh * g->dh;
        if (ih < 0 || ih >= g->h)
            continue;
        for (int64_t kw = 0; kw < g->kw; kw++) {
            int64_t iw = ws + kw * g->dw;
            if (iw < 0 || iw >= g->w)
                continue;
            float v = xp[ih * g->w + iw];
            mx = v > mx || v != v ? v : mx; /* a NaN in the window gives NaN */
            sum += v;
            cnt++;
        }
    }
    if (!avg)
        return mx;
    if (incl) {
        int64_t he = hs + (g->kh - 1) * g->dh + 1, we = ws + (g->kw - 1) * g->dw + 1;
        he = he < g->h + g->peh ? he : g->h + g->peh;
        we = we < g->w + g->pew ? we : g->w + g->pew;
        cnt = (he - hs) * (we - ws);
    }
    return cnt ? sum / (float)cnt : 0.0f;
}

int ref_pool(const ref_ctx *c, const onnx_node *nd, ngt_error *err)
{
    (void)err;
    geo g;
    geometry(c, nd, &g);
    int avg = nd->op == ONNX_OP_AVGPOOL, incl = (int)onnx_attr_int(nd, "count_include_pad", 0);
    const float *x = ref_ptr(c, nd->in[0]);
    float *y = ref_ptr(c, nd->out[0]);
    for (int64_t p = 0; p < g.n * g.c; p++)
        for (int64_t oh = 0; oh < g.oh; oh++)
            for (int64_t ow = 0; ow < g.ow; ow++)
                y[(p * g.oh + oh) * g.ow + ow] = pool_one(&g, x + p * g.h * g.w, oh, ow, avg, incl);
    return NGT_OK;
}
