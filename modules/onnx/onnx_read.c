/* onnx_read.c: ONNX protobuf (protobuf-c bindings generated at build time) -> graph IR.
 * Checks everything it copies: opset, types, dimensions, data sizes, names; nodes go to onnx_ops.c.
 */
#include "onnx/onnx_priv.h"
#include "onnx.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { MAX_ELEMS = 1 << 28 }; /* largest constant the reader accepts, in elements */

static int dtype_from_proto(int32_t t, ngt_dtype *out)
{
    switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
        *out = NGT_F32;
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
        *out = NGT_F64;
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
        *out = NGT_I8;
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
        *out = NGT_I16;
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
        *out = NGT_I32;
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
        *out = NGT_I64;
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
        *out = NGT_U8;
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
        *out = NGT_U16;
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
        *out = NGT_U32;
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
        *out = NGT_U64;
        return 0;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
        *out = NGT_BOOL;
        return 0;
    default:
        return -1;
    }
}

/* Exposed to onnx_ops.c through a tiny wrapper (Cast's "to"). */
int onnx_dtype_from_proto(int32_t t, ngt_dtype *out)
{
    return dtype_from_proto(t, out);
}

/* Copies the typed repeated field matching dtype into dst (n elements); -1 when counts differ. */
static int copy_typed(void *dst, const Onnx__TensorProto *p, ngt_dtype dt, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case NGT_F32:
            if (p->n_float_data != n)
                return -1;
            ((float *)dst)[i] = p->float_data[i];
            break;
        case NGT_F64:
            if (p->n_double_data != n)
                return -1;
            ((double *)dst)[i] = p->double_data[i];
            break;
        case NGT_I64:
            if (p->n_int64_data != n)
                return -1;
            ((int64_t *)dst)[i] = p->int64_data[i];
            break;
        case NGT_U32:
        case NGT_U64:
            if (p->n_uint64_data != n)
                return -1;
            if (dt == NGT_U32)
                ((uint32_t *)dst)[i] = (uint32_t)p->uint64_data[i];
            else
                ((uint64_t *)dst)[i] = p->uint64_data[i];
            break;
        default: /* int32, int16, int8, uint16, uint8, bool travel in int32_data */
            if (p->n_int32_data != n)
                return -1;
            int32_t v = p->int32_data[i];
            if (dt == NGT_I32)
                ((int32_t *)dst)[i] = v;
            else if (dt == NGT_I16)
                ((int16_t *)dst)[i] = (int16_t)v;
            else if (dt == NGT_U16)
                ((uint16_t *)dst)[i] = (uint16_t)v;
            else if (dt == NGT_I8)
                ((int8_t *)dst)[i] = (int8_t)v;
            else
                ((uint8_t *)dst)[i] = (uint8_t)(dt == NGT_BOOL ? v != 0 : v);
        }
    }
    return 0;
}

/* Fills t (kind CONST) from a TensorProto: dtype, shape, data. what names it in messages. */
static int read_tensor(onnx_tensor *t, const Onnx__TensorProto *p, const char *what, ngt_error *err)
{
    if (!p->has_data_type || dtype_from_proto(p->data_type, &t->dtype))
        return seterr(err, NGT_EUNSUPPORTED, "%s: data type %d is not supported", what,
                      (int)p->data_type);
    if (p->n_dims > ONNX_MAX_RANK)
        return seterr(err, NGT_EUNSUPPORTED, "%s: %zu dimensions (at most %d)", what, p->n_dims,
                      ONNX_MAX_RANK);
    if (p->has_data_location && p->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return seterr(err, NGT_EUNSUPPORTED, "%s: external data is not supported", what);
    size_t n = 1;
    t->rank = (int)p->n_dims;
    for (size_t d = 0; d < p->n_dims; d++) {
        if (p->dims[d] < 0 || p->dims[d] > MAX_ELEMS || n * (size_t)p->dims[d] > MAX_ELEMS)
            return seterr(err, NGT_EFORMAT, "%s: bad dimension %zu (%lld)", what, d,
                          (long long)p->dims[d]);
        t->shape[d] = p->dims[d];
        n *= (size_t)p->dims[d];
    }
    size_t es = ngt_dtype_size(t->dtype);
    t->kind = ONNX_T_CONST;
    t->bytes = n * es;
    t->data = calloc(1, t->bytes ? t->bytes : 1);
    if (!t->data)
        return seterr(err, NGT_ENOMEM, "%s: out of memory (%zu bytes)", what, t->bytes);
    if (p->has_raw_data) {
        if (p->raw_data.len != t->bytes)
            return seterr(err, NGT_EFORMAT, "%s: raw data holds %zu bytes, its shape needs %zu",
                          what, p->raw_data.len, t->bytes);
        if (t->bytes)
            memcpy(t->data, p->raw_data.data, t->bytes);
        return NGT_OK;
    }
    if (copy_typed(t->data, p, t->dtype, n))
        return seterr(err, NGT_EFORMAT, "%s: data does not match its shape (%zu elements)", what,
                      n);
    return NGT_OK;
}

/* Exposed to onnx_ops.c: Constant's value tensor. */
int onnx_read_tensor_proto(onnx_tensor *t, const void *proto, const char *what, ngt_error *err)
{
    return read_tensor(t, proto, what, err);
}

static int read_initializers(onnx_graph *g, const Onnx__GraphProto *gp, ngt_error *err)
{
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *p = gp->initializer[i];
        if (!p->name || !*p->name)
            return seterr(err, NGT_EFORMAT, "initializer %zu has no name", i);
        if (onnx_find_tensor(g, p->name) >= 0)
            return seterr(err, NGT_EFORMAT, "initializer '%s' is defined twice", p->name);
        int k = onnx_add_tensor(g, p->name, err);
        if (k < 0)
            return k;
        char what[NGT_ERR_MSG_MAX / 2];
        snprintf(what, sizeof what, "initializer '%.200s'", p->name);
        int rc = read_tensor(&g->tensors[k], p, what, err);
        if (rc)
            return rc;
    }
    if (gp->n_sparse_initializer)
        return seterr(err, NGT_EUNSUPPORTED, "sparse initializers are not supported");
    return NGT_OK;
}

static const Onnx__TypeProto__Tensor *tensor_type(const Onnx__ValueInfoProto *v)
{
    if (!v->type || v->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
        return NULL;
    return v->type->tensor_type;
}

/* A graph input: batched, first dimension the events, the others fixed numbers. */
static int read_input(onnx_graph *g, const Onnx__ValueInfoProto *v, ngt_error *err)
{
    const char *nm = v->name ? v->name : "";
    const Onnx__TypeProto__Tensor *tt = tensor_type(v);
    ngt_dtype dt;
    if (!*nm)
        return seterr(err, NGT_EFORMAT, "a graph input has no name");
    if (!tt || !tt->has_elem_type || dtype_from_proto(tt->elem_type, &dt))
        return seterr(err, NGT_EUNSUPPORTED, "input '%s': not a tensor of a supported type", nm);
    if (!tt->shape || tt->shape->n_dim < 1 || tt->shape->n_dim > NGT_MAX_RANK + 1)
        return seterr(err, NGT_EUNSUPPORTED,
                      "input '%s': needs a shape of 1 to %d dimensions, the first the events", nm,
                      NGT_MAX_RANK + 1);
    int k = onnx_add_tensor(g, nm, err);
    if (k < 0)
        return k;
    onnx_tensor *t = &g->tensors[k];
    t->kind = ONNX_T_INPUT;
    t->dtype = dt;
    t->rank = (int)tt->shape->n_dim;
    t->shape[0] = ONNX_BATCH;
    for (int d = 1; d < t->rank; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        if (dim->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
            dim->dim_value < 1 || dim->dim_value > MAX_ELEMS)
            return seterr(err, NGT_EUNSUPPORTED,
                          "input '%s': dimension %d must be a positive number (only the "
                          "first, the events, may be symbolic)",
                          nm, d);
        t->shape[d] = dim->dim_value;
    }
    if (onnx_tensor_elems(t) > MAX_ELEMS)
        return seterr(err, NGT_EUNSUPPORTED, "input '%s': too many elements per event", nm);
    return NGT_OK;
}

static int read_inputs(onnx_graph *g, const Onnx__GraphProto *gp, ngt_error *err)
{
    g->inputs = calloc(gp->n_input + 1, sizeof *g->inputs);
    if (!g->inputs)
        return seterr(err, NGT_ENOMEM, "out of memory");
    for (size_t i = 0; i < gp->n_input; i++) {
        const char *nm = gp->input[i]->name;
        int k = nm ? onnx_find_tensor(g, nm) : -1;
        if (k >= 0 && k < g->n_tensors && g->tensors[k].kind == ONNX_T_CONST)
            continue; /* an initializer listed as an input: a constant here */
        if (k >= 0)
            return seterr(err, NGT_EFORMAT, "input '%s' is listed twice", nm);
        int rc = read_input(g, gp->input[i], err);
        if (rc)
            return rc;
        g->inputs[g->n_inputs++] = g->n_tensors - 1;
    }
    if (g->n_inputs == 0)
        return seterr(err, NGT_EFORMAT, "the graph has no inputs (other than initializers)");
    if (g->n_inputs > NGT_MAX_MODEL_IO)
        return seterr(err, NGT_EUNSUPPORTED, "the graph has %d inputs (at most %d)", g->n_inputs,
                      NGT_MAX_MODEL_IO);
    return NGT_OK;
}

static onnx_attr_type attr_type(const Onnx__AttributeProto *p, int *ok)
{
    *ok = 1;
    switch (p->has_type ? p->type : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        return ONNX_A_INT;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        return ONNX_A_FLOAT;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        return ONNX_A_INTS;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        return ONNX_A_FLOATS;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        return ONNX_A_STRING;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
        return ONNX_A_TENSOR;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED: /* old files: guess from the fields */
        if (p->n_ints)
            return ONNX_A_INTS;
        if (p->n_floats)
            return ONNX_A_FLOATS;
        if (p->has_i)
            return ONNX_A_INT;
        if (p->has_f)
            return ONNX_A_FLOAT;
        if (p->has_s)
            return ONNX_A_STRING;
        if (p->t)
            return ONNX_A_TENSOR;
        break;
    default:
        break;
    }
    *ok = 0;
    return ONNX_A_INT;
}

static int read_attr(onnx_attr *a, const Onnx__AttributeProto *p, const onnx_node *n,
                     ngt_error *err)
{
    int ok;
    const char *an = p->name ? p->name : "";
    a->type = attr_type(p, &ok);
    a->name = onnx_strdup(an);
    if (!a->name)
        return seterr(err, NGT_ENOMEM, "out of memory");
    if (!ok || (p->ref_attr_name && *p->ref_attr_name))
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "attribute '%s' has an unsupported type",
                             an);
    a->i = p->i;
    a->f = p->f;
    if (a->type == ONNX_A_INTS || a->type == ONNX_A_FLOATS) {
        size_t cnt = a->type == ONNX_A_INTS ? p->n_ints : p->n_floats;
        if (cnt > MAX_ELEMS)
            return onnx_node_err(err, NGT_EFORMAT, n, "attribute '%s' is too long", an);
        a->n = (int)cnt;
        if (a->type == ONNX_A_INTS && (a->ints = malloc(sizeof(int64_t) * (cnt + 1))))
            memcpy(a->ints, p->ints, sizeof(int64_t) * cnt);
        if (a->type == ONNX_A_FLOATS && (a->floats = malloc(sizeof(float) * (cnt + 1))))
            memcpy(a->floats, p->floats, sizeof(float) * cnt);
        if (!a->ints && !a->floats)
            return seterr(err, NGT_ENOMEM, "out of memory");
    } else if (a->type == ONNX_A_STRING) {
        a->s = calloc(1, p->s.len + 1);
        if (!a->s)
            return seterr(err, NGT_ENOMEM, "out of memory");
        if (p->s.len)
            memcpy(a->s, p->s.data, p->s.len);
    } else if (a->type == ONNX_A_TENSOR) {
        if (!p->t)
            return onnx_node_err(err, NGT_EFORMAT, n, "attribute '%s' holds no tensor", an);
        a->t = calloc(1, sizeof *a->t);
        if (!a->t)
            return seterr(err, NGT_ENOMEM, "out of memory");
        int rc = read_tensor(a->t, p->t, an, err);
        if (rc)
            return onnx_node_err(err, rc, n, "attribute %s", err ? err->msg : "");
    }
    return NGT_OK;
}

/* Resolves a node's input names to tensors defined earlier ("" is an absent optional input). */
static int node_inputs(onnx_graph *g, onnx_node *n, const Onnx__NodeProto *p, ngt_error *err)
{
    n->in = malloc(sizeof(int) * (p->n_input + 1));
    if (!n->in)
        return seterr(err, NGT_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n_input; i++) {
        const char *nm = p->input[i] ? p->input[i] : "";
        n->in[i] = *nm ? onnx_find_tensor(g, nm) : -1;
        if (*nm && n->in[i] < 0)
            return onnx_node_err(err, NGT_EFORMAT, n,
                                 "input '%s' is not a graph input, an initializer or the output "
                                 "of an earlier node",
                                 nm);
        n->n_in++;
    }
    return NGT_OK;
}

static int node_outputs(onnx_graph *g, onnx_node *n, int index, const Onnx__NodeProto *p,
                        ngt_error *err)
{
    n->out = malloc(sizeof(int) * (p->n_output + 1));
    if (!n->out)
        return seterr(err, NGT_ENOMEM, "out of memory");
    n->n_out = 0;
    for (size_t i = 0; i < p->n_output; i++) {
        const char *nm = p->output[i] ? p->output[i] : "";
        n->out[i] = -1;
        if (*nm && onnx_find_tensor(g, nm) >= 0)
            return onnx_node_err(err, NGT_EFORMAT, n, "output '%s' is already defined", nm);
        if (*nm) {
            int k = onnx_add_tensor(g, nm, err);
            if (k < 0)
                return k;
            g->tensors[k].producer = index;
            n->out[i] = k;
        }
        n->n_out++;
    }
    if (n->n_out == 0 || n->out[0] < 0)
        return onnx_node_err(err, NGT_EFORMAT, n, "has no output");
    return NGT_OK;
}

static int read_node(onnx_graph *g, const Onnx__NodeProto *p, int index, ngt_error *err)
{
    int k = onnx_add_node(g, err);
    if (k < 0)
        return k;
    onnx_node *n = &g->nodes[k];
    char num[32];
    snprintf(num, sizeof num, "#%d", index);
    n->name = onnx_strdup(p->name && *p->name ? p->name : num);
    n->op_type = onnx_strdup(p->op_type ? p->op_type : "");
    if (!n->name || !n->op_type)
        return seterr(err, NGT_ENOMEM, "out of memory");
    if (p->domain && *p->domain && strcmp(p->domain, "ai.onnx") != 0)
        return onnx_node_err(err, NGT_EUNSUPPORTED, n, "operator domain '%s' is not supported",
                             p->domain);
    int rc = node_inputs(g, n, p, err);
    if (!rc)
        rc = node_outputs(g, n, k, p, err);
    if (rc)
        return rc;
    n->attrs = calloc(p->n_attribute + 1, sizeof *n->attrs);
    if (!n->attrs)
        return seterr(err, NGT_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n_attribute; i++) {
        n->n_attrs++;
        if ((rc = read_attr(&n->attrs[i], p->attribute[i], n, err)))
            return rc;
    }
    return onnx_normalise(g, k, err);
}

/* Compares a declared tensor type (graph output) with what shape inference found. */
static int check_declared(const onnx_tensor *t, const Onnx__ValueInfoProto *v, ngt_error *err)
{
    const Onnx__TypeProto__Tensor *tt = tensor_type(v);
    ngt_dtype dt;
    if (!tt)
        return NGT_OK;
    if (tt->has_elem_type && tt->elem_type != 0 &&
        (dtype_from_proto(tt->elem_type, &dt) || dt != t->dtype))
        return seterr(err, NGT_EFORMAT, "output '%s': declared type %d, computed %s", t->name,
                      (int)tt->elem_type, ngt_dtype_name(t->dtype));
    if (!tt->shape)
        return NGT_OK;
    if ((int)tt->shape->n_dim != t->rank)
        return seterr(err, NGT_EFORMAT, "output '%s': declared with %zu dimensions, has %d",
                      t->name, tt->shape->n_dim, t->rank);
    for (int d = 1; d < t->rank; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
            dim->dim_value != t->shape[d])
            return seterr(err, NGT_EFORMAT,
                          "output '%s': dimension %d declared %lld, computed %lld", t->name, d,
                          (long long)dim->dim_value, (long long)t->shape[d]);
    }
    return NGT_OK;
}

static int read_outputs(onnx_graph *g, const Onnx__GraphProto *gp, ngt_error *err)
{
    if (gp->n_output == 0)
        return seterr(err, NGT_EFORMAT, "the graph has no outputs");
    if (gp->n_output > NGT_MAX_MODEL_IO)
        return seterr(err, NGT_EUNSUPPORTED, "the graph has %zu outputs (at most %d)", gp->n_output,
                      NGT_MAX_MODEL_IO);
    g->outputs = calloc(gp->n_output, sizeof *g->outputs);
    if (!g->outputs)
        return seterr(err, NGT_ENOMEM, "out of memory");
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *nm = gp->output[i]->name ? gp->output[i]->name : "";
        int k = onnx_find_tensor(g, nm);
        if (k < 0)
            return seterr(err, NGT_EFORMAT, "output '%s' is not produced by the graph", nm);
        const onnx_tensor *t = &g->tensors[k];
        if (!onnx_tensor_batched(t))
            return seterr(err, NGT_EUNSUPPORTED,
                          "output '%s' does not depend on the inputs (no events dimension)", nm);
        if (t->rank - 1 > NGT_MAX_RANK)
            return seterr(err, NGT_EUNSUPPORTED, "output '%s' has rank %d (at most %d)", nm,
                          t->rank, NGT_MAX_RANK + 1);
        int rc = check_declared(t, gp->output[i], err);
        if (rc)
            return rc;
        g->outputs[g->n_outputs++] = k;
    }
    return NGT_OK;
}

/* Drops the nodes normalisation removed (Constant) and renumbers the producers. */
static void compact_nodes(onnx_graph *g)
{
    int w = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].op == ONNX_OP_COUNT) {
            onnx_node_clear(&g->nodes[i]);
            continue;
        }
        g->nodes[w] = g->nodes[i];
        for (int o = 0; o < g->nodes[w].n_out; o++)
            if (g->nodes[w].out[o] >= 0)
                g->tensors[g->nodes[w].out[o]].producer = w;
        w++;
    }
    g->n_nodes = w;
}

static int read_opset(onnx_graph *g, const Onnx__ModelProto *m, ngt_error *err)
{
    g->opset = -1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = m->opset_import[i]->domain;
        if (!d || !*d || strcmp(d, "ai.onnx") == 0)
            g->opset = (int)m->opset_import[i]->version;
    }
    if (g->opset < 0)
        return seterr(err, NGT_EFORMAT, "the model imports no opset of the default domain");
    if (g->opset < ONNX_OPSET_MIN || g->opset > ONNX_OPSET_MAX)
        return seterr(err, NGT_EUNSUPPORTED, "opset %d is not supported (supported: %d to %d)",
                      g->opset, ONNX_OPSET_MIN, ONNX_OPSET_MAX);
    return NGT_OK;
}

static int read_model(onnx_graph *g, const Onnx__ModelProto *m, ngt_error *err)
{
    if (!m->graph)
        return seterr(err, NGT_EFORMAT, "the model has no graph");
    g->ir_version = m->ir_version;
    const Onnx__GraphProto *gp = m->graph;
    int rc = read_opset(g, m, err);
    if (!rc)
        rc = read_initializers(g, gp, err);
    if (!rc)
        rc = read_inputs(g, gp, err);
    for (size_t i = 0; !rc && i < gp->n_node; i++)
        rc = read_node(g, gp->node[i], (int)i, err);
    if (rc)
        return rc;
    compact_nodes(g);
    return read_outputs(g, gp, err);
}

onnx_graph *onnx_read_buffer(const void *data, size_t size, ngt_error *err)
{
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
    if (!m) {
        seterr(err, NGT_EFORMAT, "not a valid ONNX protobuf (%zu bytes: truncated or corrupt)",
               size);
        return NULL;
    }
    onnx_graph *g = calloc(1, sizeof *g);
    int rc = g ? read_model(g, m, err) : seterr(err, NGT_ENOMEM, "out of memory");
    onnx__model_proto__free_unpacked(m, NULL);
    if (rc) {
        onnx_graph_free(g);
        return NULL;
    }
    return g;
}

onnx_graph *onnx_read_file(const char *path, ngt_error *err)
{
    size_t len = 0;
    char *buf = read_file(path, (size_t)1 << 32, &len, err);
    onnx_graph *g = buf ? onnx_read_buffer(buf, len, err) : NULL;
    if (buf && !g)
        preferr(err, NGT_EFORMAT, "%s", path);
    free(buf);
    return g;
}
