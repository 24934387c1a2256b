/* hls_build.c: turns the ONNX reader's IR and a precision configuration into hls4ml's layers,
 * resolving 'auto' types as hls4ml's infer_precision pass does and quantizing the weights. */
#include "hls/hls_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const hls_type T16_6 = {16, 6, 1, HLS_TRN, HLS_WRAP};
static const hls_type T18_8 = {18, 8, 1, HLS_TRN, HLS_WRAP};
static const hls_type T18_8_RS = {18, 8, 1, HLS_RND, HLS_SAT};

typedef struct bctx {
    const hls_cfg *cfg;
    hls_type def;
    ngt_error *err;
    const char *cls; /* hls4ml's class of the layer being built (layer_class) */
    const char *pw;  /* a 1x1 Conv: the Pointwise class hls4ml's Vivado backend turns it into */
} bctx;

/* The class hls4ml gives the layer an ONNX node becomes, as its PyTorch and ONNX front ends make
 * it (the LayerType key): Gemm -> Dense, Conv -> Conv1D/Conv2D (a 1x1 kernel, which the Vivado
 * backend turns into PointwiseConv1D/2D, keeps the types it was given as Conv1D/2D), Relu,
 * Sigmoid, Tanh -> Activation, Add -> Merge. The input layer is "Input" (hls4ml's generators
 * write "InputLayer", the front ends' name, which hls4ml's lookup never matches). */
static const char *layer_class(const onnx_graph *g, const onnx_node *nd)
{
    switch (nd->op) {
    case ONNX_OP_GEMM:
        return "Dense";
    case ONNX_OP_CONV:
        return nd->n_in > 1 && nd->in[1] >= 0 && g->tensors[nd->in[1]].rank == 3 ? "Conv1D"
                                                                                 : "Conv2D";
    case ONNX_OP_RELU:
    case ONNX_OP_SIGMOID:
    case ONNX_OP_TANH:
        return "Activation";
    case ONNX_OP_SOFTMAX:
        return "Softmax";
    case ONNX_OP_BATCHNORM:
        return "BatchNormalization";
    case ONNX_OP_ADD:
        return "Merge";
    case ONNX_OP_CONCAT:
        return "Concatenate";
    default:
        return "Reshape";
    }
}

/* The Pointwise class of a 1x1 Conv (hls4ml's optimize_pointwise_conv), else NULL. */
static const char *pointwise_class(const onnx_graph *g, const onnx_node *nd)
{
    if (nd->op != ONNX_OP_CONV || nd->n_in < 2 || nd->in[1] < 0)
        return NULL;
    const onnx_tensor *w = &g->tensors[nd->in[1]];
    if (w->rank == 3 && w->shape[2] == 1)
        return "PointwiseConv1D";
    if (w->rank == 4 && w->shape[2] == 1 && w->shape[3] == 1)
        return "PointwiseConv2D";
    return NULL;
}

/* The layer's settings as hls4ml's get_layer_config merges them: LayerType[class] (the class
 * name exactly; of a key given twice the later), then LayerName[name], whose keys win. A 1x1
 * Conv, remade as PointwiseConv1D/2D with the Conv's settings, gets LayerType[Pointwise...]'s
 * over them (its types stay the Conv's). Keys are in snake_case here (hls_cfg_check). */
static const hls_cfg *layer_key(const bctx *b, const char *layer, const char *key)
{
    const hls_cfg *lt = hls_cfg_get(b->cfg, "LayerType");
    const hls_cfg *v = hls_cfg_get(hls_cfg_get(hls_cfg_get(b->cfg, "LayerName"), layer), key);
    if (!v && b->pw)
        v = hls_cfg_get(hls_cfg_get(lt, b->pw), key);
    if (!v && b->cls)
        v = hls_cfg_get(hls_cfg_get(lt, b->cls), key);
    return v;
}

/* hls4ml's layer_type_precision for the class and var: the LayerType entries whose key is the
 * class name in any case (hls4ml lower-cases both here), in order, each Precision map setting
 * its types and default, a Precision type (or none) setting the default; var's type, else the
 * default. A key given twice counts once, its later value (as a JSON reader keeps it). */
static const char *type_prec(const bctx *b, const char *var)
{
    const hls_cfg *lt = hls_cfg_get(b->cfg, "LayerType");
    const char *sv = NULL, *sd = NULL;
    for (int k = 0; b->cls && lt && lt->kind == HLS_C_MAP && k < lt->n; k++) {
        if (!lt->keys[k] || strcasecmp(lt->keys[k], b->cls) != 0)
            continue;
        int later = 0;
        for (int j = k + 1; j < lt->n && !later; j++)
            later = lt->keys[j] && strcmp(lt->keys[j], lt->keys[k]) == 0;
        if (later)
            continue;
        const hls_cfg *p = hls_cfg_get(&lt->items[k], "Precision");
        if (p && p->kind == HLS_C_MAP) {
            const char *v = hls_cfg_str(hls_cfg_get(p, var));
            const char *d = hls_cfg_str(hls_cfg_get(p, "default"));
            sv = v ? v : sv;
            sd = d ? d : sd;
        } else {
            sd = hls_cfg_str(p);
        }
    }
    return sv ? sv : sd;
}

/* A Precision (a type: the default of every type; or a map of types) entry key, else its
 * default; NULL when neither. */
static const char *prec_of(const hls_cfg *p, const char *key)
{
    if (p && p->kind == HLS_C_STR)
        return p->str;
    const char *s = hls_cfg_str(hls_cfg_get(p, key));
    return s ? s : hls_cfg_str(hls_cfg_get(p, "default"));
}

/* The layer's type for key (or the layer-level key for tables, layer_key): as hls4ml's
 * get_precision, the layer's Precision key, else the layer's default, else its class's
 * (LayerType) key, else the class's default, else the Model's key, else the Model's default. 1
 * set, 0 absent or 'auto', <0 error. */
static int cfg_type(bctx *b, const char *layer, const char *key, int layer_level, hls_type *t,
                    int wmax)
{
    const hls_cfg *l = hls_cfg_get(hls_cfg_get(b->cfg, "LayerName"), layer);
    const char *s = NULL;
    if (layer_level) {
        s = hls_cfg_str(layer_key(b, layer, key));
    } else {
        s = prec_of(hls_cfg_get(l, "Precision"), key);
        if (!s)
            s = type_prec(b, key);
        if (!s)
            s = prec_of(hls_cfg_get(hls_cfg_get(b->cfg, "Model"), "Precision"), key);
    }
    if (!s || strcmp(s, "auto") == 0)
        return 0;
    int rc = hls_type_parse(s, t, wmax, b->err);
    if (rc < 0)
        return preferr(b->err, rc, "layer '%s' %s", layer, key);
    return 1;
}

static int cfg_int(bctx *b, const char *layer, const char *key, int def)
{
    const hls_cfg *v = layer_key(b, layer, key);
    return v && v->kind == HLS_C_NUM ? (int)v->num : def;
}

/* Type or default ('auto' and absent mean the model default). */
static int type_or_default(bctx *b, const char *layer, const char *key, hls_type *t)
{
    int rc = cfg_type(b, layer, key, 0, t, HLS_DATA_WMAX);
    if (rc == 0)
        *t = b->def;
    return rc < 0 ? rc : 0;
}

static int ceil_log2(int n)
{
    int k = 0;
    while ((1 << k) < n)
        k++;
    return k;
}

/* infer_precision's _infer_common_precision: lossless products, sums and bias. */
static hls_type lossless(const hls_type *x, const hls_type *w, const hls_type *bias, int n_ops)
{
    int lg = ceil_log2(n_ops);
    int bw = w->w + x->w + lg, in = w->i + x->i + lg, sg = w->sign || x->sign;
    int frac = bw - in;
    int bin = bias->i, bfrac = bias->w - bias->i;
    in = (in + (bias->sign && !sg) > bin + (sg && !bias->sign) ? in + (bias->sign && !sg)
                                                               : bin + (sg && !bias->sign)) +
         1;
    bw = in + (frac > bfrac ? frac : bfrac);
    hls_type t = {bw, in, sg || bias->sign, HLS_TRN, HLS_WRAP};
    return t;
}

/* Decimal text as hls4ml writes weights ("%.Ff", F = max(0, fractional bits)), read back as C++
 * does, then assigned to t. */
static int64_t weight_raw(double v, const hls_type *t)
{
    char buf[512];
    int f = hls_frac(t) > 0 ? hls_frac(t) : 0;
    if (f > 300)
        f = 300;
    snprintf(buf, sizeof buf, "%.*f", f, v);
    return (int64_t)hls_from_double(strtod(buf, NULL), t, NULL);
}

static const float *const_data(const onnx_graph *g, int t, int64_t n, ngt_error *err,
                               const char *layer)
{
    if (t < 0 || g->tensors[t].kind != ONNX_T_CONST || g->tensors[t].dtype != NGT_F32 ||
        onnx_tensor_elems(&g->tensors[t]) != n) {
        seterr(err, NGT_EUNSUPPORTED, "layer '%s': expected a float32 constant of %lld values",
               layer, (long long)n);
        return NULL;
    }
    return g->tensors[t].data;
}

static int push(hls_model *m, int *cap, hls_layer **out)
{
    if (m->n_layers == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        hls_layer *p = realloc(m->layers, sizeof *p * (size_t)nc);
        if (!p)
            return NGT_ENOMEM;
        m->layers = p;
        *cap = nc;
    }
    *out = &m->layers[m->n_layers++];
    memset(*out, 0, sizeof **out);
    return NGT_OK;
}

static double maxabs(const hls_type *t)
{
    double hi = hls_to_double(hls_raw_max(t), t), lo = -hls_to_double(hls_raw_min(t), t);
    return hi > lo ? hi : lo;
}

/* Fast path: the accumulator never rounds (F_acc >= F_x + F_w, >= F_b) and never overflows for
 * any input of x's type (bound from the actual weights), so its value is the exact integer sum. */
static int decide_fast(hls_layer *l, const hls_type *x)
{
    int fp = hls_frac(x) + hls_frac(&l->wt), fa = hls_frac(&l->acc), fb = hls_frac(&l->bt);
    l->fast = l->fast32 = 0;
    if (fa < fp || fa < fb || !l->acc.sign || fp - fb > 40 || fb - fp > 40)
        return NGT_OK;
    double xm = maxabs(x), worst = 0;
    for (int j = 0; j < l->n_out; j++) {
        double s = fabs(hls_to_double(l->bq[j], &l->bt));
        for (int k = 0; k < l->n_ops; k++)
            s += xm * fabs(hls_to_double(l->wq[(size_t)j * l->n_ops + k], &l->wt));
        worst = s > worst ? s : worst;
    }
    worst *= 1.0 + 1e-9;
    double lim = ldexp(1.0, l->acc.i - 1) - ldexp(1.0, -fa);
    int fs = fp > fb ? fp : fb;
    if (worst >= lim || ldexp(worst, fs) >= ldexp(1.0, 62))
        return NGT_OK;
    l->fast = 1;
    if (hls_fast_prepare(l, x, worst) < 0)
        return NGT_ENOMEM;
    int x16 = x->w <= 16 && (x->sign || x->w <= 15), w16 = l->wt.w <= 16;
    if (x16 && w16 && fb <= fp && ldexp(worst, fp) < ldexp(1.0, 30)) {
        l->w16 = malloc(sizeof *l->w16 * (size_t)l->n_out * (size_t)l->n_ops);
        if (!l->w16)
            return NGT_ENOMEM;
        for (size_t k = 0; k < (size_t)l->n_out * (size_t)l->n_ops; k++)
            l->w16[k] = (int16_t)l->wq[k];
        l->fast32 = 1;
    }
    return NGT_OK;
}

static int build_dense(bctx *b, hls_model *m, hls_layer *l, const onnx_node *nd,
                       const hls_layer *src)
{
    const onnx_graph *g = m->g;
    if (onnx_attr_int(nd, "transA", 0) || onnx_attr_float(nd, "alpha", 1) != 1.0f ||
        onnx_attr_float(nd, "beta", 1) != 1.0f || nd->n_in < 3 || nd->in[2] < 0)
        return seterr(b->err, NGT_EUNSUPPORTED,
                      "layer '%s': Gemm needs alpha = beta = 1, no transA and a bias", l->name);
    int tb = (int)onnx_attr_int(nd, "transB", 0);
    const onnx_tensor *wt = &g->tensors[nd->in[1]];
    if (wt->rank != 2)
        return seterr(b->err, NGT_EUNSUPPORTED, "layer '%s': weights must be 2D", l->name);
    int n_in = (int)(tb ? wt->shape[1] : wt->shape[0]),
        n_out = (int)(tb ? wt->shape[0] : wt->shape[1]);
    if (n_in != src->size)
        return seterr(b->err, NGT_EINVAL, "layer '%s': %d inputs, its input has %lld", l->name,
                      n_in, (long long)src->size);
    const float *w = const_data(g, nd->in[1], (int64_t)n_in * n_out, b->err, l->name);
    const float *bias = w ? const_data(g, nd->in[2], n_out, b->err, l->name) : NULL;
    if (!bias)
        return NGT_EUNSUPPORTED;
    l->kind = HLS_L_DENSE;
    l->n_ops = n_in;
    l->n_out = n_out;
    l->size = n_out;
    l->c = n_out;
    l->wq = malloc(sizeof *l->wq * (size_t)n_in * (size_t)n_out);
    l->bq = malloc(sizeof *l->bq * (size_t)n_out);
    if (!l->wq || !l->bq)
        return seterr(b->err, NGT_ENOMEM, "layer '%s': out of memory", l->name);
    for (int j = 0; j < n_out; j++) {
        l->bq[j] = weight_raw(bias[j], &l->bt);
        for (int i = 0; i < n_in; i++)
            l->wq[(size_t)j * n_in + i] =
                weight_raw(tb ? w[(size_t)j * n_in + i] : w[(size_t)i * n_out + j], &l->wt);
    }
    return NGT_OK;
}

static int build_conv(bctx *b, hls_model *m, hls_layer *l, const onnx_node *nd,
                      const hls_layer *src)
{
    const onnx_graph *g = m->g;
    const onnx_tensor *wt = &g->tensors[nd->in[1]];
    const int64_t *ks, *st, *dl, *pads;
    int nk = onnx_attr_ints(nd, "kernel_shape", &ks);
    if (nk < 1 || nk > 2 || onnx_attr_int(nd, "group", 1) != 1 || nd->n_in < 3 || nd->in[2] < 0)
        return seterr(b->err, NGT_EUNSUPPORTED,
                      "layer '%s': Conv must be 1D or 2D, group 1, with a bias", l->name);
    int ns = onnx_attr_ints(nd, "strides", &st), nl = onnx_attr_ints(nd, "dilations", &dl);
    onnx_attr_ints(nd, "pads", &pads);
    for (int d = 0; d < nk; d++)
        if ((ns > d && st[d] != 1) || (nl > d && dl[d] != 1))
            return seterr(b->err, NGT_EUNSUPPORTED, "layer '%s': only strides and dilations of 1",
                          l->name);
    l->kind = HLS_L_CONV;
    l->ic = src->c;
    l->ih = nk == 2 ? src->h : 1;
    l->iw = src->w;
    l->kh = nk == 2 ? (int)ks[0] : 1;
    l->kw = (int)ks[nk - 1];
    l->pt = nk == 2 ? (int)pads[0] : 0;
    l->pb = nk == 2 ? (int)pads[2] : 0;
    l->pl = (int)pads[nk == 2 ? 1 : 0];
    l->pr = (int)pads[nk == 2 ? 3 : 1];
    if (wt->rank != nk + 2 || wt->shape[1] != l->ic || src->w == 0)
        return seterr(b->err, NGT_EINVAL, "layer '%s': weights do not match its input", l->name);
    int nf = (int)wt->shape[0];
    l->n_out = nf;
    l->n_ops = l->ic * l->kh * l->kw;
    l->c = nf;
    l->h = l->ih + l->pt + l->pb - l->kh + 1;
    l->w = l->iw + l->pl + l->pr - l->kw + 1;
    if (nk == 1)
        l->h = 1;
    if (l->h < 1 || l->w < 1)
        return seterr(b->err, NGT_EINVAL, "layer '%s': empty output", l->name);
    l->size = (int64_t)nf * l->h * l->w;
    const float *w = const_data(g, nd->in[1], (int64_t)nf * l->n_ops, b->err, l->name);
    const float *bias = w ? const_data(g, nd->in[2], nf, b->err, l->name) : NULL;
    if (!bias)
        return NGT_EUNSUPPORTED;
    size_t npix = (size_t)l->h * l->w;
    l->wq = malloc(sizeof *l->wq * (size_t)nf * l->n_ops);
    l->bq = malloc(sizeof *l->bq * (size_t)nf);
    l->taps = malloc(sizeof *l->taps * npix * l->n_ops);
    if (!l->wq || !l->bq || !l->taps)
        return seterr(b->err, NGT_ENOMEM, "layer '%s': out of memory", l->name);
    /* im2col order of hls4ml's fill_buffer: tap-major (kh, kw), channel-minor */
    for (int f = 0; f < nf; f++) {
        l->bq[f] = weight_raw(bias[f], &l->bt);
        for (int y = 0; y < l->kh; y++)
            for (int x = 0; x < l->kw; x++)
                for (int c = 0; c < l->ic; c++) {
                    size_t k = ((size_t)y * l->kw + x) * l->ic + c;
                    size_t src_i = (((size_t)f * l->ic + c) * l->kh + y) * l->kw + x;
                    l->wq[(size_t)f * l->n_ops + k] = weight_raw(w[src_i], &l->wt);
                }
    }
    for (int oy = 0; oy < l->h; oy++)
        for (int ox = 0; ox < l->w; ox++)
            for (int y = 0; y < l->kh; y++)
                for (int x = 0; x < l->kw; x++)
                    for (int c = 0; c < l->ic; c++) {
                        int iy = oy + y - l->pt, ix = ox + x - l->pl;
                        size_t k = ((size_t)y * l->kw + x) * l->ic + c;
                        int off = iy < 0 || iy >= l->ih || ix < 0 || ix >= l->iw
                                      ? -1
                                      : (iy * l->iw + ix) * l->ic + c;
                        l->taps[((size_t)oy * l->w + ox) * l->n_ops + k] = off;
                    }
    return NGT_OK;
}

/* sigmoid over [-8, 8) and tanh over [-4, 4): entries at each bin's lower edge, computed in float
 * as nnet_activation.h's init tables do, then assigned to table_t. */
static int build_table(bctx *b, hls_layer *l)
{
    int n = l->table_size;
    l->table = malloc(sizeof *l->table * (size_t)n);
    if (!l->table)
        return seterr(b->err, NGT_ENOMEM, "layer '%s': out of memory", l->name);
    for (int i = 0; i < n; i++) {
        double span = l->kind == HLS_L_SIGMOID ? 16.0 : 8.0;
        float in = (float)(span * (i - (float)n / 2.0) / (float)n);
        float v = l->kind == HLS_L_SIGMOID ? (float)(1.0 / (1 + expf(-in))) : tanhf(in);
        l->table[i] = (int64_t)hls_from_double(v, &l->tab, NULL);
    }
    return NGT_OK;
}

static int cfg_str_is(bctx *b, const char *layer, const char *key, const char *def,
                      const char **out)
{
    const char *s = hls_cfg_str(layer_key(b, layer, key));
    *out = s ? s : def;
    return s != NULL;
}

/* Softmax as the Vivado backend configures it (SoftmaxConfigTemplate, fix_softmax_table_size):
 * table types from the layer-level *_t keys (Precision's are ignored, as in hls4ml), accum_t
 * from Precision.accum or the model default, inp_norm_t = ap_ufixed<W-1, I-1> of the input. */
static int build_softmax(bctx *b, hls_layer *l, const hls_layer *src)
{
    int rc;
    const char *impl;
    cfg_str_is(b, l->name, "implementation", "stable", &impl);
    if (strcmp(impl, "stable") != 0 && strcmp(impl, "latency") != 0)
        return seterr(b->err, NGT_EUNSUPPORTED,
                      "layer '%s': softmax implementation '%s' (stable or latency)", l->name, impl);
    if (src->w)
        return seterr(b->err, NGT_EUNSUPPORTED, "layer '%s': softmax of flat tensors only",
                      l->name);
    l->kind = HLS_L_SOFTMAX;
    l->impl = strcmp(impl, "stable") == 0 ? HLS_SOFTMAX_STABLE : HLS_SOFTMAX_LATENCY;
    l->exp_t = l->inv_t = l->inv_inp = T18_8_RS;
    if ((rc = type_or_default(b, l->name, "result", &l->res)) < 0 ||
        (rc = type_or_default(b, l->name, "accum", &l->acc)) < 0 ||
        (rc = cfg_type(b, l->name, "exp_table_t", 1, &l->exp_t, HLS_DATA_WMAX)) < 0 ||
        (rc = cfg_type(b, l->name, "inv_table_t", 1, &l->inv_t, HLS_DATA_WMAX)) < 0 ||
        (rc = cfg_type(b, l->name, "inv_inp_t", 1, &l->inv_inp, HLS_DATA_WMAX)) < 0 ||
        (rc = cfg_type(b, l->name, "accum_t", 1, &l->acc, 64)) < 0)
        return rc;
    int ts = cfg_int(b, l->name, "table_size", 1024);
    int have_inv = layer_key(b, l->name, "inv_table_size") != NULL;
    if (!have_inv) { /* fix_softmax_table_size */
        int bw = src->res.w < l->inv_t.w ? src->res.w : l->inv_t.w;
        if (bw < 30 && (1 << bw) < ts)
            ts = 1 << bw;
    }
    l->table_size = cfg_int(b, l->name, "exp_table_size", ts);
    l->inv_size = cfg_int(b, l->name, "inv_table_size", ts);
    if (l->table_size < 1 || l->table_size > (1 << 20) || l->inv_size < 1 ||
        l->inv_size > (1 << 20))
        return seterr(b->err, NGT_EINVAL, "layer '%s': table sizes %d, %d out of range", l->name,
                      l->table_size, l->inv_size);
    l->norm = src->res;
    if (l->impl == HLS_SOFTMAX_STABLE) {
        int s = src->res.sign;
        hls_type nt = {src->res.w - s, src->res.i - s, 0, HLS_TRN, HLS_WRAP};
        l->norm = nt;
        if (s && nt.w < 30 && l->inv_size > (1 << nt.w))
            l->table_size = 1 << nt.w;
        else if (s)
            l->table_size = l->inv_size;
    }
    return hls_softmax_tables(l, b->err);
}

static int build_bn(bctx *b, hls_model *m, hls_layer *l, const onnx_node *nd, const hls_layer *src)
{
    int c = src->w ? src->c : (int)src->size;
    const float *p[4];
    for (int k = 0; k < 4; k++)
        if (!(p[k] = const_data(m->g, nd->in[1 + k], c, b->err, l->name)))
            return NGT_EUNSUPPORTED;
    float eps = onnx_attr_float(nd, "epsilon", 1e-5f);
    l->kind = HLS_L_BATCHNORM;
    l->n_out = c;
    l->wq = malloc(sizeof *l->wq * (size_t)c);
    l->bq = malloc(sizeof *l->bq * (size_t)c);
    if (!l->wq || !l->bq)
        return seterr(b->err, NGT_ENOMEM, "layer '%s': out of memory", l->name);
    for (int k = 0; k < c; k++) { /* numpy float32, as hls4ml's BatchNormalization.initialize */
        float scale = p[0][k] / sqrtf(p[3][k] + eps);
        float bias = p[1][k] - scale * p[2][k];
        l->wq[k] = weight_raw(scale, &l->wt);
        l->bq[k] = weight_raw(bias, &l->bt);
    }
    return NGT_OK;
}

/* Sum type of two inputs (infer_precision's merge 'add' and concatenate rules). */
static hls_type merge_type(const hls_type *a, const hls_type *c, int add)
{
    int sg = a->sign || c->sign;
    int ia = a->i + (add ? (c->sign && !a->sign) : (sg && !a->sign));
    int ic = c->i + (add ? (a->sign && !c->sign) : (sg && !c->sign));
    int in = (ia > ic ? ia : ic) + add;
    int fa = a->w - a->i, fc = c->w - c->i;
    hls_type t = {in + (fa > fc ? fa : fc), in, sg, HLS_TRN, HLS_WRAP};
    if (!add) {
        t.q = a->q != HLS_TRN ? a->q : c->q;
        t.o = a->o != HLS_WRAP ? a->o : c->o;
    }
    return t;
}

static int find_layer(const hls_model *m, const int *layer_of, int t, const char *name,
                      ngt_error *err)
{
    if (t < 0 || layer_of[t] < 0)
        return seterr(err, NGT_EUNSUPPORTED, "layer '%s': an input is not a computed tensor", name);
    (void)m;
    return layer_of[t];
}

static int build_node(bctx *b, hls_model *m, const onnx_node *nd, int *layer_of, int *cap)
{
    hls_layer *l;
    if (push(m, cap, &l) < 0)
        return seterr(b->err, NGT_ENOMEM, "out of memory");
    str_copy(l->name, nd->name, sizeof l->name);
    b->cls = layer_class(m->g, nd);
    b->pw = pointwise_class(m->g, nd);
    int s0 = find_layer(m, layer_of, nd->in[0], l->name, b->err);
    if (s0 < 0)
        return s0;
    l->in[0] = s0;
    l->n_in_t = 1;
    hls_layer src = m->layers[s0];
    l->size = src.size;
    l->c = src.c;
    l->h = src.h;
    l->w = src.w;
    int rc = NGT_OK, have;
    switch (nd->op) {
    case ONNX_OP_GEMM:
    case ONNX_OP_CONV:
        if ((rc = type_or_default(b, l->name, "weight", &l->wt)) < 0 ||
            (rc = type_or_default(b, l->name, "bias", &l->bt)) < 0)
            return rc;
        rc =
            nd->op == ONNX_OP_GEMM ? build_dense(b, m, l, nd, &src) : build_conv(b, m, l, nd, &src);
        if (rc < 0)
            return rc;
        {
            hls_type auto_t = lossless(&src.res, &l->wt, &l->bt, l->n_ops);
            if ((have = cfg_type(b, l->name, "accum", 0, &l->acc, HLS_ACC_WMAX)) < 0)
                return have;
            if (!have)
                l->acc = auto_t;
            /* a layer-level accum_t (AccumT) replaces it, as hls4ml sets the layer's settings
             * as attributes after the Precision lookup; 'auto' there is lossless too */
            const char *lat = hls_cfg_str(layer_key(b, l->name, "accum_t"));
            if (lat && strcmp(lat, "auto") == 0)
                l->acc = auto_t;
            else if (lat && (have = cfg_type(b, l->name, "accum_t", 1, &l->acc, HLS_ACC_WMAX)) < 0)
                return have;
            if ((have = cfg_type(b, l->name, "result", 0, &l->res, 64)) < 0)
                return have;
            if (!have)
                l->res = auto_t;
        }
        if (decide_fast(l, &src.res) < 0)
            return seterr(b->err, NGT_ENOMEM, "layer '%s': out of memory", l->name);
        break;
    case ONNX_OP_RELU:
    case ONNX_OP_SIGMOID:
    case ONNX_OP_TANH:
        l->kind = nd->op == ONNX_OP_RELU      ? HLS_L_RELU
                  : nd->op == ONNX_OP_SIGMOID ? HLS_L_SIGMOID
                                              : HLS_L_TANH;
        if ((rc = type_or_default(b, l->name, "result", &l->res)) < 0)
            return rc;
        if (l->kind == HLS_L_RELU)
            hls_cast_prepare(&l->rq, hls_frac(&src.res), src.res.w, &l->res);
        if (l->kind != HLS_L_RELU) {
            l->tab = T18_8;
            if ((rc = cfg_type(b, l->name, "table_t", 1, &l->tab, HLS_DATA_WMAX)) < 0)
                return rc;
            l->table_size = cfg_int(b, l->name, "table_size", 1024);
            if (l->table_size < 2 || l->table_size > (1 << 20))
                return seterr(b->err, NGT_EINVAL, "layer '%s': table_size %d out of range", l->name,
                              l->table_size);
            if ((rc = build_table(b, l)) < 0)
                return rc;
            hls_cast_prepare(&l->rq, hls_frac(&l->tab), l->tab.w, &l->res);
            /* index = trunc(x * N / span) + N / 2: a shift when N and span are powers of two */
            int lg_n = ceil_log2(l->table_size), lg_s = l->kind == HLS_L_SIGMOID ? 4 : 3;
            l->idx_shift = hls_frac(&src.res) + lg_s - lg_n;
            l->idx_fast = (1 << lg_n) == l->table_size && l->idx_shift >= 0 && src.res.w <= 63;
        }
        break;
    case ONNX_OP_SOFTMAX:
        if ((rc = build_softmax(b, l, &src)) < 0)
            return rc;
        break;
    case ONNX_OP_BATCHNORM:
        if ((rc = type_or_default(b, l->name, "scale", &l->wt)) < 0 ||
            (rc = type_or_default(b, l->name, "bias", &l->bt)) < 0 ||
            (rc = build_bn(b, m, l, nd, &src)) < 0)
            return rc;
        if ((have = cfg_type(b, l->name, "result", 0, &l->res, 64)) < 0)
            return have;
        if (!have) { /* _infer_bn_precision */
            hls_type prod = {src.res.w + l->wt.w, src.res.i + l->wt.i, src.res.sign || l->wt.sign,
                             HLS_TRN, HLS_WRAP};
            l->res = merge_type(&prod, &l->bt, 1);
        }
        break;
    case ONNX_OP_ADD:
    case ONNX_OP_CONCAT: {
        int s1 = find_layer(m, layer_of, nd->n_in > 1 ? nd->in[1] : -1, l->name, b->err);
        if (s1 < 0 || nd->n_in != 2)
            return s1 < 0
                       ? s1
                       : seterr(b->err, NGT_EUNSUPPORTED, "layer '%s': two inputs only", l->name);
        l->in[1] = s1;
        l->n_in_t = 2;
        const hls_layer *o = &m->layers[s1];
        l = &m->layers[m->n_layers - 1];
        if (nd->op == ONNX_OP_ADD) {
            if (o->size != src.size)
                return seterr(b->err, NGT_EUNSUPPORTED, "layer '%s': Add without broadcasting only",
                              l->name);
            l->kind = HLS_L_ADD;
        } else {
            if (src.w || o->w)
                return seterr(b->err, NGT_EUNSUPPORTED, "layer '%s': Concat of flat tensors only",
                              l->name);
            l->kind = HLS_L_CONCAT;
            l->size = src.size + o->size;
            l->c = (int)l->size;
        }
        if ((have = cfg_type(b, l->name, "result", 0, &l->res, 64)) < 0)
            return have;
        if (!have)
            l->res = hls_type_eq(&src.res, &o->res)
                         ? src.res
                         : merge_type(&src.res, &o->res, nd->op == ONNX_OP_ADD);
        break;
    }
    case ONNX_OP_RESHAPE:
    case ONNX_OP_IDENTITY:
        if (src.w)
            return seterr(b->err, NGT_EUNSUPPORTED,
                          "layer '%s': Flatten/Reshape of channels-last data is not supported",
                          l->name);
        m->n_layers--; /* flat data: the same values */
        layer_of[nd->out[0]] = s0;
        return NGT_OK;
    default:
        return seterr(b->err, NGT_EUNSUPPORTED,
                      "layer '%s': operator %s is not supported by the hls backend "
                      "(Dense, Conv1D/2D, ReLU, Sigmoid, Tanh, BatchNorm, Add, Concat)",
                      l->name, nd->op_type);
    }
    l = &m->layers[m->n_layers - 1];
    if (l->res.w > 63)
        return seterr(b->err, NGT_EUNSUPPORTED,
                      "layer '%s': result type of %d bits (at most 63 are supported)", l->name,
                      l->res.w);
    layer_of[nd->out[0]] = m->n_layers - 1;
    return NGT_OK;
}

int hls_build(hls_model *m, const hls_cfg *cfg, ngt_error *err)
{
    bctx b = {cfg, T16_6, err, "Input", NULL};
    const hls_cfg *mp = hls_cfg_get(hls_cfg_get(cfg, "Model"), "Precision");
    const char *ds =
        mp && mp->kind == HLS_C_STR ? mp->str : hls_cfg_str(hls_cfg_get(mp, "default"));
    if (ds && hls_type_parse(ds, &b.def, HLS_DATA_WMAX, err) < 0)
        return preferr(err, NGT_EINVAL, "Model Precision default");
    const onnx_graph *g = m->g;
    if (g->n_inputs != 1 || g->n_outputs != 1)
        return seterr(err, NGT_EUNSUPPORTED, "hls backend: one input and one output only");
    int *layer_of = malloc(sizeof *layer_of * (size_t)g->n_tensors);
    if (!layer_of)
        return seterr(err, NGT_ENOMEM, "out of memory");
    for (int t = 0; t < g->n_tensors; t++)
        layer_of[t] = -1;
    int cap = 0, rc;
    hls_layer *in;
    if ((rc = push(m, &cap, &in)) < 0) {
        free(layer_of);
        return seterr(err, rc, "out of memory");
    }
    const onnx_tensor *it = &g->tensors[g->inputs[0]];
    str_copy(in->name, it->name, sizeof in->name);
    in->kind = HLS_L_INPUT;
    m->in_rank = it->rank - 1;
    if (m->in_rank < 1 || m->in_rank > 3) {
        free(layer_of);
        return seterr(err, NGT_EUNSUPPORTED, "input '%s': rank %d per event", it->name, m->in_rank);
    }
    for (int d = 0; d < m->in_rank; d++)
        m->in_shape[d] = it->shape[d + 1];
    in->size = onnx_tensor_elems(it);
    in->c = (int)m->in_shape[0];
    in->h = m->in_rank == 3 ? (int)m->in_shape[1] : m->in_rank == 2 ? 1 : 0;
    in->w = m->in_rank >= 2 ? (int)m->in_shape[m->in_rank - 1] : 0;
    if ((rc = type_or_default(&b, in->name, "result", &in->res)) < 0) {
        free(layer_of);
        return rc;
    }
    hls_cast_prepare(&in->rq, hls_frac(&in->res), 62, &in->res); /* overflow handling only */
    layer_of[g->inputs[0]] = 0;
    for (int k = 0; k < g->n_nodes && rc >= 0; k++)
        rc = build_node(&b, m, &g->nodes[k], layer_of, &cap);
    if (rc >= 0) {
        m->out_layer = layer_of[g->outputs[0]];
        const onnx_tensor *ot = &g->tensors[g->outputs[0]];
        m->out_rank = ot->rank - 1;
        for (int d = 0; d < m->out_rank && d < 3; d++)
            m->out_shape[d] = ot->shape[d + 1];
        if (m->out_layer < 0 || m->out_rank > 3 ||
            onnx_tensor_elems(ot) != m->layers[m->out_layer].size)
            rc = seterr(err, NGT_EUNSUPPORTED, "output '%s': not computed as expected", ot->name);
    }
    free(layer_of);
    return rc;
}

void hls_layer_types(const hls_layer *l, char *buf, int size)
{
    char a[64], c[64], d[64], e[64], f[64];
    hls_type_str(&l->res, a, sizeof a);
    if (l->kind == HLS_L_DENSE || l->kind == HLS_L_CONV)
        snprintf(buf, (size_t)size, "result %s, accum %s, weight %s, bias %s", a,
                 hls_type_str(&l->acc, c, sizeof c), hls_type_str(&l->wt, d, sizeof d),
                 hls_type_str(&l->bt, e, sizeof e));
    else if (l->kind == HLS_L_SIGMOID || l->kind == HLS_L_TANH)
        snprintf(buf, (size_t)size, "result %s, table %s x %d", a,
                 hls_type_str(&l->tab, c, sizeof c), l->table_size);
    else if (l->kind == HLS_L_SOFTMAX)
        snprintf(buf, (size_t)size, "result %s, accum %s, exp %s x %d, inv %s x %d, inv_inp %s", a,
                 hls_type_str(&l->acc, c, sizeof c), hls_type_str(&l->exp_t, d, sizeof d),
                 l->table_size, hls_type_str(&l->inv_t, e, sizeof e), l->inv_size,
                 hls_type_str(&l->inv_inp, f, sizeof f));
    else if (l->kind == HLS_L_BATCHNORM)
        snprintf(buf, (size_t)size, "result %s, scale %s, bias %s", a,
                 hls_type_str(&l->wt, c, sizeof c), hls_type_str(&l->bt, d, sizeof d));
    else
        snprintf(buf, (size_t)size, "result %s", a);
}

void hls_model_free(hls_model *m)
{
    if (!m)
        return;
    for (int k = 0; k < m->n_layers; k++) {
        hls_layer *l = &m->layers[k];
        free(l->wq);
        free(l->bq);
        free(l->w16);
        free(l->taps);
        free(l->table);
        free(l->table2);
        free(l->wd);
        free(l->bd);
        free(l->tcast);
    }
    free(m->toff);
    free(m->tmarg);
    free(m->layers);
    free(m->offset);
    onnx_graph_free(m->g);
    free(m);
}
