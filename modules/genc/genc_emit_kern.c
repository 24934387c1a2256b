/* genc_emit_kern.c: emits the fast layers: dense layers register-blocked over rows (events) and
 * output vectors, cblas_sgemm on whole tiles for large ones, and vector stride-1 convolutions. */
#include "genc/genc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int vec_width(genc_target t)
{
    return t == GENC_AVX512 ? 16 : t == GENC_AVX2 ? 8 : 1;
}

static int vec_regs(genc_target t)
{
    return t == GENC_AVX512 ? 32 : 16;
}

const char *genc_flit(char *buf, float v)
{
    if (isnan(v))
        snprintf(buf, 48, "NAN");
    else if (isinf(v))
        snprintf(buf, 48, v > 0 ? "INFINITY" : "-INFINITY");
    else
        snprintf(buf, 48, "%af", (double)v);
    return buf;
}

void genc_emit_floats(genc_buf *c, const char *name, const float *v, size_t n)
{
    genc_printf(c, "static const float %s[%zu] __attribute__((aligned(64))) = {", name, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        if (i % 6 == 0)
            genc_puts(c, "\n    ");
        if (isnan(v[i]))
            genc_puts(c, "NAN, ");
        else if (isinf(v[i]))
            genc_puts(c, v[i] > 0 ? "INFINITY, " : "-INFINITY, ");
        else
            genc_printf(c, "%af, ", (double)v[i]);
    }
    genc_puts(c, n ? "\n};\n" : "0};\n");
}

/* The activation of a step applied to vector variable v. */
static void emit_act(genc_buf *c, const genc_step *s, const char *v)
{
    switch (s->act) {
    case GENC_A_RELU:
        genc_printf(c, "%s = GMAX(%s, GSET1(0.0f)); ", v, v);
        break;
    case GENC_A_LEAKY:
        genc_printf(c, "%s = GLEAKY(%s, %af); ", v, v, (double)s->alpha);
        break;
    case GENC_A_CLIP:
        if (!isinf(s->lo))
            genc_printf(c, "%s = GMAX(%s, GSET1(%af)); ", v, v, (double)s->lo);
        if (!isinf(s->hi))
            genc_printf(c, "%s = GMIN(%s, GSET1(%af)); ", v, v, (double)s->hi);
        break;
    default:
        break;
    }
}

/* One block of e rows by v vectors from output column j0, over all K. */
static void dense_block(genc_buf *c, const genc_step *s, int idx, int np, int e, int v, int j0,
                        int gw, int unroll)
{
    genc_puts(c, "        {\n");
    for (int a = 0; a < e; a++)
        for (int b = 0; b < v; b++)
            genc_printf(c, "        gv a%d_%d = GLOAD(b%d + %d);\n", a, b, idx, j0 + b * gw);
    if (unroll > 1) /* fewer loop instructions beside the FMAs (4-wide front ends) */
        genc_printf(c, "        _Pragma(\"GCC unroll %d\")\n", unroll);
    genc_printf(c, "        for (int k = 0; k < %d; k++) {\n", s->K);
    genc_printf(c, "            const float *wk = w%d + k * %d + %d;\n", idx, np, j0);
    for (int b = 0; b < v; b++)
        genc_printf(c, "            gv w_%d = GLOAD(wk + %d);\n", b, b * gw);
    for (int a = 0; a < e; a++) {
        genc_printf(c, "            gv x_%d = GSET1(x[(r + %d) * %d + k]);\n", a, a, s->K);
        for (int b = 0; b < v; b++)
            genc_printf(c, "            a%d_%d = GFMA(x_%d, w_%d, a%d_%d);\n", a, b, a, b, a, b);
    }
    genc_puts(c, "        }\n");
    for (int a = 0; a < e; a++)
        for (int b = 0; b < v; b++) {
            char var[32];
            snprintf(var, sizeof var, "a%d_%d", a, b);
            int col = j0 + b * gw, left = s->N - col;
            genc_puts(c, "        ");
            emit_act(c, s, var);
            if (left >= gw)
                genc_printf(c, "GSTORE(y + (r + %d) * %d + %d, %s);\n", a, s->N, col, var);
            else
                genc_printf(c, "GSTOREN(y + (r + %d) * %d + %d, %s, %d);\n", a, s->N, col, var,
                            left);
        }
    genc_puts(c, "        }\n");
}

enum { UNROLL = 4 };

static void dense_blas(const genc_plan *p, const genc_step *s, int idx, genc_buf *c)
{
    int M = p->tile * s->rows;
    genc_printf(c, "static void L%d(const float *x, float *y, int ne)\n{\n    (void)ne;\n", idx);
    genc_printf(c, "    for (int r = 0; r < %d; r++)\n        memcpy(y + r * %d, b%d, %zu);\n", M,
                s->N, idx, sizeof(float) * (size_t)s->N);
    genc_printf(c,
                "    cblas_sgemm(101, 111, 111, %d, %d, %d, 1.0f, x, %d, w%d, %d, 1.0f, y, %d);\n",
                M, s->N, s->K, s->K, idx, s->N, s->N);
    if (s->act != GENC_A_NONE) {
        genc_printf(c, "    for (int i = 0; i < %d; i++) {\n        float v = y[i]; ", M * s->N);
        if (s->act == GENC_A_RELU)
            genc_puts(c, "v = v < 0 ? 0.0f : v;");
        else if (s->act == GENC_A_LEAKY)
            genc_printf(c, "v = v < 0 ? v * %af : v;", (double)s->alpha);
        else {
            char lo[48], hi[48];
            genc_printf(c, "v = v < %s ? %s : v > %s ? %s : v;", genc_flit(lo, s->lo),
                        genc_flit(lo, s->lo), genc_flit(hi, s->hi), genc_flit(hi, s->hi));
        }
        genc_puts(c, " y[i] = v;\n    }\n");
    }
    genc_puts(c, "}\n\n");
}

void genc_emit_dense(const genc_plan *p, const genc_step *s, int idx, genc_buf *c)
{
    int gw = vec_width(p->target), nv = (s->N + gw - 1) / gw, np = s->blas ? s->N : nv * gw;
    /* weights padded to whole vectors with zeros */
    float *w = calloc((size_t)s->K * np + 1, sizeof(float)), *b = calloc((size_t)np + 1, 4);
    if (!w || !b) {
        c->oom = 1;
        free(w);
        free(b);
        return;
    }
    for (int k = 0; k < s->K; k++)
        for (int j = 0; j < s->N; j++)
            w[(size_t)k * np + j] = s->w[(size_t)k * s->N + j];
    for (int j = 0; j < s->N; j++)
        b[j] = s->b[j];
    char name[32];
    snprintf(name, sizeof name, "w%d", idx);
    genc_emit_floats(c, name, w, (size_t)s->K * np);
    snprintf(name, sizeof name, "b%d", idx);
    genc_emit_floats(c, name, b, (size_t)np);
    free(w);
    free(b);
    if (s->blas) {
        dense_blas(p, s, idx, c);
        return;
    }
    genc_printf(c, "static void L%d(const float *restrict x, float *restrict y, int ne)\n{\n", idx);
    genc_printf(c, "    int nr = ne * %d;\n", s->rows);
    if (genc_blocking_before()) { /* the blocking before the per-ISA shapes, to compare against */
        int vmax = p->target == GENC_AVX2 ? 3 : 4, regs = vec_regs(p->target);
        for (int v0 = 0; v0 < nv; v0 += vmax) {
            int v = nv - v0 < vmax ? nv - v0 : vmax, e = (regs - v - 2) / v;
            e = e > 8 ? 8 : e < 1 ? 1 : e;
            genc_printf(c, "    {\n        int r = 0;\n        for (; r + %d <= nr; r += %d)\n", e,
                        e);
            dense_block(c, s, idx, np, e, v, v0 * gw, gw, 1);
            genc_puts(c, "        for (; r < nr; r++)\n");
            dense_block(c, s, idx, np, 1, v, v0 * gw, gw, 1);
            genc_puts(c, "    }\n");
        }
        genc_puts(c, "}\n\n");
        return;
    }
    /* A few rows (batch 1): each row alone over up to wide vectors at once, as many independent
     * FMA chains as there are vectors (the weights as memory operands). */
    int wide = p->target == GENC_AVX2 ? 12 : 16;
    genc_puts(c, "    if (nr < 4) {\n");
    for (int v0 = 0; v0 < nv; v0 += wide) {
        int v = nv - v0 < wide ? nv - v0 : wide;
        genc_puts(c, "        for (int r = 0; r < nr; r++)\n");
        dense_block(c, s, idx, np, 1, v, v0 * gw, gw, UNROLL);
    }
    genc_puts(c, "        return;\n    }\n");
    /* Else passes over groups of v vectors, as even as the group limit allows, e rows at a time
     * with e * v sums + v weights + 1 input in the registers (AVX2: 3 x 4 or 2 x 6 of 16; AVX-512:
     * up to 4 x 6 or 3 x 8 of 32); the rows left in blocks of 4, 2, 1. */
    int vmax = p->target == GENC_AVX2 ? 3 : 4, regs = vec_regs(p->target);
    int passes = (nv + vmax - 1) / vmax;
    for (int k = 0, v0 = 0; k < passes; k++) {
        int v = (nv - v0 + (passes - k) - 1) / (passes - k), e = (regs - v - 1) / v;
        e = e > 8 ? 8 : e < 1 ? 1 : e;
        genc_printf(c, "    {\n        int r = 0;\n        for (; r + %d <= nr; r += %d)\n", e, e);
        dense_block(c, s, idx, np, e, v, v0 * gw, gw, UNROLL);
        for (int t = 4; t > 1; t /= 2)
            if (t < e) {
                genc_printf(c, "        if (r + %d <= nr) {\n", t);
                dense_block(c, s, idx, np, t, v, v0 * gw, gw, UNROLL);
                genc_printf(c, "        r += %d;\n        }\n", t);
            }
        genc_puts(c, "        for (; r < nr; r++)\n");
        dense_block(c, s, idx, np, 1, v, v0 * gw, gw, UNROLL);
        genc_puts(c, "    }\n");
        v0 += v;
    }
    genc_puts(c, "}\n\n");
}

/* NGT_GENC_BLOCKING=before: dense layers blocked as before the per-ISA shapes (bench/genc compares
 * the two in one run). */
int genc_blocking_before(void)
{
    const char *b = getenv("NGT_GENC_BLOCKING");
    return b && !strcmp(b, "before");
}

/* The dense blocking for a target, as text (benches print it). */
const char *genc_kernel_desc(genc_target t)
{
    if (genc_blocking_before())
        return t == GENC_AVX512 ? "before: up to 4 zmm x (32 - v - 2) / v rows, 1-row tails"
               : t == GENC_AVX2 ? "before: up to 3 ymm x (16 - v - 2) / v rows, 1-row tails"
                                : "before: scalar";
    return t == GENC_AVX512 ? "avx512: even groups of <= 4 zmm x (32 - v - 1) / v rows (<= 8), "
                              "tails of 4/2/1 rows; < 4 rows: 1 row x <= 16 zmm"
           : t == GENC_AVX2 ? "avx2: even groups of <= 3 ymm x (16 - v - 1) / v rows, tails of "
                              "4/2/1 rows; < 4 rows: 1 row x <= 12 ymm"
                            : "generic: scalar loops";
}

typedef struct cgeo {
    int C, H, W, M, OH, OW, KH, KW, sh, dh, dw, ph, pw, peh, pew, grp, HP, WP;
} cgeo;

static cgeo conv_geo(const genc_plan *p, const genc_step *s)
{
    const onnx_graph *g = p->g;
    const onnx_node *nd = &g->nodes[s->node];
    const onnx_tensor *x = &g->tensors[nd->in[0]], *y = &g->tensors[nd->out[0]];
    const int64_t *k, *st, *d, *pd;
    onnx_attr_ints(nd, "kernel_shape", &k);
    onnx_attr_ints(nd, "strides", &st);
    onnx_attr_ints(nd, "dilations", &d);
    onnx_attr_ints(nd, "pads", &pd);
    int two = x->rank == 4, r = x->rank;
    cgeo q = {.C = (int)x->shape[1],
              .H = two ? (int)x->shape[2] : 1,
              .W = (int)x->shape[r - 1],
              .M = (int)y->shape[1],
              .OH = two ? (int)y->shape[2] : 1,
              .OW = (int)y->shape[r - 1],
              .KH = two ? (int)k[0] : 1,
              .KW = (int)k[two],
              .sh = two ? (int)st[0] : 1,
              .dh = two ? (int)d[0] : 1,
              .dw = (int)d[two],
              .ph = two ? (int)pd[0] : 0,
              .pw = (int)pd[two],
              .peh = two ? (int)pd[2] : 0,
              .pew = (int)pd[two ? 3 : 1],
              .grp = (int)onnx_attr_int(nd, "group", 1)};
    q.HP = q.H + q.ph + q.peh;
    q.WP = q.W + q.pw + q.pew + 64;
    return q;
}

/* mb output channels from m by obv vectors of positions from ow, over the group's channels. */
static void conv_block(genc_buf *c, const genc_step *s, int idx, const cgeo *q, int mb, int obv,
                       int gw)
{
    int cg = q->C / q->grp;
    genc_puts(c, "            {\n");
    for (int a = 0; a < mb; a++)
        for (int o = 0; o < obv; o++)
            genc_printf(c, "            gv a%d_%d = GSET1(b%d[m + %d]);\n", a, o, idx, a);
    genc_printf(c, "            for (int ci = 0; ci < %d; ci++)\n", cg);
    genc_printf(c, "            for (int kh = 0; kh < %d; kh++)\n", q->KH);
    genc_printf(c, "            for (int kw = 0; kw < %d; kw++) {\n", q->KW);
    genc_printf(c,
                "                const float *xr = S + ((g0 + ci) * %d + oh * %d + kh * %d) * %d "
                "+ ow + kw * %d;\n",
                q->HP, q->sh, q->dh, q->WP, q->dw);
    genc_printf(c, "                const float *wr = w%d + ((m * %d + ci) * %d + kh) * %d + kw;\n",
                idx, cg, q->KH, q->KW);
    for (int o = 0; o < obv; o++)
        genc_printf(c, "                gv x_%d = GLOAD(xr + %d);\n", o, o * gw);
    for (int a = 0; a < mb; a++) {
        genc_printf(c, "                gv w_%d = GSET1(wr[%d]);\n", a, a * cg * q->KH * q->KW);
        for (int o = 0; o < obv; o++)
            genc_printf(c, "                a%d_%d = GFMA(w_%d, x_%d, a%d_%d);\n", a, o, a, o, a,
                        o);
    }
    genc_puts(c, "            }\n");
    for (int a = 0; a < mb; a++)
        for (int o = 0; o < obv; o++) {
            char var[32];
            snprintf(var, sizeof var, "a%d_%d", a, o);
            genc_puts(c, "            ");
            emit_act(c, s, var);
            genc_printf(c, "{ float *yp = y + ((m + %d) * %d + oh) * %d + ow + %d; ", a, q->OH,
                        q->OW, o * gw);
            genc_printf(c, "int left = %d - (ow + %d); ", q->OW, o * gw);
            genc_printf(c,
                        "if (left >= %d) GSTORE(yp, %s); else if (left > 0) GSTOREN(yp, %s, "
                        "left); }\n",
                        gw, var, var);
        }
    genc_puts(c, "            }\n");
}

void genc_emit_conv(const genc_plan *p, const genc_step *s, int idx, genc_buf *c)
{
    cgeo q = conv_geo(p, s);
    int gw = vec_width(p->target), cg = q.C / q.grp, mg = q.M / q.grp;
    int mbmax = p->target == GENC_AVX512 ? 6 : 4, obv = 2;
    char name[32];
    snprintf(name, sizeof name, "w%d", idx);
    genc_emit_floats(c, name, s->w, (size_t)q.M * cg * q.KH * q.KW);
    snprintf(name, sizeof name, "b%d", idx);
    genc_emit_floats(c, name, s->b, (size_t)q.M);
    genc_printf(
        c, "static void L%d(const float *restrict x, float *restrict y, int ne, float *S)\n{\n",
        idx);
    genc_printf(c, "    for (int e = 0; e < ne; e++, x += %d, y += %d) {\n", q.C * q.H * q.W,
                q.M * q.OH * q.OW);
    /* the event's input, padded: zero borders (and the slack whole vectors read), copy rows */
    genc_printf(c, "        for (int ch = 0; ch < %d; ch++)\n", q.C);
    genc_printf(c, "            for (int h = 0; h < %d; h++) {\n", q.HP);
    genc_printf(c, "                float *row = S + (ch * %d + h) * %d;\n", q.HP, q.WP);
    genc_printf(c, "                if (h < %d || h >= %d) { memset(row, 0, %zu); continue; }\n",
                q.ph, q.ph + q.H, sizeof(float) * (size_t)q.WP);
    if (q.pw)
        genc_printf(c, "                memset(row, 0, %zu);\n", sizeof(float) * (size_t)q.pw);
    genc_printf(c, "                memcpy(row + %d, x + (ch * %d + h - %d) * %d, %zu);\n", q.pw,
                q.H, q.ph, q.W, sizeof(float) * (size_t)q.W);
    genc_printf(c, "                memset(row + %d, 0, %zu);\n", q.pw + q.W,
                sizeof(float) * (size_t)(q.WP - q.pw - q.W));
    genc_puts(c, "            }\n");
    genc_printf(c, "        for (int gi = 0; gi < %d; gi++) {\n", q.grp);
    genc_printf(c, "        int g0 = gi * %d;\n        (void)g0;\n", cg);
    genc_printf(c, "        for (int oh = 0; oh < %d; oh++) {\n", q.OH);
    int mb = mg < mbmax ? mg : mbmax;
    if (mb < 1) /* a group has at least one output channel (checked at load) */
        mb = 1;
    int tail = mg % mb;
    genc_printf(c, "        int m = gi * %d;\n", mg);
    genc_printf(c, "        for (; m + %d <= gi * %d + %d; m += %d)\n", mb, mg, mg - tail, mb);
    genc_printf(c, "        for (int ow = 0; ow < %d; ow += %d)\n", q.OW, obv * gw);
    conv_block(c, s, idx, &q, mb, obv, gw);
    if (tail) {
        genc_printf(c, "        for (int ow = 0; ow < %d; ow += %d)\n", q.OW, obv * gw);
        conv_block(c, s, idx, &q, tail, obv, gw);
    }
    genc_puts(c, "        }\n        }\n    }\n}\n\n");
}
