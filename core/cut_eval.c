/* cut_eval.c: block evaluator of compiled cuts: gathers the selected rows of a block of events
 * into double registers once, then runs each instruction as a plain loop over the whole block. */
#include "cut_int.h"

#include <math.h>
#include <stdbool.h>

static const double PI = 3.14159265358979323846;
static const double TWO_PI = 6.28318530717958647692;

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
        d[e] = v > 0 ? (v < max ? v : max) : 0.0;
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

static inline double f_add(double x, double y)
{
    return x + y;
}
static inline double f_sub(double x, double y)
{
    return x - y;
}
static inline double f_mul(double x, double y)
{
    return x * y;
}
static inline double f_div(double x, double y)
{
    return x / y;
}
static inline double f_pow(double x, double y)
{
    return pow(x, y);
}
static inline double f_lt(double x, double y)
{
    return x < y;
}
static inline double f_le(double x, double y)
{
    return x <= y;
}
static inline double f_gt(double x, double y)
{
    return x > y;
}
static inline double f_ge(double x, double y)
{
    return x >= y;
}
static inline double f_eq(double x, double y)
{
    return x == y;
}
static inline double f_ne(double x, double y)
{
    return x != y;
}
static inline double f_and(double x, double y)
{
    return (x != 0) & (y != 0);
}
static inline double f_or(double x, double y)
{
    return (x != 0) | (y != 0);
}
/* NaN-ignoring, as C's fmin/fmax and NumPy's np.fmin/np.fmax. */
static inline double f_min(double x, double y)
{
    return (x < y || y != y) ? x : y;
}
static inline double f_max(double x, double y)
{
    return (x > y || y != y) ? x : y;
}

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
        BINARY(f_add);
        break;
    case OP_SUB:
        BINARY(f_sub);
        break;
    case OP_MUL:
        BINARY(f_mul);
        break;
    case OP_DIV:
        BINARY(f_div);
        break;
    case OP_POW:
        BINARY(f_pow);
        break;
    case OP_LT:
        BINARY(f_lt);
        break;
    case OP_LE:
        BINARY(f_le);
        break;
    case OP_GT:
        BINARY(f_gt);
        break;
    case OP_GE:
        BINARY(f_ge);
        break;
    case OP_EQ:
        BINARY(f_eq);
        break;
    case OP_NE:
        BINARY(f_ne);
        break;
    case OP_AND:
        BINARY(f_and);
        break;
    case OP_OR:
        BINARY(f_or);
        break;
    case OP_MIN:
        BINARY(f_min);
        break;
    default:
        BINARY(f_max);
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
            d[i] = -a[i];
        break;
    case OP_NOT:
        for (size_t i = 0; i < n; i++)
            d[i] = a[i] == 0;
        break;
    case OP_ABS:
        for (size_t i = 0; i < n; i++)
            d[i] = fabs(a[i]);
        break;
    case OP_SQRT:
        for (size_t i = 0; i < n; i++)
            d[i] = sqrt(a[i]);
        break;
    default:
        for (size_t i = 0; i < n; i++)
            d[i] = a[i] * a[i];
        break;
    }
}

/* ---- Reductions --------------------------------------------------------------------------- */

/* Reduces row x (the first lim elements, where mask m when not NULL) with op. */
static double reduce_row(int op, const double *x, const double *m, int lim)
{
    double acc = op == OP_RMAX || op == OP_RMIN ? NAN : op == OP_RALL ? 1.0 : 0.0;
    int used = 0;
    for (int j = 0; j < lim; j++) {
        if (m && m[j] == 0)
            continue;
        double v = x[j];
        used++;
        switch (op) {
        case OP_RSUM:
        case OP_RMEAN:
            acc += v;
            break;
        case OP_RMAX:
            acc = f_max(v, acc);
            break;
        case OP_RMIN:
            acc = f_min(v, acc);
            break;
        case OP_RCOUNT:
            acc += v != 0;
            break;
        case OP_RANY:
            acc = acc != 0 || v != 0;
            break;
        default:
            acc = acc != 0 && v != 0;
            break;
        }
    }
    return op == OP_RMEAN ? acc / used : acc;
}

static void op_reduce(const block *k, const cut_ins *in)
{
    const double *a = reg(k, in->a), *n = in->n >= 0 ? reg(k, in->n) : NULL;
    const double *m = in->m >= 0 ? reg(k, in->m) : NULL;
    double *d = reg(k, in->dst);
    size_t w = (size_t)in->wa;
    for (int e = 0; e < k->n; e++)
        d[e] = reduce_row(in->op, a + e * w, m ? m + e * w : NULL, n ? (int)n[e] : in->wa);
}

/* ---- Object pairs ------------------------------------------------------------------------- */

typedef struct pair_in {
    const double *pt, *eta, *phi, *m; /* one event's fields; m may be NULL (massless) */
} pair_in;

/* Whether every field the function reads of object i (pt and m only where loaded: deltaR reads
 * eta and phi) is finite. A kinematic value of an object with a NaN or infinite component is
 * NaN, never a plausible number (docs/cuts.md). */
static int obj_finite(const pair_in *p, int i)
{
    return isfinite(p->eta[i]) && isfinite(p->phi[i]) && (!p->pt || isfinite(p->pt[i])) &&
           (!p->m || isfinite(p->m[i]));
}

static double wrap_phi(double d)
{
    return d - TWO_PI * floor((d + PI) / TWO_PI);
}

static double pair_dr(const pair_in *p, int i, int j)
{
    if (!obj_finite(p, i) || !obj_finite(p, j))
        return NAN;
    double deta = p->eta[i] - p->eta[j], dphi = wrap_phi(p->phi[i] - p->phi[j]);
    return sqrt(deta * deta + dphi * dphi);
}

/* Invariant mass: massless 2 pt1 pt2 (cosh(deta) - cos(dphi)); with masses from four-vectors. */
static double pair_mass(const pair_in *p, int i, int j)
{
    double m2;
    if (!obj_finite(p, i) || !obj_finite(p, j))
        return NAN;
    if (!p->m) {
        m2 = 2 * p->pt[i] * p->pt[j] * (cosh(p->eta[i] - p->eta[j]) - cos(p->phi[i] - p->phi[j]));
    } else {
        double px = p->pt[i] * cos(p->phi[i]) + p->pt[j] * cos(p->phi[j]);
        double py = p->pt[i] * sin(p->phi[i]) + p->pt[j] * sin(p->phi[j]);
        double pzi = p->pt[i] * sinh(p->eta[i]), pzj = p->pt[j] * sinh(p->eta[j]);
        double ei = sqrt(p->pt[i] * p->pt[i] + pzi * pzi + p->m[i] * p->m[i]);
        double ej = sqrt(p->pt[j] * p->pt[j] + pzj * pzj + p->m[j] * p->m[j]);
        double e = ei + ej, pz = pzi + pzj;
        m2 = e * e - px * px - py * py - pz * pz;
    }
    return sqrt(m2 < 0 ? 0.0 : m2); /* a NaN from overflow (inf - inf) stays NaN */
}

/* Largest mass (maxmass) or smallest delta-R (mindr) over pairs i < j < n selected by mask; NaN
 * when a selected object has a non-finite component. */
static double pair_extreme(int op, const pair_in *p, const double *mask, int n)
{
    double best = NAN;
    for (int i = 0; i < n; i++)
        if ((!mask || mask[i] != 0) && !obj_finite(p, i))
            return NAN;
    for (int i = 0; i < n; i++) {
        if (mask && mask[i] == 0)
            continue;
        for (int j = i + 1; j < n; j++) {
            if (mask && mask[j] == 0)
                continue;
            best =
                op == OP_MAXMASS ? f_max(pair_mass(p, i, j), best) : f_min(pair_dr(p, i, j), best);
        }
    }
    return best;
}

static void op_pair(const block *k, const cut_ins *in)
{
    const double *n = reg(k, in->n), *mask = in->m >= 0 ? reg(k, in->m) : NULL;
    double *d = reg(k, in->dst);
    size_t w = (size_t)in->wa;
    if ((in->op == OP_MASS || in->op == OP_MAXMASS) && in->r[0] < 0) {
        fill(d, k->n, NAN); /* masses need pt, which emit_pair always loads for them */
        return;
    }
    for (int e = 0; e < k->n; e++) {
        size_t o = (size_t)e * w;
        pair_in p = {in->r[0] >= 0 ? reg(k, in->r[0]) + o : NULL, reg(k, in->r[1]) + o,
                     reg(k, in->r[2]) + o, in->r[3] >= 0 ? reg(k, in->r[3]) + o : NULL};
        int cnt = (int)n[e];
        if (in->op == OP_MASS || in->op == OP_DR) {
            if (in->k >= cnt || in->off >= cnt)
                d[e] = NAN;
            else
                d[e] =
                    in->op == OP_MASS ? pair_mass(&p, in->k, in->off) : pair_dr(&p, in->k, in->off);
        } else {
            d[e] = pair_extreme(in->op, &p, mask ? mask + o : NULL, cnt);
        }
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
