/* mb.c: the test model builder: protobuf-c messages filled field by field, then packed.
 * Fixed capacities (64 of each repeated field) keep it simple; tests stay far below them. */
#include "mb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CAP = 64 };

struct mb {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opsets[1];
    void **allocs;
    size_t n_allocs, cap_allocs;
};

static void *alloc(mb *b, size_t size)
{
    if (b->n_allocs == b->cap_allocs) {
        b->cap_allocs = b->cap_allocs ? b->cap_allocs * 2 : 256;
        b->allocs = realloc(b->allocs, b->cap_allocs * sizeof *b->allocs);
    }
    void *p = calloc(1, size);
    b->allocs[b->n_allocs++] = p;
    return p;
}

static char *str(mb *b, const char *s)
{
    char *d = alloc(b, strlen(s) + 1);
    strcpy(d, s);
    return d;
}

mb *mb_new(int opset)
{
    mb *b = calloc(1, sizeof *b);
    onnx__model_proto__init(&b->model);
    onnx__graph_proto__init(&b->graph);
    onnx__operator_set_id_proto__init(&b->opset);
    b->opset.domain = str(b, "");
    b->opset.has_version = 1;
    b->opset.version = opset;
    b->opsets[0] = &b->opset;
    b->model.has_ir_version = 1;
    b->model.ir_version = 8;
    b->model.n_opset_import = 1;
    b->model.opset_import = b->opsets;
    b->model.graph = &b->graph;
    b->graph.name = str(b, "test");
    b->graph.node = alloc(b, CAP * sizeof(void *));
    b->graph.initializer = alloc(b, CAP * sizeof(void *));
    b->graph.input = alloc(b, CAP * sizeof(void *));
    b->graph.output = alloc(b, CAP * sizeof(void *));
    return b;
}

void mb_free(mb *b)
{
    for (size_t i = 0; i < b->n_allocs; i++)
        free(b->allocs[i]);
    free(b->allocs);
    free(b);
}

static Onnx__ValueInfoProto *value_info(mb *b, const char *name, int elem_type, int rank,
                                        const int64_t *dims)
{
    Onnx__ValueInfoProto *v = alloc(b, sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = str(b, name);
    if (rank < 0)
        return v;
    Onnx__TypeProto *t = alloc(b, sizeof *t);
    Onnx__TypeProto__Tensor *tt = alloc(b, sizeof *tt);
    Onnx__TensorShapeProto *s = alloc(b, sizeof *s);
    onnx__type_proto__init(t);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(s);
    v->type = t;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = elem_type;
    tt->shape = s;
    s->n_dim = (size_t)rank;
    s->dim = alloc(b, sizeof(void *) * (size_t)(rank + 1));
    for (int d = 0; d < rank; d++) {
        Onnx__TensorShapeProto__Dimension *dim = alloc(b, sizeof *dim);
        onnx__tensor_shape_proto__dimension__init(dim);
        if (d == 0) {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dim->dim_param = str(b, "N");
        } else {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dim->dim_value = dims[d];
        }
        s->dim[d] = dim;
    }
    return v;
}

void mb_input(mb *b, const char *name, int elem_type, int rank, const int64_t *dims)
{
    b->graph.input[b->graph.n_input++] = value_info(b, name, elem_type, rank, dims);
}

void mb_output(mb *b, const char *name)
{
    b->graph.output[b->graph.n_output++] = value_info(b, name, 0, -1, NULL);
}

void mb_output_typed(mb *b, const char *name, int elem_type, int rank, const int64_t *dims)
{
    b->graph.output[b->graph.n_output++] = value_info(b, name, elem_type, rank, dims);
}

static Onnx__TensorProto *tensor(mb *b, const char *name, int type, int rank, const int64_t *dims,
                                 const void *data, size_t esize)
{
    Onnx__TensorProto *t = alloc(b, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = str(b, name);
    t->has_data_type = 1;
    t->data_type = type;
    t->n_dims = (size_t)rank;
    t->dims = alloc(b, sizeof(int64_t) * (size_t)(rank + 1));
    size_t n = 1;
    for (int d = 0; d < rank; d++) {
        t->dims[d] = dims[d];
        n *= (size_t)dims[d];
    }
    t->has_raw_data = 1;
    t->raw_data.len = n * esize;
    t->raw_data.data = alloc(b, n * esize + 1);
    memcpy(t->raw_data.data, data, n * esize);
    return t;
}

void mb_init_f(mb *b, const char *name, int rank, const int64_t *dims, const float *data)
{
    b->graph.initializer[b->graph.n_initializer++] = tensor(b, name, MB_F32, rank, dims, data, 4);
}

void mb_init_i(mb *b, const char *name, int rank, const int64_t *dims, const int64_t *data)
{
    b->graph.initializer[b->graph.n_initializer++] = tensor(b, name, MB_I64, rank, dims, data, 8);
}

/* Splits "a,b,,c" into names (empty ones kept). */
static size_t split(mb *b, const char *list, char ***out)
{
    *out = alloc(b, sizeof(char *) * CAP);
    if (!*list)
        return 0;
    size_t n = 0;
    const char *p = list;
    for (;;) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        char *s = alloc(b, len + 1);
        memcpy(s, p, len);
        (*out)[n++] = s;
        if (!q)
            return n;
        p = q + 1;
    }
}

Onnx__NodeProto *mb_node(mb *b, const char *op, const char *name, const char *ins, const char *outs)
{
    Onnx__NodeProto *n = alloc(b, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = str(b, op);
    n->name = str(b, name);
    n->n_input = split(b, ins, &n->input);
    n->n_output = split(b, outs, &n->output);
    n->attribute = alloc(b, sizeof(void *) * CAP);
    b->graph.node[b->graph.n_node++] = n;
    return n;
}

static Onnx__AttributeProto *attr(mb *b, Onnx__NodeProto *n, const char *name, int type)
{
    Onnx__AttributeProto *a = alloc(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = str(b, name);
    a->has_type = 1;
    a->type = type;
    n->attribute[n->n_attribute++] = a;
    return a;
}

void mb_attr_i(mb *b, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void mb_attr_f(mb *b, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void mb_attr_ints(mb *b, Onnx__NodeProto *n, const char *name, int count, const int64_t *v)
{
    Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)count;
    a->ints = alloc(b, sizeof(int64_t) * (size_t)(count + 1));
    memcpy(a->ints, v, sizeof(int64_t) * (size_t)count);
}

void mb_attr_s(mb *b, Onnx__NodeProto *n, const char *name, const char *s)
{
    Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(s);
    a->s.data = (uint8_t *)str(b, s);
}

void mb_attr_t(mb *b, Onnx__NodeProto *n, const char *name, int rank, const int64_t *dims,
               const float *data)
{
    Onnx__AttributeProto *a = attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = tensor(b, name, MB_F32, rank, dims, data, 4);
}

Onnx__GraphProto *mb_graph(mb *b)
{
    return &b->graph;
}

uint8_t *mb_pack(mb *b, size_t *len)
{
    *len = onnx__model_proto__get_packed_size(&b->model);
    uint8_t *buf = malloc(*len + 1);
    onnx__model_proto__pack(&b->model, buf);
    return buf;
}

onnx_graph *mb_read(mb *b, ngt_error *err)
{
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    onnx_graph *g = onnx_read_buffer(buf, len, err);
    free(buf);
    return g;
}

int mb_write(mb *b, const char *path)
{
    size_t len;
    uint8_t *buf = mb_pack(b, &len);
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(buf, 1, len, f) == len ? 0 : -1;
    if (f)
        fclose(f);
    free(buf);
    return rc;
}
