/* cut_text.c: writes a parsed cut back as text, fully parenthesised, for cut_text() and for
 * naming sub-expressions in error messages. */
#include "cut_int.h"
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shortest of %.15g / %.17g that reads back as the same double. */
static void put_number(strbuf *o, double v)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof tmp, "%.17g", v);
    sb_printf(o, "%s", tmp);
}

static void unparse(strbuf *o, const cut_ast *a, int i)
{
    if (i < 0)
        return;
    const cut_node *n = &a->nodes[i];
    switch (n->kind) {
    case N_NUM:
        put_number(o, n->num);
        break;
    case N_BOOL:
        sb_printf(o, "%s", n->num != 0 ? "true" : "false");
        break;
    case N_NAME:
        sb_printf(o, "%s", n->name);
        break;
    case N_UNARY:
        sb_printf(o, n->op == T_NOT ? "(not " : "(-");
        unparse(o, a, n->args[0]);
        sb_printf(o, ")");
        break;
    case N_BINARY: {
        const char *t = cut_tok_text(n->op); /* quoted: 'and' */
        sb_printf(o, "(");
        unparse(o, a, n->args[0]);
        sb_printf(o, " %.*s ", (int)strlen(t) - 2, t + 1);
        unparse(o, a, n->args[1]);
        sb_printf(o, ")");
        break;
    }
    case N_CALL:
        sb_printf(o, "%s(", n->name);
        for (int k = 0; k < n->nargs; k++) {
            sb_printf(o, k ? ", " : "");
            unparse(o, a, n->args[k]);
        }
        sb_printf(o, ")");
        break;
    case N_INDEX:
    case N_SLICE:
        unparse(o, a, n->args[0]);
        sb_printf(o, "[");
        unparse(o, a, n->args[1]);
        if (n->kind == N_SLICE)
            sb_printf(o, ":");
        unparse(o, a, n->args[2]);
        sb_printf(o, "]");
        break;
    case N_FIELD:
        unparse(o, a, n->args[0]);
        sb_printf(o, ".%s", n->name);
        break;
    }
}

size_t cut_unparse(const cut_ast *ast, int i, char *buf, size_t size)
{
    strbuf o = sb_fixed(buf, size);
    if (size)
        buf[0] = 0;
    unparse(&o, ast, i);
    return o.len;
}
