/* onnx_ir.c: the graph IR's storage: tensors, nodes, attributes, and the lookups backends use.
 * Everything a graph points to is owned by it and freed by onnx_graph_free. */
#include "onnx/onnx_priv.h"

#include <stdio.h>
#include <string.h>

static const char *const op_names[ONNX_OP_COUNT] = {
    "Gemm",    "MatMul",    "Add",         "Sub",
    "Mul",     "Div",       "Relu",        "LeakyRelu",
    "Elu",     "Sigmoid",   "Tanh",        "Softmax",
    "Conv",    "MaxPool",   "AveragePool", "BatchNormalization",
    "Reshape", "Transpose", "Concat",      "Slice",
    "Gather",  "Clip",      "Cast",        "Round",
    "Exp",     "Log",       "Sqrt",        "Identity"};

const char *onnx_op_name(onnx_op op)
{
    return (op >= 0 && op < ONNX_OP_COUNT) ? op_names[op] : "?";
}

char *onnx_strdup(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

static int grow(void **p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return 0;
    int c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * elem);
    if (!q)
        return -1;
    memset((char *)q + (size_t)*cap * elem, 0, (size_t)(c - *cap) * elem);
    *p = q;
    *cap = c;
    return 0;
}

int onnx_add_tensor(onnx_graph *g, const char *name, ngt_error *err)
{
    if (grow((void **)&g->tensors, &g->cap_tensors, g->n_tensors + 1, sizeof(onnx_tensor)))
        return seterr(err, NGT_ENOMEM, "out of memory for tensor '%s'", name);
    onnx_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = onnx_strdup(name);
    if (!t->name)
        return seterr(err, NGT_ENOMEM, "out of memory for tensor '%s'", name);
    t->kind = ONNX_T_VALUE;
    t->producer = -1;
    return g->n_tensors++;
}

int onnx_add_node(onnx_graph *g, ngt_error *err)
{
    if (grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(onnx_node)))
        return seterr(err, NGT_ENOMEM, "out of memory for node %d", g->n_nodes);
    memset(&g->nodes[g->n_nodes], 0, sizeof(onnx_node));
    return g->n_nodes++;
}

void onnx_tensor_clear(onnx_tensor *t)
{
    free(t->name);
    free(t->data);
    memset(t, 0, sizeof *t);
}

void onnx_attr_clear(onnx_attr *a)
{
    free(a->name);
    free(a->ints);
    free(a->floats);
    free(a->s);
    if (a->t) {
        onnx_tensor_clear(a->t);
        free(a->t);
    }
    memset(a, 0, sizeof *a);
}

void onnx_node_clear(onnx_node *n)
{
    for (int i = 0; i < n->n_attrs; i++)
        onnx_attr_clear(&n->attrs[i]);
    free(n->attrs);
    free(n->name);
    free(n->op_type);
    free(n->in);
    free(n->out);
    memset(n, 0, sizeof *n);
}

void onnx_graph_free(onnx_graph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_tensors; i++)
        onnx_tensor_clear(&g->tensors[i]);
    for (int i = 0; i < g->n_nodes; i++)
        onnx_node_clear(&g->nodes[i]);
    free(g->tensors);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    free(g);
}

/* The name in parentheses: not the analyzer-only macro of onnx_priv.h. */
int(onnx_node_err)(ngt_error *err, int code, const onnx_node *n, const char *fmt, ...)
{
    if (!err)
        return code;
    char msg[NGT_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return seterr(err, code, "node '%s' (%s): %s", n->name ? n->name : "?",
                  n->op_type ? n->op_type : "?", msg);
}

const onnx_attr *onnx_attr_find(const onnx_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

int64_t onnx_attr_int(const onnx_node *n, const char *name, int64_t def)
{
    const onnx_attr *a = onnx_attr_find(n, name);
    return (a && a->type == ONNX_A_INT) ? a->i : def;
}

float onnx_attr_float(const onnx_node *n, const char *name, float def)
{
    const onnx_attr *a = onnx_attr_find(n, name);
    return (a && a->type == ONNX_A_FLOAT) ? a->f : def;
}

int onnx_attr_ints(const onnx_node *n, const char *name, const int64_t **v)
{
    const onnx_attr *a = onnx_attr_find(n, name);
    if (!a || a->type != ONNX_A_INTS)
        return -1;
    *v = a->ints;
    return a->n;
}

void onnx_attr_remove(onnx_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++) {
        if (strcmp(n->attrs[i].name, name) == 0) {
            onnx_attr_clear(&n->attrs[i]);
            n->attrs[i] = n->attrs[n->n_attrs - 1];
            n->n_attrs--;
            return;
        }
    }
}

/* A fresh attribute slot called name (an older one of that name is removed), or NULL. */
static onnx_attr *attr_new(onnx_node *n, const char *name)
{
    onnx_attr_remove(n, name);
    onnx_attr *a = realloc(n->attrs, (size_t)(n->n_attrs + 1) * sizeof *a);
    if (!a)
        return NULL;
    n->attrs = a;
    a = &n->attrs[n->n_attrs];
    memset(a, 0, sizeof *a);
    a->name = onnx_strdup(name);
    if (!a->name)
        return NULL;
    n->n_attrs++;
    return a;
}

int onnx_attr_set_int(onnx_node *n, const char *name, int64_t v)
{
    onnx_attr *a = attr_new(n, name);
    if (!a)
        return NGT_ENOMEM;
    a->type = ONNX_A_INT;
    a->i = v;
    return NGT_OK;
}

int onnx_attr_set_float(onnx_node *n, const char *name, float v)
{
    onnx_attr *a = attr_new(n, name);
    if (!a)
        return NGT_ENOMEM;
    a->type = ONNX_A_FLOAT;
    a->f = v;
    return NGT_OK;
}

int onnx_attr_set_ints(onnx_node *n, const char *name, const int64_t *v, int count)
{
    int64_t *copy = malloc(sizeof *copy * (size_t)(count > 0 ? count : 1));
    if (!copy)
        return NGT_ENOMEM;
    if (count > 0)
        memcpy(copy, v, sizeof *copy * (size_t)count);
    onnx_attr *a = attr_new(n, name);
    if (!a) {
        free(copy);
        return NGT_ENOMEM;
    }
    a->type = ONNX_A_INTS;
    a->ints = copy;
    a->n = count;
    return NGT_OK;
}

int64_t onnx_tensor_elems(const onnx_tensor *t)
{
    int64_t e = 1;
    for (int d = onnx_tensor_batched(t) ? 1 : 0; d < t->rank; d++)
        e *= t->shape[d];
    return e;
}

int onnx_find_tensor(const onnx_graph *g, const char *name)
{
    for (int i = g->n_tensors - 1; i >= 0; i--)
        if (g->tensors[i].name && strcmp(g->tensors[i].name, name) == 0)
            return i;
    return -1;
}

int onnx_const_ints(const onnx_tensor *t, int64_t *out, int max)
{
    if (t->kind != ONNX_T_CONST || !t->data)
        return -1;
    int64_t n = onnx_tensor_elems(t);
    if (n > max)
        return -1;
    for (int64_t i = 0; i < n; i++) {
        if (t->dtype == NGT_I64)
            out[i] = ((const int64_t *)t->data)[i];
        else if (t->dtype == NGT_I32)
            out[i] = ((const int32_t *)t->data)[i];
        else
            return -1;
    }
    return (int)n;
}

int onnx_const_float(const onnx_tensor *t, float *out)
{
    if (t->kind != ONNX_T_CONST || !t->data || onnx_tensor_elems(t) != 1)
        return -1;
    switch (t->dtype) {
    case NGT_F32:
        *out = *(const float *)t->data;
        return NGT_OK;
    case NGT_F64:
        *out = (float)*(const double *)t->data;
        return NGT_OK;
    case NGT_I32:
        *out = (float)*(const int32_t *)t->data;
        return NGT_OK;
    case NGT_I64:
        *out = (float)*(const int64_t *)t->data;
        return NGT_OK;
    default:
        return -1;
    }
}
