/* onnx_ops.c: per-operator normalisation and shape inference, dispatched by operator name.
 * Elementwise, Gemm/MatMul, Softmax, BatchNorm, Clip, Cast, Constant; shapes and convs elsewhere.
 */
#include "onnx/onnx_priv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

onnx_tensor *onnx_in(onnx_graph *g, const onnx_node *n, int k)
{
    return (k < n->n_in && n->in[k] >= 0) ? &g->tensors[n->in[k]] : NULL;
}

void onnx_set_out(onnx_graph *g, const onnx_node *n, int k, ngt_dtype dt, int rank,
                  const int64_t *shape)
{
    onnx_tensor *t = &g->tensors[n->out[k]];
    t->dtype = dt;
    t->rank = rank;
    for (int d = 0; d < rank; d++)
        t->shape[d] = shape[d];
}

const char *onnx_shape_str(const onnx_tensor *t, char *buf, size_t size)
{
    size_t k = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < t->rank && k < size; d++) {
        if (t->shape[d] == ONNX_BATCH)
            k += (size_t)snprintf(buf + k, size - k, "%sN", d ? "," : "");
        else
            k +=
                (size_t)snprintf(buf + k, size - k, "%s%lld", d ? "," : "", (long long)t->shape[d]);
    }
    if (k < size)
        snprintf(buf + k, size - k, "]");
    return buf;
}

static int copy_shape(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    (void)err;
    const onnx_tensor *x = onnx_in(g, n, 0);
    onnx_set_out(g, n, 0, x->dtype, x->rank, x->shape);
    return NGT_OK;
}

static int norm_unary(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const char *t = n->op_type;
    static const struct {
        const char *name;
        onnx_op op;
    } map[] = {{"Relu", ONNX_OP_RELU},   {"Sigmoid", ONNX_OP_SIGMOID},  {"Tanh", ONNX_OP_TANH},
               {"Exp", ONNX_OP_EXP},     {"Log", ONNX_OP_LOG},          {"Sqrt", ONNX_OP_SQRT},
               {"Round", ONNX_OP_ROUND}, {"Identity", ONNX_OP_IDENTITY}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(t, map[i].name) == 0)
            n->op = map[i].op;
    return copy_shape(g, n, err);
}

static int norm_alpha(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    int leaky = strcmp(n->op_type, "LeakyRelu") == 0;
    n->op = leaky ? ONNX_OP_LEAKYRELU : ONNX_OP_ELU;
    if (onnx_attr_set_float(n, "alpha", onnx_attr_float(n, "alpha", leaky ? 0.01f : 1.0f)))
        return seterr(err, NGT_ENOMEM, "out of memory");
    return copy_shape(g, n, err);
}

static int norm_dropout(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *mode = onnx_in(g, n, 2);
    float m = 0;
    if (mode && (onnx_const_float(mode, &m) || m != 0))
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "training mode is not supported");
    if (n->n_out > 1 && n->out[1] >= 0)
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "the mask output is not supported");
    n->op = ONNX_OP_IDENTITY;
    n->n_in = 1;
    return copy_shape(g, n, err);
}

/* Broadcasts a and b (numpy rules) into shape; the events dimension may only meet itself or 1,
 * and a batched result must keep it first. Returns the rank or a negative code. */
static int broadcast(onnx_node *n, const onnx_tensor *a, const onnx_tensor *b, int64_t *shape,
                     ngt_error *err)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    char sa[96], sb[96];
    for (int d = 0; d < r; d++) {
        int da = d - (r - a->rank), db = d - (r - b->rank);
        int64_t x = da >= 0 ? a->shape[da] : 1, y = db >= 0 ? b->shape[db] : 1;
        if (x == y || y == 1)
            shape[d] = x;
        else if (x == 1)
            shape[d] = y;
        else
            return onnx_node_err(err, NGT_EFORMAT, n, "shapes %s and %s do not broadcast",
                                 onnx_shape_str(a, sa, sizeof sa),
                                 onnx_shape_str(b, sb, sizeof sb));
    }
    int batched = onnx_tensor_batched(a) || onnx_tensor_batched(b);
    if (batched && shape[0] != ONNX_BATCH)
        return onnx_node_err(err, NGT_EUNSUPPORTED, n,
                             "broadcasting %s with %s moves the events dimension",
                             onnx_shape_str(a, sa, sizeof sa), onnx_shape_str(b, sb, sizeof sb));
    return r;
}

static int norm_binary(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    static const char *const names[] = {"Add", "Sub", "Mul", "Div"};
    for (int i = 0; i < 4; i++)
        if (strcmp(n->op_type, names[i]) == 0)
            n->op = (onnx_op)(ONNX_OP_ADD + i);
    const onnx_tensor *a = onnx_in(g, n, 0), *b = onnx_in(g, n, 1);
    if (a->dtype != b->dtype)
        return onnx_node_err(err, NGT_EFORMAT, n, "input types differ (%s and %s)",
                             ngt_dtype_name(a->dtype), ngt_dtype_name(b->dtype));
    int64_t shape[ONNX_MAX_RANK];
    int r = broadcast(n, a, b, shape, err);
    if (r < 0)
        return r;
    onnx_set_out(g, n, 0, a->dtype, r, shape);
    return NGT_OK;
}

static int norm_gemm(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *a = onnx_in(g, n, 0), *b = onnx_in(g, n, 1), *c = onnx_in(g, n, 2);
    int ta = (int)onnx_attr_int(n, "transA", 0), tb = (int)onnx_attr_int(n, "transB", 0);
    if (a->rank != 2 || b->rank != 2)
        return onnx_node_err(err, NGT_EFORMAT, n, "A and B must be matrices (ranks %d and %d)",
                             a->rank, b->rank);
    if ((onnx_tensor_batched(a) && ta) || onnx_tensor_batched(b))
        return onnx_node_err(err, NGT_EUNSUPPORTED, n,
                             "the events must be the rows of A (B constant, transA = 0)");
    int64_t k = a->shape[ta ? 0 : 1], kb = b->shape[tb ? 1 : 0];
    int64_t shape[2] = {a->shape[ta ? 1 : 0], b->shape[tb ? 0 : 1]};
    if (k != kb)
        return onnx_node_err(err, NGT_EFORMAT, n, "inner dimensions differ (%lld and %lld)",
                             (long long)k, (long long)kb);
    if (c) {
        onnx_tensor y = {.rank = 2, .shape = {shape[0], shape[1]}};
        int64_t s[ONNX_MAX_RANK];
        int r = broadcast(n, &y, c, s, err);
        if (r < 0)
            return r;
        if (r != 2 || s[0] != shape[0] || s[1] != shape[1])
            return onnx_node_err(err, NGT_EFORMAT, n, "C does not broadcast to the output");
    }
    if (onnx_attr_set_float(n, "alpha", onnx_attr_float(n, "alpha", 1.0f)) ||
        onnx_attr_set_float(n, "beta", onnx_attr_float(n, "beta", 1.0f)) ||
        onnx_attr_set_int(n, "transA", ta) || onnx_attr_set_int(n, "transB", tb))
        return seterr(err, NGT_ENOMEM, "out of memory");
    n->op = ONNX_OP_GEMM;
    onnx_set_out(g, n, 0, a->dtype, 2, shape);
    return NGT_OK;
}

static int norm_matmul(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *a = onnx_in(g, n, 0), *b = onnx_in(g, n, 1);
    if ((onnx_tensor_batched(a) && a->rank < 2) || (onnx_tensor_batched(b) && b->rank < 3))
        return onnx_node_err(err, NGT_EUNSUPPORTED, n,
                             "the events would be a contracted dimension");
    if (a->rank < 1 || b->rank < 1)
        return onnx_node_err(err, NGT_EFORMAT, n, "inputs must have at least one dimension");
    /* Promote vectors to matrices, broadcast the stacks, then drop the promoted dimensions. */
    onnx_tensor sa = {.rank = a->rank > 2 ? a->rank - 2 : 0},
                sb = {.rank = b->rank > 2 ? b->rank - 2 : 0};
    memcpy(sa.shape, a->shape, sizeof(int64_t) * (size_t)sa.rank);
    memcpy(sb.shape, b->shape, sizeof(int64_t) * (size_t)sb.rank);
    int64_t m = a->rank >= 2 ? a->shape[a->rank - 2] : 1, k = a->shape[a->rank - 1];
    int64_t kb = b->rank >= 2 ? b->shape[b->rank - 2] : b->shape[0], nn = b->shape[b->rank - 1];
    if (k != kb)
        return onnx_node_err(err, NGT_EFORMAT, n, "inner dimensions differ (%lld and %lld)",
                             (long long)k, (long long)kb);
    int64_t shape[ONNX_MAX_RANK];
    int r = 0;
    if (sa.rank || sb.rank) {
        if ((r = broadcast(n, &sa, &sb, shape, err)) < 0)
            return r;
    }
    if (r + 2 > ONNX_MAX_RANK)
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "rank too large");
    if (a->rank >= 2)
        shape[r++] = m;
    if (b->rank >= 2)
        shape[r++] = nn;
    if (a->dtype != b->dtype)
        return onnx_node_err(err, NGT_EFORMAT, n, "input types differ");
    if ((onnx_tensor_batched(a) || onnx_tensor_batched(b)) && (r == 0 || shape[0] != ONNX_BATCH))
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "moves the events dimension");
    n->op = ONNX_OP_MATMUL;
    onnx_set_out(g, n, 0, a->dtype, r, shape);
    return NGT_OK;
}

static int norm_softmax(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0);
    int64_t axis = onnx_attr_int(n, "axis", g->opset < 13 ? 1 : -1);
    if (axis < 0)
        axis += x->rank;
    if (axis < 0 || axis >= x->rank)
        return onnx_node_err(err, NGT_EFORMAT, n, "axis %lld out of range for rank %d",
                             (long long)onnx_attr_int(n, "axis", 0), x->rank);
    if (axis == 0 && onnx_tensor_batched(x))
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "normalises over the events dimension");
    /* Before opset 13 Softmax flattens the input to 2D at axis: one softmax over axis..rank-1. */
    int64_t span = g->opset < 13 ? x->rank - axis : 1;
    if (onnx_attr_set_int(n, "axis", axis) || onnx_attr_set_int(n, "span", span))
        return seterr(err, NGT_ENOMEM, "out of memory");
    n->op = ONNX_OP_SOFTMAX;
    return copy_shape(g, n, err);
}

static int norm_batchnorm(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0);
    if (onnx_attr_int(n, "training_mode", 0) != 0 || (n->n_out > 1 && n->out[1] >= 0))
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "only inference mode is supported");
    if (x->rank < 2)
        return onnx_node_err(err, NGT_EFORMAT, n, "input needs at least 2 dimensions");
    for (int k = 1; k < 5; k++) {
        const onnx_tensor *p = onnx_in(g, n, k);
        if (onnx_tensor_batched(p) || p->rank != 1 || p->shape[0] != x->shape[1])
            return onnx_node_err(err, NGT_EFORMAT, n,
                                 "input %d ('%s') must be a constant of %lld channels", k, p->name,
                                 (long long)x->shape[1]);
    }
    if (onnx_attr_set_float(n, "epsilon", onnx_attr_float(n, "epsilon", 1e-5f)))
        return seterr(err, NGT_ENOMEM, "out of memory");
    onnx_attr_remove(n, "momentum");
    n->op = ONNX_OP_BATCHNORM;
    return copy_shape(g, n, err);
}

static int clip_bound(onnx_graph *g, onnx_node *n, int k, float *v, ngt_error *err)
{
    const onnx_tensor *t = onnx_in(g, n, k);
    if (t && onnx_const_float(t, v))
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "%s ('%s') must be a constant scalar",
                             k == 1 ? "min" : "max", t->name);
    return NGT_OK;
}

static int norm_clip(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    float lo = -INFINITY, hi = INFINITY;
    int rc = clip_bound(g, n, 1, &lo, err);
    if (!rc)
        rc = clip_bound(g, n, 2, &hi, err);
    if (rc)
        return rc;
    if (onnx_attr_set_float(n, "min", lo) || onnx_attr_set_float(n, "max", hi))
        return seterr(err, NGT_ENOMEM, "out of memory");
    n->op = ONNX_OP_CLIP;
    n->n_in = 1;
    return copy_shape(g, n, err);
}

static int norm_cast(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    const onnx_tensor *x = onnx_in(g, n, 0);
    ngt_dtype to;
    if (strcmp(n->op_type, "CastLike") == 0) {
        to = onnx_in(g, n, 1)->dtype;
    } else {
        const onnx_attr *a = onnx_attr_find(n, "to");
        if (!a || a->type != ONNX_A_INT)
            return onnx_node_err(err, NGT_EFORMAT, n, "attribute 'to' is missing");
        if (a->i < 0 || a->i > 1000 || onnx_dtype_from_proto((int32_t)a->i, &to))
            return onnx_node_err(err, NGT_EUNSUPPORTED, n, "cast to data type %lld",
                                 (long long)a->i);
    }
    if (onnx_attr_set_int(n, "to", to))
        return seterr(err, NGT_ENOMEM, "out of memory");
    n->op = ONNX_OP_CAST;
    n->n_in = 1;
    onnx_set_out(g, n, 0, to, x->rank, x->shape);
    return NGT_OK;
}

/* Constant: its output becomes a constant tensor; the node is dropped. */
static int norm_constant(onnx_graph *g, onnx_node *n, ngt_error *err)
{
    onnx_tensor *t = &g->tensors[n->out[0]];
    const onnx_attr *a = n->n_attrs == 1 ? &n->attrs[0] : NULL;
    if (a && strcmp(a->name, "value") == 0 && a->type == ONNX_A_TENSOR) {
        onnx_tensor *v = a->t;
        t->dtype = v->dtype;
        t->rank = v->rank;
        memcpy(t->shape, v->shape, sizeof t->shape);
        t->data = v->data;
        t->bytes = v->bytes;
        v->data = NULL;
    } else if (a && (strcmp(a->name, "value_float") == 0 || strcmp(a->name, "value_int") == 0 ||
                     strcmp(a->name, "value_floats") == 0 || strcmp(a->name, "value_ints") == 0)) {
        int is_f = a->type == ONNX_A_FLOAT || a->type == ONNX_A_FLOATS;
        int list = a->type == ONNX_A_INTS || a->type == ONNX_A_FLOATS;
        size_t cnt = list ? (size_t)a->n : 1;
        t->dtype = is_f ? NGT_F32 : NGT_I64;
        t->rank = list ? 1 : 0;
        t->shape[0] = (int64_t)cnt;
        t->bytes = cnt * (is_f ? 4 : 8);
        t->data = calloc(1, t->bytes + 8);
        if (!t->data)
            return seterr(err, NGT_ENOMEM, "out of memory");
        if (cnt)
            memcpy(t->data,
                   is_f ? (list ? (void *)a->floats : (void *)&a->f)
                        : (list ? (void *)a->ints : (void *)&a->i),
                   t->bytes);
    } else {
        return onnx_node_err(err, NGT_EUNSUPPORTED, n,
                             "needs exactly one of value, value_float(s), value_int(s)");
    }
    t->kind = ONNX_T_CONST;
    t->producer = -1;
    n->op = ONNX_OP_COUNT; /* dropped after reading */
    return NGT_OK;
}

typedef struct op_entry {
    const char *name;
    int min_in, max_in, max_out;
    onnx_norm_fn fn;
} op_entry;

static const op_entry ops[] = {
    {"Gemm", 2, 3, 1, norm_gemm},
    {"MatMul", 2, 2, 1, norm_matmul},
    {"Add", 2, 2, 1, norm_binary},
    {"Sub", 2, 2, 1, norm_binary},
    {"Mul", 2, 2, 1, norm_binary},
    {"Div", 2, 2, 1, norm_binary},
    {"Relu", 1, 1, 1, norm_unary},
    {"Sigmoid", 1, 1, 1, norm_unary},
    {"Tanh", 1, 1, 1, norm_unary},
    {"Exp", 1, 1, 1, norm_unary},
    {"Log", 1, 1, 1, norm_unary},
    {"Sqrt", 1, 1, 1, norm_unary},
    {"Round", 1, 1, 1, norm_unary},
    {"Identity", 1, 1, 1, norm_unary},
    {"Dropout", 1, 3, 2, norm_dropout},
    {"LeakyRelu", 1, 1, 1, norm_alpha},
    {"Elu", 1, 1, 1, norm_alpha},
    {"Softmax", 1, 1, 1, norm_softmax},
    {"Conv", 2, 3, 1, onnx_norm_conv},
    {"MaxPool", 1, 1, 2, onnx_norm_pool},
    {"AveragePool", 1, 1, 1, onnx_norm_pool},
    {"BatchNormalization", 5, 5, 5, norm_batchnorm},
    {"Flatten", 1, 1, 1, onnx_norm_flatten},
    {"Reshape", 2, 2, 1, onnx_norm_reshape},
    {"Squeeze", 1, 2, 1, onnx_norm_squeeze},
    {"Unsqueeze", 1, 2, 1, onnx_norm_unsqueeze},
    {"Transpose", 1, 1, 1, onnx_norm_transpose},
    {"Concat", 1, 1 << 20, 1, onnx_norm_concat},
    {"Slice", 3, 5, 1, onnx_norm_slice},
    {"Gather", 2, 2, 1, onnx_norm_gather},
    {"Clip", 1, 3, 1, norm_clip},
    {"Cast", 1, 1, 1, norm_cast},
    {"CastLike", 2, 2, 1, norm_cast},
    {"Constant", 0, 0, 1, norm_constant},
};

/* Checks the counts and presence of inputs (required ones non-empty, batched ones first). */
static int check_io(onnx_graph *g, onnx_node *n, const op_entry *e, ngt_error *err)
{
    if (n->n_in < e->min_in || n->n_in > e->max_in)
        return onnx_node_err(err, NGT_EFORMAT, n, "has %d inputs (expected %d to %d)", n->n_in,
                             e->min_in, e->max_in);
    if (n->n_out > e->max_out)
        return onnx_node_err(err, NGT_EFORMAT, n, "has %d outputs (expected at most %d)", n->n_out,
                             e->max_out);
    int opt_from = strcmp(e->name, "Concat") == 0 ? n->n_in : e->min_in;
    for (int k = 0; k < n->n_in; k++) {
        const onnx_tensor *t = onnx_in(g, n, k);
        if (!t && k < opt_from)
            return onnx_node_err(err, NGT_EFORMAT, n, "required input %d is empty", k);
        if (t && t->kind == ONNX_T_VALUE && t->producer < 0)
            return onnx_node_err(err, NGT_EFORMAT, n, "input '%s' has no value", t->name);
    }
    return NGT_OK;
}

int onnx_normalise(onnx_graph *g, int i, ngt_error *err)
{
    onnx_node *n = &g->nodes[i];
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        if (strcmp(ops[k].name, n->op_type) != 0)
            continue;
        int rc = check_io(g, n, &ops[k], err);
        if (!rc)
            rc = ops[k].fn(g, n, err);
        if (rc)
            return rc;
        for (int o = 0; o < n->n_out && n->op != ONNX_OP_COUNT; o++)
            if (n->out[o] >= 0 && g->tensors[n->out[o]].rank > ONNX_MAX_RANK)
                return onnx_node_err(err, NGT_EUNSUPPORTED, n, "output rank too large");
        return NGT_OK;
    }
    return onnx_node_err(err, NGT_EUNSUPPORTED, n, "operator '%s' is not supported", n->op_type);
}
