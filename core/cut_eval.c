/* cut_eval.c: block evaluator of compiled cuts: gathers the selected rows of a block of events
 * into double registers once, then runs each instruction as a plain loop over the whole block. */
#include "cut_int.h"

#include "cut_sem.h"

#include <math.h>
#include <stdbool.h>

typedef struct block {
    ngt_batch *b;
    const uint32_t *sel; /* the block's events */
    int n;               /* events in the block */
    int stride;          /* doubles between registers' starts, per register width unit */
    double *scratch;
} block;

static double *reg(const block *k, int r)
{
    return k->scratch + (size_t)r * (size_t)k->stride;
}

/* ---- Loads -------------------------------------------------------------------------------- */

#define GATHER(T, CONV)                                                                            \
    do {                                                                                           \
        const T *src = base;                                                                       \
        for (int e = 0; e < k->n; e++) {                                                           \
            const T *row = src + (size_t)k->sel[e] * rowlen + in->off;                             \
            double *out = d + (size_t)e * w;                                                       \
            for (int j = 0; j < w; j++)                                                            \
                out[j] = CONV(row[j]);                                                             \
        }                                                                                          \
    } while (0)
#define AS_DOUBLE(v) ((double)(v))
#define AS_BOOL(v) ((v) != 0 ? 1.0 : 0.0)

static void op_load(const block *k, const cut_ins *in)
{
    const void *base = ngt_batch_column(k->b, in->col);
    double *d = reg(k, in->dst);
    int w = in->w;
    size_t rowlen = (size_t)in->k;
    switch ((ngt_dtype)in->dtype) {
    case NGT_F32:
        GATHER(float, AS_DOUBLE);
        break;
    case NGT_F64:
        GATHER(double, AS_DOUBLE);
        break;
    case NGT_I8:
        GATHER(int8_t, AS_DOUBLE);
        break;
    case NGT_I16:
        GATHER(int16_t, AS_DOUBLE);
        break;
    case NGT_I32:
        GATHER(int32_t, AS_DOUBLE);
        break;
    case NGT_I64:
        GATHER(int64_t, AS_DOUBLE);
        break;
    case NGT_U8:
        GATHER(uint8_t, AS_DOUBLE);
        break;
    case NGT_U16:
        GATHER(uint16_t, AS_DOUBLE);
        break;
    case NGT_U32:
        GATHER(uint32_t, AS_DOUBLE);
        break;
    case NGT_U64:
        GATHER(uint64_t, AS_DOUBLE);
        break;
    default:
        GATHER(uint8_t, AS_BOOL);
        break;
    }
}

/* Element i of an array of dtype t, as a double. */
static double element(const void *p, ngt_dtype t, size_t i)
{
    switch (t) {
    case NGT_F32:
        return ((const float *)p)[i];
    case NGT_F64:
        return ((const double *)p)[i];
    case NGT_I8:
        return ((const int8_t *)p)[i];
    case NGT_I16:
        return ((const int16_t *)p)[i];
    case NGT_I32:
        return ((const int32_t *)p)[i];
    case NGT_I64:
        return (double)((const int64_t *)p)[i];
    case NGT_U8:
        return ((const uint8_t *)p)[i];
    case NGT_U16:
        return ((const uint16_t *)p)[i];
    case NGT_U32:
        return ((const uint32_t *)p)[i];
    case NGT_U64:
        return (double)((const uint64_t *)p)[i];
    default:
        return ((const uint8_t *)p)[i] != 0;
    }
}

static void fill(double *d, int n, double v)
{
    for (int e = 0; e < n; e++)
        d[e] = v;
}

static void op_load_scalar(const block *k, const cut_ins *in)
{
    fill(reg(k, in->dst), k->n, element(ngt_batch_column(k->b, in->col), in->dtype, 0));
}

/* Object counts clamped to [0, max]. */
static void op_load_count(const block *k, const cut_ins *in)
{
    const void *base = ngt_batch_column(k->b, in->col);
    double *d = reg(k, in->dst), max = in->k;
    for (int e = 0; e < k->n; e++) {
        double v = in->dtype == NGT_I32 ? ((const int32_t *)base)[k->sel[e]]
                                        : element(base, in->dtype, k->sel[e]);
        d[e] = cuts_clamp_count(v, max);
    }
}

static void op_bcast(const block *k, const cut_ins *in)
{
    const double *a = reg(k, in->a);
    double *d = reg(k, in->dst);
    for (int e = 0; e < k->n; e++)
        for (int j = 0; j < in->w; j++)
            d[(size_t)e * in->w + j] = a[e];
}

static void op_slice(const block *k, const cut_ins *in)
{
    const double *a = reg(k, in->a);
    double *d = reg(k, in->dst);
    for (int e = 0; e < k->n; e++)
        for (int j = 0; j < in->w; j++)
            d[(size_t)e * in->w + j] = a[(size_t)e * in->wa + in->off + j];
}

static void op_nanif(const block *k, const cut_ins *in)
{
    const double *a = reg(k, in->a), *n = reg(k, in->n);
    double *d = reg(k, in->dst);
    for (int e = 0; e < k->n; e++)
        d[e] = in->k < n[e] ? a[(size_t)e * in->wa + in->off] : in->imm;
}

/* ---- Elementwise -------------------------------------------------------------------------- */

#define BINARY(F)                                                                                  \
    do {                                                                                           \
        if (wa == wb) {                                                                            \
            for (size_t i = 0; i < (size_t)n * w; i++)                                             \
                d[i] = F(a[i], b[i]);                                                              \
        } else if (wa == 1) {                                                                      \
            for (int e = 0; e < n; e++)                                                            \
                for (int j = 0; j < w; j++)                                                        \
                    d[(size_t)e * w + j] = F(a[e], b[(size_t)e * w + j]);                          \
        } else {                                                                                   \
            for (int e = 0; e < n; e++)                                                            \
                for (int j = 0; j < w; j++)                                                        \
                    d[(size_t)e * w + j] = F(a[(size_t)e * w + j], b[e]);                          \
        }                                                                                          \
    } while (0)

static void op_binary(const block *k, const cut_ins *in)
{
    const double *a = reg(k, in->a), *b = reg(k, in->b);
    double *d = reg(k, in->dst);
    int n = k->n, w = in->w, wa = in->wa, wb = in->wb;
    switch (in->op) {
    case OP_ADD:
        BINARY(cuts_add);
        break;
    case OP_SUB:
        BINARY(cuts_sub);
        break;
    case OP_MUL:
        BINARY(cuts_mul);
        break;
    case OP_DIV:
        BINARY(cuts_div);
        break;
    case OP_POW:
        BINARY(cuts_pow);
        break;
    case OP_LT:
        BINARY(cuts_lt);
        break;
    case OP_LE:
        BINARY(cuts_le);
        break;
    case OP_GT:
        BINARY(cuts_gt);
        break;
    case OP_GE:
        BINARY(cuts_ge);
        break;
    case OP_EQ:
        BINARY(cuts_eq);
        break;
    case OP_NE:
        BINARY(cuts_ne);
        break;
    case OP_AND:
        BINARY(cuts_and);
        break;
    case OP_OR:
        BINARY(cuts_or);
        break;
    case OP_MIN:
        BINARY(cuts_min);
        break;
    default:
        BINARY(cuts_max);
        break;
    }
}

static void op_unary(const block *k, const cut_ins *in)
{
    const double *a = reg(k, in->a);
    double *d = reg(k, in->dst);
    size_t n = (size_t)k->n * (size_t)in->w;
    switch (in->op) {
    case OP_NEG:
        for (size_t i = 0; i < n; i++)
            d[i] = cuts_neg(a[i]);
        break;
    case OP_NOT:
        for (size_t i = 0; i < n; i++)
            d[i] = cuts_not(a[i]);
        break;
    case OP_ABS:
        for (size_t i = 0; i < n; i++)
            d[i] = cuts_abs(a[i]);
        break;
    case OP_SQRT:
        for (size_t i = 0; i < n; i++)
            d[i] = cuts_sqrt(a[i]);
        break;
    default:
        for (size_t i = 0; i < n; i++)
            d[i] = cuts_square(a[i]);
        break;
    }
}

/* ---- Reductions --------------------------------------------------------------------------- */

static void op_reduce(const block *k, const cut_ins *in)
{
    const double *a = reg(k, in->a), *n = in->n >= 0 ? reg(k, in->n) : NULL;
    const double *m = in->m >= 0 ? reg(k, in->m) : NULL;
    double *d = reg(k, in->dst);
    size_t w = (size_t)in->wa;
    for (int e = 0; e < k->n; e++)
        d[e] =
            cuts_reduce(in->op - OP_RSUM, a + e * w, m ? m + e * w : NULL, n ? (int)n[e] : in->wa);
}

/* ---- Object pairs ------------------------------------------------------------------------- */

static void op_pair(const block *k, const cut_ins *in)
{
    const double *n = reg(k, in->n), *mask = in->m >= 0 ? reg(k, in->m) : NULL;
    double *d = reg(k, in->dst);
    size_t w = (size_t)in->wa;
    for (int e = 0; e < k->n; e++) {
        size_t o = (size_t)e * w;
        cuts_pair_in p = {in->r[0] >= 0 ? reg(k, in->r[0]) + o : NULL, reg(k, in->r[1]) + o,
                          reg(k, in->r[2]) + o, in->r[3] >= 0 ? reg(k, in->r[3]) + o : NULL};
        d[e] = cuts_pair(in->op - OP_MASS, &p, mask ? mask + o : NULL, (int)n[e], in->k, in->off);
    }
}

/* ---- Driver ------------------------------------------------------------------------------- */

static void exec(const block *k, const cut_ins *in)
{
    switch (in->op) {
    case OP_LOAD:
        op_load(k, in);
        break;
    case OP_LOADS:
        op_load_scalar(k, in);
        break;
    case OP_LOADN:
        op_load_count(k, in);
        break;
    case OP_CONST:
        fill(reg(k, in->dst), k->n, in->imm);
        break;
    case OP_BCAST:
        op_bcast(k, in);
        break;
    case OP_SLICE:
        op_slice(k, in);
        break;
    case OP_NANIF:
        op_nanif(k, in);
        break;
    case OP_NEG:
    case OP_NOT:
    case OP_ABS:
    case OP_SQRT:
    case OP_SQUARE:
        op_unary(k, in);
        break;
    case OP_MASS:
    case OP_DR:
    case OP_MAXMASS:
    case OP_MINDR:
        op_pair(k, in);
        break;
    default:
        if (in->op >= OP_RSUM)
            op_reduce(k, in);
        else
            op_binary(k, in);
    }
}

void cut_run(const cut_prog *prog, ngt_batch *b, const uint32_t *sel, int n, uint8_t *pass,
             double *scratch)
{
    int per_block = n < prog->block ? n : prog->block;
    block k = {b, sel, 0, cut_stride(prog, n), scratch};
    for (int start = 0; start < n; start += per_block) {
        k.sel = sel + start;
        k.n = n - start < per_block ? n - start : per_block;
        for (int i = 0; i < prog->n; i++)
            exec(&k, &prog->ins[i]);
        const double *r = reg(&k, prog->result);
        for (int e = 0; e < k.n; e++)
            pass[start + e] = r[e] != 0;
    }
}
