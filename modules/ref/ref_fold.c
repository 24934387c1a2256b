/* ref_fold.c: the kernel of each operator, and constant folding: constants to float, every node
 * over constants computed once by its kernel (the ref backend and the genc compiler alike). */
#include "ref/ref.h"

ref_kernel ref_kernel_for(onnx_op op)
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

int ref_fold(onnx_graph *g, float **cdata, int *run, int *n_run, const char *who, ngt_error *err)
{
    for (int t = 0; t < g->n_tensors; t++) {
        onnx_tensor *x = &g->tensors[t];
        if (x->kind != ONNX_T_CONST)
            continue;
        size_t e = (size_t)onnx_tensor_elems(x);
        if (!(cdata[t] = malloc(sizeof(float) * (e ? e : 1))))
            return seterr(err, NGT_ENOMEM, "out of memory for constant '%s'", x->name);
        for (size_t i = 0; i < e; i++)
            cdata[t][i] = onnx_elem_f(x->data, x->dtype, i);
    }
    ref_model rm = {.g = g, .cdata = cdata};
    for (int i = 0; i < g->n_nodes; i++) {
        const onnx_node *nd = &g->nodes[i];
        ref_kernel k = ref_kernel_for(nd->op);
        if (!k)
            return seterr(err, NGT_EUNSUPPORTED, "node '%s' (%s): not supported by %s", nd->name,
                          nd->op_type, who);
        if (onnx_node_batched(g, nd)) {
            if (run)
                run[(*n_run)++] = i;
            continue;
        }
        size_t e = (size_t)onnx_tensor_elems(&g->tensors[nd->out[0]]);
        if (!(cdata[nd->out[0]] = malloc(sizeof(float) * (e ? e : 1))))
            return seterr(err, NGT_ENOMEM, "out of memory folding node '%s'", nd->name);
        ref_ctx c = {.m = &rm, .ptr = cdata, .n = 1};
        int rc = k(&c, nd, err);
        if (rc)
            return rc;
    }
    return NGT_OK;
}
