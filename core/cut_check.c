/* cut_check.c: type checker of the cut language: resolves names against the schema (collection
 * fields inside collection functions), gives every node a type and shape, and rejects bad cuts. */
#include "cut_int.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

enum { MAX_CTX = 16 };

typedef struct checker {
    const ngt_schema *s;
    cut_ast *ast;
    ngt_error *err;
    int reducing;     /* > 0 inside the argument of a reduction or collection function */
    int ctx[MAX_CTX]; /* count columns of the enclosing collection functions, innermost last */
    char ctx_name[MAX_CTX][NGT_NAME_MAX];
    int nctx;
} checker;

static int check(checker *c, int i);

static cut_node *node(checker *c, int i)
{
    return &c->ast->nodes[i];
}

static int fail(checker *c, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(checker *c, int i, const char *fmt, ...)
{
    char msg[NGT_ERR_MSG_MAX - 16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ngt_seterr(c->err, NGT_EINVAL, "col %d: %s", node(c, i)->pos + 1, msg);
}

/* 'name' or the sub-expression's text, shortened, for messages. */
static const char *describe(checker *c, int i, char *buf, size_t size)
{
    char text[64];
    size_t n = cut_unparse(c->ast, i, text, sizeof text);
    snprintf(buf, size, "'%s%s'", text, n >= sizeof text ? "..." : "");
    return buf;
}

static const char *type_name(cut_type t)
{
    return t == TY_BOOL ? "boolean" : t == TY_INT ? "integer" : "float";
}

/* ---- Names -------------------------------------------------------------------------------- */

/* Maximum multiplicity of the collection whose count column is cnt (its fields' length). */
static int collection_max(const ngt_schema *s, int cnt)
{
    for (int k = 0; k < ngt_schema_ncolumns(s); k++) {
        const ngt_column_info *ci = ngt_schema_column(s, k);
        if (ci->kind == NGT_COL_FIELD && ci->collection == cnt)
            return (int)ci->shape[0];
    }
    return 0;
}

/* Count column of collection name (its maximum in *max), or -1. */
static int find_collection(const ngt_schema *s, const char *name, int *max)
{
    char n[NGT_NAME_MAX + 2];
    snprintf(n, sizeof n, "%s.n", name);
    int cnt = ngt_schema_find(s, n);
    if (cnt < 0 || ngt_schema_column(s, cnt)->kind != NGT_COL_COUNT)
        return -1;
    *max = collection_max(s, cnt);
    return cnt;
}

/* Field column "coll.field" of collection coll_name, or -1. */
static int find_field(const ngt_schema *s, const char *coll_name, const char *field)
{
    char n[2 * NGT_NAME_MAX + 2];
    snprintf(n, sizeof n, "%s.%s", coll_name, field);
    int k = ngt_schema_find(s, n);
    if (k < 0 || ngt_schema_column(s, k)->kind != NGT_COL_FIELD)
        return -1;
    return k;
}

static cut_type dtype_type(ngt_dtype t)
{
    if (t == NGT_BOOL)
        return TY_BOOL;
    return t == NGT_F32 || t == NGT_F64 ? TY_FLOAT : TY_INT;
}

static void set_column(checker *c, cut_node *n, int col)
{
    const ngt_column_info *ci = ngt_schema_column(c->s, col);
    n->col = col;
    n->type = dtype_type(ci->dtype);
    n->array = ci->kind != NGT_COL_SCALAR && ci->kind != NGT_COL_COUNT && ci->rank > 0;
    n->width = n->array ? (int)ci->elems : 1;
    if (ci->kind == NGT_COL_FIELD) {
        n->coll = ci->collection;
        n->cmax = (int)ci->shape[0];
    }
    if (ci->kind == NGT_COL_COUNT) /* read clamped to [0, max], as the collection functions do */
        n->cmax = collection_max(c->s, col);
}

static int check_name(checker *c, int i)
{
    cut_node *n = node(c, i);
    for (int k = c->nctx - 1; k >= 0; k--) {
        int col = find_field(c->s, c->ctx_name[k], n->name);
        if (col >= 0) {
            set_column(c, n, col);
            return NGT_OK;
        }
    }
    int col = ngt_schema_find(c->s, n->name), max;
    if (col >= 0) {
        set_column(c, n, col);
        return NGT_OK;
    }
    if (find_collection(c->s, n->name, &max) >= 0)
        return fail(c, i,
                    "'%s' is a collection, not a value: use count(%s), any(%s, pred), "
                    "sum(%s, expr) ... or a field such as %s.pt",
                    n->name, n->name, n->name, n->name, n->name);
    if (c->nctx)
        return fail(c, i, "unknown column '%s' (not a field of '%s' either)", n->name,
                    c->ctx_name[c->nctx - 1]);
    return fail(c, i, "unknown column '%s'", n->name);
}

/* ---- Operators ---------------------------------------------------------------------------- */

static int need_numeric(checker *c, int i, const char *what)
{
    char d[96];
    if (node(c, i)->type == TY_BOOL)
        return fail(c, i, "%s needs numbers; %s is a boolean", what, describe(c, i, d, sizeof d));
    return NGT_OK;
}

static int need_bool(checker *c, int i, const char *what)
{
    char d[96];
    if (node(c, i)->type != TY_BOOL)
        return fail(c, i, "%s needs booleans; %s is %s %s (compare it, e.g. %s > 0)", what,
                    describe(c, i, d, sizeof d), node(c, i)->type == TY_INT ? "an" : "a",
                    type_name(node(c, i)->type), d);
    return NGT_OK;
}

/* Shape of an elementwise operation on a and b into n (a scalar broadcasts). */
static int broadcast(checker *c, cut_node *n, int a, int b)
{
    cut_node *x = node(c, a), *y = node(c, b);
    char dx[96], dy[96];
    if (x->array && y->array && x->width != y->width)
        return fail(c, a, "arrays of different lengths: %s has %d values, %s has %d",
                    describe(c, a, dx, sizeof dx), x->width, describe(c, b, dy, sizeof dy),
                    y->width);
    if (x->coll >= 0 && y->coll >= 0 && x->coll != y->coll)
        return fail(c, a, "%s and %s belong to different collections",
                    describe(c, a, dx, sizeof dx), describe(c, b, dy, sizeof dy));
    n->array = x->array || y->array;
    n->width = x->array ? x->width : y->width;
    n->coll = x->coll >= 0 ? x->coll : y->coll;
    n->cmax = x->coll >= 0 ? x->cmax : y->cmax;
    return NGT_OK;
}

/* A boolean array outside any reduction can never become the per-event result. */
static int need_scalar(checker *c, cut_node *n, int a, int b, const char *what)
{
    if (!n->array || c->reducing)
        return NGT_OK;
    int arr = node(c, a)->array ? a : b;
    char d[96];
    return fail(c, arr,
                "%s is an array of %d values; %s needs a scalar: use max(), min(), sum(), "
                "count() or any() to reduce it%s",
                describe(c, arr, d, sizeof d), node(c, arr)->width, what,
                node(c, arr)->coll >= 0 ? ", or count(coll, pred) over the collection" : "");
}

static int check_binary(checker *c, int i)
{
    cut_node *n = node(c, i);
    int a = n->args[0], b = n->args[1], op = n->op, rc;
    if ((rc = check(c, a)) < 0 || (rc = check(c, b)) < 0 || (rc = broadcast(c, n, a, b)) < 0)
        return rc;
    cut_type ta = node(c, a)->type, tb = node(c, b)->type;
    char what[32];
    snprintf(what, sizeof what, "%s", cut_tok_text(op));
    if (op == T_AND || op == T_OR) {
        if ((rc = need_bool(c, a, what)) < 0 || (rc = need_bool(c, b, what)) < 0)
            return rc;
        n->type = TY_BOOL;
        return need_scalar(c, n, a, b, what);
    }
    if (op >= T_LT && op <= T_NE) {
        int eq = op == T_EQ || op == T_NE;
        if (!eq || ta != TY_BOOL || tb != TY_BOOL)
            if ((rc = need_numeric(c, a, "a comparison")) < 0 ||
                (rc = need_numeric(c, b, "a comparison")) < 0)
                return rc;
        n->type = TY_BOOL;
        return need_scalar(c, n, a, b, "a comparison");
    }
    if ((rc = need_numeric(c, a, "arithmetic")) < 0 || (rc = need_numeric(c, b, "arithmetic")) < 0)
        return rc;
    n->type = op == T_SLASH || op == T_POW || ta == TY_FLOAT || tb == TY_FLOAT ? TY_FLOAT : TY_INT;
    return NGT_OK;
}

static int check_unary(checker *c, int i)
{
    cut_node *n = node(c, i);
    int a = n->args[0], rc;
    if ((rc = check(c, a)) < 0)
        return rc;
    cut_node *x = node(c, a);
    n->type = x->type, n->array = x->array, n->width = x->width;
    n->coll = x->coll, n->cmax = x->cmax;
    if (n->op == T_MINUS)
        return need_numeric(c, a, "unary '-'");
    if ((rc = need_bool(c, a, "'not'")) < 0)
        return rc;
    return need_scalar(c, n, a, a, "'not'");
}

/* ---- Indexing ----------------------------------------------------------------------------- */

/* A whole number written in the expression (optionally negative). */
static int const_int(checker *c, int i, const char *what, int *v)
{
    cut_node *n = node(c, i);
    int neg = n->kind == N_UNARY && n->op == T_MINUS;
    cut_node *m = neg ? node(c, n->args[0]) : n;
    if (m->kind != N_NUM || !m->is_int || m->num > 1e9)
        return fail(c, i, "%s must be a whole number written in the expression (e.g. 0)", what);
    *v = neg ? -(int)m->num : (int)m->num;
    return NGT_OK;
}

static int check_index(checker *c, int i)
{
    cut_node *n = node(c, i);
    int base = n->args[0], k, rc;
    char d[96];
    if ((rc = check(c, base)) < 0 || (rc = const_int(c, n->args[1], "an index", &k)) < 0)
        return rc;
    cut_node *x = node(c, base);
    if (!x->array)
        return fail(c, i, "%s is a single value and cannot be indexed",
                    describe(c, base, d, sizeof d));
    int w = x->width, kk = k < 0 ? k + w : k;
    if (kk < 0 || kk >= w)
        return fail(c, n->args[1], "index %d is out of range for %s (%d values)", k,
                    describe(c, base, d, sizeof d), w);
    node(c, n->args[1])->num = kk; /* normalised for the code generator */
    node(c, n->args[1])->kind = N_NUM;
    n->type = x->type == TY_BOOL || x->coll < 0 ? x->type : TY_FLOAT;
    n->width = 1, n->array = 0;
    return NGT_OK;
}

static int check_slice(checker *c, int i)
{
    cut_node *n = node(c, i);
    int base = n->args[0], lo = 0, hi, rc;
    char d[96];
    if ((rc = check(c, base)) < 0)
        return rc;
    cut_node *x = node(c, base);
    if (!x->array)
        return fail(c, i, "%s is a single value and cannot be sliced",
                    describe(c, base, d, sizeof d));
    if (x->coll >= 0)
        return fail(c, i,
                    "%s belongs to a collection and cannot be sliced: use leading() or a "
                    "collection function",
                    describe(c, base, d, sizeof d));
    hi = x->width;
    if ((n->args[1] >= 0 && (rc = const_int(c, n->args[1], "a slice bound", &lo)) < 0) ||
        (n->args[2] >= 0 && (rc = const_int(c, n->args[2], "a slice bound", &hi)) < 0))
        return rc;
    int a = lo < 0 ? lo + x->width : lo, b = hi < 0 ? hi + x->width : hi;
    if (a < 0 || b > x->width || a >= b)
        return fail(c, i, "slice [%d:%d] of %s (%d values) is empty or out of range", lo, hi,
                    describe(c, base, d, sizeof d), x->width);
    n->num = a; /* first element */
    n->type = x->type, n->array = 1, n->width = b - a;
    return NGT_OK;
}

/* ---- Functions ---------------------------------------------------------------------------- */

static int nargs_error(checker *c, int i, const char *usage)
{
    return fail(c, i, "wrong number of arguments to %s(): %s", node(c, i)->name, usage);
}

/* Checks a value argument; reductions' arguments may be arrays. */
static int check_arg(checker *c, int i)
{
    c->reducing++;
    int rc = check(c, i);
    c->reducing--;
    return rc;
}

/* abs(x), sqrt(x), min(a, b), max(a, b): elementwise. */
static int check_elementwise(checker *c, int i, cut_fn fn)
{
    cut_node *n = node(c, i);
    int rc, a = n->args[0], b = n->args[1];
    const char *name = n->name;
    if ((rc = check(c, a)) < 0 || (rc = need_numeric(c, a, name[0] == 'a' ? "abs()" : name)) < 0)
        return rc;
    n->fn = fn;
    if (fn == F_ABS || fn == F_SQRT) {
        cut_node *x = node(c, a);
        n->array = x->array, n->width = x->width, n->coll = x->coll, n->cmax = x->cmax;
        n->type = fn == F_SQRT ? TY_FLOAT : x->type;
        return NGT_OK;
    }
    if ((rc = check(c, b)) < 0 || (rc = need_numeric(c, b, name)) < 0 ||
        (rc = broadcast(c, n, a, b)) < 0)
        return rc;
    n->type = node(c, a)->type == TY_INT && node(c, b)->type == TY_INT ? TY_INT : TY_FLOAT;
    return NGT_OK;
}

/* sum(x) max(x) min(x) mean(x) count(x) any(x) all(x) over an array. */
static int check_reduction(checker *c, int i, cut_fn fn)
{
    cut_node *n = node(c, i);
    int a = n->args[0], rc;
    char d[96], what[NGT_NAME_MAX + 8];
    snprintf(what, sizeof what, "%s()", n->name);
    if ((rc = check_arg(c, a)) < 0)
        return rc;
    cut_node *x = node(c, a);
    if (!x->array)
        return fail(c, a, "%s reduces an array; %s is a single value%s", what,
                    describe(c, a, d, sizeof d),
                    fn == F_MAX || fn == F_MIN ? " (the larger of two values is max(a, b))" : "");
    int logical = fn == F_COUNT || fn == F_ANY || fn == F_ALL;
    if ((rc = logical ? need_bool(c, a, what) : need_numeric(c, a, what)) < 0)
        return rc;
    n->fn = fn;
    if (fn == F_COUNT)
        n->type = TY_INT;
    else if (logical)
        n->type = TY_BOOL;
    else if (fn == F_MEAN || x->type == TY_FLOAT || (x->coll >= 0 && fn != F_SUM))
        n->type = TY_FLOAT; /* max/min over no objects is NaN */
    else
        n->type = TY_INT;
    return NGT_OK;
}

/* An argument evaluated per object: a scalar, or an array over the collection's objects. */
static int check_object_arg(checker *c, int i, int a, int logical)
{
    cut_node *n = node(c, i);
    char d[96];
    int rc = check_arg(c, a);
    if (rc < 0 || (rc = logical ? need_bool(c, a, "a predicate")
                                : need_numeric(c, a, "a per-object value")) < 0)
        return rc;
    cut_node *x = node(c, a);
    const char *coll = node(c, n->args[0])->name;
    if (x->array && x->coll >= 0 && x->coll != n->col)
        return fail(c, a, "%s belongs to another collection than '%s'", describe(c, a, d, sizeof d),
                    coll);
    if (x->array && x->width != n->cmax)
        return fail(c, a, "%s has %d values per event but '%s' holds %d objects",
                    describe(c, a, d, sizeof d), x->width, coll, n->cmax);
    return NGT_OK;
}

/* Field column of the call's collection, or a failure naming it when required. */
static int need_field(checker *c, int i, const char *field, int required, int *col)
{
    const char *coll = node(c, node(c, i)->args[0])->name;
    *col = find_field(c->s, coll, field);
    if (*col < 0 && required)
        return fail(c, i, "%s() needs field '%s' in collection '%s'", node(c, i)->name, field,
                    coll);
    return NGT_OK;
}

/* The fields the kinematic functions read: pt eta phi and m (or mass) when present. */
static int need_kinematics(checker *c, int i, int with_pt)
{
    cut_node *n = node(c, i);
    int rc, *f = n->fields;
    if ((rc = need_field(c, i, "pt", with_pt, &f[0])) < 0 ||
        (rc = need_field(c, i, "eta", 1, &f[1])) < 0 ||
        (rc = need_field(c, i, "phi", 1, &f[2])) < 0)
        return rc;
    need_field(c, i, "m", 0, &f[3]);
    if (f[3] < 0)
        need_field(c, i, "mass", 0, &f[3]);
    return NGT_OK;
}

static int object_index(checker *c, int i, int a, int *k)
{
    cut_node *n = node(c, i);
    int rc = const_int(c, a, "an object index", k);
    if (rc < 0)
        return rc;
    if (*k < 0 || *k >= n->cmax)
        return fail(c, a, "object index %d is out of range: '%s' holds at most %d objects", *k,
                    node(c, n->args[0])->name, n->cmax);
    return NGT_OK;
}

typedef struct coll_fn {
    const char *name;
    cut_fn fn;
    int min, max; /* argument counts, the collection included */
    cut_type type;
    const char *usage;
} coll_fn;

static const coll_fn coll_fns[] = {
    {"count", F_CCOUNT, 1, 2, TY_INT, "count(coll) or count(coll, pred)"},
    {"any", F_CANY, 2, 2, TY_BOOL, "any(coll, pred)"},
    {"all", F_CEVERY, 2, 2, TY_BOOL, "all(coll, pred)"},
    {"sum", F_CSUM, 2, 3, TY_FLOAT, "sum(coll, expr) or sum(coll, expr, where)"},
    {"max", F_CMAX, 2, 3, TY_FLOAT, "max(coll, expr) or max(coll, expr, where)"},
    {"min", F_CMIN, 2, 3, TY_FLOAT, "min(coll, expr) or min(coll, expr, where)"},
    {"mean", F_CMEAN, 2, 3, TY_FLOAT, "mean(coll, expr) or mean(coll, expr, where)"},
    {"ht", F_HT, 1, 2, TY_FLOAT, "ht(coll) or ht(coll, where)"},
    {"maxmass", F_MAXMASS, 1, 2, TY_FLOAT, "maxmass(coll) or maxmass(coll, where)"},
    {"mindr", F_MINDR, 1, 2, TY_FLOAT, "mindr(coll) or mindr(coll, where)"},
    {"mass", F_MASS, 3, 3, TY_FLOAT, "mass(coll, i, j)"},
    {"deltaR", F_DR, 3, 3, TY_FLOAT, "deltaR(coll, i, j)"},
    {"leading", F_LEADING, 2, 2, TY_FLOAT, "leading(coll, k).field"},
};

static const coll_fn *find_coll_fn(const char *name)
{
    for (size_t k = 0; k < sizeof coll_fns / sizeof coll_fns[0]; k++)
        if (strcmp(coll_fns[k].name, name) == 0)
            return &coll_fns[k];
    return NULL;
}

/* Checks the per-object arguments (from index first) inside the collection's context. */
static int check_object_args(checker *c, int i, int first, int last_is_pred)
{
    cut_node *n = node(c, i);
    if (c->nctx == MAX_CTX)
        return fail(c, i, "collection functions nested more than %d deep", MAX_CTX);
    c->ctx[c->nctx] = n->col;
    ngt_strlcpy(c->ctx_name[c->nctx++], node(c, n->args[0])->name, NGT_NAME_MAX);
    int rc = NGT_OK;
    for (int k = first; k < n->nargs && rc >= 0; k++)
        rc = check_object_arg(c, i, n->args[k], last_is_pred || k == 2);
    c->nctx--;
    return rc;
}

/* f(coll, ...): the collection functions. */
static int check_coll_call(checker *c, int i, const coll_fn *f)
{
    cut_node *n = node(c, i), *a0 = node(c, n->args[0]);
    int rc, k;
    if (n->nargs < f->min || n->nargs > f->max)
        return nargs_error(c, i, f->usage);
    n->col = find_collection(c->s, a0->name, &n->cmax);
    a0->col = n->col, a0->cmax = n->cmax, a0->type = TY_INT;
    n->fn = f->fn, n->type = f->type;
    switch (f->fn) {
    case F_CCOUNT:
    case F_CANY:
    case F_CEVERY:
        return check_object_args(c, i, 1, 1);
    case F_HT:
    case F_MAXMASS:
    case F_MINDR:
        if ((rc = need_kinematics(c, i, f->fn != F_MINDR)) < 0)
            return rc;
        if (f->fn == F_HT && (rc = need_field(c, i, "pt", 1, &n->fields[0])) < 0)
            return rc;
        return check_object_args(c, i, 1, 1);
    case F_MASS:
    case F_DR:
        if ((rc = object_index(c, i, n->args[1], &k)) < 0 ||
            (rc = object_index(c, i, n->args[2], &k)) < 0)
            return rc;
        return need_kinematics(c, i, f->fn == F_MASS);
    case F_LEADING:
        return fail(c, i,
                    "leading(%s, k) is an object, not a value: pick a field, e.g. "
                    "leading(%s, 0).pt",
                    a0->name, a0->name);
    default: /* sum max min mean */
        if ((rc = check_object_args(c, i, 1, 0)) < 0)
            return rc;
        if (f->fn == F_CSUM && node(c, n->args[1])->type == TY_INT)
            n->type = TY_INT;
        return NGT_OK;
    }
}

static int is_collection_arg(checker *c, int a)
{
    cut_node *x = node(c, a);
    int max;
    return x->kind == N_NAME && ngt_schema_find(c->s, x->name) < 0 &&
           find_collection(c->s, x->name, &max) >= 0;
}

static int check_call(checker *c, int i)
{
    static const struct {
        const char *name;
        cut_fn fn;
    } reductions[] = {{"sum", F_SUM},     {"max", F_MAX}, {"min", F_MIN}, {"mean", F_MEAN},
                      {"count", F_COUNT}, {"any", F_ANY}, {"all", F_ALL}};
    cut_node *n = node(c, i);
    const coll_fn *f = find_coll_fn(n->name);
    int nargs = n->nargs, elem = !strcmp(n->name, "abs") || !strcmp(n->name, "sqrt");
    if (elem)
        return nargs == 1 ? check_elementwise(c, i, n->name[0] == 'a' ? F_ABS : F_SQRT)
                          : nargs_error(c, i, "it takes one argument");
    if (f && nargs >= 1 && is_collection_arg(c, n->args[0]))
        return check_coll_call(c, i, f);
    if ((!strcmp(n->name, "min") || !strcmp(n->name, "max")) && nargs == 2)
        return check_elementwise(c, i, n->name[1] == 'i' ? F_MIN2 : F_MAX2);
    for (size_t k = 0; k < sizeof reductions / sizeof reductions[0]; k++)
        if (!strcmp(n->name, reductions[k].name)) {
            if (nargs == 1)
                return check_reduction(c, i, reductions[k].fn);
            return nargs_error(c, i, "f(array), or f(coll, ...) with a collection first");
        }
    if (f)
        return fail(c, nargs ? n->args[0] : i, "%s() needs a collection as its first argument: %s",
                    n->name, f->usage);
    return fail(c, i,
                "unknown function '%s' (known: abs sqrt min max sum mean count any all ht "
                "leading mass deltaR maxmass mindr)",
                n->name);
}

/* leading(coll, k).field */
static int check_field(checker *c, int i)
{
    cut_node *n = node(c, i), *call = node(c, n->args[0]);
    int k, rc;
    if (call->kind != N_CALL || strcmp(call->name, "leading") != 0)
        return fail(c, i, "'.%s' can only follow leading(coll, k)", n->name);
    if (call->nargs != 2)
        return nargs_error(c, n->args[0], "leading(coll, k).field");
    if (!is_collection_arg(c, call->args[0]))
        return fail(c, call->args[0], "leading() needs a collection as its first argument");
    call->fn = F_LEADING;
    call->col = find_collection(c->s, node(c, call->args[0])->name, &call->cmax);
    if ((rc = object_index(c, n->args[0], call->args[1], &k)) < 0)
        return rc;
    n->col = find_field(c->s, node(c, call->args[0])->name, n->name);
    if (n->col < 0)
        return fail(c, i, "collection '%s' has no field '%s'", node(c, call->args[0])->name,
                    n->name);
    n->num = k;
    n->type = dtype_type(ngt_schema_column(c->s, n->col)->dtype) == TY_BOOL ? TY_BOOL : TY_FLOAT;
    return NGT_OK;
}

static int check(checker *c, int i)
{
    cut_node *n = node(c, i);
    n->width = 1;
    switch (n->kind) {
    case N_NUM:
        n->type = n->is_int ? TY_INT : TY_FLOAT;
        return NGT_OK;
    case N_BOOL:
        n->type = TY_BOOL;
        return NGT_OK;
    case N_NAME:
        return check_name(c, i);
    case N_UNARY:
        return check_unary(c, i);
    case N_BINARY:
        return check_binary(c, i);
    case N_INDEX:
        return check_index(c, i);
    case N_SLICE:
        return check_slice(c, i);
    case N_CALL:
        return check_call(c, i);
    case N_FIELD:
        return check_field(c, i);
    }
    return fail(c, i, "unknown syntax node");
}

int cut_check(const ngt_schema *s, const char *src, cut_ast *ast, ngt_error *err)
{
    (void)src;
    checker c = {.s = s, .ast = ast, .err = err};
    int rc = check(&c, ast->root);
    if (rc < 0)
        return rc;
    cut_node *r = node(&c, ast->root);
    char d[96];
    if (r->array)
        return fail(&c, ast->root,
                    "the cut %s is an array of %d values; a cut needs one boolean per event: "
                    "use any(), all() or count()",
                    describe(&c, ast->root, d, sizeof d), r->width);
    if (r->type != TY_BOOL)
        return fail(&c, ast->root, "the cut %s is %s %s, not a boolean: compare it (e.g. %s > 0)",
                    describe(&c, ast->root, d, sizeof d), r->type == TY_INT ? "an" : "a",
                    type_name(r->type), d);
    return NGT_OK;
}
