/* genc_plan.c: from the reader's IR to genc's plan: constants to float, nodes over constants
 * folded at compile time (by the ref kernels), BatchNorm folded and bias + activation fused into
 * the dense and convolution layers that precede them. */
#include "genc/genc.h"
#include "ref/ref.h"

#include <math.h>
#include <string.h>

typedef struct uses {
    int *count, *last; /* per tensor: consumers, and the last consuming node */
    char *is_out;
} uses;

static int is_const(const genc_plan *p, int t)
{
    return t >= 0 && p->cdata[t] != NULL;
}

/* The tensor t may vanish into a fused layer: one consumer, not a graph output. */
static int fusable(const uses *u, int t)
{
    return u->count[t] == 1 && !u->is_out[t];
}

/* The one node reading t, or -1. */
static int consumer(const genc_plan *p, int t, int after)
{
    const onnx_graph *g = p->g;
    for (int i = after + 1; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] == t)
                return i;
    return -1;
}

/* Folds a BatchNormalization over N channels into a layer's weights and bias (dense: w[k][c];
 * conv: w[c][per]). */
static void fold_bn(const genc_plan *p, const onnx_node *bn, genc_step *s, int N, int dense,
                    int per)
{
    const float *sc = p->cdata[bn->in[1]], *bb = p->cdata[bn->in[2]];
    const float *mean = p->cdata[bn->in[3]], *var = p->cdata[bn->in[4]];
    float eps = onnx_attr_float(bn, "epsilon", 1e-5f);
    for (int c = 0; c < N; c++) {
        float k = sc[c] / sqrtf(var[c] + eps);
        if (dense)
            for (int r = 0; r < s->K; r++)
                s->w[(size_t)r * N + c] *= k;
        else
            for (int r = 0; r < per; r++)
                s->w[(size_t)c * per + r] *= k;
        s->b[c] = (s->b[c] - mean[c]) * k + bb[c];
    }
}

static int bn_ok(const genc_plan *p, const onnx_node *bn)
{
    return bn->op == ONNX_OP_BATCHNORM && is_const(p, bn->in[1]) && is_const(p, bn->in[2]) &&
           is_const(p, bn->in[3]) && is_const(p, bn->in[4]);
}

/* Absorbs what follows the layer whose output is s->out: a BatchNorm, then an activation. */
static void fuse_tail(genc_plan *p, const uses *u, genc_step *s, char *done, int N, int dense,
                      int per)
{
    const onnx_graph *g = p->g;
    int after = s->node;
    if (fusable(u, s->out)) {
        int c = consumer(p, s->out, after);
        if (c >= 0 && bn_ok(p, &g->nodes[c]) && g->nodes[c].in[0] == s->out &&
            g->tensors[s->out].rank >= 2 && g->tensors[s->out].shape[1] == N) {
            if (!dense || g->tensors[s->out].rank == 2) {
                fold_bn(p, &g->nodes[c], s, N, dense, per);
                s->out = g->nodes[c].out[0];
                done[c] = 1;
                after = c;
            }
        }
    }
    if (!fusable(u, s->out))
        return;
    int c = consumer(p, s->out, after);
    if (c < 0)
        return;
    const onnx_node *a = &g->nodes[c];
    if (a->op == ONNX_OP_RELU)
        s->act = GENC_A_RELU;
    else if (a->op == ONNX_OP_LEAKYRELU) {
        s->act = GENC_A_LEAKY;
        s->alpha = onnx_attr_float(a, "alpha", 0.01f);
    } else if (a->op == ONNX_OP_CLIP) {
        s->act = GENC_A_CLIP;
        s->lo = onnx_attr_float(a, "min", -INFINITY);
        s->hi = onnx_attr_float(a, "max", INFINITY);
    } else
        return;
    s->out = a->out[0];
    done[c] = 1;
}

/* Bias of Gemm (beta * C) or of an Add after MatMul: a constant broadcast along the rows. */
static int row_bias(const genc_plan *p, int t, int N, float beta, float *b)
{
    if (t < 0)
        return 1;
    const onnx_tensor *c = &p->g->tensors[t];
    if (!is_const(p, t))
        return 0;
    int64_t e = onnx_tensor_elems(c);
    if (e != 1 && e != N)
        return 0;
    for (int r = 0; r < c->rank - 1; r++)
        if (c->shape[r] != 1)
            return 0;
    for (int j = 0; j < N; j++)
        b[j] = beta * p->cdata[t][e == 1 ? 0 : j];
    return 1;
}

static int push(genc_plan *p, genc_step s)
{
    p->steps[p->n_steps++] = s;
    return NGT_OK;
}

static int dense_step(genc_plan *p, const uses *u, int i, char *done, ngt_error *err)
{
    const onnx_graph *g = p->g;
    const onnx_node *nd = &g->nodes[i];
    const onnx_tensor *a = &g->tensors[nd->in[0]], *w = &g->tensors[nd->in[1]];
    int gemm = nd->op == ONNX_OP_GEMM;
    if (!onnx_tensor_batched(a) || !is_const(p, nd->in[1]) || w->rank != 2 || a->rank < 2)
        return 0;
    if (gemm && (onnx_attr_int(nd, "transA", 0) || a->rank != 2))
        return 0;
    int tb = gemm ? (int)onnx_attr_int(nd, "transB", 0) : 0;
    float alpha = gemm ? onnx_attr_float(nd, "alpha", 1.0f) : 1.0f;
    float beta = gemm ? onnx_attr_float(nd, "beta", 1.0f) : 1.0f;
    int K = (int)(tb ? w->shape[1] : w->shape[0]), N = (int)(tb ? w->shape[0] : w->shape[1]);
    genc_step s = {.kind = GENC_S_DENSE,
                   .node = i,
                   .in = nd->in[0],
                   .out = nd->out[0],
                   .K = K,
                   .N = N,
                   .rows = 1};
    for (int r = 1; r < a->rank - 1; r++)
        s.rows *= (int)a->shape[r];
    s.w = malloc(sizeof(float) * (size_t)K * N + 4);
    s.b = calloc((size_t)N + 1, sizeof(float));
    if (!s.w || !s.b) {
        free(s.w);
        free(s.b);
        return seterr(err, NGT_ENOMEM, "out of memory for node '%s'", nd->name);
    }
    const float *B = p->cdata[nd->in[1]];
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++)
            s.w[(size_t)k * N + j] = alpha * (tb ? B[(size_t)j * K + k] : B[(size_t)k * N + j]);
    if (gemm && nd->n_in > 2 && !row_bias(p, nd->in[2], N, beta, s.b)) {
        free(s.w);
        free(s.b);
        return 0;
    }
    if (!gemm && fusable(u, s.out)) { /* MatMul + Add(bias) */
        int c = consumer(p, s.out, i);
        const onnx_node *ad = c >= 0 ? &g->nodes[c] : NULL;
        if (ad && ad->op == ONNX_OP_ADD) {
            int other = ad->in[0] == s.out ? ad->in[1] : ad->in[0];
            if (ad->in[0] != ad->in[1] && g->tensors[ad->out[0]].rank == a->rank &&
                row_bias(p, other, N, 1.0f, s.b)) {
                s.out = ad->out[0];
                done[c] = 1;
                s.node = c; /* fusing goes on after the Add */
            }
        }
    }
    fuse_tail(p, u, &s, done, N, 1, K);
    s.node = i;
    s.blas = (size_t)K * N >= GENC_BLAS_MIN_WEIGHTS;
    p->uses_blas |= s.blas;
    push(p, s);
    return 1;
}

static int conv_step(genc_plan *p, const uses *u, int i, char *done, ngt_error *err)
{
    const onnx_graph *g = p->g;
    const onnx_node *nd = &g->nodes[i];
    const onnx_tensor *x = &g->tensors[nd->in[0]], *w = &g->tensors[nd->in[1]];
    const int64_t *st;
    int ns = onnx_attr_ints(nd, "strides", &st);
    if (p->target == GENC_GENERIC || !onnx_tensor_batched(x) || !is_const(p, nd->in[1]) ||
        (x->rank != 3 && x->rank != 4) || ns < 1 || st[ns - 1] != 1)
        return 0;
    int has_b = nd->n_in > 2 && nd->in[2] >= 0;
    if (has_b && !is_const(p, nd->in[2]))
        return 0;
    int M = (int)w->shape[0];
    size_t per = (size_t)onnx_tensor_elems(w) / (size_t)M;
    genc_step s = {.kind = GENC_S_CONV, .node = i, .in = nd->in[0], .out = nd->out[0]};
    s.w = malloc(sizeof(float) * per * (size_t)M + 4);
    s.b = calloc((size_t)M + 1, sizeof(float));
    if (!s.w || !s.b) {
        free(s.w);
        free(s.b);
        return seterr(err, NGT_ENOMEM, "out of memory for node '%s'", nd->name);
    }
    memcpy(s.w, p->cdata[nd->in[1]], sizeof(float) * per * (size_t)M);
    if (has_b)
        memcpy(s.b, p->cdata[nd->in[2]], sizeof(float) * (size_t)M);
    fuse_tail(p, u, &s, done, M, 0, (int)per);
    push(p, s);
    return 1;
}

int genc_plan_build(onnx_graph *g, genc_target target, genc_plan *p, ngt_error *err)
{
    memset(p, 0, sizeof *p);
    p->g = g;
    p->target = target;
    int nt = g->n_tensors, rc = NGT_OK;
    p->cdata = calloc((size_t)nt + 1, sizeof *p->cdata);
    p->alias = calloc((size_t)nt + 1, sizeof *p->alias);
    p->offset = calloc((size_t)nt + 1, sizeof *p->offset);
    p->steps = calloc((size_t)g->n_nodes + 1, sizeof *p->steps);
    uses u = {calloc((size_t)nt + 1, sizeof(int)), calloc((size_t)nt + 1, sizeof(int)),
              calloc((size_t)nt + 1, 1)};
    char *done = calloc((size_t)g->n_nodes + 1, 1);
    if (!p->cdata || !p->alias || !p->offset || !p->steps || !u.count || !u.last || !u.is_out ||
        !done) {
        rc = seterr(err, NGT_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = ref_fold(g, p->cdata, NULL, NULL, "genc", err)))
        goto out;
    for (int t = 0; t < nt; t++)
        p->alias[t] = t;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0) {
                u.count[g->nodes[i].in[k]]++;
                u.last[g->nodes[i].in[k]] = i;
            }
    for (int i = 0; i < g->n_outputs; i++)
        u.is_out[g->outputs[i]] = 1;
    for (int i = 0; i < g->n_nodes && !rc; i++) {
        const onnx_node *nd = &g->nodes[i];
        if (done[i] || !onnx_node_batched(g, nd))
            continue;
        int r = 0;
        if (nd->op == ONNX_OP_GEMM || nd->op == ONNX_OP_MATMUL)
            r = dense_step(p, &u, i, done, err);
        else if (nd->op == ONNX_OP_CONV)
            r = conv_step(p, &u, i, done, err);
        if (r < 0) {
            rc = r;
            break;
        }
        if (r)
            continue;
        if ((nd->op == ONNX_OP_RESHAPE || nd->op == ONNX_OP_IDENTITY) &&
            onnx_tensor_batched(&g->tensors[nd->in[0]])) {
            p->alias[nd->out[0]] = p->alias[nd->in[0]];
            push(p,
                 (genc_step){.kind = GENC_S_ALIAS, .node = i, .in = nd->in[0], .out = nd->out[0]});
            continue;
        }
        push(p, (genc_step){.kind = GENC_S_NODE, .node = i, .in = nd->in[0], .out = nd->out[0]});
    }
    if (!rc)
        rc = genc_arena_plan(p, err);
out:
    free(u.count);
    free(u.last);
    free(u.is_out);
    free(done);
    if (rc)
        genc_plan_free(p);
    return rc;
}

void genc_plan_free(genc_plan *p)
{
    for (int t = 0; p->cdata && t < p->g->n_tensors; t++)
        free(p->cdata[t]);
    for (int i = 0; p->steps && i < p->n_steps; i++) {
        free(p->steps[i].w);
        free(p->steps[i].b);
    }
    free(p->cdata);
    free(p->alias);
    free(p->offset);
    free(p->steps);
    memset(p, 0, sizeof *p);
}
