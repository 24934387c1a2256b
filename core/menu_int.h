/* menu_int.h: the menu's internal structures, shared by menu.c (building), plan.c (resolution and
 * ordering), exec.c (running a batch), ctx.c and stats.c. */
#ifndef NGT_MENU_INT_H
#define NGT_MENU_INT_H

#include "cut.h"
#include "ngt.h"
#include "registry.h"

#include <pthread.h>
#include <stdatomic.h>

/* A step as declared: filters belong to one chain; producers are shared nodes. */
typedef enum step_kind {
    STEP_CUT,      /* filter: compiled cut expression */
    STEP_PRESCALE, /* filter: deterministic prescale */
    STEP_FILTER,   /* filter: a C (or Lua) function */
    STEP_INFER,    /* producer: a model */
    STEP_PRODUCE   /* producer: a C (or Lua) function writing columns */
} step_kind;

typedef struct step {
    step_kind kind;
    char name[128];
    int chain; /* owning chain for filters, -1 for producers */
    /* cut */
    cut_program *cut;
    int cut_row; /* its result row in the menu's compiled cuts, or -1 (interpreted) */
    /* prescale */
    uint32_t factor;
    uint64_t seed; /* FNV-1a 64 of the chain name */
    /* infer */
    char model[NGT_NAME_MAX];
    int model_slot;
    int model_index; /* index among the menu's models (pins, workspaces) */
    /* C/Lua function steps */
    ngt_step_fn fn;
    void *user;
    ngt_step_mode mode;
    uint64_t timeout_ns;
    /* columns */
    int n_in, in[NGT_MAX_MODEL_IO];
    int n_out, out[NGT_MAX_MODEL_IO];
    int n_reads, *reads; /* every column read (cuts, functions) */
    /* producers this step needs before it runs (resolved by plan.c) */
    int n_deps, *deps;
} step;

/* A node of the execution order: a step, a chain's start (seeds and vetoes), a chain's use of a
 * producer (drops the events the producer failed on), or a chain's end. */
typedef enum node_kind { NODE_START, NODE_FILTER, NODE_PRODUCER, NODE_USE, NODE_END } node_kind;
typedef struct node {
    node_kind kind;
    int chain; /* START, FILTER, USE, END */
    int step;  /* FILTER, PRODUCER, USE (the producer's step) */
} node;

typedef struct chain {
    char name[NGT_NAME_MAX];
    int n_items, *items; /* step indices in declared order (filters and producer uses) */
    int n_seeds, *seeds;
    int n_vetoes, *vetoes;
    char **seed_names, **veto_names;
    int prescale_step; /* first prescale step of the chain, or -1 */
} chain;

typedef struct stream {
    char name[NGT_NAME_MAX];
    int n_chains, *chains;
} stream;

typedef struct pcolumn {
    char name[NGT_NAME_MAX];
    uint32_t *factors; /* per chain; UINT32_MAX = the chain's own */
} pcolumn;

struct ngt_menu {
    /* (grouped by size: pointers and 64-bit values, locks, then ints; no padding) */
    ngt_schema *schema; /* input + derived */
    ngt_registry *reg;
    step *steps;
    chain *chains;
    stream *streams; /* user streams; the error stream is index n_streams */
    pcolumn *pcols;
    /* resolved by plan.c */
    node *nodes;
    int *user_start, *users; /* per producer step: the chains it computes for (CSR, plan.c) */
    uint64_t plan_work;      /* the planner's elementary operations (its scaling test) */
    uint64_t plan_ns;        /* time plan_build took (cuts are compiled apart) */
    int *step_order;         /* step index -> position in execution order (stats index) */
    int *order_step;         /* stats index -> step index */
    size_t gather_bytes;     /* largest infer input+output rows per event */
    size_t cut_scratch;      /* largest cut scratch for a full batch of the largest capacity */
    struct cutc_set *cutc;   /* the compiled cuts (menu_cuts.c), or NULL */
    uint64_t hash;
    /* prescale columns: requested by the operator, applied at a batch boundary */
    uint64_t applied_since;
    uint64_t batches_started;
    int64_t last_lumi;
    uint32_t *override; /* per chain: operator's prescale (UINT32_MAX: none), under col_mu */
    /* statistics of contexts, live and retired */
    struct ngt_ctx *contexts;
    struct ctx_stats *retired;
    /* first error message per step (stats index) and, at n_order, of the input check; the first
     * failure sets it once (err_set), under err_mu (failures only, never the steady state) */
    char (*err_msg)[NGT_ERR_MSG_MAX];
    atomic_int *err_set;
    pthread_mutex_t col_mu;
    pthread_mutex_t stats_mu;
    pthread_mutex_t err_mu;
    int built;
    int n_steps, cap_steps;
    int n_chains, cap_chains;
    int n_streams;
    int n_pcols;
    int n_nodes;
    int plan_edges; /* ordering constraints the planner resolved */
    int words;      /* decision words */
    int col_decision, col_streams, col_status;
    int n_order;
    int scratch_events;       /* capacity cut_scratch was sized for */
    atomic_int requested_col; /* -1 = chains' own factors */
    int applied_col;
    int lumi_col;       /* batch scalar used as the lumi boundary, or -1 */
    int n_failed_decls; /* declarations that failed (failed_decl below: the first) */
    int cuts_mode;      /* ngt_cuts_mode */
    int cut_rows;       /* result rows of cutc */
    int n_compiled;     /* cut steps that run compiled */
    int n_models;
    int model_slots[64];
    /* declarations that failed (ngt_menu_cut, ...): ngt_menu_build refuses the menu */
    char failed_decl[NGT_ERR_MSG_MAX];
};

/* Per-context statistics (one writer: the context's thread; any reader). */
/* Latency histogram of nanoseconds: four buckets per power of two (a quantile is known to within
 * 12 %), up to 2^47 ns; hist_bin() and hist_value() convert. */
enum { HIST_BINS = 188 };
static inline int hist_bin(uint64_t ns)
{
    if (ns < 4)
        return (int)ns;
    int msb = 63 - __builtin_clzll(ns);
    int b = 4 * (msb - 1) + (int)((ns >> (msb - 2)) & 3);
    return b < HIST_BINS ? b : HIST_BINS - 1;
}
/* The middle of bucket b, in ns. */
static inline double hist_value(int b)
{
    if (b < 4)
        return b;
    int msb = b / 4 + 1;
    double width = (double)(1ULL << (msb - 2));
    return (4 + b % 4) * width + width / 2;
}
typedef struct ctx_stats {
    _Atomic uint64_t seq; /* odd while a batch's results are being added (a seqlock) */
    _Atomic uint64_t batches, in, accepted, rejected, errored;
    _Atomic uint64_t input_errors; /* events refused by the input check (bad counts) */
    _Atomic uint64_t *chain;       /* n_chains x 6: seen passed prescaled errored unique time */
    _Atomic uint64_t
        *step; /* n_order x (7 + HIST_BINS): calls in passed errors timeouts time fails hist */
    _Atomic uint64_t *stream;  /* n_streams+1 */
    _Atomic uint64_t *overlap; /* (n_streams+1)^2 */
} ctx_stats;
enum { CH_SEEN, CH_PASSED, CH_PRESCALED, CH_ERRORED, CH_UNIQUE, CH_TIME, CH_FIELDS };
enum {
    ST_CALLS,
    ST_IN,
    ST_PASSED,
    ST_ERRORS,
    ST_TIMEOUTS,
    ST_TIME,
    ST_FAILS, /* calls that failed (an error code, a timeout or events marked in error[]) */
    ST_HIST,
    ST_FIELDS = ST_HIST + HIST_BINS
};

/* A batch's results (totals, per-chain passed and unique, streams) are added between these two,
 * so a snapshot never sees in != accepted + rejected + errored (stats.c retries while odd). */
static inline void stats_write_begin(ctx_stats *s)
{
    /* the counters' own stores are releases (stat_add), so none is seen before this one */
    atomic_store_explicit(&s->seq, atomic_load_explicit(&s->seq, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}
static inline void stats_write_end(ctx_stats *s)
{
    atomic_store_explicit(&s->seq, atomic_load_explicit(&s->seq, memory_order_relaxed) + 1,
                          memory_order_release);
}

ctx_stats *stats_alloc(const ngt_menu *m);
void stats_free(ctx_stats *s);
void stats_add(const ngt_menu *m, ctx_stats *dst, const ctx_stats *src);
static inline void stat_add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                          memory_order_release); /* a plain store on x86; see stats_write_begin */
}

struct ngt_ctx {
    ngt_menu *menu;
    int worker;
    ctx_stats *stats;
    void **ws;        /* per model: workspace */
    size_t *ws_size;  /* per model: its size */
    void *shadow_out; /* a shadow version's outputs (grown when a shadow first runs) */
    size_t shadow_bytes;
    int max_batch;
    struct exec_job *job; /* for ngt_menu_process */
    /* ngt_menu_process: the layout tokens of the last batch schema that differed from the menu's
     * by token yet matched it column by column, and of the menu schema then (0: none) */
    uint64_t layout_batch, layout_menu;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int woken;
    struct ngt_ctx *next; /* menu's list of contexts */
};

/* menu_cuts.c: compiles the cuts that read only input columns into m->cutc (per ngt_cuts_mode
 * and NGT_CUTS); sets each cut step's cut_row. */
int menu_compile_cuts(ngt_menu *m, ngt_error *err);
void menu_free_cuts(ngt_menu *m);

/* plan.c */
int plan_build(ngt_menu *m, ngt_error *err);
/* Prescale decision: 1 keeps the event. key: event id or physics identity hash. */
int prescale_keep(uint64_t key, uint64_t seed, uint32_t n);
/* keep[e] = live[e] && prescale_keep(keys[e], seed, n) for e < count; returns how many. */
int prescale_mask(const uint64_t *keys, uint64_t seed, uint32_t n, const uint8_t *live,
                  uint8_t *keep, int count);
/* Workspace of model index k for a version, grown if the version needs more (off the steady state).
 */
void *ctx_workspace(struct ngt_ctx *c, int k, const model_version *v, int n);
/* Remembers a failed declaration (not one refused because the menu is built) for ngt_menu_build. */
void menu_declaration_failed(ngt_menu *m, int rc, const ngt_error *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Keeps msg as the first error of stats slot k (a step's stats index, or n_order for the input
 * check) unless one is already kept. */
void menu_note_error(ngt_menu *m, int k, const char *msg);
/* Scratch of at least bytes for a shadow's outputs (grown off the steady state); NULL on ENOMEM. */
void *ctx_shadow_out(struct ngt_ctx *c, size_t bytes);
/* Applies a requested prescale column at a batch boundary; returns the column to use and copies
 * the operator's per-chain prescales (ngt_menu_set_prescale) into factors (n_chains). */
int menu_column_for_batch(ngt_menu *m, ngt_batch *b, uint32_t *factors);

/* The index of the chain called name, or -1 (name may be NULL). */
int menu_find_chain(const ngt_menu *m, const char *name);

#endif
