/* ref_backend.c: the "ref" backend: loads the reader's IR, folds what does not depend on the
 * events, lays out one workspace tile and interprets the remaining nodes REF_TILE events at a time.
 */
#include "ref/ref.h"

#include <string.h>

/* A float into element i of an array of dtype t (onnx_elem_f reads one). */
static void put_f(void *p, ngt_dtype t, size_t i, float v)
{
    switch (t) {
    case NGT_F32:
        ((float *)p)[i] = v;
        break;
    case NGT_F64:
        ((double *)p)[i] = v;
        break;
    case NGT_I8:
        ((int8_t *)p)[i] = (int8_t)v;
        break;
    case NGT_I16:
        ((int16_t *)p)[i] = (int16_t)v;
        break;
    case NGT_I32:
        ((int32_t *)p)[i] = (int32_t)v;
        break;
    case NGT_I64:
        ((int64_t *)p)[i] = (int64_t)v;
        break;
    case NGT_U8:
    case NGT_BOOL:
        ((uint8_t *)p)[i] = (uint8_t)v;
        break;
    case NGT_U16:
        ((uint16_t *)p)[i] = (uint16_t)v;
        break;
    case NGT_U32:
        ((uint32_t *)p)[i] = (uint32_t)v;
        break;
    default:
        ((uint64_t *)p)[i] = (uint64_t)v;
        break;
    }
}

static void model_free(ref_model *m)
{
    if (!m)
        return;
    for (int t = 0; m->cdata && m->g && t < m->g->n_tensors; t++)
        free(m->cdata[t]);
    free(m->cdata);
    free(m->offset);
    free(m->run);
    onnx_graph_free(m->g);
    free(m);
}

/* Workspace: the tensor pointer table, then one REF_TILE buffer per per-event tensor. */
static void layout(ref_model *m)
{
    const onnx_graph *g = m->g;
    size_t off = pad64(sizeof(float *) * (size_t)g->n_tensors);
    for (int t = 0; t < g->n_tensors; t++) {
        if (!onnx_tensor_batched(&g->tensors[t]))
            continue;
        m->offset[t] = off;
        off += pad64(sizeof(float) * REF_TILE * (size_t)onnx_tensor_elems(&g->tensors[t]));
    }
    m->ws_bytes = off;
}

static int ref_load(const char *path, const char *options, void **model, ngt_error *err)
{
    (void)options;
    *model = NULL;
    ref_model *m = calloc(1, sizeof *m);
    if (!m)
        return seterr(err, NGT_ENOMEM, "out of memory");
    m->g = onnx_read_file(path, err);
    if (!m->g) {
        free(m);
        return err ? err->code : NGT_EFORMAT;
    }
    int nt = m->g->n_tensors, rc;
    m->cdata = calloc((size_t)nt + 1, sizeof *m->cdata);
    m->offset = calloc((size_t)nt + 1, sizeof *m->offset);
    m->run = calloc((size_t)m->g->n_nodes + 1, sizeof *m->run);
    if (!m->cdata || !m->offset || !m->run)
        rc = seterr(err, NGT_ENOMEM, "out of memory");
    else
        rc = ref_fold(m->g, m->cdata, m->run, &m->n_run, "ref", err);
    if (rc) {
        preferr(err, rc, "ref: %s", path);
        model_free(m);
        return rc;
    }
    layout(m);
    onnx_describe(m->g, 0, &m->desc); /* any n: infer() walks the tiles */
    *model = m;
    return NGT_OK;
}

static int ref_describe(const void *model, ngt_model_desc *desc)
{
    *desc = ((const ref_model *)model)->desc;
    return NGT_OK;
}

/* max_batch does not change the size: the workspace holds one tile of REF_TILE events and
 * infer() accepts any n (see ref.h). */
static size_t ref_workspace_size(const void *model, int max_batch)
{
    (void)max_batch;
    return ((const ref_model *)model)->ws_bytes;
}

/* Points every tensor at its data for a tile starting at event t0; converts non-f32 inputs. */
static void bind_tile(const ref_model *m, char *ws, const void *const *inputs, int t0, int tn)
{
    const onnx_graph *g = m->g;
    float **ptr = (float **)ws;
    for (int t = 0; t < g->n_tensors; t++)
        ptr[t] = m->cdata[t] ? m->cdata[t] : (float *)(void *)(ws + m->offset[t]);
    for (int i = 0; i < g->n_inputs; i++) {
        const onnx_tensor *x = &g->tensors[g->inputs[i]];
        size_t e = (size_t)onnx_tensor_elems(x), base = (size_t)t0 * e;
        if (x->dtype == NGT_F32) {
            ptr[g->inputs[i]] = (float *)inputs[i] + base; /* read only */
            continue;
        }
        for (size_t k = 0; k < (size_t)tn * e; k++)
            ptr[g->inputs[i]][k] = onnx_elem_f(inputs[i], x->dtype, base + k);
    }
}

static int ref_infer(const void *model, void *workspace, const void *const *inputs,
                     void *const *outputs, int n, ngt_error *err)
{
    const ref_model *m = model;
    const onnx_graph *g = m->g;
    if (n < 0)
        return seterr(err, NGT_EINVAL, "ref: negative event count %d", n);
    for (int t0 = 0; t0 < n; t0 += REF_TILE) {
        int tn = n - t0 < REF_TILE ? n - t0 : REF_TILE;
        bind_tile(m, workspace, inputs, t0, tn);
        ref_ctx c = {.m = m, .ptr = (float *const *)workspace, .n = tn};
        for (int i = 0; i < m->n_run; i++) {
            const onnx_node *nd = &g->nodes[m->run[i]];
            int rc = ref_kernel_for(nd->op)(&c, nd, err);
            if (rc)
                return rc;
        }
        for (int i = 0; i < g->n_outputs; i++) {
            const onnx_tensor *y = &g->tensors[g->outputs[i]];
            size_t e = (size_t)onnx_tensor_elems(y), base = (size_t)t0 * e;
            const float *src = c.ptr[g->outputs[i]];
            for (size_t k = 0; k < (size_t)tn * e; k++)
                put_f(outputs[i], y->dtype, base + k, src[k]);
        }
    }
    return NGT_OK;
}

static void ref_unload(void *model)
{
    model_free(model);
}

static const ngt_backend REF_BACKEND = {
    .name = "ref",
    .load = ref_load,
    .describe = ref_describe,
    .workspace_size = ref_workspace_size,
    .infer = ref_infer,
    .unload = ref_unload,
};

const ngt_backend *ref_backend(void)
{
    return &REF_BACKEND;
}
