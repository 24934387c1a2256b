/* ref_backend.c: the "ref" backend: loads the reader's IR, folds what does not depend on the
 * events, lays out one workspace tile and interprets the remaining nodes REF_TILE events at a time.
 */
#include "ref/ref.h"

#include <string.h>

static ref_kernel kernel_for(onnx_op op)
{
    switch (op) {
    case ONNX_OP_GEMM:
        return ref_gemm;
    case ONNX_OP_MATMUL:
        return ref_matmul;
    case ONNX_OP_ADD:
    case ONNX_OP_SUB:
    case ONNX_OP_MUL:
    case ONNX_OP_DIV:
        return ref_binary;
    case ONNX_OP_SOFTMAX:
        return ref_softmax;
    case ONNX_OP_CONV:
        return ref_conv;
    case ONNX_OP_MAXPOOL:
    case ONNX_OP_AVGPOOL:
        return ref_pool;
    case ONNX_OP_BATCHNORM:
        return ref_batchnorm;
    case ONNX_OP_RESHAPE:
    case ONNX_OP_IDENTITY:
        return ref_copy;
    case ONNX_OP_TRANSPOSE:
        return ref_transpose;
    case ONNX_OP_CONCAT:
        return ref_concat;
    case ONNX_OP_SLICE:
        return ref_slice;
    case ONNX_OP_GATHER:
        return ref_gather;
    case ONNX_OP_RELU:
    case ONNX_OP_LEAKYRELU:
    case ONNX_OP_ELU:
    case ONNX_OP_SIGMOID:
    case ONNX_OP_TANH:
    case ONNX_OP_CLIP:
    case ONNX_OP_CAST:
    case ONNX_OP_ROUND:
    case ONNX_OP_EXP:
    case ONNX_OP_LOG:
    case ONNX_OP_SQRT:
        return ref_unary;
    default:
        return NULL;
    }
}

/* Element i of an array of dtype t as a float, and back. */
static float get_f(const void *p, ngt_dtype t, size_t i)
{
    switch (t) {
    case NGT_F32:
        return ((const float *)p)[i];
    case NGT_F64:
        return (float)((const double *)p)[i];
    case NGT_I8:
        return ((const int8_t *)p)[i];
    case NGT_I16:
        return ((const int16_t *)p)[i];
    case NGT_I32:
        return (float)((const int32_t *)p)[i];
    case NGT_I64:
        return (float)((const int64_t *)p)[i];
    case NGT_U8:
    case NGT_BOOL:
        return ((const uint8_t *)p)[i];
    case NGT_U16:
        return ((const uint16_t *)p)[i];
    case NGT_U32:
        return (float)((const uint32_t *)p)[i];
    default:
        return (float)((const uint64_t *)p)[i];
    }
}

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

static int node_batched(const onnx_graph *g, const onnx_node *nd)
{
    for (int k = 0; k < nd->n_in; k++)
        if (nd->in[k] >= 0 && onnx_tensor_batched(&g->tensors[nd->in[k]]))
            return 1;
    return 0;
}

/* Constants to float; nodes over constants computed once here (folded). */
static int fold(ref_model *m, ngt_error *err)
{
    onnx_graph *g = m->g;
    for (int t = 0; t < g->n_tensors; t++) {
        onnx_tensor *x = &g->tensors[t];
        if (x->kind != ONNX_T_CONST)
            continue;
        size_t e = (size_t)onnx_tensor_elems(x);
        if (!(m->cdata[t] = malloc(sizeof(float) * (e ? e : 1))))
            return ngt_seterr(err, NGT_ENOMEM, "out of memory for constant '%s'", x->name);
        for (size_t i = 0; i < e; i++)
            m->cdata[t][i] = get_f(x->data, x->dtype, i);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const onnx_node *nd = &g->nodes[i];
        if (!kernel_for(nd->op))
            return ngt_seterr(err, NGT_EUNSUPPORTED, "node '%s' (%s): not supported by ref",
                              nd->name, nd->op_type);
        if (node_batched(g, nd)) {
            m->run[m->n_run++] = i;
            continue;
        }
        size_t e = (size_t)onnx_tensor_elems(&g->tensors[nd->out[0]]);
        if (!(m->cdata[nd->out[0]] = malloc(sizeof(float) * (e ? e : 1))))
            return ngt_seterr(err, NGT_ENOMEM, "out of memory folding node '%s'", nd->name);
        ref_ctx c = {.m = m, .ptr = m->cdata, .n = 1};
        int rc = kernel_for(nd->op)(&c, nd, err);
        if (rc)
            return rc;
    }
    return NGT_OK;
}

/* Workspace: the tensor pointer table, then one REF_TILE buffer per per-event tensor. */
static void layout(ref_model *m)
{
    const onnx_graph *g = m->g;
    size_t off = ngt_pad64(sizeof(float *) * (size_t)g->n_tensors);
    for (int t = 0; t < g->n_tensors; t++) {
        if (!onnx_tensor_batched(&g->tensors[t]))
            continue;
        m->offset[t] = off;
        off += ngt_pad64(sizeof(float) * REF_TILE * (size_t)onnx_tensor_elems(&g->tensors[t]));
    }
    m->ws_bytes = off;
}

static void describe_one(const onnx_tensor *t, ngt_tensor_desc *d)
{
    memset(d, 0, sizeof *d);
    ngt_strlcpy(d->name, t->name, sizeof d->name);
    d->dtype = t->dtype;
    d->rank = t->rank - 1;
    for (int k = 1; k < t->rank; k++)
        d->shape[k - 1] = t->shape[k];
}

static void fill_desc(ref_model *m)
{
    const onnx_graph *g = m->g;
    m->desc.n_inputs = g->n_inputs;
    m->desc.n_outputs = g->n_outputs;
    for (int i = 0; i < g->n_inputs; i++)
        describe_one(&g->tensors[g->inputs[i]], &m->desc.inputs[i]);
    for (int i = 0; i < g->n_outputs; i++)
        describe_one(&g->tensors[g->outputs[i]], &m->desc.outputs[i]);
    m->desc.max_batch = 0; /* any n: the workspace holds one tile, infer() walks the tiles */
    m->desc.batch_invariant = 1;
}

static int ref_load(const char *path, const char *options, void **model, ngt_error *err)
{
    (void)options;
    *model = NULL;
    ref_model *m = calloc(1, sizeof *m);
    if (!m)
        return ngt_seterr(err, NGT_ENOMEM, "out of memory");
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
        rc = ngt_seterr(err, NGT_ENOMEM, "out of memory");
    else
        rc = fold(m, err);
    if (rc) {
        ngt_preferr(err, rc, "ref: %s", path);
        model_free(m);
        return rc;
    }
    layout(m);
    fill_desc(m);
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
            ptr[g->inputs[i]][k] = get_f(inputs[i], x->dtype, base + k);
    }
}

static int ref_infer(const void *model, void *workspace, const void *const *inputs,
                     void *const *outputs, int n, ngt_error *err)
{
    const ref_model *m = model;
    const onnx_graph *g = m->g;
    if (n < 0)
        return ngt_seterr(err, NGT_EINVAL, "ref: negative event count %d", n);
    for (int t0 = 0; t0 < n; t0 += REF_TILE) {
        int tn = n - t0 < REF_TILE ? n - t0 : REF_TILE;
        bind_tile(m, workspace, inputs, t0, tn);
        ref_ctx c = {.m = m, .ptr = (float *const *)workspace, .n = tn};
        for (int i = 0; i < m->n_run; i++) {
            const onnx_node *nd = &g->nodes[m->run[i]];
            int rc = kernel_for(nd->op)(&c, nd, err);
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

static const ngt_backend ref_backend = {
    .name = "ref",
    .load = ref_load,
    .describe = ref_describe,
    .workspace_size = ref_workspace_size,
    .infer = ref_infer,
    .unload = ref_unload,
};

const ngt_backend *ngt_backend_ref(void)
{
    return &ref_backend;
}
