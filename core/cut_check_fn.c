/* cut_check_fn.c: type checker of the cut language's function calls: elementwise functions,
 * array reductions, collection functions (fields in scope), leading(), and pair kinematics. */
#include "cut_check.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* ---- Functions ---------------------------------------------------------------------------- */

static int nargs_error(checker *c, int i, const char *usage)
{
    return cutc_fail(c, i, "wrong number of arguments to %s(): %s", cutc_node(c, i)->name, usage);
}

/* Checks a value argument; reductions' arguments may be arrays. */
static int check_arg(checker *c, int i)
{
    c->reducing++;
    int rc = cutc_check(c, i);
    c->reducing--;
    return rc;
}

/* abs(x), sqrt(x), min(a, b), max(a, b): elementwise. */
static int check_elementwise(checker *c, int i, cut_fn fn)
{
    cut_node *n = cutc_node(c, i);
    int rc, a = n->args[0], b = n->args[1];
    const char *name = n->name;
    if ((rc = cutc_check(c, a)) < 0 ||
        (rc = cutc_need_numeric(c, a, name[0] == 'a' ? "abs()" : name)) < 0)
        return rc;
    n->fn = fn;
    if (fn == F_ABS || fn == F_SQRT) {
        cut_node *x = cutc_node(c, a);
        n->array = x->array, n->width = x->width, n->coll = x->coll, n->cmax = x->cmax;
        n->type = fn == F_SQRT ? TY_FLOAT : x->type;
        return NGT_OK;
    }
    if ((rc = cutc_check(c, b)) < 0 || (rc = cutc_need_numeric(c, b, name)) < 0 ||
        (rc = cutc_broadcast(c, n, a, b)) < 0)
        return rc;
    n->type =
        cutc_node(c, a)->type == TY_INT && cutc_node(c, b)->type == TY_INT ? TY_INT : TY_FLOAT;
    return NGT_OK;
}

/* sum(x) max(x) min(x) mean(x) count(x) any(x) all(x) over an array. */
static int check_reduction(checker *c, int i, cut_fn fn)
{
    cut_node *n = cutc_node(c, i);
    int a = n->args[0], rc;
    char d[96], what[NGT_NAME_MAX + 8];
    snprintf(what, sizeof what, "%s()", n->name);
    if ((rc = check_arg(c, a)) < 0)
        return rc;
    cut_node *x = cutc_node(c, a);
    if (!x->array)
        return cutc_fail(c, a, "%s reduces an array; %s is a single value%s", what,
                         cutc_describe(c, a, d, sizeof d),
                         fn == F_MAX || fn == F_MIN ? " (the larger of two values is max(a, b))"
                                                    : "");
    int logical = fn == F_COUNT || fn == F_ANY || fn == F_ALL;
    if ((rc = logical ? cutc_need_bool(c, a, what) : cutc_need_numeric(c, a, what)) < 0)
        return rc;
    n->fn = fn;
    if (logical) /* count, any, all: over booleans */
        n->type = fn == F_COUNT ? TY_INT : TY_BOOL;
    else if (fn == F_MEAN || x->type == TY_FLOAT || (x->coll >= 0 && fn != F_SUM))
        n->type = TY_FLOAT; /* max/min over no objects is NaN */
    else
        n->type = TY_INT;
    return NGT_OK;
}

/* An argument evaluated per object: a scalar, or an array over the collection's objects. */
static int check_object_arg(checker *c, int i, int a, int logical)
{
    cut_node *n = cutc_node(c, i);
    char d[96];
    int rc = check_arg(c, a);
    if (rc < 0 || (rc = logical ? cutc_need_bool(c, a, "a predicate")
                                : cutc_need_numeric(c, a, "a per-object value")) < 0)
        return rc;
    cut_node *x = cutc_node(c, a);
    const char *coll = cutc_node(c, n->args[0])->name;
    if (x->array && x->coll >= 0 && x->coll != n->col)
        return cutc_fail(c, a, "%s belongs to another collection than '%s'",
                         cutc_describe(c, a, d, sizeof d), coll);
    if (x->array && x->width != n->cmax)
        return cutc_fail(c, a, "%s has %d values per event but '%s' holds %d objects",
                         cutc_describe(c, a, d, sizeof d), x->width, coll, n->cmax);
    return NGT_OK;
}

/* Field column of the call's collection, or a failure naming it when required. */
static int need_field(checker *c, int i, const char *field, int required, int *col)
{
    const char *coll = cutc_node(c, cutc_node(c, i)->args[0])->name;
    *col = cutc_find_field(c->s, coll, field);
    if (*col < 0 && required)
        return cutc_fail(c, i, "%s() needs field '%s' in collection '%s'", cutc_node(c, i)->name,
                         field, coll);
    return NGT_OK;
}

/* The fields the kinematic functions read: pt eta phi and m (or mass) when present. */
static int need_kinematics(checker *c, int i, int with_pt)
{
    cut_node *n = cutc_node(c, i);
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
    cut_node *n = cutc_node(c, i);
    int rc = cutc_const_int(c, a, "an object index", k);
    if (rc < 0)
        return rc;
    if (*k < 0 || *k >= n->cmax)
        return cutc_fail(c, a, "object index %d is out of range: '%s' holds at most %d objects", *k,
                         cutc_node(c, n->args[0])->name, n->cmax);
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
    cut_node *n = cutc_node(c, i);
    if (c->nctx == MAX_CTX)
        return cutc_fail(c, i, "collection functions nested more than %d deep", MAX_CTX);
    c->ctx[c->nctx] = n->col;
    str_copy(c->ctx_name[c->nctx++], cutc_node(c, n->args[0])->name, NGT_NAME_MAX);
    int rc = NGT_OK;
    for (int k = first; k < n->nargs && rc >= 0; k++)
        rc = check_object_arg(c, i, n->args[k], last_is_pred || k == 2);
    c->nctx--;
    return rc;
}

/* f(coll, ...): the collection functions. */
static int check_coll_call(checker *c, int i, const coll_fn *f)
{
    cut_node *n = cutc_node(c, i), *a0 = cutc_node(c, n->args[0]);
    int rc, k;
    if (n->nargs < f->min || n->nargs > f->max)
        return nargs_error(c, i, f->usage);
    n->col = cutc_find_collection(c->s, a0->name, &n->cmax);
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
        return cutc_fail(c, i,
                         "leading(%s, k) is an object, not a value: pick a field, e.g. "
                         "leading(%s, 0).pt",
                         a0->name, a0->name);
    default: /* sum max min mean */
        if ((rc = check_object_args(c, i, 1, 0)) < 0)
            return rc;
        if (f->fn == F_CSUM && cutc_node(c, n->args[1])->type == TY_INT)
            n->type = TY_INT;
        return NGT_OK;
    }
}

static int is_collection_arg(checker *c, int a)
{
    cut_node *x = cutc_node(c, a);
    int max;
    return x->kind == N_NAME && ngt_schema_find(c->s, x->name) < 0 &&
           cutc_find_collection(c->s, x->name, &max) >= 0;
}

int cutc_check_call(checker *c, int i)
{
    static const struct {
        const char *name;
        cut_fn fn;
    } reductions[] = {{"sum", F_SUM},     {"max", F_MAX}, {"min", F_MIN}, {"mean", F_MEAN},
                      {"count", F_COUNT}, {"any", F_ANY}, {"all", F_ALL}};
    cut_node *n = cutc_node(c, i);
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
        return cutc_fail(c, nargs ? n->args[0] : i,
                         "%s() needs a collection as its first argument: %s", n->name, f->usage);
    return cutc_fail(c, i,
                     "unknown function '%s' (known: abs sqrt min max sum mean count any all ht "
                     "leading mass deltaR maxmass mindr)",
                     n->name);
}

/* leading(coll, k).field */
int cutc_check_field(checker *c, int i)
{
    cut_node *n = cutc_node(c, i), *call = cutc_node(c, n->args[0]);
    int k, rc;
    if (call->kind != N_CALL || strcmp(call->name, "leading") != 0)
        return cutc_fail(c, i, "'.%s' can only follow leading(coll, k)", n->name);
    if (call->nargs != 2)
        return nargs_error(c, n->args[0], "leading(coll, k).field");
    if (!is_collection_arg(c, call->args[0]))
        return cutc_fail(c, call->args[0], "leading() needs a collection as its first argument");
    call->fn = F_LEADING;
    call->col = cutc_find_collection(c->s, cutc_node(c, call->args[0])->name, &call->cmax);
    if ((rc = object_index(c, n->args[0], call->args[1], &k)) < 0)
        return rc;
    n->col = cutc_find_field(c->s, cutc_node(c, call->args[0])->name, n->name);
    if (n->col < 0)
        return cutc_fail(c, i, "collection '%s' has no field '%s'",
                         cutc_node(c, call->args[0])->name, n->name);
    n->num = k;
    n->type =
        cutc_dtype_type(ngt_schema_column(c->s, n->col)->dtype) == TY_BOOL ? TY_BOOL : TY_FLOAT;
    return NGT_OK;
}
