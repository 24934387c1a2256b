/* cut_emit.c: code generator of the cut language: turns a checked syntax tree into a flat program
 * of typed block operations over registers, reusing register space once a value is consumed. */
#include "cut_int.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SCRATCH_TARGET = 256 * 1024 }; /* bytes of registers per block we aim to stay under */

typedef struct emitter {
    const ngt_schema *s;
    const cut_ast *ast;
    cut_prog *p;
    ngt_error *err;
    int *live_off, *live_w; /* live registers, sorted by offset */
    int nlive, cap;
} emitter;

static int oom(emitter *e)
{
    return seterr(e->err, NGT_ENOMEM, "out of memory compiling a cut");
}

/* First-fit allocation of w doubles per event; returns the register's offset. */
static int reg_alloc(emitter *e, int w)
{
    if (w < 1)
        w = 1;
    if (e->nlive == e->cap) {
        int cap = e->cap ? 2 * e->cap : 32;
        int *o = realloc(e->live_off, (size_t)cap * sizeof *o);
        if (o)
            e->live_off = o;
        int *ww = realloc(e->live_w, (size_t)cap * sizeof *ww);
        if (ww)
            e->live_w = ww;
        if (!o || !ww)
            return oom(e);
        e->cap = cap;
    }
    int at = 0, k = 0;
    for (; k < e->nlive; k++) {
        if (e->live_off[k] - at >= w)
            break;
        at = e->live_off[k] + e->live_w[k];
    }
    memmove(e->live_off + k + 1, e->live_off + k, (size_t)(e->nlive - k) * sizeof(int));
    memmove(e->live_w + k + 1, e->live_w + k, (size_t)(e->nlive - k) * sizeof(int));
    e->live_off[k] = at;
    e->live_w[k] = w;
    e->nlive++;
    if (at + w > e->p->regs)
        e->p->regs = at + w;
    return at;
}

static void reg_free(emitter *e, int off)
{
    for (int k = 0; k < e->nlive; k++)
        if (e->live_off[k] == off) {
            memmove(e->live_off + k, e->live_off + k + 1, (size_t)(e->nlive - k - 1) * sizeof(int));
            memmove(e->live_w + k, e->live_w + k + 1, (size_t)(e->nlive - k - 1) * sizeof(int));
            e->nlive--;
            return;
        }
}

static void free_all(emitter *e, const cut_ins *in)
{
    const int regs[] = {in->a, in->b, in->n, in->m, in->r[0], in->r[1], in->r[2], in->r[3]};
    for (size_t k = 0; k < sizeof regs / sizeof regs[0]; k++)
        if (regs[k] >= 0)
            reg_free(e, regs[k]);
}

/* Appends in with a fresh destination of width in.w (after freeing its operands, which the
 * evaluator reads before writing: operands and destination never overlap because the
 * destination is allocated first). */
static int push(emitter *e, cut_ins in)
{
    cut_prog *p = e->p;
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 32;
        cut_ins *ins = realloc(p->ins, (size_t)cap * sizeof *ins);
        if (!ins)
            return oom(e);
        p->ins = ins;
        p->cap = cap;
    }
    in.dst = reg_alloc(e, in.w);
    if (in.dst < 0)
        return in.dst;
    free_all(e, &in);
    p->ins[p->n++] = in;
    return in.dst;
}

static cut_ins ins(int op, int w)
{
    cut_ins in;
    memset(&in, 0, sizeof in);
    in.op = (uint8_t)op;
    in.w = w;
    in.dst = in.a = in.b = in.n = in.m = in.col = -1;
    in.r[0] = in.r[1] = in.r[2] = in.r[3] = -1;
    return in;
}

static const cut_node *node(emitter *e, int i)
{
    return &e->ast->nodes[i];
}

static int emit(emitter *e, int i);

/* Loads elements [off, off + w) of column col. */
static int emit_load(emitter *e, int col, int off, int w)
{
    const ngt_column_info *ci = ngt_schema_column(e->s, col);
    cut_ins in = ins(OP_LOAD, w);
    in.col = col;
    in.dtype = (uint8_t)ci->dtype;
    in.off = off;
    in.k = (int)ci->elems; /* row length */
    if (ci->kind == NGT_COL_SCALAR)
        in.op = OP_LOADS;
    return push(e, in);
}

/* The clamped object count of the collection whose count column is cnt. */
static int emit_count(emitter *e, int cnt, int max)
{
    cut_ins in = ins(OP_LOADN, 1);
    in.col = cnt;
    in.dtype = (uint8_t)ngt_schema_column(e->s, cnt)->dtype;
    in.k = max;
    return push(e, in);
}

static int emit_const(emitter *e, double v)
{
    cut_ins in = ins(OP_CONST, 1);
    in.imm = v;
    return push(e, in);
}

/* Node i as an array of width w (scalars broadcast). */
static int emit_wide(emitter *e, int i, int w)
{
    int a = emit(e, i);
    if (a < 0 || node(e, i)->array)
        return a;
    cut_ins in = ins(OP_BCAST, w);
    in.a = a;
    return push(e, in);
}

static int emit_name(emitter *e, int i)
{
    const cut_node *n = node(e, i);
    const ngt_column_info *ci = ngt_schema_column(e->s, n->col);
    if (ci->kind == NGT_COL_COUNT)
        return emit_count(e, n->col, n->cmax);
    return emit_load(e, n->col, 0, n->width);
}

/* Value of element k of a collection array (NaN, or false for booleans, past the count). */
static int emit_nanif(emitter *e, int a, int wa, int off, int k, int cnt, int max, int is_bool)
{
    int nreg = emit_count(e, cnt, max);
    if (nreg < 0)
        return nreg;
    cut_ins in = ins(OP_NANIF, 1);
    in.a = a, in.wa = wa, in.off = off, in.k = k, in.n = nreg;
    in.imm = is_bool ? 0.0 : NAN;
    return push(e, in);
}

static int is_column(emitter *e, int i)
{
    const cut_node *n = node(e, i);
    return n->kind == N_NAME && ngt_schema_column(e->s, n->col)->kind != NGT_COL_COUNT &&
           ngt_schema_column(e->s, n->col)->kind != NGT_COL_SCALAR;
}

static int emit_subscript(emitter *e, int i)
{
    const cut_node *n = node(e, i), *x = node(e, n->args[0]);
    int off = n->kind == N_INDEX ? (int)node(e, n->args[1])->num : (int)n->num, a, wa = x->width;
    if (is_column(e, n->args[0])) { /* read only the elements needed */
        a = emit_load(e, x->col, off, n->width);
        wa = n->width;
    } else {
        a = emit(e, n->args[0]);
    }
    if (a < 0)
        return a;
    if (x->coll >= 0)
        return emit_nanif(e, a, wa, wa == 1 ? 0 : off, off, x->coll, x->cmax, x->type == TY_BOOL);
    if (wa == n->width)
        return a;
    cut_ins in = ins(OP_SLICE, n->width);
    in.a = a, in.wa = wa, in.off = off;
    return push(e, in);
}

static int binary_op(int tok)
{
    static const int map[][2] = {
        {T_PLUS, OP_ADD}, {T_MINUS, OP_SUB}, {T_STAR, OP_MUL}, {T_SLASH, OP_DIV}, {T_POW, OP_POW},
        {T_LT, OP_LT},    {T_LE, OP_LE},     {T_GT, OP_GT},    {T_GE, OP_GE},     {T_EQ, OP_EQ},
        {T_NE, OP_NE},    {T_AND, OP_AND},   {T_OR, OP_OR}};
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
        if (map[k][0] == tok)
            return map[k][1];
    return -1;
}

static int emit_unary(emitter *e, int op, int arg, int w)
{
    int a = emit(e, arg);
    if (a < 0)
        return a;
    cut_ins in = ins(op, w);
    in.a = a, in.wa = w;
    return push(e, in);
}

static int emit_binary(emitter *e, int op, int l, int r, int w)
{
    const cut_node *y = node(e, r);
    if (op == OP_POW && y->kind == N_NUM && y->num == 2.0) /* x**2 is x*x, exactly */
        return emit_unary(e, OP_SQUARE, l, w);
    int a = emit(e, l), b = a < 0 ? a : emit(e, r);
    if (b < 0)
        return b;
    cut_ins in = ins(op, w);
    in.a = a, in.b = b;
    in.wa = node(e, l)->array ? w : 1;
    in.wb = y->array ? w : 1;
    return push(e, in);
}

/* A reduction of value register a (width w) over j < n (when n >= 0) where m (when m >= 0). */
static int emit_reduce(emitter *e, int op, int a, int w, int n, int m)
{
    cut_ins in = ins(op, 1);
    in.a = a, in.wa = w, in.n = n, in.m = m;
    return push(e, in);
}

/* leading(coll, k).field */
static int emit_leading(emitter *e, int i)
{
    const cut_node *n = node(e, i), *call = node(e, n->args[0]);
    int k = (int)n->num;
    int a = emit_load(e, n->col, k, 1);
    if (a < 0)
        return a;
    return emit_nanif(e, a, 1, 0, k, call->col, call->cmax, n->type == TY_BOOL);
}

static int reduction_op(cut_fn fn)
{
    switch (fn) {
    case F_SUM:
    case F_CSUM:
    case F_HT:
        return OP_RSUM;
    case F_MAX:
    case F_CMAX:
        return OP_RMAX;
    case F_MIN:
    case F_CMIN:
        return OP_RMIN;
    case F_MEAN:
    case F_CMEAN:
        return OP_RMEAN;
    case F_COUNT:
    case F_CCOUNT:
        return OP_RCOUNT;
    case F_ANY:
    case F_CANY:
        return OP_RANY;
    default:
        return OP_RALL;
    }
}

/* sum(x) ... all(x): arrays of a collection count only the first n objects. */
static int emit_array_reduction(emitter *e, const cut_node *n)
{
    const cut_node *x = node(e, n->args[0]);
    int a = emit(e, n->args[0]), cnt = -1;
    if (a >= 0 && x->coll >= 0)
        cnt = emit_count(e, x->coll, x->cmax);
    if (a < 0 || cnt < -1)
        return a < 0 ? a : cnt;
    return emit_reduce(e, reduction_op(n->fn), a, x->width, cnt, -1);
}

/* Optional per-object argument k of call n as a mask register, or -1 when absent. */
static int emit_where(emitter *e, const cut_node *n, int k)
{
    if (k >= n->nargs)
        return -1;
    return emit_wide(e, n->args[k], n->cmax);
}

/* count/any/all/sum/max/min/mean/ht over the objects of a collection. */
static int emit_object_reduction(emitter *e, const cut_node *n)
{
    int val, where = -1, cnt;
    if (n->fn == F_CCOUNT && n->nargs == 1)
        return emit_count(e, n->col, n->cmax);
    if (n->fn == F_HT) {
        val = emit_load(e, n->fields[0], 0, n->cmax);
        if (val >= 0 && n->nargs == 2)
            where = emit_where(e, n, 1);
    } else {
        val = emit_wide(e, n->args[1], n->cmax);
        if (val >= 0 && n->nargs == 3)
            where = emit_where(e, n, 2);
    }
    if (val < 0 || where < -1)
        return val < 0 ? val : where;
    if ((cnt = emit_count(e, n->col, n->cmax)) < 0)
        return cnt;
    return emit_reduce(e, reduction_op(n->fn), val, n->cmax, cnt, where);
}

/* mass, deltaR (objects i, j) and maxmass, mindr (all pairs). */
static int emit_pair(emitter *e, const cut_node *n)
{
    int pair = n->fn == F_MASS || n->fn == F_DR;
    cut_ins in = ins(OP_MASS, 1);
    in.op = n->fn == F_MASS      ? OP_MASS
            : n->fn == F_DR      ? OP_DR
            : n->fn == F_MAXMASS ? OP_MAXMASS
                                 : OP_MINDR;
    int needs_pt = n->fn == F_MASS || n->fn == F_MAXMASS;
    for (int f = 0; f < 4; f++) {
        if (n->fields[f] < 0 || (f == 0 && !needs_pt) || (f == 3 && !needs_pt))
            continue;
        if ((in.r[f] = emit_load(e, n->fields[f], 0, n->cmax)) < 0)
            return in.r[f];
    }
    if (pair) {
        in.k = (int)node(e, n->args[1])->num;
        in.off = (int)node(e, n->args[2])->num;
    } else if ((in.m = emit_where(e, n, 1)) < -1) {
        return in.m;
    }
    if ((in.n = emit_count(e, n->col, n->cmax)) < 0)
        return in.n;
    in.wa = n->cmax;
    return push(e, in);
}

static int emit_call(emitter *e, int i)
{
    const cut_node *n = node(e, i);
    switch ((cut_fn)n->fn) {
    case F_ABS:
    case F_SQRT:
        return emit_unary(e, n->fn == F_ABS ? OP_ABS : OP_SQRT, n->args[0], n->width);
    case F_MIN2:
    case F_MAX2:
        return emit_binary(e, n->fn == F_MIN2 ? OP_MIN : OP_MAX, n->args[0], n->args[1], n->width);
    case F_SUM:
    case F_MAX:
    case F_MIN:
    case F_MEAN:
    case F_COUNT:
    case F_ANY:
    case F_ALL:
        return emit_array_reduction(e, n);
    case F_MASS:
    case F_DR:
    case F_MAXMASS:
    case F_MINDR:
        return emit_pair(e, n);
    case F_LEADING:
        break;
    default:
        return emit_object_reduction(e, n);
    }
    return seterr(e->err, NGT_EINVAL, "col %d: leading() without a field", n->pos + 1);
}

static int emit(emitter *e, int i)
{
    const cut_node *n = node(e, i);
    switch (n->kind) {
    case N_NUM:
    case N_BOOL:
        return emit_const(e, n->num);
    case N_NAME:
        return emit_name(e, i);
    case N_UNARY:
        return emit_unary(e, n->op == T_NOT ? OP_NOT : OP_NEG, n->args[0], n->width);
    case N_BINARY:
        return emit_binary(e, binary_op(n->op), n->args[0], n->args[1], n->width);
    case N_INDEX:
    case N_SLICE:
        return emit_subscript(e, i);
    case N_CALL:
        return emit_call(e, i);
    case N_FIELD:
        return emit_leading(e, i);
    }
    return seterr(e->err, NGT_EINVAL, "cut: unknown syntax node");
}

/* Largest block (a multiple of 8, at most 256 events) whose registers fit SCRATCH_TARGET. */
static int choose_block(int regs)
{
    int block = 256;
    while (block > 8 && (size_t)regs * (size_t)block * sizeof(double) > SCRATCH_TARGET)
        block /= 2;
    return block;
}

int cut_emit(const ngt_schema *s, const cut_ast *ast, cut_prog *prog, ngt_error *err)
{
    memset(prog, 0, sizeof *prog);
    emitter e = {s, ast, prog, err, NULL, NULL, 0, 0};
    int r = emit(&e, ast->root);
    free(e.live_off);
    free(e.live_w);
    if (r < 0) {
        cut_prog_free(prog);
        return r;
    }
    prog->result = r;
    prog->block = choose_block(prog->regs);
    return NGT_OK;
}

void cut_prog_free(cut_prog *prog)
{
    free(prog->ins);
    memset(prog, 0, sizeof *prog);
}

int cut_stride(const cut_prog *prog, int max_events)
{
    int b = max_events < prog->block ? max_events : prog->block;
    if (b < 1)
        b = 1;
    return (b + 7) & ~7;
}
