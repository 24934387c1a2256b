/* cut.c: the public face of the cut language (cut.h): compile = parse, check and generate a block
 * program once; eval = run that program over the selected events with caller-provided scratch. */
#include "cut_int.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct ngt_cut {
    cut_prog prog;
    char *text; /* fully parenthesised expression */
    int *cols;  /* distinct columns read, ascending */
    int ncols;
};

/* Records the distinct columns the program loads. */
static int collect_columns(ngt_cut *c)
{
    c->cols = malloc(((size_t)c->prog.n + 1) * sizeof *c->cols);
    if (!c->cols)
        return NGT_ENOMEM;
    c->ncols = 0;
    for (int i = 0; i < c->prog.n; i++) {
        const cut_ins *in = &c->prog.ins[i];
        if (in->op != OP_LOAD && in->op != OP_LOADS && in->op != OP_LOADN)
            continue;
        int k = 0;
        while (k < c->ncols && c->cols[k] < in->col)
            k++;
        if (k < c->ncols && c->cols[k] == in->col)
            continue;
        memmove(c->cols + k + 1, c->cols + k, (size_t)(c->ncols - k) * sizeof *c->cols);
        c->cols[k] = in->col;
        c->ncols++;
    }
    return NGT_OK;
}

static char *unparse_root(const cut_ast *ast)
{
    size_t len = cut_unparse(ast, ast->root, NULL, 0);
    char *text = malloc(len + 1);
    if (text)
        cut_unparse(ast, ast->root, text, len + 1);
    return text;
}

ngt_cut *ngt_cut_compile(const ngt_schema *s, const char *expr, ngt_error *err)
{
    if (!s || !expr) {
        ngt_seterr(err, NGT_EINVAL, "cut: schema and expression are required");
        return NULL;
    }
    cut_ast ast;
    ngt_cut *c = calloc(1, sizeof *c);
    int rc = c ? cut_parse(expr, &ast, err) : ngt_seterr(err, NGT_ENOMEM, "out of memory");
    if (rc == NGT_OK && !(c->text = unparse_root(&ast)))
        rc = ngt_seterr(err, NGT_ENOMEM, "out of memory");
    if (rc == NGT_OK)
        rc = cut_check(s, expr, &ast, err);
    if (rc == NGT_OK)
        rc = cut_emit(s, &ast, &c->prog, err);
    if (rc == NGT_OK && collect_columns(c) < 0)
        rc = ngt_seterr(err, NGT_ENOMEM, "out of memory");
    if (c)
        cut_ast_free(&ast);
    if (rc != NGT_OK) {
        ngt_preferr(err, rc, "cut '%.200s'", expr);
        ngt_cut_free(c);
        return NULL;
    }
    return c;
}

void ngt_cut_free(ngt_cut *c)
{
    if (!c)
        return;
    cut_prog_free(&c->prog);
    free(c->text);
    free(c->cols);
    free(c);
}

int ngt_cut_columns(const ngt_cut *c, int *cols, int max)
{
    for (int k = 0; k < c->ncols && k < max; k++)
        cols[k] = c->cols[k];
    return c->ncols;
}

size_t ngt_cut_scratch_size(const ngt_cut *c, int max_events)
{
    size_t regs = c->prog.regs > 0 ? (size_t)c->prog.regs : 1;
    return regs * (size_t)cut_stride(&c->prog, max_events) * sizeof(double);
}

int ngt_cut_eval(const ngt_cut *c, ngt_batch *b, const uint32_t *sel, int n, uint8_t *pass,
                 void *scratch)
{
    if (n > 0)
        cut_run(&c->prog, b, sel, n, pass, scratch);
    return NGT_OK;
}

const cut_prog *cut_program(const ngt_cut *c)
{
    return &c->prog;
}

const char *cut_text_of(const ngt_cut *c)
{
    return c->text;
}

const char *ngt_cut_text(const ngt_cut *c)
{
    return c->text;
}
