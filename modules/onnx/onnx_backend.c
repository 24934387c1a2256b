/* onnx_backend.c: what every backend over the IR does alike: constants read as float, nodes that
 * run per event told apart from those folded once, and the model described from the graph. */
#include "onnx/onnx_ir.h"
#include "internal.h"

#include <string.h>

float onnx_elem_f(const void *data, ngt_dtype t, size_t i)
{
    switch (t) {
    case NGT_F32:
        return ((const float *)data)[i];
    case NGT_F64:
        return (float)((const double *)data)[i];
    case NGT_I8:
        return ((const int8_t *)data)[i];
    case NGT_I16:
        return ((const int16_t *)data)[i];
    case NGT_I32:
        return (float)((const int32_t *)data)[i];
    case NGT_I64:
        return (float)((const int64_t *)data)[i];
    case NGT_U8:
    case NGT_BOOL:
        return ((const uint8_t *)data)[i];
    case NGT_U16:
        return ((const uint16_t *)data)[i];
    case NGT_U32:
        return (float)((const uint32_t *)data)[i];
    default:
        return (float)((const uint64_t *)data)[i];
    }
}

int onnx_node_batched(const onnx_graph *g, const onnx_node *nd)
{
    for (int k = 0; k < nd->n_in; k++)
        if (nd->in[k] >= 0 && onnx_tensor_batched(&g->tensors[nd->in[k]]))
            return 1;
    return 0;
}

static void describe_one(const onnx_tensor *t, ngt_tensor_desc *d)
{
    memset(d, 0, sizeof *d);
    str_copy(d->name, t->name, sizeof d->name);
    d->dtype = t->dtype;
    d->rank = t->rank - 1;
    for (int k = 1; k < t->rank; k++)
        d->shape[k - 1] = t->shape[k];
}

void onnx_describe(const onnx_graph *g, int max_batch, ngt_model_desc *desc)
{
    desc->n_inputs = g->n_inputs;
    desc->n_outputs = g->n_outputs;
    for (int i = 0; i < g->n_inputs; i++)
        describe_one(&g->tensors[g->inputs[i]], &desc->inputs[i]);
    for (int i = 0; i < g->n_outputs; i++)
        describe_one(&g->tensors[g->outputs[i]], &desc->outputs[i]);
    desc->max_batch = max_batch;
    desc->batch_invariant = 1;
}
