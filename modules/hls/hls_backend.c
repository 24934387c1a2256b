/* hls_backend.c: the "hls" backend: an ONNX model plus a precision configuration (options: JSON
 * text, or a .json/.lua file) computed event by event bit-exact with hls4ml's C simulation. */
#include "hls/hls_model.h"

#include <stdlib.h>
#include <string.h>

static int layout(hls_model *m, ngt_error *err)
{
    m->offset = malloc(sizeof *m->offset * (size_t)m->n_layers);
    if (!m->offset)
        return seterr(err, NGT_ENOMEM, "out of memory");
    size_t off = 0, maxops = 1, maxout = 1;
    for (int k = 0; k < m->n_layers; k++) {
        const hls_layer *l = &m->layers[k];
        m->offset[k] = off;
        off += (size_t)l->size;
        if ((size_t)l->n_ops > maxops)
            maxops = (size_t)l->n_ops;
        if ((size_t)l->n_out > maxout)
            maxout = (size_t)l->n_out;
        if (l->kind == HLS_L_SOFTMAX && (size_t)l->size > maxops)
            maxops = (size_t)l->size; /* exp values */
        if (hls_fast_scratch(l) > maxops)
            maxops = hls_fast_scratch(l); /* the fast path's doubles */
    }
    m->ev_words = off;
    m->ws_scratch = maxops + maxout; /* im2col words; the int16 and int32 areas follow */
    return NGT_OK;
}

/* int64 words of the int16 copy of the inputs (+8 pad), so that the int32 sums after it start
 * 8-byte aligned. */
size_t hls_ws_x16_words(const hls_model *m)
{
    return (m->ws_scratch + 8 + 3) / 4;
}

size_t hls_ws_words(const hls_model *m)
{
    /* event values + im2col + int16 copy + int32 sums, in int64 words */
    return m->ev_words + m->ws_scratch + hls_ws_x16_words(m) + (m->ws_scratch + 1) / 2;
}

/* NgtOutput: "f32" (default) or "f64"; 1 for f64, 0 for f32, an error code otherwise. */
static int output_dtype(const hls_cfg *cfg, ngt_error *err)
{
    const hls_cfg *o = hls_cfg_get(cfg, "NgtOutput");
    const char *s = hls_cfg_str(o);
    if (!o || (s && strcmp(s, "f32") == 0))
        return 0;
    if (s && strcmp(s, "f64") == 0)
        return 1;
    return seterr(err, NGT_EFORMAT,
                  "precision configuration: NgtOutput must be \"f32\" or \"f64\"%s%s%s",
                  s ? ", not '" : "", s ? s : "", s ? "'" : "");
}

/* Every LayerName entry names a layer of the model (hls4ml ignores the others: a misspelt name
 * would silently leave the layer at the defaults). */
static int known_layers(const hls_model *m, const hls_cfg *cfg, ngt_error *err)
{
    const hls_cfg *names = hls_cfg_get(cfg, "LayerName");
    for (int k = 0; names && k < names->n; k++) {
        int found = 0;
        for (int j = 0; j < m->n_layers && !found; j++)
            found = strcmp(m->layers[j].name, names->keys[k]) == 0;
        if (!found)
            return seterr(err, NGT_EFORMAT,
                          "precision configuration: LayerName '%s': the model has no such "
                          "layer (layers are named after the ONNX nodes, the input after the "
                          "graph input)",
                          names->keys[k]);
    }
    return NGT_OK;
}

static int hls_load(const char *path, const char *options, void **out, ngt_error *err)
{
    hls_cfg *cfg = options && *options ? hls_cfg_load(options, err) : hls_cfg_parse("{}", err);
    if (!cfg)
        return err ? (err->code ? err->code : NGT_EFORMAT) : NGT_EFORMAT;
    int f64 = hls_cfg_check(cfg, err);
    if (f64 >= 0)
        f64 = output_dtype(cfg, err);
    if (f64 < 0) {
        hls_cfg_free(cfg);
        return f64;
    }
    hls_model *m = calloc(1, sizeof *m);
    int rc = NGT_ENOMEM;
    if (!m) {
        hls_cfg_free(cfg);
        return seterr(err, NGT_ENOMEM, "out of memory");
    }
    m->g = onnx_read_file(path, err);
    if (!m->g)
        rc = err && err->code < 0 ? err->code : NGT_EFORMAT;
    else if ((rc = hls_build(m, cfg, err)) >= 0 && (rc = known_layers(m, cfg, err)) >= 0 &&
             (rc = layout(m, err)) >= 0 && (rc = hls_tile_prepare(m)) < 0)
        seterr(err, rc, "out of memory");
    hls_cfg_free(cfg);
    if (rc < 0) {
        hls_model_free(m);
        return rc;
    }
    ngt_model_desc *d = &m->desc;
    d->n_inputs = d->n_outputs = 1;
    const onnx_tensor *it = &m->g->tensors[m->g->inputs[0]];
    const onnx_tensor *ot = &m->g->tensors[m->g->outputs[0]];
    str_copy(d->inputs[0].name, it->name, NGT_NAME_MAX);
    str_copy(d->outputs[0].name, ot->name, NGT_NAME_MAX);
    m->out_f64 = f64;
    d->inputs[0].dtype = NGT_F32;
    d->outputs[0].dtype = f64 ? NGT_F64 : NGT_F32;
    d->inputs[0].rank = m->in_rank;
    d->outputs[0].rank = m->out_rank;
    for (int k = 0; k < m->in_rank; k++)
        d->inputs[0].shape[k] = m->in_shape[k];
    for (int k = 0; k < m->out_rank; k++)
        d->outputs[0].shape[k] = m->out_shape[k];
    d->batch_invariant = 1;
    *out = m;
    return NGT_OK;
}

static int hls_describe(const void *model, ngt_model_desc *desc)
{
    *desc = ((const hls_model *)model)->desc;
    return NGT_OK;
}

static size_t hls_workspace_size(const void *model, int max_batch)
{
    (void)max_batch; /* the tiled path goes through any batch a chunk at a time */
    return hls_ws_words(model) * sizeof(int64_t) + hls_tile_bytes(model);
}

/* float64 outputs off the tiled path: each event through hls_event, its output layer's raw
 * values converted exactly. */
static int infer_f64(const hls_model *m, int64_t *ws, const float *in, double *out, int n,
                     ngt_error *err)
{
    const hls_layer *o = &m->layers[m->out_layer];
    size_t ni = (size_t)m->layers[0].size, no = (size_t)o->size;
    int hw = o->w ? o->h * o->w : 1, c = o->w ? o->c : (int)o->size;
    for (int e = 0; e < n; e++) {
        int rc = hls_event(m, ws, in + (size_t)e * ni, NULL, NULL);
        if (rc < 0)
            return seterr(err, rc, "hls: event %d failed", e);
        const int64_t *y = ws + m->offset[m->out_layer];
        double *oe = out + (size_t)e * no;
        for (int ch = 0; ch < c; ch++) /* channels last -> the ONNX layout */
            for (int p = 0; p < hw; p++)
                oe[(size_t)ch * hw + p] = hls_to_double(y[(size_t)p * c + ch], &o->res);
    }
    return NGT_OK;
}

static int hls_infer(const void *model, void *workspace, const void *const *inputs,
                     void *const *outputs, int n, ngt_error *err)
{
    const hls_model *m = model;
    const float *in = inputs[0];
    float *out = outputs[0];
    if (m->tiled) /* float32 or float64 outputs */
        return hls_tile_infer(m, workspace, in, outputs[0], n);
    if (m->out_f64)
        return infer_f64(m, workspace, in, outputs[0], n, err);
    size_t ni = (size_t)m->layers[0].size, no = (size_t)m->layers[m->out_layer].size;
    for (int e = 0; e < n; e++) {
        int rc = hls_event(m, workspace, in + (size_t)e * ni, out + (size_t)e * no, NULL);
        if (rc < 0)
            return seterr(err, rc, "hls: event %d failed", e);
    }
    return NGT_OK;
}

static void hls_unload(void *model)
{
    hls_model_free(model);
}

static const ngt_backend HLS_BACKEND = {
    .name = "hls",
    .load = hls_load,
    .describe = hls_describe,
    .workspace_size = hls_workspace_size,
    .infer = hls_infer,
    .unload = hls_unload,
};

const ngt_backend *hls_backend(void)
{
    return &HLS_BACKEND;
}

/* For tests and tools: the model behind a loaded handle and its per-event output raw values. */
const int64_t *hls_output_raw(const void *model, const void *workspace)
{
    const hls_model *m = model;
    return (const int64_t *)workspace + m->offset[m->out_layer];
}
