/* cut_check.h: state and helpers shared by the two halves of the cut type checker: values and
 * operators (cut_check.c) and function calls (cut_check_fn.c). */
#ifndef NGT_CUT_CHECK_H
#define NGT_CUT_CHECK_H

#include "cut_int.h"

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

static inline cut_node *cutc_node(checker *c, int i)
{
    return &c->ast->nodes[i];
}
/* Fails with "col N: message" at node i's column; returns NGT_EINVAL. */
int cutc_fail(checker *c, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 'name' or the sub-expression's text, shortened, for messages. */
const char *cutc_describe(checker *c, int i, char *buf, size_t size);
int cutc_check(checker *c, int i);
int cutc_need_numeric(checker *c, int i, const char *what);
int cutc_need_bool(checker *c, int i, const char *what);
/* Shape of an elementwise operation on a and b into n (a scalar broadcasts). */
int cutc_broadcast(checker *c, cut_node *n, int a, int b);
/* A whole number written in the expression (optionally negative). */
int cutc_const_int(checker *c, int i, const char *what, int *v);
/* Count column of collection name (its maximum in *max), or -1. */
int cutc_find_collection(const ngt_schema *s, const char *name, int *max);
/* Field column "coll.field" of collection coll_name, or -1. */
int cutc_find_field(const ngt_schema *s, const char *coll_name, const char *field);
cut_type cutc_dtype_type(ngt_dtype t);
/* Function calls f(...) and leading(coll, k).field. */
int cutc_check_call(checker *c, int i);
int cutc_check_field(checker *c, int i);

#endif
