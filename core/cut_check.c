/* cut_check.c: type checker of the cut language: resolves names against the schema (collection
 * fields inside collection functions), gives every node a type and shape, and rejects bad cuts. */
#include "cut_check.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

int cutc_fail(checker *c, int i, const char *fmt, ...)
{
    char msg[NGT_ERR_MSG_MAX - 16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return seterr(c->err, NGT_EINVAL, "col %d: %s", cutc_node(c, i)->pos + 1, msg);
}

/* 'name' or the sub-expression's text, shortened, for messages. */
const char *cutc_describe(checker *c, int i, char *buf, size_t size)
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
int cutc_find_collection(const ngt_schema *s, const char *name, int *max)
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
int cutc_find_field(const ngt_schema *s, const char *coll_name, const char *field)
{
    char n[2 * NGT_NAME_MAX + 2];
    snprintf(n, sizeof n, "%s.%s", coll_name, field);
    int k = ngt_schema_find(s, n);
    if (k < 0 || ngt_schema_column(s, k)->kind != NGT_COL_FIELD)
        return -1;
    return k;
}

cut_type cutc_dtype_type(ngt_dtype t)
{
    if (t == NGT_BOOL)
        return TY_BOOL;
    return t == NGT_F32 || t == NGT_F64 ? TY_FLOAT : TY_INT;
}

static void set_column(checker *c, cut_node *n, int col)
{
    const ngt_column_info *ci = ngt_schema_column(c->s, col);
    n->col = col;
    n->type = cutc_dtype_type(ci->dtype);
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
    cut_node *n = cutc_node(c, i);
    for (int k = c->nctx - 1; k >= 0; k--) {
        int col = cutc_find_field(c->s, c->ctx_name[k], n->name);
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
    if (cutc_find_collection(c->s, n->name, &max) >= 0)
        return cutc_fail(c, i,
                         "'%s' is a collection, not a value: use count(%s), any(%s, pred), "
                         "sum(%s, expr) ... or a field such as %s.pt",
                         n->name, n->name, n->name, n->name, n->name);
    if (c->nctx)
        return cutc_fail(c, i, "unknown column '%s' (not a field of '%s' either)", n->name,
                         c->ctx_name[c->nctx - 1]);
    return cutc_fail(c, i, "unknown column '%s'", n->name);
}

/* ---- Operators ---------------------------------------------------------------------------- */

int cutc_need_numeric(checker *c, int i, const char *what)
{
    char d[96];
    if (cutc_node(c, i)->type == TY_BOOL)
        return cutc_fail(c, i, "%s needs numbers; %s is a boolean", what,
                         cutc_describe(c, i, d, sizeof d));
    return NGT_OK;
}

int cutc_need_bool(checker *c, int i, const char *what)
{
    char d[96];
    if (cutc_node(c, i)->type != TY_BOOL)
        return cutc_fail(c, i, "%s needs booleans; %s is %s %s (compare it, e.g. %s > 0)", what,
                         cutc_describe(c, i, d, sizeof d),
                         cutc_node(c, i)->type == TY_INT ? "an" : "a",
                         type_name(cutc_node(c, i)->type), d);
    return NGT_OK;
}

/* Shape of an elementwise operation on a and b into n (a scalar broadcasts). */
int cutc_broadcast(checker *c, cut_node *n, int a, int b)
{
    cut_node *x = cutc_node(c, a), *y = cutc_node(c, b);
    char dx[96], dy[96];
    if (x->array && y->array && x->width != y->width)
        return cutc_fail(c, a, "arrays of different lengths: %s has %d values, %s has %d",
                         cutc_describe(c, a, dx, sizeof dx), x->width,
                         cutc_describe(c, b, dy, sizeof dy), y->width);
    if (x->coll >= 0 && y->coll >= 0 && x->coll != y->coll)
        return cutc_fail(c, a, "%s and %s belong to different collections",
                         cutc_describe(c, a, dx, sizeof dx), cutc_describe(c, b, dy, sizeof dy));
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
    int arr = cutc_node(c, a)->array ? a : b;
    char d[96];
    return cutc_fail(c, arr,
                     "%s is an array of %d values; %s needs a scalar: use max(), min(), sum(), "
                     "count() or any() to reduce it%s",
                     cutc_describe(c, arr, d, sizeof d), cutc_node(c, arr)->width, what,
                     cutc_node(c, arr)->coll >= 0 ? ", or count(coll, pred) over the collection"
                                                  : "");
}

static int check_binary(checker *c, int i)
{
    cut_node *n = cutc_node(c, i);
    int a = n->args[0], b = n->args[1], op = n->op, rc;
    if ((rc = cutc_check(c, a)) < 0 || (rc = cutc_check(c, b)) < 0 ||
        (rc = cutc_broadcast(c, n, a, b)) < 0)
        return rc;
    cut_type ta = cutc_node(c, a)->type, tb = cutc_node(c, b)->type;
    char what[32];
    snprintf(what, sizeof what, "%s", cut_tok_text(op));
    if (op == T_AND || op == T_OR) {
        if ((rc = cutc_need_bool(c, a, what)) < 0 || (rc = cutc_need_bool(c, b, what)) < 0)
            return rc;
        n->type = TY_BOOL;
        return need_scalar(c, n, a, b, what);
    }
    if (op >= T_LT && op <= T_NE) {
        int eq = op == T_EQ || op == T_NE;
        if (!eq || ta != TY_BOOL || tb != TY_BOOL)
            if ((rc = cutc_need_numeric(c, a, "a comparison")) < 0 ||
                (rc = cutc_need_numeric(c, b, "a comparison")) < 0)
                return rc;
        n->type = TY_BOOL;
        return need_scalar(c, n, a, b, "a comparison");
    }
    if ((rc = cutc_need_numeric(c, a, "arithmetic")) < 0 ||
        (rc = cutc_need_numeric(c, b, "arithmetic")) < 0)
        return rc;
    n->type = op == T_SLASH || op == T_POW || ta == TY_FLOAT || tb == TY_FLOAT ? TY_FLOAT : TY_INT;
    return NGT_OK;
}

static int check_unary(checker *c, int i)
{
    cut_node *n = cutc_node(c, i);
    int a = n->args[0], rc;
    if ((rc = cutc_check(c, a)) < 0)
        return rc;
    cut_node *x = cutc_node(c, a);
    n->type = x->type, n->array = x->array, n->width = x->width;
    n->coll = x->coll, n->cmax = x->cmax;
    if (n->op == T_MINUS)
        return cutc_need_numeric(c, a, "unary '-'");
    if ((rc = cutc_need_bool(c, a, "'not'")) < 0)
        return rc;
    return need_scalar(c, n, a, a, "'not'");
}

/* ---- Indexing ----------------------------------------------------------------------------- */

/* A whole number written in the expression (optionally negative). */
int cutc_const_int(checker *c, int i, const char *what, int *v)
{
    cut_node *n = cutc_node(c, i);
    int neg = n->kind == N_UNARY && n->op == T_MINUS;
    cut_node *m = neg ? cutc_node(c, n->args[0]) : n;
    if (m->kind != N_NUM || !m->is_int || m->num > 1e9)
        return cutc_fail(c, i, "%s must be a whole number written in the expression (e.g. 0)",
                         what);
    *v = neg ? -(int)m->num : (int)m->num;
    return NGT_OK;
}

static int check_index(checker *c, int i)
{
    cut_node *n = cutc_node(c, i);
    int base = n->args[0], k = 0, rc;
    char d[96];
    if ((rc = cutc_check(c, base)) < 0 || (rc = cutc_const_int(c, n->args[1], "an index", &k)) < 0)
        return rc;
    cut_node *x = cutc_node(c, base);
    if (!x->array)
        return cutc_fail(c, i, "%s is a single value and cannot be indexed",
                         cutc_describe(c, base, d, sizeof d));
    int w = x->width, kk = k < 0 ? k + w : k;
    if (kk < 0 || kk >= w)
        return cutc_fail(c, n->args[1], "index %d is out of range for %s (%d values)", k,
                         cutc_describe(c, base, d, sizeof d), w);
    cutc_node(c, n->args[1])->num = kk; /* normalised for the code generator */
    cutc_node(c, n->args[1])->kind = N_NUM;
    n->type = x->type == TY_BOOL || x->coll < 0 ? x->type : TY_FLOAT;
    n->width = 1, n->array = 0;
    return NGT_OK;
}

static int check_slice(checker *c, int i)
{
    cut_node *n = cutc_node(c, i);
    int base = n->args[0], lo = 0, hi, rc;
    char d[96];
    if ((rc = cutc_check(c, base)) < 0)
        return rc;
    cut_node *x = cutc_node(c, base);
    if (!x->array)
        return cutc_fail(c, i, "%s is a single value and cannot be sliced",
                         cutc_describe(c, base, d, sizeof d));
    if (x->coll >= 0)
        return cutc_fail(c, i,
                         "%s belongs to a collection and cannot be sliced: use leading() or a "
                         "collection function",
                         cutc_describe(c, base, d, sizeof d));
    hi = x->width;
    if ((n->args[1] >= 0 && (rc = cutc_const_int(c, n->args[1], "a slice bound", &lo)) < 0) ||
        (n->args[2] >= 0 && (rc = cutc_const_int(c, n->args[2], "a slice bound", &hi)) < 0))
        return rc;
    int a = lo < 0 ? lo + x->width : lo, b = hi < 0 ? hi + x->width : hi;
    if (a < 0 || b > x->width || a >= b)
        return cutc_fail(c, i, "slice [%d:%d] of %s (%d values) is empty or out of range", lo, hi,
                         cutc_describe(c, base, d, sizeof d), x->width);
    n->num = a; /* first element */
    n->type = x->type, n->array = 1, n->width = b - a;
    return NGT_OK;
}

int cutc_check(checker *c, int i)
{
    cut_node *n = cutc_node(c, i);
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
        return cutc_check_call(c, i);
    case N_FIELD:
        return cutc_check_field(c, i);
    }
    return cutc_fail(c, i, "unknown syntax node");
}

int cut_check(const ngt_schema *s, const char *src, cut_ast *ast, ngt_error *err)
{
    (void)src;
    checker c = {.s = s, .ast = ast, .err = err};
    int rc = cutc_check(&c, ast->root);
    if (rc < 0)
        return rc;
    cut_node *r = cutc_node(&c, ast->root);
    char d[96];
    if (r->array)
        return cutc_fail(&c, ast->root,
                         "the cut %s is an array of %d values; a cut needs one boolean per event: "
                         "use any(), all() or count()",
                         cutc_describe(&c, ast->root, d, sizeof d), r->width);
    if (r->type != TY_BOOL)
        return cutc_fail(&c, ast->root,
                         "the cut %s is %s %s, not a boolean: compare it (e.g. %s > 0)",
                         cutc_describe(&c, ast->root, d, sizeof d), r->type == TY_INT ? "an" : "a",
                         type_name(r->type), d);
    return NGT_OK;
}
