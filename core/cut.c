/* cut.c: the public face of the cut language (cut.h): compile = parse, check and generate a block
 * program once; eval = run that program over the selected events with caller-provided scratch. */
#include "cut_int.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct cut_program {
    cut_prog prog;
    char *text; /* fully parenthesised expression */
    int *cols;  /* distinct columns read, ascending */
    int ncols;
};

/* Records the distinct columns the program loads. */
static int collect_columns(cut_program *c)
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

cut_program *cut_compile(const ngt_schema *s, const char *expr, ngt_error *err)
{
    if (!s || !expr) {
        seterr(err, NGT_EINVAL, "cut: schema and expression are required");
        return NULL;
    }
    cut_ast ast;
    cut_program *c = calloc(1, sizeof *c);
    int rc = c ? cut_parse(expr, &ast, err) : seterr(err, NGT_ENOMEM, "out of memory");
    if (rc == NGT_OK && !(c->text = unparse_root(&ast)))
        rc = seterr(err, NGT_ENOMEM, "out of memory");
    if (rc == NGT_OK)
        rc = cut_check(s, expr, &ast, err);
    if (rc == NGT_OK)
        rc = cut_emit(s, &ast, &c->prog, err);
    if (rc == NGT_OK && collect_columns(c) < 0)
        rc = seterr(err, NGT_ENOMEM, "out of memory");
    if (c)
        cut_ast_free(&ast);
    if (rc != NGT_OK) {
        preferr(err, rc, "cut '%.200s'", expr);
        cut_free(c);
        return NULL;
    }
    return c;
}

void cut_free(cut_program *c)
{
    if (!c)
        return;
    cut_prog_free(&c->prog);
    free(c->text);
    free(c->cols);
    free(c);
}

int cut_columns(const cut_program *c, int *cols, int max)
{
    for (int k = 0; k < c->ncols && k < max; k++)
        cols[k] = c->cols[k];
    return c->ncols;
}

size_t cut_scratch_size(const cut_program *c, int max_events)
{
    size_t regs = c->prog.regs > 0 ? (size_t)c->prog.regs : 1;
    return regs * (size_t)cut_stride(&c->prog, max_events) * sizeof(double);
}

int cut_eval(const cut_program *c, ngt_batch *b, const uint32_t *sel, int n, uint8_t *pass,
             void *scratch)
{
    if (n > 0)
        cut_run(&c->prog, b, sel, n, pass, scratch);
    return NGT_OK;
}

const cut_prog *cut_prog_of(const cut_program *c)
{
    return &c->prog;
}

const char *cut_text(const cut_program *c)
{
    return c->text;
}
