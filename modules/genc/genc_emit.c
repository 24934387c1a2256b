/* genc_emit.c: writes the plan as one C file: the prelude, the constants, one function per fast
 * layer, and prefix_infer, which walks the events in tiles through the steps over one arena. */
#include "genc/genc.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

int genc_target_parse(const char *s, genc_target *t)
{
    if (!strcmp(s, "avx512"))
        *t = GENC_AVX512;
    else if (!strcmp(s, "avx2"))
        *t = GENC_AVX2;
    else if (!strcmp(s, "generic"))
        *t = GENC_GENERIC;
    else if (!strcmp(s, "native"))
        *t = genc_target_host();
    else
        return -1;
    return 0;
}

const char *genc_target_name(genc_target t)
{
    return t == GENC_AVX512 ? "avx512" : t == GENC_AVX2 ? "avx2" : "generic";
}

genc_target genc_target_host(void)
{
    const char *isa = ngt_cpu_isa();
    return !strcmp(isa, "avx512") ? GENC_AVX512 : !strcmp(isa, "avx2") ? GENC_AVX2 : GENC_GENERIC;
}

/* How a tensor is named in the C: its constant array, or the tile pointer of its storage. */
static void ref(const genc_plan *p, int t, char *out, size_t n)
{
    if (t < 0)
        snprintf(out, n, "NULL");
    else if (p->cdata[t])
        snprintf(out, n, "c%d", t);
    else
        snprintf(out, n, "t%d", p->alias[t]);
}

static void emit_shape(const genc_plan *p, int t, genc_buf *c, char *done)
{
    if (t < 0 || done[t])
        return;
    done[t] = 1;
    const onnx_tensor *x = &p->g->tensors[t];
    genc_printf(c, "static const long long s%d[%d] = {", t, x->rank ? x->rank : 1);
    for (int d = 0; d < x->rank; d++)
        genc_printf(c, "%lld, ", (long long)x->shape[d]);
    genc_puts(c, x->rank ? "};\n" : "0};\n");
}

static void emit_ints(genc_buf *c, const char *name, const int64_t *v, int n)
{
    genc_printf(c, "static const long long %s[%d] = {", name, n ? n : 1);
    for (int i = 0; i < n; i++)
        genc_printf(c, "%lld, ", (long long)v[i]);
    genc_puts(c, n ? "};\n" : "0};\n");
}

/* Conv / pool geometry as the prelude reads it (gconv, gpool). */
static void emit_geo(const genc_plan *p, const onnx_node *nd, int idx, genc_buf *c)
{
    const onnx_tensor *x = &p->g->tensors[nd->in[0]], *y = &p->g->tensors[nd->out[0]];
    const int64_t *k, *s, *d, *pd;
    onnx_attr_ints(nd, "kernel_shape", &k);
    onnx_attr_ints(nd, "strides", &s);
    onnx_attr_ints(nd, "dilations", &d);
    onnx_attr_ints(nd, "pads", &pd);
    int two = x->rank == 4, r = x->rank;
    int64_t g[17] = {x->shape[1],
                     two ? x->shape[2] : 1,
                     x->shape[r - 1],
                     y->shape[1],
                     two ? y->shape[2] : 1,
                     y->shape[r - 1],
                     two ? k[0] : 1,
                     k[two],
                     two ? s[0] : 1,
                     s[two],
                     two ? d[0] : 1,
                     d[two],
                     two ? pd[0] : 0,
                     pd[two],
                     two ? pd[2] : 0,
                     pd[two ? 3 : 1],
                     onnx_attr_int(nd, "group", 1)};
    char name[32];
    snprintf(name, sizeof name, "g%d", idx);
    emit_ints(c, name, g, 17);
}

static int check_node(const genc_plan *p, const onnx_node *nd, ngt_error *err)
{
    const onnx_graph *g = p->g;
    switch (nd->op) {
    case ONNX_OP_CONV:
    case ONNX_OP_MAXPOOL:
    case ONNX_OP_AVGPOOL: {
        int r = g->tensors[nd->in[0]].rank;
        if (r != 3 && r != 4)
            return seterr(err, NGT_EUNSUPPORTED,
                          "node '%s' (%s): genc supports 1D and 2D only (input rank %d)", nd->name,
                          nd->op_type, r);
        for (int k = 1; k < nd->n_in; k++)
            if (nd->in[k] >= 0 && !p->cdata[nd->in[k]])
                return seterr(err, NGT_EUNSUPPORTED, "node '%s' (%s): weights must be constants",
                              nd->name, nd->op_type);
        return NGT_OK;
    }
    case ONNX_OP_BATCHNORM:
        for (int k = 1; k < 5; k++)
            if (!p->cdata[nd->in[k]])
                return seterr(err, NGT_EUNSUPPORTED,
                              "node '%s' (%s): scale, bias, mean and variance must be "
                              "constants",
                              nd->name, nd->op_type);
        return NGT_OK;
    case ONNX_OP_GEMM:
        if (g->tensors[nd->in[0]].rank != 2 || g->tensors[nd->in[1]].rank != 2)
            return seterr(err, NGT_EUNSUPPORTED, "node '%s' (%s): A and B must be 2D", nd->name,
                          nd->op_type);
        return NGT_OK;
    case ONNX_OP_GATHER:
        if (onnx_tensor_batched(&g->tensors[nd->in[0]]) &&
            (onnx_tensor_batched(&g->tensors[nd->in[1]]) || onnx_attr_int(nd, "axis", 0) < 1))
            return seterr(err, NGT_EUNSUPPORTED, "node '%s' (%s): gathering across the events",
                          nd->name, nd->op_type);
        return NGT_OK;
    case ONNX_OP_CONCAT:
        if (onnx_attr_int(nd, "axis", 0) < 1)
            return seterr(err, NGT_EUNSUPPORTED, "node '%s' (%s): concatenation along the events",
                          nd->name, nd->op_type);
        for (int k = 0; k < nd->n_in; k++)
            if (p->cdata[nd->in[k]])
                return seterr(err, NGT_EUNSUPPORTED,
                              "node '%s' (%s): a constant joined to per-event tensors", nd->name,
                              nd->op_type);
        return NGT_OK;
    default:
        return NGT_OK;
    }
}

static const char *unary_code(onnx_op op)
{
    switch (op) {
    case ONNX_OP_RELU:
        return "GO_RELU";
    case ONNX_OP_LEAKYRELU:
        return "GO_LEAKY";
    case ONNX_OP_ELU:
        return "GO_ELU";
    case ONNX_OP_SIGMOID:
        return "GO_SIGMOID";
    case ONNX_OP_TANH:
        return "GO_TANH";
    case ONNX_OP_EXP:
        return "GO_EXP";
    case ONNX_OP_LOG:
        return "GO_LOG";
    case ONNX_OP_SQRT:
        return "GO_SQRT";
    case ONNX_OP_ROUND:
        return "GO_ROUND";
    case ONNX_OP_CLIP:
        return "GO_CLIP";
    case ONNX_OP_CAST:
        return "GO_CAST";
    case ONNX_OP_ADD:
        return "GO_ADD";
    case ONNX_OP_SUB:
        return "GO_SUB";
    case ONNX_OP_MUL:
        return "GO_MUL";
    case ONNX_OP_DIV:
        return "GO_DIV";
    default:
        return NULL;
    }
}

/* Static data a generic node needs: shapes, geometry, BatchNorm's affine, index lists. */
static void node_data(const genc_plan *p, const onnx_node *nd, int idx, genc_buf *c, char *sdone)
{
    const onnx_graph *g = p->g;
    char name[32];
    for (int k = 0; k < nd->n_in; k++)
        emit_shape(p, nd->in[k], c, sdone);
    emit_shape(p, nd->out[0], c, sdone);
    if (nd->op == ONNX_OP_CONV || nd->op == ONNX_OP_MAXPOOL || nd->op == ONNX_OP_AVGPOOL)
        emit_geo(p, nd, idx, c);
    if (nd->op == ONNX_OP_TRANSPOSE || nd->op == ONNX_OP_SLICE) {
        const int64_t *v;
        int n = onnx_attr_ints(nd, nd->op == ONNX_OP_TRANSPOSE ? "perm" : "starts", &v);
        snprintf(name, sizeof name, "pa%d", idx);
        emit_ints(c, name, v, n);
        if (nd->op == ONNX_OP_SLICE) {
            n = onnx_attr_ints(nd, "steps", &v);
            snprintf(name, sizeof name, "pb%d", idx);
            emit_ints(c, name, v, n);
        }
    }
    if (nd->op == ONNX_OP_BATCHNORM) {
        int64_t C = g->tensors[nd->in[0]].shape[1];
        float *k = calloc((size_t)C + 1, sizeof(float)), *s = calloc((size_t)C + 1, 4);
        if (!k || !s)
            c->oom = 1;
        float eps = onnx_attr_float(nd, "epsilon", 1e-5f);
        for (int64_t ch = 0; k && s && ch < C; ch++) {
            k[ch] = p->cdata[nd->in[1]][ch] / sqrtf(p->cdata[nd->in[4]][ch] + eps);
            s[ch] = p->cdata[nd->in[2]][ch] - p->cdata[nd->in[3]][ch] * k[ch];
        }
        snprintf(name, sizeof name, "bk%d", idx);
        genc_emit_floats(c, name, k, k ? (size_t)C : 0);
        snprintf(name, sizeof name, "bs%d", idx);
        genc_emit_floats(c, name, s, s ? (size_t)C : 0);
        free(k);
        free(s);
    }
}

static int64_t prod(const onnx_tensor *x, int from, int to)
{
    int64_t e = 1;
    for (int d = from; d < to; d++)
        e *= x->shape[d];
    return e;
}

/* The call of one generic node in the tile loop. */
static void node_call(const genc_plan *p, const onnx_node *nd, int idx, genc_buf *c)
{
    const onnx_graph *g = p->g;
    char a[32], b[32], y[32], w[32];
    ref(p, nd->in[0], a, sizeof a);
    ref(p, nd->n_in > 1 ? nd->in[1] : -1, b, sizeof b);
    ref(p, nd->out[0], y, sizeof y);
    const onnx_tensor *X = &g->tensors[nd->in[0]], *Y = &g->tensors[nd->out[0]];
    int64_t ye = onnx_tensor_elems(Y);
    ngt_dtype yt = Y->dtype;
    const char *u = unary_code(nd->op);
    switch (nd->op) {
    case ONNX_OP_ADD:
    case ONNX_OP_SUB:
    case ONNX_OP_MUL:
    case ONNX_OP_DIV: {
        const onnx_tensor *B = &g->tensors[nd->in[1]];
        genc_printf(c, "        gbinary(%s, %d, %s, s%d, %d, %s, s%d, %d, %s, s%d, %d, ne);\n", u,
                    yt != NGT_F32 && yt != NGT_F64, a, nd->in[0], X->rank, b, nd->in[1], B->rank, y,
                    nd->out[0], Y->rank);
        return;
    }
    case ONNX_OP_SOFTMAX:
        genc_printf(c, "        gsoftmax(%s, %s, s%d, %d, %d, %d, ne);\n", a, y, nd->in[0], X->rank,
                    (int)onnx_attr_int(nd, "axis", X->rank - 1), (int)onnx_attr_int(nd, "span", 1));
        return;
    case ONNX_OP_BATCHNORM:
        genc_printf(c, "        gaffine(%s, %s, bk%d, bs%d, %lld, %lld, ne);\n", a, y, idx, idx,
                    (long long)X->shape[1], (long long)prod(X, 2, X->rank));
        return;
    case ONNX_OP_GEMM: {
        int cc = nd->n_in > 2 ? nd->in[2] : -1;
        ref(p, cc, w, sizeof w);
        char cs[32] = "NULL";
        if (cc >= 0)
            snprintf(cs, sizeof cs, "s%d", cc);
        char al[48], be[48];
        genc_printf(
            c, "        ggemm(%s, s%d, %s, s%d, %s, %s, %d, %s, s%d, %d, %d, %s, %s, ne);\n", a,
            nd->in[0], b, nd->in[1], w, cs, cc >= 0 ? g->tensors[cc].rank : 0, y, nd->out[0],
            (int)onnx_attr_int(nd, "transA", 0), (int)onnx_attr_int(nd, "transB", 0),
            genc_flit(al, onnx_attr_float(nd, "alpha", 1)),
            genc_flit(be, onnx_attr_float(nd, "beta", 1)));
        return;
    }
    case ONNX_OP_MATMUL:
        genc_printf(c, "        gmatmul(%s, s%d, %d, %s, s%d, %d, %s, s%d, %d, ne);\n", a,
                    nd->in[0], X->rank, b, nd->in[1], g->tensors[nd->in[1]].rank, y, nd->out[0],
                    Y->rank);
        return;
    case ONNX_OP_CONV:
        ref(p, nd->n_in > 2 ? nd->in[2] : -1, w, sizeof w);
        genc_printf(c, "        gconv(%s, %s, %s, %s, g%d, ne);\n", a, b, w, y, idx);
        return;
    case ONNX_OP_MAXPOOL:
    case ONNX_OP_AVGPOOL:
        genc_printf(c, "        gpool(%s, %s, g%d, %d, %d, ne);\n", a, y, idx,
                    nd->op == ONNX_OP_AVGPOOL, (int)onnx_attr_int(nd, "count_include_pad", 0));
        return;
    case ONNX_OP_TRANSPOSE:
        genc_printf(c, "        gtranspose(%s, %s, s%d, s%d, pa%d, %d, ne);\n", a, y, nd->in[0],
                    nd->out[0], idx, X->rank);
        return;
    case ONNX_OP_SLICE:
        genc_printf(c, "        gslice(%s, %s, s%d, s%d, pa%d, pb%d, %d, ne);\n", a, y, nd->in[0],
                    nd->out[0], idx, idx, X->rank);
        return;
    case ONNX_OP_CONCAT: {
        int axis = (int)onnx_attr_int(nd, "axis", 0);
        int64_t inner = prod(Y, axis + 1, Y->rank), at = 0;
        for (int k = 0; k < nd->n_in; k++) {
            const onnx_tensor *x = &g->tensors[nd->in[k]];
            ref(p, nd->in[k], a, sizeof a);
            genc_printf(c, "        gconcat1(%s, %s, (long long)ne * %lld, %lld, %lld, %lld);\n", a,
                        y, (long long)prod(x, 1, axis),
                        (long long)x->shape[axis] * (long long)inner,
                        (long long)Y->shape[axis] * (long long)inner, (long long)at);
            at += x->shape[axis] * inner;
        }
        return;
    }
    case ONNX_OP_GATHER: {
        int axis = (int)onnx_attr_int(nd, "axis", 0);
        const onnx_tensor *I = &g->tensors[nd->in[1]];
        int xb = onnx_tensor_batched(X), ib = onnx_tensor_batched(I);
        genc_printf(c,
                    "        if (ggather(%s, %s, %s, %s%lld, %lld, %lld, %s%lld))\n"
                    "            return %d;\n",
                    a, b, y, xb && axis > 0 ? "(long long)ne * " : "",
                    (long long)prod(X, xb && axis > 0 ? 1 : 0, axis), (long long)X->shape[axis],
                    (long long)prod(X, axis + 1, X->rank), ib ? "(long long)ne * " : "",
                    (long long)onnx_tensor_elems(I), (int)(nd - g->nodes) + 1);
        return;
    }
    default: {
        char al[48], lo[48], hi[48];
        genc_printf(
            c, "        gunary(%s, %s, %s, (long long)ne * %lld, %s, %s, %s, %d);\n",
            u ? u : "GO_COPY", a, y, (long long)ye, genc_flit(al, onnx_attr_float(nd, "alpha", 0)),
            genc_flit(lo, onnx_attr_float(nd, "min", -INFINITY)),
            genc_flit(hi, onnx_attr_float(nd, "max", INFINITY)), (int)onnx_attr_int(nd, "to", 0));
        return;
    }
    }
}

static void emit_consts(const genc_plan *p, genc_buf *c)
{
    const onnx_graph *g = p->g;
    char *done = calloc((size_t)g->n_tensors + 1, 1), name[32];
    if (!done) {
        c->oom = 1;
        return;
    }
    for (int s = 0; s < p->n_steps; s++) {
        const onnx_node *nd = &g->nodes[p->steps[s].node];
        if (p->steps[s].kind != GENC_S_NODE)
            continue;
        for (int k = 0; k < nd->n_in; k++) {
            int t = nd->in[k];
            if (t < 0 || !p->cdata[t] || done[t])
                continue;
            done[t] = 1;
            snprintf(name, sizeof name, "c%d", t);
            genc_emit_floats(c, name, p->cdata[t], (size_t)onnx_tensor_elems(&g->tensors[t]));
        }
    }
    free(done);
}

static void emit_infer(const genc_plan *p, const char *prefix, genc_buf *c)
{
    const onnx_graph *g = p->g;
    int T = p->tile;
    genc_printf(c, "size_t %s_workspace_size(void)\n{\n    return %zu;\n}\n\n", prefix,
                p->arena + p->scratch);
    genc_printf(c, "int %s_tile(void)\n{\n    return %d;\n}\n\n", prefix, T);
    genc_printf(c, "const char *%s_target(void)\n{\n    return \"%s\";\n}\n\n", prefix,
                genc_target_name(p->target));
    genc_printf(c,
                "/* Runs n events; 0, or the number (from 1) of the node that failed. */\n"
                "int %s_infer(void *ws, const void *const *in, void *const *out, int n)\n{\n",
                prefix);
    genc_printf(c, "    char *A = (char *)ws;\n    float *S = (float *)(A + %zu);\n    (void)S;\n",
                p->arena);
    genc_printf(c, "    for (int ev0 = 0; ev0 < n; ev0 += %d) {\n", T);
    genc_printf(c, "        int ne = n - ev0 < %d ? n - ev0 : %d;\n        (void)ne;\n", T, T);
    for (int i = 0; i < g->n_inputs; i++) {
        int t = g->inputs[i];
        const onnx_tensor *x = &g->tensors[t];
        long long e = (long long)onnx_tensor_elems(x);
        genc_printf(c, "        float *t%d = (float *)(A + %zu);\n", t, p->offset[t]);
        if (x->dtype == NGT_F32)
            genc_printf(c,
                        "        if (ne == %d)\n            t%d = (float *)in[%d] + "
                        "(size_t)ev0 * %lld;\n        else\n    ",
                        T, t, i, e);
        genc_printf(c, "        gstage(in[%d], %d, (size_t)ev0 * %lld, %lld, ne, %d, t%d);\n", i,
                    (int)x->dtype, e, e, T, t);
    }
    for (int t = 0; t < g->n_tensors; t++) {
        if (p->offset[t] == (size_t)-1 || g->tensors[t].kind == ONNX_T_INPUT)
            continue;
        genc_printf(c, "        float *t%d = (float *)(A + %zu);\n", t, p->offset[t]);
    }
    for (int s = 0; s < p->n_steps; s++) {
        const genc_step *st = &p->steps[s];
        const onnx_node *nd = &g->nodes[st->node];
        genc_printf(c, "        /* %s (%s) */\n", nd->name, nd->op_type);
        if (st->kind == GENC_S_DENSE)
            genc_printf(c, "        L%d(t%d, t%d, ne);\n", s, p->alias[st->in], p->alias[st->out]);
        else if (st->kind == GENC_S_CONV)
            genc_printf(c, "        L%d(t%d, t%d, ne, S);\n", s, p->alias[st->in],
                        p->alias[st->out]);
        else if (st->kind == GENC_S_NODE)
            node_call(p, nd, s, c);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const onnx_tensor *y = &g->tensors[g->outputs[i]];
        long long e = (long long)onnx_tensor_elems(y);
        genc_printf(
            c, "        gunstage(t%d, %d, out[%d], (size_t)ev0 * %lld, (long long)ne * %lld);\n",
            p->alias[g->outputs[i]], (int)y->dtype, i, e, e);
    }
    genc_puts(c, "    }\n    return 0;\n}\n");
}

int genc_emit(const genc_plan *p, const char *prefix, genc_buf *c, ngt_error *err)
{
    const onnx_graph *g = p->g;
    for (int s = 0; s < p->n_steps; s++) {
        const onnx_node *nd = &g->nodes[p->steps[s].node];
        int rc = p->steps[s].kind == GENC_S_NODE ? check_node(p, nd, err) : NGT_OK;
        if (rc)
            return rc;
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (!onnx_tensor_batched(&g->tensors[g->outputs[i]]))
            return seterr(err, NGT_EUNSUPPORTED,
                          "output '%s' does not depend on the events (a constant)",
                          g->tensors[g->outputs[i]].name);
    genc_printf(
        c,
        "/* Generated by ngt %s (genc) for target %s: do not edit.\n"
        " * Events run in tiles of %d; every event is computed alone, in the same order. */\n",
        NGT_VERSION_STRING, genc_target_name(p->target), p->tile);
    genc_printf(c, "#define GENC_TARGET %d\n", (int)p->target);
    genc_puts(c, genc_prelude);
    if (p->uses_blas)
        genc_puts(c, "void cblas_sgemm(int, int, int, int, int, int, float, const float *, int,\n"
                     "                 const float *, int, float, float *, int);\n");
    genc_puts(c, "\n");
    emit_consts(p, c);
    char *sdone = calloc((size_t)g->n_tensors + 1, 1);
    if (!sdone)
        return seterr(err, NGT_ENOMEM, "out of memory");
    for (int s = 0; s < p->n_steps; s++) {
        const genc_step *st = &p->steps[s];
        if (st->kind == GENC_S_DENSE)
            genc_emit_dense(p, st, s, c);
        else if (st->kind == GENC_S_CONV)
            genc_emit_conv(p, st, s, c);
        else if (st->kind == GENC_S_NODE)
            node_data(p, &g->nodes[st->node], s, c, sdone);
    }
    free(sdone);
    genc_printf(c,
                "\nsize_t %s_workspace_size(void);\nint %s_tile(void);\n"
                "const char *%s_target(void);\n"
                "int %s_infer(void *ws, const void *const *in, void *const *out, int n);\n\n",
                prefix, prefix, prefix, prefix);
    emit_infer(p, prefix, c);
    return c->oom ? seterr(err, NGT_ENOMEM, "out of memory writing the C") : NGT_OK;
}

int genc_emit_header(const genc_plan *p, const char *prefix, genc_buf *h, ngt_error *err)
{
    const onnx_graph *g = p->g;
    genc_printf(h,
                "/* %s.h: generated by ngt %s (genc, target %s): the model's C interface.\n"
                " * Inputs and outputs are dense [events][...] arrays of the dtypes below. */\n",
                prefix, NGT_VERSION_STRING, genc_target_name(p->target));
    genc_printf(h, "#ifndef GENC_%s_H\n#define GENC_%s_H\n#include <stddef.h>\n\n", prefix, prefix);
    for (int i = 0; i < g->n_inputs; i++)
        genc_printf(h, "/* input %d '%s': %s, %lld values per event */\n", i,
                    g->tensors[g->inputs[i]].name, ngt_dtype_name(g->tensors[g->inputs[i]].dtype),
                    (long long)onnx_tensor_elems(&g->tensors[g->inputs[i]]));
    for (int i = 0; i < g->n_outputs; i++)
        genc_printf(h, "/* output %d '%s': %s, %lld values per event */\n", i,
                    g->tensors[g->outputs[i]].name, ngt_dtype_name(g->tensors[g->outputs[i]].dtype),
                    (long long)onnx_tensor_elems(&g->tensors[g->outputs[i]]));
    genc_printf(h, "enum { %s_N_INPUTS = %d, %s_N_OUTPUTS = %d };\n", prefix, g->n_inputs, prefix,
                g->n_outputs);
    genc_printf(
        h,
        "/* Bytes of the workspace each thread passes to infer (any n uses the same). */\n"
        "size_t %s_workspace_size(void);\nint %s_tile(void);\n"
        "const char *%s_target(void);\n"
        "/* 0, or the number (from 1) of the node that failed (a Gather index out of range). */\n"
        "int %s_infer(void *ws, const void *const *in, void *const *out, int n);\n\n#endif\n",
        prefix, prefix, prefix, prefix);
    return h->oom ? seterr(err, NGT_ENOMEM, "out of memory") : NGT_OK;
}
