/* gpu_backend.c: the "gpu" backend. A model is the ONNX graph as a flat list of layers for the
 * fused kernels: in float from the reader's IR, or in fixed point from the hls backend's model
 * (the same precision configuration, weights and types, so the bits are hls's). Each inference
 * takes a slot (device buffers and pinned staging, kept for reuse: nothing is allocated per batch
 * once the slots exist), runs on its worker's stream and completes through a host callback
 * (infer_start / infer_end), so no worker waits on the device.
 *
 * Options (words separated by spaces; docs/gpu.md):
 *   precision=CFG  fixed point bit-exact with the hls backend: CFG as the hls backend takes it
 *                  (JSON text, a .json or .lua file); the rest of the text after "precision=".
 *                  Options that are only a precision configuration ('{...}', a .json or .lua
 *                  path) work too.
 *   gemm=fused|cublas  float: every layer in one kernel, or layer by layer with cuBLAS for dense
 *                  layers (the default when the parameters do not fit in shared memory)
 *   tile=N         cuBLAS path: events per product (the last one padded: batch-invariant); 0:
 *                  the whole batch at once (faster, not batch-invariant)
 *   emulate=1      test only: no device; every kernel's body runs on the CPU over its grid, on a
 *                  helper thread, completing asynchronously as the device would
 *   delay_ms=N     with emulate=1: each inference completes N ms late (timeout tests) */
#include "gpu.h"
#include "hls/hls_model.h"
#include "internal.h"
#include "onnx/onnx_ir.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- options --------------------------------------------------------------------------------- */

typedef struct gpu_opts {
    const char *precision;   /* into the options text, or NULL */
    int emulate, gemm, tile; /* gemm: 0 auto, 1 fused, 2 cublas */
    double delay_ms;
} gpu_opts;

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int parse_opts(const char *text, gpu_opts *o, ngt_error *err)
{
    memset(o, 0, sizeof *o);
    o->tile = 1024;
    if (!text)
        return NGT_OK;
    while (*text == ' ' || *text == '\t' || *text == '\n')
        text++;
    if (*text == '{' ||
        ((ends_with(text, ".json") || ends_with(text, ".lua")) && !strchr(text, '='))) {
        o->precision = text;
        return NGT_OK;
    }
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        if (strncmp(p, "precision=", 10) == 0) {
            o->precision = p + 10;
            if (!*o->precision)
                return seterr(err, NGT_EINVAL, "gpu: options: precision= needs a value");
            return NGT_OK;
        }
        char word[64];
        size_t n = strcspn(p, " \t\n");
        if (n >= sizeof word)
            return seterr(err, NGT_EINVAL, "gpu: options: '%.40s...' is too long", p);
        memcpy(word, p, n);
        word[n] = 0;
        p += n;
        char *eq = strchr(word, '=');
        if (!eq)
            return seterr(err, NGT_EINVAL, "gpu: options: '%s' is not key=value", word);
        *eq = 0;
        const char *v = eq + 1;
        char *end = NULL;
        if (strcmp(word, "emulate") == 0 && (strcmp(v, "1") == 0 || strcmp(v, "0") == 0))
            o->emulate = v[0] == '1';
        else if (strcmp(word, "gemm") == 0 && strcmp(v, "fused") == 0)
            o->gemm = 1;
        else if (strcmp(word, "gemm") == 0 && strcmp(v, "cublas") == 0)
            o->gemm = 2;
        else if (strcmp(word, "tile") == 0 || strcmp(word, "delay_ms") == 0) {
            double x = strtod(v, &end);
            if (!*v || *end || !(x >= 0 && x <= (1 << 20)))
                return seterr(err, NGT_EINVAL, "gpu: options: bad '%s=%s'", word, v);
            if (word[0] == 't')
                o->tile = (int)x;
            else
                o->delay_ms = x;
        } else
            return seterr(err, NGT_EINVAL,
                          "gpu: options: bad '%s=%s' (precision=, gemm=fused|cublas, "
                          "tile=N, emulate=0|1, delay_ms=N)",
                          word, v);
    }
    return NGT_OK;
}

/* ---- float: the ONNX graph as layers ----------------------------------------------------------
 */

static int is_const(const onnx_graph *g, int t)
{
    return t >= 0 && g->tensors[t].kind == ONNX_T_CONST;
}

/* Appends floats to the parameter array (grown as needed); returns their offset or -1. */
static int64_t params_add(float **P, int64_t *n, int64_t *cap, int64_t count)
{
    if (*n + count > *cap) {
        int64_t c = (*cap ? *cap * 2 : 1024);
        while (c < *n + count)
            c *= 2;
        float *q = realloc(*P, (size_t)c * sizeof *q);
        if (!q)
            return -1;
        *P = q;
        *cap = c;
    }
    int64_t off = *n;
    memset(*P + off, 0, (size_t)count * sizeof **P);
    *n += count;
    return off;
}

static int node_err(ngt_error *err, const onnx_node *nd, const char *why)
{
    return seterr(err, NGT_EUNSUPPORTED, "gpu: node '%s' (%s): %s", nd->name, nd->op_type, why);
}

static int build_float_layers(gpu_model *m, const onnx_graph *g, float **Pp, ngt_error *err)
{
    gpu_fnet *net = &m->fnet;
    int64_t np = 0, cap = 1024;
    float *P = *Pp;
    int cur = g->inputs[0], rc = NGT_OK;
    int64_t width = onnx_tensor_elems(&g->tensors[cur]);
    const onnx_tensor *in = &g->tensors[cur];
    int chan = in->rank == 3 ? (int)in->shape[1] : 1, len = in->rank == 3 ? (int)in->shape[2] : 0;
    net->n_in = (int)width;
    for (int k = 0; k < g->n_nodes && rc == NGT_OK; k++) {
        const onnx_node *nd = &g->nodes[k];
        if (!onnx_node_batched(g, nd))
            continue; /* folded constants are not supported: the reader keeps them as nodes */
        if (nd->in[0] != cur)
            return node_err(err, nd,
                            "the gpu kernels take a chain of layers (this node does not "
                            "read the previous one's output first)");
        gpu_flayer *prev = net->n_layers ? &net->l[net->n_layers - 1] : NULL;
        const onnx_tensor *out = &g->tensors[nd->out[0]];
        switch (nd->op) {
        case ONNX_OP_RESHAPE:
        case ONNX_OP_IDENTITY:
            break;
        case ONNX_OP_RELU:
        case ONNX_OP_SIGMOID:
        case ONNX_OP_TANH:
            if (!prev || prev->act != GPU_ACT_NONE)
                return node_err(err, nd, "an activation must follow a Gemm, MatMul or Conv");
            prev->act = nd->op == ONNX_OP_RELU      ? GPU_ACT_RELU
                        : nd->op == ONNX_OP_SIGMOID ? GPU_ACT_SIGMOID
                                                    : GPU_ACT_TANH;
            break;
        case ONNX_OP_ADD: {
            int c = nd->in[1];
            if (!prev || prev->act != GPU_ACT_NONE || !is_const(g, c) ||
                onnx_tensor_elems(&g->tensors[c]) != prev->n_out || prev->kind != GPU_F_DENSE)
                return node_err(err, nd,
                                "only a bias (a constant of the layer's width) after a "
                                "MatMul is supported");
            for (int j = 0; j < prev->n_out; j++)
                P[prev->b_off + j] +=
                    onnx_elem_f(g->tensors[c].data, g->tensors[c].dtype, (size_t)j);
            break;
        }
        case ONNX_OP_GEMM:
        case ONNX_OP_MATMUL: {
            int b = nd->in[1], c = nd->n_in > 2 ? nd->in[2] : -1;
            int tb = nd->op == ONNX_OP_GEMM ? (int)onnx_attr_int(nd, "transB", 0) : 0;
            float alpha = nd->op == ONNX_OP_GEMM ? onnx_attr_float(nd, "alpha", 1.0f) : 1.0f;
            float beta = nd->op == ONNX_OP_GEMM ? onnx_attr_float(nd, "beta", 1.0f) : 1.0f;
            if ((nd->op == ONNX_OP_GEMM && onnx_attr_int(nd, "transA", 0)) || !is_const(g, b) ||
                g->tensors[b].rank != 2 || (c >= 0 && !is_const(g, c)))
                return node_err(err, nd, "needs constant 2-D weights (and bias), no transA");
            const onnx_tensor *W = &g->tensors[b];
            int n_in = (int)(tb ? W->shape[1] : W->shape[0]),
                n_out = (int)(tb ? W->shape[0] : W->shape[1]);
            if (n_in != width)
                return node_err(err, nd, "weights do not match the input width");
            if (c >= 0 && onnx_tensor_elems(&g->tensors[c]) != n_out &&
                onnx_tensor_elems(&g->tensors[c]) != 1)
                return node_err(err, nd, "bias must have one value per output (or one)");
            if (net->n_layers == GPU_MAX_LAYERS)
                return node_err(err, nd, "too many layers");
            gpu_flayer *L = &net->l[net->n_layers++];
            memset(L, 0, sizeof *L);
            L->kind = GPU_F_DENSE;
            L->n_in = n_in;
            L->n_out = n_out;
            L->w_off = params_add(Pp, &np, &cap, (int64_t)n_in * n_out);
            L->b_off = params_add(Pp, &np, &cap, n_out);
            P = *Pp;
            if (L->w_off < 0 || L->b_off < 0) {
                return seterr(err, NGT_ENOMEM, "out of memory");
            }
            for (int i = 0; i < n_in; i++)
                for (int j = 0; j < n_out; j++)
                    P[L->w_off + (int64_t)i * n_out + j] =
                        alpha * onnx_elem_f(W->data, W->dtype,
                                            tb ? (size_t)j * n_in + i : (size_t)i * n_out + j);
            for (int j = 0; c >= 0 && j < n_out; j++)
                P[L->b_off + j] =
                    beta * onnx_elem_f(g->tensors[c].data, g->tensors[c].dtype,
                                       onnx_tensor_elems(&g->tensors[c]) == 1 ? 0 : (size_t)j);
            chan = 1;
            len = 0;
            break;
        }
        case ONNX_OP_CONV: {
            const int64_t *ks = NULL, *st = NULL, *dl = NULL, *pads = NULL;
            int nk = onnx_attr_ints(nd, "kernel_shape", &ks);
            int ns = onnx_attr_ints(nd, "strides", &st), nl = onnx_attr_ints(nd, "dilations", &dl);
            int npd = onnx_attr_ints(nd, "pads", &pads);
            int b = nd->in[1], c = nd->n_in > 2 ? nd->in[2] : -1;
            if (nk != 1 || len == 0 || (ns == 1 && st[0] != 1) || (nl == 1 && dl[0] != 1) ||
                onnx_attr_int(nd, "group", 1) != 1 || !is_const(g, b) ||
                (c >= 0 && !is_const(g, c)))
                return node_err(err, nd,
                                "the gpu kernels take 1-D convolutions with stride 1, "
                                "dilation 1, group 1 and constant weights");
            const onnx_tensor *W = &g->tensors[b];
            if (net->n_layers == GPU_MAX_LAYERS)
                return node_err(err, nd, "too many layers");
            gpu_flayer *L = &net->l[net->n_layers++];
            memset(L, 0, sizeof *L);
            L->kind = GPU_F_CONV1D;
            L->ic = chan;
            L->iw = len;
            L->oc = (int)W->shape[0];
            L->k = (int)ks[0];
            L->pad_l = npd == 2 ? (int)pads[0] : 0;
            L->ow = len + (npd == 2 ? (int)(pads[0] + pads[1]) : 0) - L->k + 1;
            if (W->shape[1] != chan || L->ow < 1 || out->rank != 3 || out->shape[2] != L->ow)
                return node_err(err, nd, "unexpected weight or output shape");
            L->n_in = chan * len;
            L->n_out = L->oc * L->ow;
            L->w_off = params_add(Pp, &np, &cap, (int64_t)L->oc * chan * L->k);
            L->b_off = params_add(Pp, &np, &cap, L->oc);
            P = *Pp;
            if (L->w_off < 0 || L->b_off < 0) {
                return seterr(err, NGT_ENOMEM, "out of memory");
            }
            for (int64_t i = 0; i < (int64_t)L->oc * chan * L->k; i++)
                P[L->w_off + i] = onnx_elem_f(W->data, W->dtype, (size_t)i);
            for (int j = 0; c >= 0 && j < L->oc; j++)
                P[L->b_off + j] = onnx_elem_f(g->tensors[c].data, g->tensors[c].dtype, (size_t)j);
            chan = L->oc;
            len = L->ow;
            break;
        }
        default:
            return node_err(err, nd,
                            "no gpu kernel for this operator (Gemm, MatMul, Add bias, "
                            "Conv 1-D, Relu, Sigmoid, Tanh, Reshape)");
        }
        cur = nd->out[0];
        width = onnx_tensor_elems(out);
        if (out->rank == 3 && nd->op == ONNX_OP_RESHAPE) {
            chan = (int)out->shape[1];
            len = (int)out->shape[2];
        } else if (nd->op == ONNX_OP_RESHAPE) {
            chan = 1;
            len = 0;
        }
    }
    if (cur != g->outputs[0] || net->n_layers == 0) {
        return seterr(err, NGT_EUNSUPPORTED,
                      "gpu: the graph's output is not the end of a "
                      "chain of layers");
    }
    net->n_params = np;
    net->n_out = net->l[net->n_layers - 1].n_out;
    net->max_act = net->n_in;
    for (int k = 0; k < net->n_layers; k++)
        if (net->l[k].n_out > net->max_act)
            net->max_act = net->l[k].n_out;
    m->params = P;
    *Pp = NULL;
    m->param_bytes = (size_t)np * sizeof(float);
    m->max_act = net->max_act;
    return NGT_OK;
}

static int build_float(gpu_model *m, const onnx_graph *g, ngt_error *err)
{
    float *P = calloc(1024, sizeof *P);
    if (!P)
        return seterr(err, NGT_ENOMEM, "out of memory");
    int rc = build_float_layers(m, g, &P, err);
    free(P); /* NULL once the model owns it */
    return rc;
}

/* ---- fixed point: the hls backend's layers ------------------------------------------------------
 */

static int xlayer_err(ngt_error *err, const hls_layer *l, const char *why)
{
    return seterr(err, NGT_EUNSUPPORTED, "gpu: layer '%s': %s", l->name, why);
}

/* Takes the hls model's layers (types, raw weights, tables) as they are. */
static int flatten_fixed(gpu_model *m, const hls_model *h, ngt_error *err)
{
    gpu_xnet *net = &m->xnet;
    if (h->n_layers > GPU_MAX_LAYERS)
        return seterr(err, NGT_EUNSUPPORTED, "gpu: %d layers (at most %d)", h->n_layers,
                      GPU_MAX_LAYERS);
    if (h->out_layer != h->n_layers - 1)
        return seterr(err, NGT_EUNSUPPORTED, "gpu: the output must be the last layer");
    int64_t np = 0;
    for (int k = 0; k < h->n_layers; k++) {
        const hls_layer *l = &h->layers[k];
        if (l->kind == HLS_L_DENSE || l->kind == HLS_L_CONV)
            np += (int64_t)l->n_out * l->n_ops + l->n_out;
        if (l->kind == HLS_L_SIGMOID || l->kind == HLS_L_TANH)
            np += l->table_size;
    }
    int64_t *P = calloc((size_t)(np ? np : 1), sizeof *P);
    if (!P)
        return seterr(err, NGT_ENOMEM, "out of memory");
    m->params = P;
    m->param_bytes = (size_t)np * sizeof *P;
    int64_t at = 0;
    for (int k = 0; k < h->n_layers; k++) {
        const hls_layer *l = &h->layers[k];
        gpu_xlayer *L = &net->l[k];
        memset(L, 0, sizeof *L);
        L->size = (int)l->size;
        L->c = l->w ? l->c : (int)l->size;
        L->w = l->w ? l->h * l->w : 1;
        L->res = l->res;
        L->acc = l->acc;
        L->wt = l->wt;
        L->bt = l->bt;
        L->tab = l->tab;
        if (l->w && l->h != 1)
            return xlayer_err(err, l, "2-D layers have no gpu kernel");
        if (k == 0) {
            if (l->kind != HLS_L_INPUT)
                return xlayer_err(err, l, "the first layer must be the input");
            L->kind = GPU_X_INPUT;
            continue;
        }
        if (l->n_in_t != 1 || l->in[0] != k - 1)
            return xlayer_err(err, l, "the gpu kernels take a chain of layers");
        L->xt = h->layers[k - 1].res;
        switch (l->kind) {
        case HLS_L_DENSE:
        case HLS_L_CONV:
            L->kind = l->kind == HLS_L_DENSE ? GPU_X_DENSE : GPU_X_CONV1D;
            L->n_ops = l->n_ops;
            L->n_out = l->n_out;
            L->fast = l->fast || l->fast32;
            L->w_off = at;
            memcpy(P + at, l->wq, (size_t)l->n_out * (size_t)l->n_ops * sizeof *P);
            at += (int64_t)l->n_out * l->n_ops;
            L->b_off = at;
            memcpy(P + at, l->bq, (size_t)l->n_out * sizeof *P);
            at += l->n_out;
            if (L->kind == GPU_X_CONV1D) {
                L->ic = l->ic;
                L->iw = l->iw;
                L->k = l->kw;
                L->pad_l = l->pl;
                if (l->kh != 1 || l->n_ops != l->ic * l->kw)
                    return xlayer_err(err, l, "only 1-D convolutions have a gpu kernel");
                /* the kernel computes the taps (stride 1, dilation 1): they must be hls's */
                for (int p = 0; p < L->w; p++)
                    for (int i = 0; i < l->n_ops; i++) {
                        int kk = i / l->ic, ci = i % l->ic, q = p + kk - l->pl;
                        int want = q >= 0 && q < l->iw ? q * l->ic + ci : -1;
                        if (l->taps[(size_t)p * l->n_ops + i] != want)
                            return xlayer_err(err, l,
                                              "convolutions with a stride or dilation "
                                              "have no gpu kernel");
                    }
            }
            break;
        case HLS_L_RELU:
            L->kind = GPU_X_RELU;
            break;
        case HLS_L_SIGMOID:
        case HLS_L_TANH:
            L->kind = GPU_X_TABLE;
            L->span = l->kind == HLS_L_SIGMOID ? 16 : 8;
            L->table_size = l->table_size;
            L->t_off = at;
            memcpy(P + at, l->table, (size_t)l->table_size * sizeof *P);
            at += l->table_size;
            break;
        default:
            return xlayer_err(err, l,
                              "no gpu kernel for this layer kind (Dense, Conv1D, ReLU, "
                              "Sigmoid, Tanh)");
        }
    }
    net->n_layers = h->n_layers;
    net->n_params = np;
    const hls_layer *i0 = &h->layers[0], *o = &h->layers[h->n_layers - 1];
    net->in_c = i0->w ? i0->c : (int)i0->size;
    net->in_hw = i0->w ? i0->h * i0->w : 1;
    net->out_c = o->w ? o->c : (int)o->size;
    net->out_hw = o->w ? o->h * o->w : 1;
    net->n_in = (int)i0->size;
    net->n_out = (int)o->size;
    net->max_act = 1;
    for (int k = 0; k < h->n_layers; k++)
        if (h->layers[k].size > net->max_act)
            net->max_act = (int)h->layers[k].size;
    m->max_act = net->max_act;
    return NGT_OK;
}

/* ---- the kernel's shape ------------------------------------------------------------------------
 */

gpu_shape gpu_pick_shape(int64_t param_bytes, int act_bytes_per_event)
{
    gpu_shape s;
    size_t budget = GPU_SMEM_BUDGET, act = (size_t)act_bytes_per_event;
    s.threads = GPU_THREADS;
    s.params_shared = (size_t)param_bytes + act <= budget;
    size_t room = s.params_shared ? budget - (size_t)param_bytes : budget;
    size_t eb = room / (act ? act : 1);
    s.events_per_block = eb < 1 ? 1 : eb > 64 ? 64 : (int)eb;
    s.smem_bytes =
        (s.params_shared ? (size_t)param_bytes : 0) + (size_t)s.events_per_block * act + 64;
    return s;
}

static void set_shape(gpu_model *m)
{
    size_t elt = m->fixed ? sizeof(int64_t) : sizeof(float);
    int64_t n_params = m->fixed ? m->xnet.n_params : m->fnet.n_params;
    int64_t pw = (n_params + 7) / 8 * 8; /* the kernel's padded parameter block */
    m->shape = gpu_pick_shape(pw * (int64_t)elt, (int)(2 * (size_t)m->max_act * elt));
}

/* ---- slots and completion ----------------------------------------------------------------------
 */

static void slot_free(gpu_model *m, gpu_slot *s)
{
    if (!m->emulate)
        gpu_slot_dev_free(s);
    else
        afree(s->h_out);
    afree(s->emu);
    free(s);
}

/* A free slot of at least n events; a new one only when none is free (the first batches). */
static gpu_slot *slot_get(gpu_model *m, int n, ngt_error *err)
{
    pthread_mutex_lock(&m->mu);
    gpu_slot **pp = &m->free_slots;
    while (*pp && (*pp)->cap < n)
        pp = &(*pp)->next;
    gpu_slot *s = *pp;
    if (s)
        *pp = s->next;
    pthread_mutex_unlock(&m->mu);
    if (s)
        return s;
    s = calloc(1, sizeof *s);
    if (!s) {
        seterr(err, NGT_ENOMEM, "out of memory");
        return NULL;
    }
    s->m = m;
    s->cap = (n + 255) / 256 * 256;
    int rc = NGT_OK;
    if (m->emulate) {
        s->h_out = aalloc((size_t)s->cap * m->out_bytes);
        s->emu = aalloc(gpu_emu_bytes(m, s->cap));
        if (!s->h_out || !s->emu)
            rc = seterr(err, NGT_ENOMEM, "out of memory for a gpu slot");
    } else {
        rc = gpu_slot_dev_alloc(m, s, s->cap, err);
    }
    if (rc == NGT_OK) {
        pthread_mutex_lock(&m->mu);
        if (m->n_slots == m->cap_slots) {
            int c = m->cap_slots ? 2 * m->cap_slots : 16;
            gpu_slot **a = realloc(m->all_slots, (size_t)c * sizeof(gpu_slot *));
            if (a) {
                m->all_slots = a;
                m->cap_slots = c;
            }
        }
        if (m->n_slots < m->cap_slots)
            m->all_slots[m->n_slots++] = s;
        else
            rc = seterr(err, NGT_ENOMEM, "out of memory");
        pthread_mutex_unlock(&m->mu);
    }
    if (rc != NGT_OK) {
        slot_free(m, s);
        return NULL;
    }
    return s;
}

static void slot_put(gpu_model *m, gpu_slot *s)
{
    pthread_mutex_lock(&m->mu);
    s->abandoned = 0;
    s->next = m->free_slots;
    m->free_slots = s;
    pthread_mutex_unlock(&m->mu);
}

void gpu_slot_device_done(gpu_slot *s)
{
    gpu_model *m = s->m;
    pthread_mutex_lock(&m->mu);
    s->busy = 0;
    int abandoned = s->abandoned;
    ngt_infer_done_fn done = s->done;
    void *user = s->user;
    int status = s->status;
    pthread_mutex_unlock(&m->mu);
    if (abandoned)
        slot_put(m, s); /* its end came first (a timeout) */
    else if (done)
        done(user, status); /* after this the slot belongs to infer_end */
}

/* The emulation's helper thread: the device's stand-in, one op at a time in order. */
static void *emu_main(void *arg)
{
    gpu_model *m = arg;
    pthread_mutex_lock(&m->mu);
    for (;;) {
        while (!m->emu_head && !m->emu_stop)
            pthread_cond_wait(&m->emu_cv, &m->mu);
        if (!m->emu_head)
            break;
        gpu_slot *s = m->emu_head;
        m->emu_head = s->next;
        if (!m->emu_head)
            m->emu_tail = NULL;
        pthread_mutex_unlock(&m->mu);
        if (m->delay_s > 0) {
            struct timespec ts = {(time_t)m->delay_s,
                                  (long)((m->delay_s - floor(m->delay_s)) * 1e9)};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
        }
        gpu_emu_run(m, s->emu, s->in, s->h_out, s->n);
        s->status = NGT_OK;
        gpu_slot_device_done(s);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- backend entries ---------------------------------------------------------------------------
 */

static void gpu_unload(void *model)
{
    gpu_model *m = model;
    if (!m)
        return;
    if (m->emu_running) {
        pthread_mutex_lock(&m->mu);
        m->emu_stop = 1;
        pthread_cond_signal(&m->emu_cv);
        pthread_mutex_unlock(&m->mu);
        pthread_join(m->emu_thread, NULL);
    }
    if (!m->emulate)
        gpu_dev_unload(m);
    for (int i = 0; i < m->n_slots; i++)
        slot_free(m, m->all_slots[i]);
    free(m->all_slots);
    free(m->params);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->emu_cv);
    free(m);
}

static int gpu_load(const char *path, const char *options, void **out, ngt_error *err)
{
    gpu_opts o;
    int rc = parse_opts(options, &o, err);
    if (rc < 0)
        return rc;
    if (!o.emulate && (rc = gpu_device_check(err)) < 0)
        return rc;
    if (o.delay_ms > 0 && !o.emulate)
        return seterr(err, NGT_EINVAL, "gpu: delay_ms= is for emulate=1 only");
    gpu_model *m = calloc(1, sizeof *m);
    if (!m)
        return seterr(err, NGT_ENOMEM, "out of memory");
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->emu_cv, NULL);
    m->emulate = 1; /* until the device is set up, unload must not touch it */
    m->delay_s = o.delay_ms / 1000.0;
    m->gemm_tile = o.tile;
    onnx_graph *g = onnx_read_file(path, err);
    if (!g) {
        gpu_unload(m);
        return err && err->code < 0 ? err->code : NGT_EFORMAT;
    }
    onnx_describe(g, 0, &m->desc);
    if (m->desc.n_inputs != 1 || m->desc.n_outputs != 1 || m->desc.inputs[0].dtype != NGT_F32 ||
        m->desc.outputs[0].dtype != NGT_F32)
        rc = seterr(err, NGT_EUNSUPPORTED,
                    "gpu: models with one f32 input and one f32 "
                    "output only");
    else if (o.precision) {
        m->fixed = 1;
        hls_cfg *cfg = hls_cfg_load(o.precision, err);
        hls_model *h = cfg ? calloc(1, sizeof *h) : NULL;
        if (!cfg)
            rc = err && err->code < 0 ? err->code : NGT_EFORMAT;
        else if (!h)
            rc = seterr(err, NGT_ENOMEM, "out of memory");
        else {
            h->g = g; /* the hls model owns the graph from here */
            g = NULL;
            rc = hls_build(h, cfg, err);
            if (rc >= 0)
                rc = flatten_fixed(m, h, err);
        }
        hls_cfg_free(cfg);
        if (h)
            hls_model_free(h);
        if (o.gemm == 2 && rc >= 0)
            rc = seterr(err, NGT_EINVAL, "gpu: gemm=cublas is for float models");
    } else {
        rc = build_float(m, g, err);
    }
    onnx_graph_free(g);
    if (rc >= 0) {
        set_shape(m);
        int act_fit = (size_t)2 * (size_t)m->max_act * (m->fixed ? 8 : 4) + 64 <= 200 * 1024;
        m->layerwise = !m->fixed && (o.gemm == 2 || (o.gemm == 0 && !m->shape.params_shared));
        if (!act_fit)
            rc = seterr(err, NGT_EUNSUPPORTED,
                        "gpu: a layer of %d values per event is too "
                        "wide for the kernels",
                        m->max_act);
        m->in_bytes = (size_t)m->desc.inputs[0].rank >= 0
                          ? (size_t)(m->fixed ? m->xnet.n_in : m->fnet.n_in) * sizeof(float)
                          : 0;
        m->out_bytes = (size_t)(m->fixed ? m->xnet.n_out : m->fnet.n_out) * sizeof(float);
        m->desc.batch_invariant = !(m->layerwise && m->gemm_tile == 0);
    }
    if (rc >= 0 && !o.emulate) {
        m->emulate = 0;
        rc = gpu_dev_load(m, err);
    }
    if (rc >= 0 && o.emulate) {
        if (pthread_create(&m->emu_thread, NULL, emu_main, m) != 0)
            rc = seterr(err, NGT_ENOMEM, "gpu: cannot start the emulation thread");
        else
            m->emu_running = 1;
    }
    if (rc < 0) {
        gpu_unload(m);
        return rc;
    }
    *out = m;
    return NGT_OK;
}

static int gpu_describe(const void *model, ngt_model_desc *desc)
{
    *desc = ((const gpu_model *)model)->desc;
    return NGT_OK;
}

static size_t gpu_workspace_size(const void *model, int max_batch)
{
    (void)model;
    (void)max_batch;
    return 64; /* the slots hold everything */
}

static int gpu_infer_start(const void *model, const void *const *inputs, int n, int lane,
                           ngt_infer_done_fn done, void *user, void **op, ngt_error *err)
{
    gpu_model *m = (gpu_model *)model;
    if (n <= 0)
        return seterr(err, NGT_EINVAL, "gpu: %d events", n);
    gpu_slot *s = slot_get(m, n, err);
    if (!s)
        return err && err->code < 0 ? err->code : NGT_ENOMEM;
    s->n = n;
    s->lane = lane;
    s->in = inputs[0];
    s->done = done;
    s->user = user;
    s->status = NGT_OK;
    s->busy = 1;
    s->abandoned = 0;
    *op = s;
    if (m->emulate) {
        pthread_mutex_lock(&m->mu);
        s->next = NULL;
        if (m->emu_tail)
            m->emu_tail->next = s;
        else
            m->emu_head = s;
        m->emu_tail = s;
        pthread_cond_signal(&m->emu_cv);
        pthread_mutex_unlock(&m->mu);
        return NGT_PENDING;
    }
    int rc = gpu_dev_start(m, s, inputs[0], n, err);
    if (rc < 0) {
        /* a failed enqueue may leave the copy in running: wait for the lane before the slot
         * is reused (no host callback was queued) */
        gpu_dev_drain(m, s);
        s->busy = 0;
        slot_put(m, s);
        return rc;
    }
    return NGT_PENDING;
}

static int gpu_infer_end(const void *model, void *op, void *const *outputs, int n, int status,
                         ngt_error *err)
{
    gpu_model *m = (gpu_model *)model;
    gpu_slot *s = op;
    pthread_mutex_lock(&m->mu);
    int busy = s->busy;
    if (busy)
        s->abandoned = 1; /* the completion recycles it */
    pthread_mutex_unlock(&m->mu);
    if (busy)
        return status < 0 ? status : seterr(err, NGT_ESTATE, "gpu: ended before completion");
    int rc = status;
    if (rc == NGT_OK && !m->emulate)
        rc = gpu_dev_status(s, err);
    if (rc == NGT_OK && n != s->n)
        rc = seterr(err, NGT_EINVAL, "gpu: ended with %d events, started with %d", n, s->n);
    if (rc == NGT_OK)
        memcpy(outputs[0], s->h_out, (size_t)n * m->out_bytes);
    slot_put(m, s);
    return rc;
}

/* The synchronous entry (ngt infer, registry_infer, hosts): start, wait, end. */
typedef struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, status;
} sync_wait;

static void sync_done(void *user, int status)
{
    sync_wait *w = user;
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    w->status = status;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static int gpu_infer(const void *model, void *workspace, const void *const *inputs,
                     void *const *outputs, int n, ngt_error *err)
{
    (void)workspace;
    if (n == 0)
        return NGT_OK;
    sync_wait w = {.done = 0, .status = NGT_OK};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    void *op = NULL;
    int rc = gpu_infer_start(model, inputs, n, -1, sync_done, &w, &op, err);
    if (rc == NGT_PENDING) {
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        rc = gpu_infer_end(model, op, outputs, n, w.status, err);
    }
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return rc;
}

static int gpu_host_memory(void *p, size_t bytes, int attach)
{
    return gpu_host_register(p, bytes, attach);
}

static const ngt_backend GPU_BACKEND = {
    .name = "gpu",
    .load = gpu_load,
    .describe = gpu_describe,
    .workspace_size = gpu_workspace_size,
    .infer = gpu_infer,
    .unload = gpu_unload,
    .infer_start = gpu_infer_start,
    .infer_end = gpu_infer_end,
    .host_memory = gpu_host_memory,
};

const ngt_backend *gpu_backend(void)
{
    return &GPU_BACKEND;
}

/* For tests and the bench: the model's kernel shape and path. */
const char *gpu_model_path(const void *model)
{
    const gpu_model *m = model;
    return m->fixed ? "fixed" : m->layerwise ? "cublas" : "fused";
}

/* For bench/gpu: one timed inference on the device (copy in, kernels, copy out, in ms). */
int gpu_bench_once(void *model, const float *in, float *out, int n, double ms[3], ngt_error *err)
{
    gpu_model *m = model;
    if (m->emulate)
        return seterr(err, NGT_EINVAL, "gpu: the bench times the device, not the emulation");
    gpu_slot *s = slot_get(m, n, err);
    if (!s)
        return err && err->code < 0 ? err->code : NGT_ENOMEM;
    int rc = gpu_dev_timed(m, s, in, out, n, ms, err);
    slot_put(m, s);
    return rc;
}
