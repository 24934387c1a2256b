/* onnx_ops_conv.c: normalisation of Conv, MaxPool and AveragePool (1D and 2D): defaults filled,
 * auto_pad resolved into explicit pads, ceil_mode resolved into the output shape. */
#include "onnx/onnx_priv.h"

#include <string.h>

typedef struct win {
    int sp; /* spatial axes: 1 or 2 */
    int64_t k[2], s[2], d[2], pads[4], out[2];
} win;

/* ints attribute name into v (sp entries), def when absent; -1 on a bad length or value. */
static int ints_or(const onnx_node *n, const char *name, int count, int64_t def, int64_t *v)
{
    const int64_t *p;
    int c = onnx_attr_ints(n, name, &p);
    for (int i = 0; i < count; i++) {
        v[i] = c < 0 ? def : (c == count ? p[i] : -1);
        if (v[i] < 0 || (v[i] == 0 && def != 0))
            return -1;
    }
    return 0;
}

/* Reads kernel/strides/dilations/pads/auto_pad/ceil_mode and computes the output size. */
static int window(onnx_node *n, const onnx_tensor *x, const int64_t *kdef, int ceil, win *w,
                  ngt_error *err)
{
    w->sp = x->rank - 2;
    if (w->sp < 1 || w->sp > 2)
        return onnx_node_err(err, NGT_EUNSUPPORTED, n,
                             "only 1D and 2D inputs (rank 3 or 4), not rank %d", x->rank);
    const onnx_attr *ka = onnx_attr_find(n, "kernel_shape");
    if (kdef && !ka)
        memcpy(w->k, kdef, sizeof(int64_t) * (size_t)w->sp); /* Conv: from the weights */
    else if (!ka || ints_or(n, "kernel_shape", w->sp, 1, w->k) ||
             (kdef && memcmp(w->k, kdef, sizeof(int64_t) * (size_t)w->sp) != 0))
        return onnx_node_err(err, NGT_EFORMAT, n, "bad or missing kernel_shape");
    if (ints_or(n, "strides", w->sp, 1, w->s) || ints_or(n, "dilations", w->sp, 1, w->d) ||
        ints_or(n, "pads", 2 * w->sp, 0, w->pads))
        return onnx_node_err(err, NGT_EFORMAT, n, "bad strides, dilations or pads");
    const onnx_attr *ap = onnx_attr_find(n, "auto_pad");
    const char *mode = ap && ap->type == ONNX_A_STRING ? ap->s : "NOTSET";
    int same = strncmp(mode, "SAME_", 5) == 0, valid = strcmp(mode, "VALID") == 0;
    if (!same && !valid && strcmp(mode, "NOTSET") != 0)
        return onnx_node_err(err, NGT_EFORMAT, n, "unknown auto_pad '%s'", mode);
    for (int i = 0; i < w->sp; i++) {
        int64_t in = x->shape[2 + i], ext = (w->k[i] - 1) * w->d[i] + 1;
        if (same) {
            w->out[i] = (in + w->s[i] - 1) / w->s[i];
            int64_t total = (w->out[i] - 1) * w->s[i] + ext - in;
            total = total > 0 ? total : 0;
            int upper = strcmp(mode, "SAME_UPPER") == 0;
            w->pads[i] = upper ? total / 2 : total - total / 2;
            w->pads[w->sp + i] = total - w->pads[i];
            continue;
        }
        if (valid)
            w->pads[i] = w->pads[w->sp + i] = 0;
        int64_t span = in + w->pads[i] + w->pads[w->sp + i] - ext;
        if (span < 0)
            return onnx_node_err(err, NGT_EFORMAT, n, "kernel larger than the padded input");
        w->out[i] = (ceil ? (span + w->s[i] - 1) / w->s[i] : span / w->s[i]) + 1;
        /* ceil_mode: a window may not start in the end padding (as ONNX Runtime does) */
        if (ceil && (w->out[i] - 1) * w->s[i] >= in + w->pads[i])
            w->out[i]--;
    }
    onnx_attr_remove(n, "auto_pad");
    onnx_attr_remove(n, "ceil_mode");
    if (onnx_attr_set_ints(n, "kernel_shape", w->k, w->sp) ||
        onnx_attr_set_ints(n, "strides", w->s, w->sp) ||
        onnx_attr_set_ints(n, "dilations", w->d, w->sp) ||
        onnx_attr_set_ints(n, "pads", w->pads, 2 * w->sp))
        return seterr(err, NGT_ENOMEM, "out of memory");
    return NGT_OK;
}

int onnx_norm_conv(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0), *wt = onnx_in(g, n, 1), *b = onnx_in(g, n, 2);
    int64_t group = onnx_attr_int(n, "group", 1);
    if (onnx_tensor_batched(wt) || (b && onnx_tensor_batched(b)))
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "weights and bias must be constants");
    if (wt->rank != x->rank || x->rank < 3)
        return onnx_node_err(err, NGT_EFORMAT, n, "weight rank %d does not match input rank %d",
                             wt->rank, x->rank);
    if (group < 1 || x->shape[1] != wt->shape[1] * group || wt->shape[0] % group)
        return onnx_node_err(err, NGT_EFORMAT, n,
                             "channels do not agree: input %lld, weight %lldx%lld, group %lld",
                             (long long)x->shape[1], (long long)wt->shape[0],
                             (long long)wt->shape[1], (long long)group);
    if (b && (b->rank != 1 || b->shape[0] != wt->shape[0]))
        return onnx_node_err(err, NGT_EFORMAT, n, "bias must have %lld entries",
                             (long long)wt->shape[0]);
    win w;
    int rc = window(n, x, &wt->shape[2], 0, &w, err);
    if (rc)
        return rc;
    if (onnx_attr_set_int(n, "group", group))
        return seterr(err, NGT_ENOMEM, "out of memory");
    int64_t out[4] = {x->shape[0], wt->shape[0], w.out[0], w.out[1]};
    n->op = ONNX_OP_CONV;
    onnx_set_out(g, n, 0, x->dtype, x->rank, out);
    return NGT_OK;
}

int onnx_norm_pool(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0);
    int avg = strcmp(n->op_type, "AveragePool") == 0;
    if (n->n_out > 1 && n->out[1] >= 0)
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "the Indices output is not supported");
    win w;
    int rc = window(n, x, NULL, onnx_attr_int(n, "ceil_mode", 0) != 0, &w, err);
    if (rc)
        return rc;
    onnx_attr_remove(n, "storage_order");
    if (avg && onnx_attr_set_int(n, "count_include_pad", onnx_attr_int(n, "count_include_pad", 0)))
        return seterr(err, NGT_ENOMEM, "out of memory");
    int64_t out[4] = {x->shape[0], x->shape[1], w.out[0], w.out[1]};
    n->op = avg ? ONNX_OP_AVGPOOL : ONNX_OP_MAXPOOL;
    onnx_set_out(g, n, 0, x->dtype, x->rank, out);
    return NGT_OK;
}
