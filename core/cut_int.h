/* cut_int.h: internals of the cut expression language shared by its parser (cut_parse.c), type
 * checker (cut_check.c), code generator (cut_emit.c) and block evaluator (cut_eval.c). */
#ifndef NGT_CUT_INT_H
#define NGT_CUT_INT_H

#include "cut.h"

#include <stdint.h>

/* ---- Tokens and syntax tree ------------------------------------------------------------------ */
typedef enum cut_tok {
    T_END = 0,
    T_NUM,
    T_IDENT,
    T_LP,
    T_RP,
    T_LB,
    T_RB,
    T_COMMA,
    T_COLON,
    T_DOT,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_POW,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_EQ,
    T_NE,
    T_AND,
    T_OR,
    T_NOT,
    T_TRUE,
    T_FALSE
} cut_tok;

typedef enum cut_kind {
    N_NUM = 0, /* num, is_int */
    N_BOOL,    /* num is 0 or 1 */
    N_NAME,    /* name */
    N_UNARY,   /* op (T_MINUS, T_NOT), args[0] */
    N_BINARY,  /* op, args[0], args[1] */
    N_CALL,    /* name, args[0..nargs) */
    N_INDEX,   /* args[0][args[1]] */
    N_SLICE,   /* args[0][args[1]:args[2]], either bound may be -1 (absent) */
    N_FIELD    /* args[0].name (only after leading()) */
} cut_kind;

enum { CUT_MAX_ARGS = 4, CUT_MAX_DEPTH = 200 };

/* Value types; every value is computed in double precision whatever its type. */
typedef enum cut_type { TY_BOOL = 0, TY_INT, TY_FLOAT } cut_type;

typedef struct cut_node {
    cut_kind kind;
    int op;  /* cut_tok of the operator */
    int pos; /* 0-based offset of the node's first character in the source */
    int nargs;
    int args[CUT_MAX_ARGS];
    double num;
    int is_int;
    char name[NGT_NAME_MAX];
    /* filled by the checker */
    cut_type type;
    int array;     /* 1 when the value is a per-event array */
    int width;     /* elements per event (1 for a scalar) */
    int coll;      /* count column of the collection the array belongs to, or -1 */
    int cmax;      /* that collection's maximum */
    int col;       /* N_NAME: the column it reads */
    int fn;        /* N_CALL: resolved function (cut_fn) */
    int fields[4]; /* pair functions and ht: field columns pt, eta, phi, m (-1 when absent) */
} cut_node;

typedef struct cut_ast {
    cut_node *nodes;
    int n, cap;
    int root;
} cut_ast;

/* Parses src into ast (nodes malloc'd; free with cut_ast_free). NGT_OK or NGT_EINVAL. */
int cut_parse(const char *src, cut_ast *ast, ngt_error *err);
void cut_ast_free(cut_ast *ast);
/* Writes node i fully parenthesised into buf (truncated to size); returns the length needed. */
size_t cut_unparse(const cut_ast *ast, int i, char *buf, size_t size);
const char *cut_tok_text(int tok);

/* ---- Functions --------------------------------------------------------------------------------
 */
typedef enum cut_fn {
    F_ABS = 0,
    F_SQRT,
    F_MIN2, /* min(a, b) elementwise */
    F_MAX2,
    F_SUM, /* reductions over an array */
    F_MAX,
    F_MIN,
    F_MEAN,
    F_COUNT,
    F_ANY,
    F_ALL,
    F_CSUM, /* over the objects of a collection: sum(jet, expr[, where]) ... */
    F_CMAX,
    F_CMIN,
    F_CMEAN,
    F_CCOUNT, /* count(jet[, pred]) */
    F_CANY,
    F_CEVERY, /* all(jet, pred) */
    F_HT,     /* ht(jet[, where]) */
    F_LEADING,
    F_MASS,
    F_DR,
    F_MAXMASS, /* maxmass(jet[, where]) over pairs */
    F_MINDR
} cut_fn;

/* Type-checks and resolves ast against s: fills the checker's fields of every node. */
int cut_check(const ngt_schema *s, const char *src, cut_ast *ast, ngt_error *err);

/* ---- Program ---------------------------------------------------------------------------------
 * A flat list of instructions over registers. A register of width w holds w doubles for each
 * event of a block, event-major ([event][w]); reg is its offset in doubles per event, so its data
 * start at scratch + reg * stride (stride: events per block rounded up to 8). */
typedef enum cut_opcode {
    OP_LOAD = 0, /* dst[e][j] = column col, row sel[e], element off + j (converted from dtype) */
    OP_LOADS,    /* dst[e] = batch scalar col */
    OP_LOADN,    /* dst[e] = count column col clamped to [0, k] */
    OP_CONST,    /* dst[e] = imm */
    OP_BCAST,    /* dst[e][j] = a[e] */
    OP_SLICE,    /* dst[e][j] = a[e][off + j] */
    OP_NANIF,    /* dst[e] = k < n[e] ? a[e][off] : NaN */
    OP_NEG,      /* unary, elementwise over w */
    OP_NOT,
    OP_ABS,
    OP_SQRT,
    OP_SQUARE,
    OP_ADD, /* binary, elementwise over w; an operand of width 1 broadcasts */
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_POW,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_EQ,
    OP_NE,
    OP_AND,
    OP_OR,
    OP_MIN,
    OP_MAX,
    OP_RSUM, /* reductions of a (width wa) over j < n[e] (when n >= 0) where m[e][j] (when m >= 0)
              */
    OP_RMAX,
    OP_RMIN,
    OP_RMEAN,
    OP_RCOUNT,
    OP_RANY,
    OP_RALL,
    OP_MASS,    /* objects k and off of fields r[0..3] (pt eta phi m; m may be -1), count n */
    OP_DR,      /* same operands (pt unused) */
    OP_MAXMASS, /* over pairs of objects below n[e] where m[e][j] (when m >= 0) */
    OP_MINDR,
    OP_COUNT
} cut_opcode;

typedef struct cut_ins {
    uint8_t op;
    uint8_t dtype;
    int col;
    int dst, a, b, n, m; /* registers; -1 when absent */
    int r[4];            /* field registers of the pair operators */
    int w, wa, wb;       /* widths of dst, a, b */
    int off, k;
    double imm;
} cut_ins;

typedef struct cut_prog {
    cut_ins *ins;
    int n, cap;
    int regs;   /* doubles per event of scratch that the registers need (high-water mark) */
    int result; /* register holding the per-event boolean result */
    int block;  /* events per block */
} cut_prog;

/* Compiles a checked ast into prog (instructions malloc'd; free with cut_prog_free). */
int cut_emit(const ngt_schema *s, const cut_ast *ast, cut_prog *prog, ngt_error *err);
void cut_prog_free(cut_prog *prog);
/* Runs prog over events sel[0..n) of b, writing pass[i] = 0 or 1, in cut_scratch_size bytes
 * of scratch. */
void cut_run(const cut_prog *prog, ngt_batch *b, const uint32_t *sel, int n, uint8_t *pass,
             double *scratch) __attribute__((nonnull(1, 5, 6)));
/* Events a block holds when at most max_events are evaluated at once, rounded up to 8. */
int cut_stride(const cut_prog *prog, int max_events);

/* The program of a compiled cut (cut.c); its text is cut_text() (cut.h). */
const cut_prog *cut_prog_of(const cut_program *c);

/* ---- Compiled cuts (cut_gen.c) ----------------------------------------------------------------
 * A set of cuts (a menu's) generated as one C function that evaluates them all in one pass over
 * the events, each distinct sub-expression computed once per event; compiled and cached through
 * ccache.h (kind "cuts"). Cuts with the same value share a result row. */
enum { CUTC_MAX_COLS = 512 };
enum { CUTC_O3_ROWS = 32 }; /* sets of at least this many result rows compile -O3, others -O2 */
typedef struct cutc_set cutc_set;
/* For i < n: out[row][i] = 1 or 0, the row's cut on event sel[i] (event i when sel is NULL). */
typedef void (*cutc_fn)(const void *const *cols, const uint32_t *sel, int n, uint8_t *const *out,
                        double *scratch);
extern const char cut_sem_text[]; /* cut_sem.h's text, for the generated sources */
/* Generates, compiles (or finds in the cache) and loads cuts[0..n) of schema s. NULL with err
 * when there is no working compiler or it failed: the caller falls back to the interpreter. */
cutc_set *cutc_build(const ngt_schema *s, const cut_program *const *cuts, int n, ngt_error *err);
/* The C source cutc_build compiles (malloc'd), for inspection and tests. */
char *cutc_source(const ngt_schema *s, const cut_program *const *cuts, int n, ngt_error *err);
void cutc_free(cutc_set *k);
int cutc_rows(const cutc_set *k);            /* distinct results */
int cutc_row(const cutc_set *k, int i);      /* the result row of cut i */
int cutc_values(const cutc_set *k);          /* distinct values computed per event */
const char *cutc_path(const cutc_set *k);    /* the shared object */
size_t cutc_scratch_size(const cutc_set *k); /* bytes of scratch cutc_run needs (any n) */
/* Runs every cut: out[row] holds n bytes per row; scratch holds cutc_scratch_size bytes, 64-byte
 * aligned. No allocation. */
void cutc_run(const cutc_set *k, ngt_batch *b, const uint32_t *sel, int n, uint8_t *const *out,
              double *scratch);

#endif
