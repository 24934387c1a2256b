/* genc.h: the genc compiler's internal interface: a plan of steps built from the ONNX reader's IR
 * (folded, fused, with one arena), the C text it emits, and the loader that builds and dlopens it.
 */
#ifndef NGT_GENC_H
#define NGT_GENC_H

#include "internal.h"
#include "strbuf.h"
#include "onnx/onnx_ir.h"

#include <stdio.h>

/* Instruction sets the emitted C targets. */
typedef enum genc_target { GENC_GENERIC = 0, GENC_AVX2, GENC_AVX512 } genc_target;

/* Dense layers with at least this many weights (K x N) call cblas_sgemm on whole tiles; smaller
 * ones get the emitted register-blocked kernel. */
enum { GENC_BLAS_MIN_WEIGHTS = 128 * 256 };
/* The arena (all per-event intermediates of one tile) aims below this many bytes. */
enum { GENC_ARENA_TARGET = 512 * 1024, GENC_TILE_MAX = 64 };

typedef enum genc_kind {
    GENC_S_DENSE = 0, /* y[r][N] = act(x[r][K] . W[K][N] + b), r over rows of the tile */
    GENC_S_CONV,      /* stride-1 (width) convolution with a vector kernel, bias, act */
    GENC_S_NODE,      /* an IR node by the generic kernels of the prelude */
    GENC_S_ALIAS      /* output is the input's data (Reshape, Identity) */
} genc_kind;

typedef enum genc_act { GENC_A_NONE = 0, GENC_A_RELU, GENC_A_LEAKY, GENC_A_CLIP } genc_act;

typedef struct genc_step {
    genc_kind kind;
    int node;    /* IR node index (the first of a fused group) */
    int in, out; /* tensor indices (DENSE, CONV, ALIAS) */
    genc_act act;
    float alpha, lo, hi;
    int rows;       /* DENSE: rows per event */
    int K, N, blas; /* DENSE */
    float *w, *b;   /* DENSE: w[K][N], b[N]; CONV: w[M][C/g][KH][KW], b[M]; owned */
} genc_step;

typedef struct genc_plan {
    onnx_graph *g; /* borrowed */
    genc_target target;
    float **cdata; /* per tensor: constant (or folded) values as float, owned */
    genc_step *steps;
    int n_steps;
    int *alias;     /* per tensor: the tensor whose storage it uses (itself when none) */
    size_t *offset; /* per tensor: byte offset in the arena of its tile, or (size_t)-1 */
    int tile;       /* events per tile */
    size_t arena;   /* bytes of the arena tensors */
    size_t scratch; /* bytes of conv scratch (after the arena tensors) */
    int uses_blas;
} genc_plan;

/* The emitted text: the core's growable buffer (strbuf.h). */
typedef strbuf genc_buf;
#define genc_printf sb_printf
#define genc_puts sb_puts

int genc_target_parse(const char *s, genc_target *t);
const char *genc_target_name(genc_target t);
genc_target genc_target_host(void);

/* Builds the plan of g for target; frees it with genc_plan_free. */
int genc_plan_build(onnx_graph *g, genc_target target, genc_plan *p, ngt_error *err);
void genc_plan_free(genc_plan *p);
/* Liveness-based arena layout (genc_arena.c). */
int genc_arena_plan(genc_plan *p, ngt_error *err);

/* Emits the C file for a plan; its functions are prefix_infer, prefix_workspace_size ... */
int genc_emit(const genc_plan *p, const char *prefix, genc_buf *c, ngt_error *err);
int genc_emit_header(const genc_plan *p, const char *prefix, genc_buf *h, ngt_error *err);
/* The parts of genc_emit for fast layers (genc_emit_kern.c). */
void genc_emit_dense(const genc_plan *p, const genc_step *s, int idx, genc_buf *c);
void genc_emit_conv(const genc_plan *p, const genc_step *s, int idx, genc_buf *c);
void genc_emit_floats(genc_buf *c, const char *name, const float *v, size_t n);
/* v as a C float literal (INFINITY, NAN spelled out); buf holds 48 bytes. */
const char *genc_flit(char *buf, float v);

/* The runtime prelude compiled into every emitted file (genc_prelude.h, embedded by CMake). */
extern const char genc_prelude[];

/* ngt_genc_compile_file (the `ngt compile` entry) is declared in core/ngt.h. */

/* The "genc" backend (listed in the generated module table). */
const ngt_backend *genc_backend(void);

#endif
