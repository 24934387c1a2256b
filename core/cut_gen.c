/* cut_gen.c: the cut compiler. Turns the block programs of a set of cuts (a menu's) into one C
 * function that evaluates every cut in one pass over the events, each distinct sub-expression
 * (the same column load, the same HT, the same object count at a threshold) computed once per
 * event however many cuts use it; the source is compiled and cached by ccache.h (kind "cuts").
 * Every operation calls the functions of cut_sem.h, whose text heads the source: the block
 * interpreter (cut_eval.c) runs the very same functions, so both agree bit for bit. */
#include "ccache.h"
#include "cut_int.h"
#include "internal.h"

#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -ffp-contract=off: no fused multiply-adds the interpreter does not do. No SLP vectorizer: GCC
 * 12's turns alternating a*b+c / a*b-c into vfmaddsub even under -ffp-contract=off. Loops over
 * events still vectorize. No -ffast-math: every operation is the IEEE one. */
#define CUTC_FLAGS "-std=c11 -fPIC -shared -ffp-contract=off -fno-tree-slp-vectorize -fopenmp-simd"
/* Menus (many rows): -O3 vectorises the threshold tables' loops (bench/cuts: 2.9 -> 2.4 ns per
 * chain and event); a few cuts: -O2, as -O3 vectorises a lone count's short variable-length loop
 * into slower code (a one-cut count 3x slower). Both give the same bits (core_cut_compiled runs
 * sets on both sides of the line). */

struct cutc_set {
    void *handle;
    cutc_fn fn;
    int ncuts, nrows, nvalues;
    int *row;       /* per cut: its result row */
    int ncols;      /* columns the function reads */
    size_t scratch; /* bytes of scratch the function needs */
    int *cols;      /* compact index -> schema column */
    char so[1100];  /* the shared object */
};

/* ---- Value numbering ------------------------------------------------------------------------ */

/* An instruction whose operands are value numbers: equal keys compute equal values. */
typedef struct vkey {
    int op, dtype, col, a, b, n, m, r[4], w, wa, wb, off, k;
    uint64_t imm;
} vkey;

typedef struct vtab {
    vkey *v;
    int *invariant; /* per value: the same for every event of a call (hoisted out of the loop) */
    int n, cap;
    int *slots; /* open addressing, value index + 1 */
    int nslots;
} vtab;

static uint64_t key_hash(const vkey *k)
{
    return fnv1a(k, sizeof *k, fnv1a_basis());
}

static int vtab_grow(vtab *t)
{
    int cap = t->cap ? 2 * t->cap : 256;
    vkey *v = realloc(t->v, (size_t)cap * sizeof *v);
    if (v)
        t->v = v;
    int *inv = realloc(t->invariant, (size_t)cap * sizeof *inv);
    if (inv)
        t->invariant = inv;
    int *slots = calloc((size_t)cap * 2, sizeof *slots);
    if (!v || !inv || !slots) {
        free(slots);
        return -1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = cap * 2;
    t->cap = cap;
    for (int i = 0; i < t->n; i++) {
        size_t s = (size_t)(key_hash(&t->v[i]) % (uint64_t)t->nslots);
        while (t->slots[s])
            s = (s + 1) % (size_t)t->nslots;
        t->slots[s] = i + 1;
    }
    return 0;
}

/* The value number of k, added when new; -1 when out of memory. */
static int vtab_find(vtab *t, const vkey *k, int invariant)
{
    if (t->n + 1 > t->cap / 2 * 2 - t->cap / 4 && vtab_grow(t)) /* keep the table under 3/4 */
        return -1;
    size_t s = (size_t)(key_hash(k) % (uint64_t)t->nslots);
    for (; t->slots[s]; s = (s + 1) % (size_t)t->nslots)
        if (!memcmp(&t->v[t->slots[s] - 1], k, sizeof *k))
            return t->slots[s] - 1;
    t->v[t->n] = *k;
    t->invariant[t->n] = invariant;
    t->slots[s] = ++t->n;
    return t->n - 1;
}

static void vtab_free(vtab *t)
{
    free(t->v);
    free(t->invariant);
    free(t->slots);
}

static int is_load(int op)
{
    return op == OP_LOAD || op == OP_LOADS || op == OP_LOADN;
}

/* The value number in register r, or -1 for no operand. */
static int operand(const int *regmap, int r)
{
    return r >= 0 ? regmap[r] : -1;
}

/* Numbers the values of prog; res receives the value of its result. */
static int number_prog(vtab *t, const cut_prog *p, int *regmap, int *res)
{
    for (int i = 0; i < p->n; i++) {
        const cut_ins *in = &p->ins[i];
        vkey k;
        memset(&k, 0, sizeof k);
        k.op = in->op;
        k.dtype = is_load(in->op) ? in->dtype : 0;
        k.col = in->col;
        int inv = in->op == OP_CONST || in->op == OP_LOADS;
        k.a = operand(regmap, in->a);
        k.b = operand(regmap, in->b);
        k.n = operand(regmap, in->n);
        k.m = operand(regmap, in->m);
        for (int q = 0; q < 4; q++)
            k.r[q] = operand(regmap, in->r[q]);
        const int ops[] = {k.a, k.b, k.n, k.m, k.r[0], k.r[1], k.r[2], k.r[3]};
        if (!inv && !is_load(in->op)) {
            inv = 1;
            for (int q = 0; q < 8; q++)
                if (ops[q] >= 0 && t->invariant && !t->invariant[ops[q]])
                    inv = 0;
        }
        k.w = in->w, k.wa = in->wa, k.wb = in->wb, k.off = in->off, k.k = in->k;
        memcpy(&k.imm, &in->imm, sizeof k.imm);
        int v = vtab_find(t, &k, inv);
        if (v < 0)
            return -1;
        regmap[in->dst] = v;
    }
    *res = regmap[p->result];
    return 0;
}

/* ---- Source text ---------------------------------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t n, cap;
    int bad;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int w = b->s ? vsnprintf(b->s + b->n, room, fmt, ap) : -1;
        va_end(ap);
        if (b->s && w >= 0 && (size_t)w < room) {
            b->n += (size_t)w;
            return;
        }
        if (b->bad || (b->s && w < 0)) {
            b->bad = 1;
            return;
        }
        size_t cap = b->cap ? 2 * b->cap : 65536;
        while (w > 0 && cap - b->n <= (size_t)w)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->bad = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static const char *ctype(ngt_dtype t)
{
    switch (t) {
    case NGT_F32:
        return "float";
    case NGT_F64:
        return "double";
    case NGT_I8:
        return "int8_t";
    case NGT_I16:
        return "int16_t";
    case NGT_I32:
        return "int32_t";
    case NGT_I64:
        return "int64_t";
    case NGT_U8:
        return "uint8_t";
    case NGT_U16:
        return "uint16_t";
    case NGT_U32:
        return "uint32_t";
    case NGT_U64:
        return "uint64_t";
    default:
        return "uint8_t"; /* bool */
    }
}

static double imm_of(const vkey *k)
{
    double d;
    memcpy(&d, &k->imm, sizeof d);
    return d;
}

/* A double constant, exactly. */
static void put_num(sbuf *b, double v)
{
    if (isnan(v))
        put(b, "NAN");
    else if (isinf(v))
        put(b, v > 0 ? "INFINITY" : "(-INFINITY)");
    else
        put(b, "%a", v);
}

static const char *fn_name(int op)
{
    static const struct {
        int op;
        const char *name;
    } map[] = {{OP_NEG, "cuts_neg"},   {OP_NOT, "cuts_not"},       {OP_ABS, "cuts_abs"},
               {OP_SQRT, "cuts_sqrt"}, {OP_SQUARE, "cuts_square"}, {OP_ADD, "cuts_add"},
               {OP_SUB, "cuts_sub"},   {OP_MUL, "cuts_mul"},       {OP_DIV, "cuts_div"},
               {OP_POW, "cuts_pow"},   {OP_LT, "cuts_lt"},         {OP_LE, "cuts_le"},
               {OP_GT, "cuts_gt"},     {OP_GE, "cuts_ge"},         {OP_EQ, "cuts_eq"},
               {OP_NE, "cuts_ne"},     {OP_AND, "cuts_and"},       {OP_OR, "cuts_or"},
               {OP_MIN, "cuts_min"},   {OP_MAX, "cuts_max"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].op == op)
            return map[i].name;
    return NULL;
}

/* The conversion of a column element x (C expression) to double. */
static void put_conv(sbuf *b, int dtype, const char *x)
{
    if (dtype == NGT_BOOL)
        put(b, "(%s != 0 ? 1.0 : 0.0)", x);
    else
        put(b, "(double)%s", x);
}

/* Ops computing element j of their value from element j (or 0) of their operands. */
static int elementwise(int op)
{
    return op == OP_LOAD || op == OP_BCAST || (op >= OP_NEG && op < OP_RSUM);
}

/* The statement computing value v (declared before as double vV[w]). compact maps schema
 * columns to the function's column pointers c0, c1, ...; lim[v] >= 0: elements below that count
 * value only (count_limits). */
static void put_value(sbuf *b, const vtab *t, int v, const int *compact, const int *lim)
{
    const vkey *k = &t->v[v];
    char x[128], bound[32];
    if (lim && lim[v] >= 0)
        snprintf(bound, sizeof bound, "(int)v%d[0]", lim[v]);
    else
        snprintf(bound, sizeof bound, "%d", k->w);
    int c = k->col >= 0 ? compact[k->col] : -1;
    const char *f = fn_name(k->op);
    switch (k->op) {
    case OP_LOAD:
        if (lim && lim[v] >= 0) {
            snprintf(x, sizeof x, "c%d[r * %d + %d + j]", c, k->k, k->off);
            put(b, "for (int j = 0; j < %s; j++) v%d[j] = ", bound, v);
            put_conv(b, k->dtype, x);
            put(b, ";\n");
            return;
        }
        for (int j = 0; j < k->w; j++) {
            snprintf(x, sizeof x, "c%d[r * %d + %d]", c, k->k, k->off + j);
            put(b, "v%d[%d] = ", v, j);
            put_conv(b, k->dtype, x);
            put(b, ";\n");
        }
        return;
    case OP_LOADS:
        put(b, "v%d[0] = ", v);
        put_conv(b, k->dtype, snprintf(x, sizeof x, "c%d[0]", c) > 0 ? x : "");
        put(b, ";\n");
        return;
    case OP_LOADN:
        put(b, "v%d[0] = cuts_clamp_count(", v);
        put_conv(b, k->dtype, snprintf(x, sizeof x, "c%d[r]", c) > 0 ? x : "");
        put(b, ", %d.0);\n", k->k);
        return;
    case OP_CONST:
        put(b, "v%d[0] = ", v);
        put_num(b, imm_of(k));
        put(b, ";\n");
        return;
    case OP_BCAST:
        put(b, "for (int j = 0; j < %s; j++) v%d[j] = v%d[0];\n", bound, v, k->a);
        return;
    case OP_SLICE:
        put(b, "for (int j = 0; j < %d; j++) v%d[j] = v%d[%d + j];\n", k->w, v, k->a, k->off);
        return;
    case OP_NANIF:
        put(b, "v%d[0] = %d < v%d[0] ? v%d[%d] : ", v, k->k, k->n, k->a, k->off);
        put_num(b, imm_of(k));
        put(b, ";\n");
        return;
    case OP_NEG:
    case OP_NOT:
    case OP_ABS:
    case OP_SQRT:
    case OP_SQUARE:
        put(b, "for (int j = 0; j < %s; j++) v%d[j] = %s(v%d[j]);\n", bound, v, f, k->a);
        return;
    case OP_MASS:
    case OP_DR:
    case OP_MAXMASS:
    case OP_MINDR:
        put(b, "{ cuts_pair_in p = {");
        for (int q = 0; q < 4; q++)
            put(b, k->r[q] >= 0 ? "v%d, " : "NULL, ", k->r[q]);
        put(b, "};\n  v%d[0] = cuts_pair(%d, &p, ", v, k->op - OP_MASS);
        put(b, k->m >= 0 ? "v%d" : "NULL", k->m);
        put(b, ", (int)v%d[0], %d, %d); }\n", k->n, k->k, k->off);
        return;
    default:
        break;
    }
    if (k->op >= OP_RSUM) {
        put(b, "v%d[0] = cuts_reduce(%d, v%d, ", v, k->op - OP_RSUM, k->a);
        put(b, k->m >= 0 ? "v%d, " : "NULL, ", k->m);
        if (k->n >= 0)
            put(b, "(int)v%d[0]);\n", k->n);
        else
            put(b, "%d);\n", k->wa);
        return;
    }
    put(b, "for (int j = 0; j < %s; j++) v%d[j] = %s(v%d[%s], v%d[%s]);\n", bound, v, f, k->a,
        k->wa == 1 ? "0" : "j", k->b, k->wb == 1 ? "0" : "j");
}

static void free_parts(cutc_set *k)
{
    free(k->row);
    free(k->cols);
}

/* ---- Families --------------------------------------------------------------------------------
 * Menus repeat one quantity at many thresholds. Two kinds of families turn that into tables:
 *  - a count family: count(coll, x > t) (or >=) for several thresholds t of the same x and count
 *    n. Per event, each object's x is placed among the sorted thresholds by binary search (with
 *    the same comparison function), and the counts follow by suffix sums: the same integers as
 *    counting per threshold, for lim objects instead of lim x thresholds comparisons;
 *  - a result family: result rows of the form q(src, t), a comparison of one quantity (a value,
 *    or a member of a count family) with a constant. The quantity is kept per event in scratch,
 *    and each row is then one loop over a chunk of events (vectorised), not a store per event. */
enum { CHUNK = 64 }; /* events per chunk: result-family rows are filled a chunk at a time */

typedef struct fam {
    int op;       /* comparison */
    int x, n, wa; /* count family: the compared array, the count, its width */
    int src;      /* result family: source value, or -1 for a count family's members */
    int cfam;     /* result family: the count family, or -1 */
    int first;    /* count family: the member emitted first (value order) */
    int m, cap;   /* members */
    int *mem;     /* value numbers */
    int scratch;  /* offset (in chunks of CHUNK doubles) of its per-event copies, or -1 */
} fam;

typedef struct fams {
    fam *f;
    int n, cap;
} fams;

static int fam_add(fams *fs, fam *proto, int v)
{
    fam *f = NULL;
    for (int i = 0; i < fs->n; i++) {
        fam *g = &fs->f[i];
        if (g->op == proto->op && g->x == proto->x && g->n == proto->n && g->wa == proto->wa &&
            g->src == proto->src && g->cfam == proto->cfam) {
            f = g;
            break;
        }
    }
    if (!f) {
        if (fs->n == fs->cap) {
            int cap = fs->cap ? 2 * fs->cap : 16;
            fam *nf = realloc(fs->f, (size_t)cap * sizeof *nf);
            if (!nf)
                return -1;
            fs->f = nf;
            fs->cap = cap;
        }
        f = &fs->f[fs->n++];
        *f = *proto;
        f->m = f->cap = 0;
        f->mem = NULL;
        f->first = v;
        f->scratch = -1;
    }
    if (f->m == f->cap) {
        int cap = f->cap ? 2 * f->cap : 8;
        int *mem = realloc(f->mem, (size_t)cap * sizeof *mem);
        if (!mem)
            return -1;
        f->mem = mem;
        f->cap = cap;
    }
    f->mem[f->m++] = v;
    return (int)(f - fs->f);
}

static void fams_free(fams *fs)
{
    for (int i = 0; i < fs->n; i++)
        free(fs->f[i].mem);
    free(fs->f);
}

static int is_compare(int op)
{
    return op >= OP_LT && op <= OP_NE;
}

/* The constant a comparison value v compares with. */
static double threshold(const vtab *t, int v)
{
    return imm_of(&t->v[t->v[v].b]);
}

/* Generates the source for cuts[0..n) into b and fills k's rows, columns and scratch. */
/* An elementwise value whose elements are read only below a collection's count (by counts, any,
 * all and count families bounded by that count, or by elementwise values so bounded) is computed
 * below that count only: lim[v] is the count's value, else -1. (Sums and means keep their
 * fixed-width loops: measured faster for HT, whose loops vectorise.) Values are numbered after
 * their operands, so consumers come later: one pass from the end settles each value before its
 * operands. */
static void count_limits(const vtab *t, const int *cfam, const fams *cf, int *lim)
{
    for (int v = 0; v < t->n; v++)
        lim[v] = -2; /* no consumer seen */
#define LIMIT(u, l) (lim[u] = lim[u] == -2 || lim[u] == (l) ? (l) : -1)
    for (int v = t->n - 1; v >= 0; v--) {
        const vkey *x = &t->v[v];
        if (lim[v] == -2 || x->w == 1 || t->invariant[v] || !elementwise(x->op))
            lim[v] = -1;
        const int ops[] = {x->a, x->b, x->n, x->m, x->r[0], x->r[1], x->r[2], x->r[3]};
        if (cfam[v] >= 0 && cf->f[cfam[v]].m >= 2) { /* reads x below n; its compare is skipped */
            LIMIT(cf->f[cfam[v]].x, cf->f[cfam[v]].n);
            LIMIT(x->n, -1);
            LIMIT(x->a, -1);
            continue;
        }
        if (x->op >= OP_RCOUNT && x->op <= OP_RALL && x->n >= 0) {
            LIMIT(x->a, x->n);
            if (x->m >= 0)
                LIMIT(x->m, x->n);
            LIMIT(x->n, -1);
            continue;
        }
        if (lim[v] >= 0 && x->op != OP_LOAD) { /* operands as wide as v share its bound */
            if (x->a >= 0)
                LIMIT(x->a, (x->op == OP_BCAST || x->wa == 1) ? -1 : lim[v]);
            if (x->b >= 0)
                LIMIT(x->b, x->wb == 1 ? -1 : lim[v]);
            continue;
        }
        for (int q = 0; q < 8; q++)
            if (ops[q] >= 0)
                LIMIT(ops[q], -1);
    }
#undef LIMIT
    for (int v = 0; v < t->n; v++)
        if (lim[v] < 0 || t->v[v].w == 1 || t->invariant[v] || !elementwise(t->v[v].op))
            lim[v] = -1;
}

static int generate(const ngt_schema *s, const cut_program *const *cuts, int n, cutc_set *k,
                    sbuf *b)
{
    vtab t = {0};
    fams cf = {0}, rf = {0};
    int ncol = ngt_schema_ncolumns(s), rc = NGT_ENOMEM, maxregs = 1;
    for (int i = 0; i < n; i++)
        if (cut_prog_of(cuts[i])->regs > maxregs)
            maxregs = cut_prog_of(cuts[i])->regs;
    int *regmap = malloc((size_t)maxregs * sizeof *regmap);
    int *res = malloc(((size_t)n + 1) * sizeof *res);
    int *compact = malloc(((size_t)ncol + 1) * sizeof *compact);
    int *rowof = NULL, *uses = NULL, *skip = NULL, *need = NULL, *cfam = NULL, *cq = NULL;
    int *lim = NULL;
    k->row = malloc(((size_t)n + 1) * sizeof *k->row);
    k->cols = malloc(((size_t)ncol + 1) * sizeof *k->cols);
    if (!regmap || !res || !compact || !k->row || !k->cols)
        goto out;
    for (int i = 0; i < n; i++)
        if (number_prog(&t, cut_prog_of(cuts[i]), regmap, &res[i]))
            goto out;
    size_t nv = (size_t)t.n + 1;
    rowof = malloc(nv * sizeof *rowof);
    uses = calloc(nv, sizeof *uses);
    skip = calloc(nv, sizeof *skip);
    need = calloc(nv, sizeof *need);
    cfam = malloc(nv * sizeof *cfam);
    cq = calloc(nv, sizeof *cq);
    if (!rowof || !uses || !skip || !need || !cfam || !cq)
        goto out;
    /* distinct results get rows */
    memset(rowof, 0xff, nv * sizeof *rowof); /* every entry -1 */
    memset(cfam, 0xff, nv * sizeof *cfam);
    k->nrows = 0;
    for (int i = 0; i < n; i++) {
        if (rowof[res[i]] < 0)
            rowof[res[i]] = k->nrows++;
        k->row[i] = rowof[res[i]];
    }
    for (int v = 0; v < t.n; v++) {
        const vkey *x = &t.v[v];
        const int ops[] = {x->a, x->b, x->n, x->m, x->r[0], x->r[1], x->r[2], x->r[3]};
        for (int q = 0; q < 8; q++)
            if (ops[q] >= 0)
                uses[ops[q]]++;
    }
    /* count families */
    for (int v = 0; v < t.n; v++) {
        const vkey *x = &t.v[v];
        if (x->op != OP_RCOUNT || x->m >= 0 || x->n < 0 || t.invariant[v])
            continue;
        const vkey *g = &t.v[x->a];
        if ((g->op != OP_GT && g->op != OP_GE) || g->wb != 1 || g->wa != x->wa || g->w != x->wa ||
            t.v[g->b].op != OP_CONST || t.invariant[g->a] || uses[x->a] != 1)
            continue;
        fam proto = {.op = g->op, .x = g->a, .n = x->n, .wa = x->wa, .src = -1, .cfam = -1};
        int f = fam_add(&cf, &proto, v);
        if (f < 0)
            goto out;
        cfam[v] = f;
    }
    for (int f = 0; f < cf.n; f++) { /* thresholds ascending; members of one get cfam -1 */
        fam *F = &cf.f[f];
        if (F->m < 2) {
            cfam[F->mem[0]] = -1;
            continue;
        }
        for (int i = 1; i < F->m; i++) /* insertion sort by threshold */
            for (int j = i;
                 j > 0 && threshold(&t, t.v[F->mem[j]].a) < threshold(&t, t.v[F->mem[j - 1]].a);
                 j--) {
                int tmp = F->mem[j];
                F->mem[j] = F->mem[j - 1];
                F->mem[j - 1] = tmp;
            }
        F->first = t.n;
        for (int i = 0; i < F->m; i++) {
            cq[F->mem[i]] = i;
            skip[t.v[F->mem[i]].a] = 1; /* the comparison array is not built */
            F->first = F->mem[i] < F->first ? F->mem[i] : F->first;
        }
    }
    /* result families */
    for (int v = 0; v < t.n; v++) {
        const vkey *x = &t.v[v];
        if (rowof[v] < 0 || uses[v] || !is_compare(x->op) || x->w != 1 || x->wa != 1 ||
            x->wb != 1 || t.v[x->b].op != OP_CONST || t.invariant[x->a])
            continue;
        int in_fam = cfam[x->a] >= 0 && cf.f[cfam[x->a]].m >= 2;
        fam proto = {.op = x->op,
                     .x = -1,
                     .n = -1,
                     .wa = 0,
                     .src = in_fam ? -1 : x->a,
                     .cfam = in_fam ? cfam[x->a] : -1};
        if (fam_add(&rf, &proto, v) < 0)
            goto out;
        skip[v] = 1;
    }
    /* what must be computed per event */
    for (int v = 0; v < t.n; v++)
        if (rowof[v] >= 0 && !skip[v])
            need[v] = 1;
    int nscratch = 0;
    for (int f = 0; f < rf.n; f++) {
        fam *F = &rf.f[f];
        if (F->src >= 0) {
            need[F->src] = 1;
            for (int g = 0; g < f && F->scratch < 0; g++)
                if (rf.f[g].src == F->src)
                    F->scratch = rf.f[g].scratch;
            if (F->scratch < 0)
                F->scratch = nscratch++;
        } else if (cf.f[F->cfam].scratch < 0) {
            cf.f[F->cfam].scratch = nscratch;
            nscratch += cf.f[F->cfam].m;
        }
    }
    for (int v = t.n - 1; v >= 0; v--) {
        if (cfam[v] >= 0 && need[v]) { /* a count family member: its x and n */
            need[cf.f[cfam[v]].x] = need[cf.f[cfam[v]].n] = 1;
            continue;
        }
        if (!need[v] || skip[v])
            continue;
        const vkey *x = &t.v[v];
        const int ops[] = {x->a, x->b, x->n, x->m, x->r[0], x->r[1], x->r[2], x->r[3]};
        for (int q = 0; q < 8; q++)
            if (ops[q] >= 0)
                need[ops[q]] = 1;
    }
    for (int f = 0; f < cf.n; f++)
        if (cf.f[f].m >= 2 && cf.f[f].scratch >= 0)
            need[cf.f[f].x] = need[cf.f[f].n] = 1;
    /* the columns read, compacted */
    for (int c = 0; c < ncol; c++)
        compact[c] = -1;
    k->ncols = 0;
    for (int v = 0; v < t.n; v++)
        if (is_load(t.v[v].op) && compact[t.v[v].col] < 0) {
            compact[t.v[v].col] = k->ncols;
            k->cols[k->ncols++] = t.v[v].col;
        }
    k->nvalues = t.n;
    k->scratch = (size_t)nscratch * CHUNK * sizeof(double);

    put(b, "/* generated by ngt's cut compiler: %d cuts, %d distinct values */\n", n, t.n);
    put(b, "#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n");
    put(b, "%s\n", cut_sem_text);
    for (int i = 0; i < n; i++)
        put(b, "/* row %d: %s */\n", k->row[i], cut_text(cuts[i]));
    for (int f = 0; f < cf.n; f++) {
        if (cf.f[f].m < 2)
            continue;
        put(b, "static const double ct%d[%d] = {", f, cf.f[f].m);
        for (int i = 0; i < cf.f[f].m; i++) {
            put_num(b, threshold(&t, t.v[cf.f[f].mem[i]].a));
            put(b, ",");
        }
        put(b, "};\n");
    }
    for (int f = 0; f < rf.n; f++) {
        fam *F = &rf.f[f];
        put(b, "static const double rt%d[%d] = {", f, F->m);
        for (int i = 0; i < F->m; i++) {
            put_num(b, threshold(&t, F->mem[i]));
            put(b, ",");
        }
        put(b, "};\nstatic const int rr%d[%d] = {", f, F->m);
        for (int i = 0; i < F->m; i++)
            put(b, "%d,", rowof[F->mem[i]]);
        put(b, "};\nstatic const int rx%d[%d] = {", f, F->m);
        for (int i = 0; i < F->m; i++)
            put(b, "%d,", F->src >= 0 ? F->scratch : cf.f[F->cfam].scratch + cq[t.v[F->mem[i]].a]);
        put(b, "};\n");
    }
    /* the body, inlined twice in small sets: without a selection (the engine's case: loads at
     * i, loops that vectorise) and with one; -O3 (large sets) unswitches the loop itself */
    put(b, "static inline __attribute__((always_inline)) void cuts_body(const void *const *cols, "
           "const uint32_t *sel, int n, uint8_t *const *out, double *scratch)\n{\n"
           "(void)scratch;\n");
    for (int q = 0; q < k->ncols; q++)
        put(b, "const %s *restrict c%d = (const %s *)cols[%d];\n",
            ctype(ngt_schema_column(s, k->cols[q])->dtype), q,
            ctype(ngt_schema_column(s, k->cols[q])->dtype), q);
    for (int v = 0; v < t.n; v++) /* values the same for every event: once per call */
        if (t.invariant[v] && need[v] && !skip[v]) {
            put(b, "double v%d[%d];\n", v, t.v[v].w);
            put_value(b, &t, v, compact, NULL);
        }
    put(b, "for (int i0 = 0; i0 < n; i0 += %d) {\nconst int nb = n - i0 < %d ? n - i0 : %d;\n",
        CHUNK, CHUNK, CHUNK);
    /* events are independent: a body of scalar values only (no collection, no count family)
     * is vectorised across events (same operations per event, so the same bits) */
    int narrow = 1;
    for (int v = 0; v < t.n; v++)
        if (need[v] && !t.invariant[v] && !skip[v] && (t.v[v].w != 1 || cfam[v] >= 0))
            narrow = 0;
    put(b,
        "%sfor (int ii = 0; ii < nb; ii++) {\nconst int i = i0 + ii;\n"
        "const size_t r = sel ? sel[i] : (size_t)i;\n(void)r;\n",
        narrow ? "#pragma omp simd\n" : "");
    lim = malloc(nv * sizeof *lim);
    if (!lim)
        goto out;
    count_limits(&t, cfam, &cf, lim);
    for (int v = 0; v < t.n; v++) /* the counts first: they bound the loops of other values */
        if (t.v[v].op == OP_LOADN && !t.invariant[v] && !skip[v] && need[v]) {
            put(b, "double v%d[1];\n", v);
            put_value(b, &t, v, compact, lim);
        }
    for (int v = 0; v < t.n; v++) {
        if (t.invariant[v] || skip[v] || t.v[v].op == OP_LOADN)
            continue;
        if (cfam[v] >= 0) {
            fam *F = &cf.f[cfam[v]];
            int f = cfam[v];
            if (F->first != v)
                continue;
            /* the whole count family, at its first member */
            put(b, "double cf%d[%d];\n{ int h[%d] = {0};\n", f, F->m, F->m + 1);
            put(b, "for (int j = 0; j < (int)v%d[0]; j++) { int lo = 0, hi = %d;\n", F->n, F->m);
            put(b,
                "while (lo < hi) { int mid = (lo + hi) / 2; if (%s(v%d[j], ct%d[mid])) lo = "
                "mid + 1; else hi = mid; }\nh[lo]++; }\n",
                fn_name(F->op), F->x, f);
            put(b,
                "int acc = 0;\nfor (int q = %d; q >= 0; q--) { acc += h[q + 1]; cf%d[q] = acc; "
                "} }\n",
                F->m - 1, f);
            for (int i = 0; i < F->m; i++)
                put(b, "double *const v%d = cf%d + %d; (void)v%d;\n", F->mem[i], f, i, F->mem[i]);
            if (F->scratch >= 0)
                put(b, "for (int q = 0; q < %d; q++) scratch[(%d + q) * %d + ii] = cf%d[q];\n",
                    F->m, F->scratch, CHUNK, f);
            continue;
        }
        if (!need[v])
            continue;
        put(b, "double v%d[%d];\n", v, t.v[v].w);
        put_value(b, &t, v, compact, lim);
    }
    for (int f = 0; f < rf.n; f++) /* result-family sources, stored once each */
        if (rf.f[f].src >= 0) {
            int first = 1;
            for (int g = 0; g < f; g++)
                first &= rf.f[g].src != rf.f[f].src;
            if (first)
                put(b, "scratch[%d * %d + ii] = v%d[0];\n", rf.f[f].scratch, CHUNK, rf.f[f].src);
        }
    for (int v = 0; v < t.n; v++)
        if (rowof[v] >= 0 && !skip[v])
            put(b, "out[%d][i] = v%d[0] != 0;\n", rowof[v], v);
    put(b, "}\n");
    for (int f = 0; f < rf.n; f++)
        put(b,
            "for (int q = 0; q < %d; q++) { uint8_t *o = out[rr%d[q]] + i0; const double *x = "
            "scratch + rx%d[q] * %d; const double th = rt%d[q];\n#pragma omp simd\n"
            "for (int ii = 0; ii < nb; ii++) o[ii] = %s(x[ii], th) != 0; }\n",
            rf.f[f].m, f, f, CHUNK, f, fn_name(rf.f[f].op));
    put(b, "}\n}\n");
    put(b, "void ngt_cuts_run(const void *const *cols, const uint32_t *sel, int n, "
           "uint8_t *const *out, double *scratch);\n");
    put(b, "void ngt_cuts_run(const void *const *cols, const uint32_t *sel, int n, "
           "uint8_t *const *out, double *scratch)\n{\n");
    if (k->nrows < CUTC_O3_ROWS)
        put(b, "if (!sel) {\ncuts_body(cols, NULL, n, out, scratch);\nreturn;\n}\n");
    put(b, "cuts_body(cols, sel, n, out, scratch);\n}\n");
    rc = b->bad ? NGT_ENOMEM : NGT_OK;
out:
    vtab_free(&t);
    fams_free(&cf);
    fams_free(&rf);
    free(regmap);
    free(res);
    free(compact);
    free(rowof);
    free(uses);
    free(skip);
    free(need);
    free(cfam);
    free(cq);
    free(lim);
    return rc;
}

/* Flags for the machine this runs on (the key includes them, so a cache shared by different
 * CPUs keeps one object per ISA). */
static const char *target_flags(int rows)
{
    int big = rows >= CUTC_O3_ROWS;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return big ? "-O3 " CUTC_FLAGS " -march=x86-64-v4" : "-O2 " CUTC_FLAGS " -march=x86-64-v4";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("bmi2"))
        return big ? "-O3 " CUTC_FLAGS " -march=x86-64-v3" : "-O2 " CUTC_FLAGS " -march=x86-64-v3";
#endif
    return big ? "-O3 " CUTC_FLAGS : "-O2 " CUTC_FLAGS;
}

char *cutc_source(const ngt_schema *s, const cut_program *const *cuts, int n, ngt_error *err)
{
    cutc_set k;
    memset(&k, 0, sizeof k);
    sbuf b = {0};
    int rc = generate(s, cuts, n, &k, &b);
    free_parts(&k);
    if (rc) {
        free(b.s);
        seterr(err, rc, "cuts: out of memory generating C");
        return NULL;
    }
    return b.s;
}

cutc_set *cutc_build(const ngt_schema *s, const cut_program *const *cuts, int n, ngt_error *err)
{
    if (n <= 0) {
        seterr(err, NGT_EINVAL, "cuts: nothing to compile");
        return NULL;
    }
    cutc_set *k = calloc(1, sizeof *k);
    sbuf b = {0};
    int rc = k ? generate(s, cuts, n, k, &b) : NGT_ENOMEM;
    if (rc == NGT_OK && k->ncols > CUTC_MAX_COLS)
        rc = seterr(err, NGT_EUNSUPPORTED, "cuts: %d columns read, at most %d compiled", k->ncols,
                    CUTC_MAX_COLS);
    else if (rc)
        seterr(err, rc, "cuts: out of memory generating C");
    if (rc == NGT_OK) {
        k->ncuts = n;
        cc_job job = {.kind = "cuts",
                      .flags = target_flags(k->nrows),
                      .libs = "-lm",
                      .text = b.s,
                      .len = b.n};
        rc = cc_build(&job, k->so, sizeof k->so, err);
    }
    free(b.s);
    if (rc == NGT_OK && !(k->handle = cc_open(k->so, err)))
        rc = NGT_EIO;
    if (rc == NGT_OK) {
        *(void **)(&k->fn) = dlsym(k->handle, "ngt_cuts_run");
        if (!k->fn)
            rc = seterr(err, NGT_EFORMAT, "cuts: %s lacks ngt_cuts_run", k->so);
    }
    if (rc != NGT_OK) {
        cutc_free(k);
        return NULL;
    }
    return k;
}

void cutc_free(cutc_set *k)
{
    if (!k)
        return;
    if (k->handle)
        dlclose(k->handle);
    free_parts(k);
    free(k);
}

int cutc_rows(const cutc_set *k)
{
    return k->nrows;
}

int cutc_row(const cutc_set *k, int i)
{
    return k->row[i];
}

int cutc_values(const cutc_set *k)
{
    return k->nvalues;
}

size_t cutc_scratch_size(const cutc_set *k)
{
    return k->scratch;
}

const char *cutc_path(const cutc_set *k)
{
    return k->so;
}

void cutc_run(const cutc_set *k, ngt_batch *b, const uint32_t *sel, int n, uint8_t *const *out,
              double *scratch)
{
    const void *cols[CUTC_MAX_COLS];
    for (int q = 0; q < k->ncols; q++)
        cols[q] = ngt_batch_column(b, k->cols[q]);
    if (n > 0)
        k->fn(cols, sel, n, out, scratch);
}
