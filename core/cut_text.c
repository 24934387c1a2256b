/* cut_text.c: writes a parsed cut back as text, fully parenthesised, for ngt_cut_text() and for
 * naming sub-expressions in error messages. */
#include "cut_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out {
    char *buf;
    size_t size, len;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->size ? o->size - o->len : 0;
    int k = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (k > 0)
        o->len += (size_t)k;
}

/* Shortest of %.15g / %.17g that reads back as the same double. */
static void put_number(out *o, double v)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof tmp, "%.17g", v);
    put(o, "%s", tmp);
}

static void unparse(out *o, const cut_ast *a, int i)
{
    if (i < 0)
        return;
    const cut_node *n = &a->nodes[i];
    switch (n->kind) {
    case N_NUM:
        put_number(o, n->num);
        break;
    case N_BOOL:
        put(o, "%s", n->num != 0 ? "true" : "false");
        break;
    case N_NAME:
        put(o, "%s", n->name);
        break;
    case N_UNARY:
        put(o, n->op == T_NOT ? "(not " : "(-");
        unparse(o, a, n->args[0]);
        put(o, ")");
        break;
    case N_BINARY: {
        const char *t = cut_tok_text(n->op); /* quoted: 'and' */
        put(o, "(");
        unparse(o, a, n->args[0]);
        put(o, " %.*s ", (int)strlen(t) - 2, t + 1);
        unparse(o, a, n->args[1]);
        put(o, ")");
        break;
    }
    case N_CALL:
        put(o, "%s(", n->name);
        for (int k = 0; k < n->nargs; k++) {
            put(o, k ? ", " : "");
            unparse(o, a, n->args[k]);
        }
        put(o, ")");
        break;
    case N_INDEX:
    case N_SLICE:
        unparse(o, a, n->args[0]);
        put(o, "[");
        unparse(o, a, n->args[1]);
        if (n->kind == N_SLICE)
            put(o, ":");
        unparse(o, a, n->args[2]);
        put(o, "]");
        break;
    case N_FIELD:
        unparse(o, a, n->args[0]);
        put(o, ".%s", n->name);
        break;
    }
}

size_t cut_unparse(const cut_ast *ast, int i, char *buf, size_t size)
{
    out o = {buf, size, 0};
    if (size)
        buf[0] = 0;
    unparse(&o, ast, i);
    return o.len;
}
