/* cut_sem.h: the semantics of the cut language's operations on doubles, in one place. The block
 * interpreter (cut_eval.c) includes this file; the cut compiler (cut_gen.c) copies its text, as
 * built into the library (cut_sem_text), at the head of every generated source, so interpreted and
 * compiled cuts run the same functions on the same values and agree bit for bit. Self-contained:
 * it may use <math.h> only, and names start with cuts_. */
#ifndef NGT_CUT_SEM_H
#define NGT_CUT_SEM_H

#include <math.h>

#define CUTS_INLINE static inline __attribute__((always_inline, unused))

/* Reductions (in the order of OP_RSUM..OP_RALL) and object-pair functions (OP_MASS..OP_MINDR). */
enum { CUTS_RSUM = 0, CUTS_RMAX, CUTS_RMIN, CUTS_RMEAN, CUTS_RCOUNT, CUTS_RANY, CUTS_RALL };
enum { CUTS_MASS = 0, CUTS_DR, CUTS_MAXMASS, CUTS_MINDR };

/* ---- Elementwise: every value is a double; booleans are 0.0 or 1.0. ---- */
CUTS_INLINE double cuts_add(double x, double y)
{
    return x + y;
}
CUTS_INLINE double cuts_sub(double x, double y)
{
    return x - y;
}
CUTS_INLINE double cuts_mul(double x, double y)
{
    return x * y;
}
CUTS_INLINE double cuts_div(double x, double y)
{
    return x / y;
}
CUTS_INLINE double cuts_pow(double x, double y)
{
    return pow(x, y);
}
CUTS_INLINE double cuts_lt(double x, double y)
{
    return x < y;
}
CUTS_INLINE double cuts_le(double x, double y)
{
    return x <= y;
}
CUTS_INLINE double cuts_gt(double x, double y)
{
    return x > y;
}
CUTS_INLINE double cuts_ge(double x, double y)
{
    return x >= y;
}
CUTS_INLINE double cuts_eq(double x, double y)
{
    return x == y;
}
CUTS_INLINE double cuts_ne(double x, double y)
{
    return x != y;
}
CUTS_INLINE double cuts_and(double x, double y)
{
    return (x != 0) & (y != 0);
}
CUTS_INLINE double cuts_or(double x, double y)
{
    return (x != 0) | (y != 0);
}
/* NaN-ignoring, as C's fmin/fmax and NumPy's np.fmin/np.fmax. */
CUTS_INLINE double cuts_min(double x, double y)
{
    return (x < y || y != y) ? x : y;
}
CUTS_INLINE double cuts_max(double x, double y)
{
    return (x > y || y != y) ? x : y;
}
CUTS_INLINE double cuts_neg(double x)
{
    return -x;
}
CUTS_INLINE double cuts_not(double x)
{
    return x == 0;
}
CUTS_INLINE double cuts_abs(double x)
{
    return fabs(x);
}
CUTS_INLINE double cuts_sqrt(double x)
{
    return sqrt(x);
}
CUTS_INLINE double cuts_square(double x)
{
    return x * x;
}

/* An object count read as v, clamped to [0, max]. */
CUTS_INLINE double cuts_clamp_count(double v, double max)
{
    return v > 0 ? (v < max ? v : max) : 0.0;
}

/* ---- Reductions of x[0..lim) where m[j] != 0 (every j when m is NULL). ----
 * Sums start from +0.0 and skip an element by adding +0.0, which leaves any sum that is not -0.0
 * unchanged (and a sum from +0.0 is never -0.0): the same bits as skipping it, without a branch.
 * Counts, any and all count in integers. */
CUTS_INLINE double cuts_reduce(int op, const double *x, const double *m, int lim)
{
    if (op == CUTS_RCOUNT || op == CUTS_RANY || op == CUTS_RALL) {
        int c = 0, taken = 0;
        for (int j = 0; j < lim; j++) {
            int t = !m || m[j] != 0;
            taken += t;
            c += t & (x[j] != 0);
        }
        return op == CUTS_RCOUNT ? c : op == CUTS_RANY ? c > 0 : c == taken;
    }
    if (op == CUTS_RSUM || op == CUTS_RMEAN) {
        double acc = 0.0;
        int used = 0;
        for (int j = 0; j < lim; j++) {
            int t = !m || m[j] != 0;
            acc += t ? x[j] : 0.0;
            used += t;
        }
        return op == CUTS_RMEAN ? acc / used : acc;
    }
    double acc = NAN; /* max, min: NaN values are skipped */
    for (int j = 0; j < lim; j++) {
        if (m && m[j] == 0)
            continue;
        acc = op == CUTS_RMAX ? cuts_max(x[j], acc) : cuts_min(x[j], acc);
    }
    return acc;
}

/* ---- Object pairs: one event's fields; m may be NULL (massless); pt NULL when unused. ---- */
typedef struct cuts_pair_in {
    const double *pt, *eta, *phi, *m;
} cuts_pair_in;

static inline double cuts_wrap_phi(double d)
{
    const double PI = 3.14159265358979323846, TWO_PI = 6.28318530717958647692;
    return d - TWO_PI * floor((d + PI) / TWO_PI);
}

/* Whether every field the function reads of object i (pt and m only where loaded: deltaR reads
 * eta and phi) is finite. A kinematic value of an object with a NaN or infinite component is
 * NaN, never a plausible number (docs/cuts.md). */
static inline int cuts_obj_finite(const cuts_pair_in *p, int i)
{
    return isfinite(p->eta[i]) && isfinite(p->phi[i]) && (!p->pt || isfinite(p->pt[i])) &&
           (!p->m || isfinite(p->m[i]));
}

static inline double cuts_pair_dr(const cuts_pair_in *p, int i, int j)
{
    if (!cuts_obj_finite(p, i) || !cuts_obj_finite(p, j))
        return NAN;
    double deta = p->eta[i] - p->eta[j], dphi = cuts_wrap_phi(p->phi[i] - p->phi[j]);
    return sqrt(deta * deta + dphi * dphi);
}

/* Invariant mass: massless 2 pt1 pt2 (cosh(deta) - cos(dphi)); with masses from four-vectors. */
static inline double cuts_pair_mass(const cuts_pair_in *p, int i, int j)
{
    double m2;
    if (!cuts_obj_finite(p, i) || !cuts_obj_finite(p, j))
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
static inline double cuts_pair_extreme(int op, const cuts_pair_in *p, const double *mask, int n)
{
    double best = NAN;
    for (int i = 0; i < n; i++)
        if ((!mask || mask[i] != 0) && !cuts_obj_finite(p, i))
            return NAN;
    for (int i = 0; i < n; i++) {
        if (mask && mask[i] == 0)
            continue;
        for (int j = i + 1; j < n; j++) {
            if (mask && mask[j] == 0)
                continue;
            best = op == CUTS_MAXMASS ? cuts_max(cuts_pair_mass(p, i, j), best)
                                      : cuts_min(cuts_pair_dr(p, i, j), best);
        }
    }
    return best;
}

/* One event's value of pair function op: objects i and j (mass, deltaR) or every pair (maxmass,
 * mindr) of the first cnt objects where mask. */
CUTS_INLINE double cuts_pair(int op, const cuts_pair_in *p, const double *mask, int cnt, int i,
                             int j)
{
    if ((op == CUTS_MASS || op == CUTS_MAXMASS) && !p->pt)
        return NAN; /* masses need pt, which the code generator always loads for them */
    if (op == CUTS_MASS || op == CUTS_DR) {
        if (i >= cnt || j >= cnt)
            return NAN;
        return op == CUTS_MASS ? cuts_pair_mass(p, i, j) : cuts_pair_dr(p, i, j);
    }
    return cuts_pair_extreme(op, p, mask, cnt);
}

#endif
