/* hls_tools.c: the hls tools' C side (core/ngt.h "hls tools"): a model and precision run over n
 * events, with per-layer counts of overflows and rounding and the ranges seen, for profile/tune. */
#include "hls/hls_model.h"
#include "hls/ngt_hls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(hls_kind k)
{
    static const char *names[] = {"Input", "Dense",   "Conv",      "ReLU", "Sigmoid",
                                  "Tanh",  "Softmax", "BatchNorm", "Add",  "Concat"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

static void range_of(const int64_t *q, int64_t n, const hls_type *t, double *lo, double *hi)
{
    *lo = *hi = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = hls_to_double(q[i], t);
        *lo = i == 0 || v < *lo ? v : *lo;
        *hi = i == 0 || v > *hi ? v : *hi;
    }
}

/* The static part of a layer's statistics: names, types, ranges, weights, multipliers. */
static void describe(const hls_model *m, int k, ngt_hls_layer_stats *s)
{
    const hls_layer *l = &m->layers[k];
    const hls_layer *a = &m->layers[l->in[0]];
    memset(s, 0, sizeof *s);
    str_copy(s->name, l->name, sizeof s->name);
    str_copy(s->kind, kind_name(l->kind), sizeof s->kind);
    hls_layer_types(l, s->types, sizeof s->types);
    s->width = l->res.w;
    s->integer = l->res.i;
    s->is_signed = l->res.sign;
    s->type_min = hls_to_double(hls_raw_min(&l->res), &l->res);
    s->type_max = hls_to_double(hls_raw_max(&l->res), &l->res);
    s->size = l->size;
    if (l->kind == HLS_L_DENSE || l->kind == HLS_L_CONV || l->kind == HLS_L_BATCHNORM) {
        int conv = l->kind != HLS_L_BATCHNORM;
        s->n_weights = conv ? (int64_t)l->n_ops * l->n_out : l->n_out;
        s->n_biases = l->n_out;
        range_of(l->wq, s->n_weights, &l->wt, &s->weight_min, &s->weight_max);
        range_of(l->bq, s->n_biases, &l->bt, &s->bias_min, &s->bias_max);
        s->in_width = a->res.w;
        s->weight_width = l->wt.w;
        s->bias_width = l->bt.w;
        s->acc_width = conv ? l->acc.w : 0;
        s->acc_integer = conv ? l->acc.i : 0;
        s->multipliers = s->n_weights;
    }
}

/* Every event through the exact path; stats per layer, ranges from the stored raw values. */
static int run_stats(const hls_model *m, int64_t *ws, const float *in, int n, float *out,
                     ngt_hls_stats *st, float *tmp)
{
    int nl = m->n_layers;
    int64_t *c = calloc((size_t)nl * 8, sizeof *c), *lo = malloc(sizeof *lo * (size_t)nl),
            *hi = malloc(sizeof *hi * (size_t)nl);
    if (!c || !lo || !hi) {
        free(c);
        free(lo);
        free(hi);
        return NGT_ENOMEM;
    }
    for (int k = 0; k < nl; k++) {
        c[8 * k + 2] = INT64_MAX;
        c[8 * k + 3] = INT64_MIN;
        lo[k] = INT64_MAX;
        hi[k] = INT64_MIN;
    }
    size_t ni = (size_t)st->in_size, no = (size_t)st->out_size;
    int rc = NGT_OK;
    for (int e = 0; e < n && rc >= 0; e++) {
        rc = hls_event(m, ws, in + (size_t)e * ni, out ? out + (size_t)e * no : tmp, c);
        for (int k = 0; k < nl; k++) {
            const int64_t *y = ws + m->offset[k];
            for (int64_t i = 0; i < m->layers[k].size; i++) {
                lo[k] = y[i] < lo[k] ? y[i] : lo[k];
                hi[k] = y[i] > hi[k] ? y[i] : hi[k];
            }
        }
    }
    for (int k = 0; k < nl && n > 0; k++) {
        ngt_hls_layer_stats *s = &st->layer[k];
        s->values = m->layers[k].size * (int64_t)n;
        s->overflows = c[8 * k];
        s->rounded = c[8 * k + 1];
        s->acc_overflows = c[8 * k + 4];
        s->seen_min = hls_to_double(lo[k], &m->layers[k].res);
        s->seen_max = hls_to_double(hi[k], &m->layers[k].res);
    }
    free(c);
    free(lo);
    free(hi);
    return rc;
}

int ngt_hls_profile(const char *model, const char *precision, const float *in, int n, float *out,
                    ngt_hls_stats *st, ngt_error *err)
{
    const ngt_backend *be = hls_backend();
    void *mv = NULL;
    int rc = be->load(model, precision, &mv, err);
    if (rc < 0)
        return rc;
    const hls_model *m = mv;
    size_t ni = (size_t)m->layers[0].size, no = (size_t)m->layers[m->out_layer].size;
    if (st) {
        if (m->n_layers > NGT_HLS_MAX_LAYERS) {
            be->unload(mv);
            return seterr(err, NGT_EUNSUPPORTED, "hls profile: %d layers (at most %d)", m->n_layers,
                          NGT_HLS_MAX_LAYERS);
        }
        memset(st, 0, sizeof *st);
        st->n_layers = m->n_layers;
        st->in_size = (int64_t)ni;
        st->out_size = (int64_t)no;
        for (int k = 0; k < m->n_layers; k++)
            describe(m, k, &st->layer[k]);
    }
    void *ws = n > 0 ? malloc(be->workspace_size(mv, 256)) : NULL;
    float *tmp = n > 0 ? malloc(no * sizeof *tmp) : NULL;
    if (n > 0 && (!ws || !tmp))
        rc = seterr(err, NGT_ENOMEM, "out of memory");
    else if (n > 0 && st)
        rc = run_stats(m, ws, in, n, out, st, tmp);
    else if (n > 0) {
        const void *ip[1] = {in};
        void *op[1] = {out};
        float *all = out ? NULL : malloc((size_t)n * no * sizeof *all);
        if (!out && !all)
            rc = seterr(err, NGT_ENOMEM, "out of memory");
        else {
            op[0] = out ? (void *)out : (void *)all;
            rc = be->infer(mv, ws, ip, op, n, err);
        }
        free(all);
    }
    if (rc < 0 && err && !err->code)
        seterr(err, rc, "hls profile: the model failed on an event");
    free(ws);
    free(tmp);
    be->unload(mv);
    return rc;
}
