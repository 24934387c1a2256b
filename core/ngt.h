/* ngt.h: the whole public C API of ngt, the Next-Generation Trigger toolkit.
 * One header for C hosts and for LuaJIT's ffi.cdef: constants are enums, no macros in declarations.
 */
#ifndef NGT_H
#define NGT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions -------------------------------------------------------------------------------
 * The ABI version changes whenever a struct below changes layout or a function its signature.
 * A host checks ngt_abi_version() == NGT_ABI_VERSION at start-up. */
enum { NGT_ABI_VERSION = 1 };
int ngt_abi_version(void);
const char *ngt_version(void); /* "0.1.0" */

/* ---- Errors ---------------------------------------------------------------------------------
 * Functions return an int status (NGT_OK or a negative code) and fill an ngt_error with a message
 * for a person; pointer-returning functions return NULL on failure. err may be NULL. */
enum {
    NGT_OK = 0,
    NGT_PENDING = 1, /* an asynchronous step started; its completion resumes the batch */
    NGT_EINVAL = -1, /* bad argument or bad input (names what is wrong) */
    NGT_ENOMEM = -2,
    NGT_EIO = -3,          /* file or system error */
    NGT_EFORMAT = -4,      /* malformed file or message */
    NGT_EUNSUPPORTED = -5, /* valid but not supported (operator, opset, dtype) */
    NGT_ETIMEOUT = -6,
    NGT_ESTEP = -7,  /* a step failed while processing */
    NGT_ESTATE = -8, /* call not allowed in this state (e.g. menu already built) */
    NGT_ERR_MSG_MAX = 512
};
typedef struct ngt_error {
    int code;
    char msg[NGT_ERR_MSG_MAX];
} ngt_error;

/* ---- Data types -----------------------------------------------------------------------------*/
typedef enum ngt_dtype {
    NGT_F32 = 0,
    NGT_F64,
    NGT_I8,
    NGT_I16,
    NGT_I32,
    NGT_I64,
    NGT_U8,
    NGT_U16,
    NGT_U32,
    NGT_U64,
    NGT_BOOL, /* one byte, 0 or 1 */
    NGT_DTYPE_COUNT
} ngt_dtype;
size_t ngt_dtype_size(ngt_dtype t);
const char *ngt_dtype_name(ngt_dtype t);               /* "f32" ... "bool" */
int ngt_dtype_parse(const char *name, ngt_dtype *out); /* NGT_OK or NGT_EINVAL */

enum {
    NGT_MAX_RANK = 4,      /* per-event shape rank */
    NGT_ALIGN = 64,        /* column alignment and padding, in bytes */
    NGT_NAME_MAX = 64,     /* column, chain, stream, model names (including the NUL) */
    NGT_MAX_MODEL_IO = 16, /* inputs or outputs of one model */
    NGT_MAX_ASYNC = 16     /* asynchronous operations one step may start (when_all) */
};

/* ---- Schema ---------------------------------------------------------------------------------
 * An ordered list of columns. Kinds:
 *   event column  "fad_in" : f32[77]   one row per event, [event][elem]
 *   batch scalar  "run" : u32          one value per batch
 *   collection    "jet" {pt:f32, eta:f32} max 12: fields "jet.pt", "jet.eta" as f32[12] columns and
 * a count column "jet.n" (i32), each event holding jet.n (<= max) valid entries. derived columns
 * written by steps (model outputs, decisions); added by the menu. The physics identity (run, lumi
 * section, event number) may name columns or scalars; when set, the prescale hash uses it instead
 * of the event id. Canonical text and schema id: see docs/schema.md (FNV-1a 64 over the canonical
 * text of the non-derived columns). */
typedef enum ngt_column_kind {
    NGT_COL_EVENT = 0,
    NGT_COL_SCALAR,
    NGT_COL_FIELD, /* field of a collection: shape [max] */
    NGT_COL_COUNT  /* count of a collection: i32 scalar per event */
} ngt_column_kind;

typedef struct ngt_column_info {
    char name[NGT_NAME_MAX];
    ngt_dtype dtype;
    ngt_column_kind kind;
    int rank;                    /* per-event rank; 0 for a per-event scalar or batch scalar */
    int64_t shape[NGT_MAX_RANK]; /* per-event shape */
    int64_t elems;               /* product of shape (1 when rank 0) */
    size_t row_bytes;            /* elems * dtype size */
    int collection;              /* index of the collection's count column, or -1 */
    int derived;                 /* written by a step, not part of the input */
} ngt_column_info;

typedef struct ngt_schema ngt_schema;
ngt_schema *ngt_schema_new(void);
void ngt_schema_free(ngt_schema *s);
ngt_schema *ngt_schema_clone(const ngt_schema *s);
/* type is "f32", "f32[77]", "u8[4][4]", ... Returns the new column's index or a negative code. */
int ngt_schema_add(ngt_schema *s, const char *name, const char *type, ngt_error *err);
int ngt_schema_add_scalar(ngt_schema *s, const char *name, ngt_dtype t, ngt_error *err);
/* Adds "NAME.FIELD" columns of shape [max] and "NAME.n"; returns the count column's index. */
int ngt_schema_add_collection(ngt_schema *s, const char *name, int max, int n_fields,
                              const char *const *field_names, const ngt_dtype *field_types,
                              ngt_error *err);
/* Any of run, lumi, event may be NULL. Names refer to event columns or batch scalars. */
int ngt_schema_set_identity(ngt_schema *s, const char *run, const char *lumi, const char *event,
                            ngt_error *err);
/* Parses the canonical text form (as ngt_schema_text writes it). */
ngt_schema *ngt_schema_parse(const char *text, ngt_error *err);
const char *ngt_schema_text(const ngt_schema *s); /* canonical text; owned by s */
uint64_t ngt_schema_id(const ngt_schema *s);
int ngt_schema_ncolumns(const ngt_schema *s);
int ngt_schema_find(const ngt_schema *s, const char *name); /* index or -1 */
const ngt_column_info *ngt_schema_column(const ngt_schema *s, int index);
/* Identity column indices (-1 when not declared). */
int ngt_schema_identity(const ngt_schema *s, int *run, int *lumi, int *event);

/* ---- Batch ----------------------------------------------------------------------------------
 * Capacity N events, n filled. Each event column is one contiguous [event][elem] array starting
 * 64-byte aligned, padded to a multiple of 64 bytes. Batch scalars hold one value each. Each event
 * has a 64-bit event id ((source id << 40) | sequence number by convention). */
typedef struct ngt_batch ngt_batch;
ngt_batch *ngt_batch_new(const ngt_schema *s, int capacity, ngt_error *err);
void ngt_batch_free(ngt_batch *b);
const ngt_schema *ngt_batch_schema(const ngt_batch *b);
int ngt_batch_capacity(const ngt_batch *b);
int ngt_batch_count(const ngt_batch *b);
int ngt_batch_set_count(ngt_batch *b, int n, ngt_error *err);
void *ngt_batch_column(ngt_batch *b, int column); /* [capacity][elems], or the scalar's value */
void *ngt_batch_column_by_name(ngt_batch *b, const char *name);
uint64_t *ngt_batch_event_ids(ngt_batch *b);
/* Zero-copy view of host memory as a column: data holds n rows of row_bytes each. 64-byte aligned
 * memory is used in place; anything else is copied into the batch's own column and counted
 * (ngt_batch_copies). The view lasts until ngt_batch_unwrap or ngt_batch_free. */
int ngt_batch_wrap(ngt_batch *b, int column, const void *data, int n, ngt_error *err);
void ngt_batch_unwrap(ngt_batch *b); /* back to the batch's own columns */
uint64_t ngt_batch_copies(const ngt_batch *b);

/* ---- Models: registry and backends ----------------------------------------------------------
 * A backend turns a model file into an immutable model shared by all threads; each thread brings
 * its own workspace. infer() computes n events' outputs from dense [n][elems] inputs; an event's
 * outputs never depend on n or on the event's place in the batch (batch-invariant) unless the
 * backend says otherwise in describe(). */
typedef struct ngt_tensor_desc {
    char name[NGT_NAME_MAX];
    ngt_dtype dtype;
    int rank;                    /* per-event rank (the batch dimension excluded) */
    int64_t shape[NGT_MAX_RANK]; /* per-event shape */
} ngt_tensor_desc;

typedef struct ngt_model_desc {
    int n_inputs, n_outputs;
    ngt_tensor_desc inputs[NGT_MAX_MODEL_IO];
    ngt_tensor_desc outputs[NGT_MAX_MODEL_IO];
    int max_batch;       /* largest n infer accepts; 0 = no limit */
    int batch_invariant; /* 1 when outputs never depend on batching */
} ngt_model_desc;

typedef struct ngt_backend {
    const char *name; /* "ref", "genc", "hls", "torch" */
    /* options: backend-specific text (may be NULL). On failure returns a negative code with err
     * naming the problem (the node, the operator, the file offset). */
    int (*load)(const char *path, const char *options, void **model, ngt_error *err);
    int (*describe)(const void *model, ngt_model_desc *desc);
    size_t (*workspace_size)(const void *model, int max_batch);
    int (*infer)(const void *model, void *workspace, const void *const *inputs,
                 void *const *outputs, int n, ngt_error *err);
    void (*unload)(void *model);
} ngt_backend;

const ngt_backend *ngt_backend_ref(void);  /* modules/ref: the built-in reference interpreter */
const ngt_backend *ngt_backend_genc(void); /* modules/genc: ONNX compiled to C (when built) */
const ngt_backend *ngt_backend_hls(void);  /* modules/hls: fixed point as hls4ml (when built) */
/* `ngt compile`: reads an ONNX model and writes it as one C file and its header, functions named
 * PREFIX_*, for target "avx512", "avx2", "generic" or "native" (modules/genc, docs/genc.md). */
int ngt_genc_compile_file(const char *path, const char *target, const char *prefix,
                          const char *c_path, const char *h_path, ngt_error *err);

typedef struct ngt_registry ngt_registry;
ngt_registry *ngt_registry_new(ngt_error *err); /* knows the built-in backends */
void ngt_registry_free(ngt_registry *r);
int ngt_registry_add_backend(ngt_registry *r, const ngt_backend *b, ngt_error *err);
const ngt_backend *ngt_registry_backend(const ngt_registry *r, const char *name);
/* Loads a model and publishes it as the current version of NAME (atomically replacing any
 * older one; batches already running keep the version they pinned). */
int ngt_registry_load(ngt_registry *r, const char *name, const char *backend, const char *path,
                      const char *options, ngt_error *err);
int ngt_registry_describe(ngt_registry *r, const char *name, ngt_model_desc *desc, ngt_error *err);
uint64_t ngt_registry_model_hash(ngt_registry *r, const char *name); /* FNV-1a 64 of the file */
int ngt_registry_count(const ngt_registry *r);
const char *ngt_registry_name(const ngt_registry *r, int i);
/* Runs the current version of a model outside any menu (ngt infer, tests). */
int ngt_registry_infer(ngt_registry *r, const char *name, const void *const *inputs,
                       void *const *outputs, int n, ngt_error *err);

/* ---- Steps ----------------------------------------------------------------------------------
 * A step processes the events listed in sel (indices into the batch, ascending). A filter sets
 * pass[i] = 0 for sel[i] events it rejects (pass starts all 1); a producer writes its columns for
 * the sel events. A step that fails on some events sets error[i] = 1; returning a negative code
 * errors all of them. An asynchronous step calls ngt_step_async() once per operation it starts,
 * returns NGT_PENDING, and each operation ends with ngt_async_complete() from any thread; the
 * batch resumes when all have completed (when_all) or the step's timeout expires. */
typedef struct ngt_async ngt_async;
typedef struct ngt_step_io {
    ngt_batch *batch;
    const uint32_t *sel;
    int n;
    uint8_t *pass;
    uint8_t *error;
    int worker;   /* 0..threads-1, or -1 on a host's own thread */
    void *opaque; /* engine's */
    ngt_error *err;
} ngt_step_io;
typedef int (*ngt_step_fn)(void *user, ngt_step_io *io);
ngt_async *ngt_step_async(ngt_step_io *io);        /* NULL when NGT_MAX_ASYNC are already started */
void ngt_async_complete(ngt_async *a, int status); /* status NGT_OK or a negative code */

typedef enum ngt_step_mode {
    NGT_STEP_SYNC = 0,   /* runs on the worker */
    NGT_STEP_ASYNC = 1,  /* may return NGT_PENDING */
    NGT_STEP_OFFLOAD = 2 /* runs on the offload thread pool; the batch is parked meanwhile */
} ngt_step_mode;

typedef struct ngt_step_def {
    const char *name;
    ngt_step_fn fn;
    void *user;
    ngt_step_mode mode;
    double timeout_s; /* asynchronous and offload steps; <= 0: default 1 s */
    int n_reads;
    const char *const *reads;       /* columns read (validated at build) */
    int n_writes;                   /* > 0: a producer, shared by chains, run once per batch */
    const char *const *writes;      /* new derived columns ... */
    const char *const *write_types; /* ... and their types ("f32[4]") */
} ngt_step_def;

/* ---- Menu -----------------------------------------------------------------------------------
 * Chains of steps over one input schema. Build it, then ngt_menu_build() validates it, compiles
 * the cuts, resolves producers and orders every step; after that it is immutable except for the
 * prescale column, which switches at a batch boundary (a lumi boundary when the schema has one).
 * Functions taking a chain take the index ngt_menu_chain returned. */
typedef struct ngt_menu ngt_menu;
ngt_menu *ngt_menu_new(const ngt_schema *input, ngt_registry *models, ngt_error *err);
void ngt_menu_free(ngt_menu *m);
int ngt_menu_chain(ngt_menu *m, const char *name, ngt_error *err); /* chain index (>= 0) */
int ngt_menu_seed(ngt_menu *m, int chain, int n, const char *const *chains, ngt_error *err);
int ngt_menu_veto(ngt_menu *m, int chain, int n, const char *const *chains, ngt_error *err);
int ngt_menu_cut(ngt_menu *m, int chain, const char *expr, ngt_error *err);
int ngt_menu_prescale(ngt_menu *m, int chain, uint32_t n, ngt_error *err);
int ngt_menu_infer(ngt_menu *m, int chain, const char *model, int n_in, const char *const *inputs,
                   int n_out, const char *const *outputs, ngt_error *err);
int ngt_menu_step(ngt_menu *m, int chain, const ngt_step_def *def, ngt_error *err);
/* Returns the new stream's index (>= 0) or a negative code. */
int ngt_menu_stream(ngt_menu *m, const char *name, int n, const char *const *chains,
                    ngt_error *err);
/* Prescale columns: named sets of prescale factors; a chain not listed keeps its own. */
int ngt_menu_prescale_column(ngt_menu *m, const char *column, int n, const char *const *chains,
                             const uint32_t *factors, ngt_error *err);
int ngt_menu_build(ngt_menu *m, ngt_error *err);
/* How a menu evaluates its cuts (docs/cuts.md, "Compiled cuts"); set before ngt_menu_build. AUTO
 * (the default) generates C for all the cuts that read input columns, compiled into one function
 * (each shared sub-expression computed once per event), and falls back to the block interpreter
 * when no C compiler works or compiling fails; COMPILED makes that a build error; INTERP always
 * interprets. The environment variable NGT_CUTS (auto, compiled, interp), when set, overrides. */
typedef enum ngt_cuts_mode {
    NGT_CUTS_AUTO = 0,
    NGT_CUTS_COMPILED = 1,
    NGT_CUTS_INTERP = 2
} ngt_cuts_mode;
int ngt_menu_set_cuts(ngt_menu *m, ngt_cuts_mode mode, ngt_error *err);
/* How many of a built menu's cut steps run compiled (0: all interpreted). */
int ngt_menu_compiled_cuts(const ngt_menu *m);
/* Requests a prescale column ("" = the chains' own factors); applied at the next boundary. */
int ngt_menu_select_column(ngt_menu *m, const char *column, ngt_error *err);
const char *ngt_menu_current_column(const ngt_menu *m);

const ngt_schema *ngt_menu_schema(const ngt_menu *m); /* input + derived columns */
int ngt_menu_nchains(const ngt_menu *m);
const char *ngt_menu_chain_name(const ngt_menu *m, int chain);
int ngt_menu_nstreams(const ngt_menu *m); /* including the trailing "error" stream */
const char *ngt_menu_stream_name(const ngt_menu *m, int stream);
int ngt_menu_nsteps(const ngt_menu *m); /* every distinct step, in execution order */
const char *ngt_menu_step_name(const ngt_menu *m, int step);
/* 1 when the step is a producer (a model or a function writing columns), shared by every chain
 * that needs its columns and run once per batch; 0 for a chain's own filter; -1 for no such step.
 */
int ngt_menu_step_producer(const ngt_menu *m, int step);
uint64_t ngt_menu_hash(const ngt_menu *m);
/* Writes a readable description of the resolved menu (NUL-terminated, truncated to size);
 * returns the length it needed. */
size_t ngt_menu_describe(const ngt_menu *m, char *buf, size_t size);

/* Per-event results, derived columns of every batch made from ngt_menu_schema():
 *   "ngt.decision"  u64[W]  bit c of word c/64 set when chain c accepted (W = (chains+63)/64)
 *   "ngt.streams"   u64     bit s set when the event goes to stream s (the error stream included)
 *   "ngt.status"    u8      NGT_EVENT_ACCEPTED / REJECTED / ERRORED */
enum { NGT_EVENT_REJECTED = 0, NGT_EVENT_ACCEPTED = 1, NGT_EVENT_ERRORED = 2 };

/* ---- Synchronous embedding --------------------------------------------------------------------
 * A host with its own threads makes one context per thread and processes batches made from
 * ngt_menu_schema() on the calling thread. No ngt thread, no global state. */
typedef struct ngt_ctx ngt_ctx;
ngt_ctx *ngt_ctx_new(ngt_menu *m, int max_batch, ngt_error *err);
void ngt_ctx_free(ngt_ctx *c);
int ngt_menu_process(ngt_menu *m, ngt_ctx *c, ngt_batch *b, ngt_error *err);

/* ---- Threaded runner (the scheduler) -----------------------------------------------------------
 * T workers over a pool of preallocated batches. A producer thread acquires a batch (blocking
 * when the pool is empty: back-pressure), fills it and submits it; the sink sees each processed
 * batch (in submission order when in_order is set) before it returns to the pool. */
typedef void (*ngt_sink_fn)(void *user, ngt_batch *b);
typedef struct ngt_run_opts {
    int threads;         /* workers; <= 0: number of cores */
    int batches;         /* pool size (batches in flight); <= 0: 4 * threads */
    int capacity;        /* events per batch; <= 0: 256 */
    int in_order;        /* deliver to the sink in submission order */
    int offload_threads; /* helper threads for offload steps; <= 0: 1 */
    ngt_sink_fn sink;
    void *sink_user;
} ngt_run_opts;
typedef struct ngt_runner ngt_runner;
ngt_runner *ngt_runner_new(ngt_menu *m, const ngt_run_opts *opts, ngt_error *err);
ngt_batch *ngt_runner_acquire(ngt_runner *r); /* NULL once the runner is stopping */
/* Non-blocking acquire: NULL when the pool is empty. */
ngt_batch *ngt_runner_try_acquire(ngt_runner *r);
void ngt_runner_release(ngt_runner *r, ngt_batch *b); /* give back an unsubmitted batch */
int ngt_runner_submit(ngt_runner *r, ngt_batch *b, ngt_error *err);
int ngt_runner_drain(ngt_runner *r); /* waits until every submitted batch has left the sink */
void ngt_runner_free(ngt_runner *r); /* drains, stops the threads */

/* ---- Statistics -------------------------------------------------------------------------------
 * Counters are per worker, updated without locks, summed when read; a snapshot may be taken at
 * any time, also while batches run. Invariant: in == accepted + rejected + errored. */
typedef struct ngt_totals {
    uint64_t batches, in, accepted, rejected, errored;
} ngt_totals;
typedef struct ngt_chain_stats {
    uint64_t seen;      /* events that entered the chain (after seeds and vetoes) */
    uint64_t passed;    /* accepted */
    uint64_t prescaled; /* removed by the chain's prescale */
    uint64_t errored;   /* removed because a step failed on them */
    uint64_t unique;    /* accepted by this chain and by no other */
    uint64_t time_ns;   /* time in this chain's own steps (shared producers not included) */
} ngt_chain_stats;
typedef struct ngt_step_stats {
    uint64_t calls, events_in, events_passed, errors, timeouts;
    uint64_t time_ns;
    double p50_us, p99_us; /* per-call latency, from a log-scale histogram */
} ngt_step_stats;
typedef struct ngt_stream_stats {
    uint64_t accepted;
} ngt_stream_stats;
typedef struct ngt_stats ngt_stats;
ngt_stats *ngt_stats_new(const ngt_menu *m);
void ngt_stats_free(ngt_stats *s);
int ngt_stats_read(const ngt_menu *m, ngt_stats *s); /* snapshot of every context of m */
const ngt_totals *ngt_stats_totals(const ngt_stats *s);
const ngt_chain_stats *ngt_stats_chain(const ngt_stats *s, int chain);
const ngt_step_stats *ngt_stats_step(const ngt_stats *s, int step);
const ngt_stream_stats *ngt_stats_stream(const ngt_stats *s, int stream);
/* Events that went to both streams a and b. */
uint64_t ngt_stats_overlap(const ngt_stats *s, int a, int b);
/* Number of the batch (counted from 1) at which the current prescale column took effect. */
uint64_t ngt_stats_column_since(const ngt_stats *s);

/* ---- Machine and provenance ------------------------------------------------------------------*/
const char *ngt_cpu_model(void);   /* "AMD EPYC 9R45" */
const char *ngt_cpu_isa(void);     /* "avx512" / "avx2" / "sse2" / "generic" */
const char *ngt_blas_kernel(void); /* openblas_get_corename(), or "none" */

/* ---- NumPy files ------------------------------------------------------------------------------
 * .npy (versions 1-3, little-endian, C order) read into a malloc'd buffer the caller frees. */
typedef struct ngt_npy {
    ngt_dtype dtype;
    int rank;
    int64_t shape[NGT_MAX_RANK + 1];
    void *data;
    size_t bytes;
} ngt_npy;
int ngt_npy_read(const char *path, ngt_npy *out, ngt_error *err);
int ngt_npy_write(const char *path, ngt_dtype t, int rank, const int64_t *shape, const void *data,
                  ngt_error *err);
void ngt_npy_free(ngt_npy *a);

/* ---- hls tools (modules/hls) ----------------------------------------------------------------
 * For `ngt hls profile` and `ngt hls tune`: the hls backend's model (ONNX file + precision
 * configuration, as the backend's options) over n events. With stats, every event goes through
 * the exact step-by-step path and each layer's assignments to its result type are counted;
 * without, the backend's own (fast) path runs. n = 0 only loads and fills the sizes. */
enum { NGT_HLS_MAX_LAYERS = 64 };
typedef struct ngt_hls_layer_stats {
    char name[NGT_NAME_MAX];
    char kind[16];   /* "Input", "Dense", "Conv", "ReLU", "Sigmoid", "Tanh", "Softmax", ... */
    char types[256]; /* the resolved types as text ("result ap_fixed<...>, accum ...") */
    int width, integer, is_signed;     /* the result type */
    double type_min, type_max;         /* its representable range */
    double seen_min, seen_max;         /* range of the values stored (0, 0 when none) */
    int64_t values;                    /* values assigned (events x layer size) */
    int64_t overflows;                 /* assignments that wrapped or saturated */
    int64_t rounded;                   /* assignments that dropped nonzero low bits */
    int64_t acc_overflows;             /* Dense/Conv: sums whose accumulator overflowed */
    double weight_min, weight_max;     /* Dense/Conv/BatchNorm: quantized weights (scale) */
    double bias_min, bias_max;         /* ... and biases */
    int64_t n_weights, n_biases, size; /* weight and bias counts; output values per event */
    int in_width, weight_width, bias_width, acc_width, acc_integer; /* Dense/Conv/BatchNorm */
    int64_t multipliers; /* products per output position (n_in x n_out) */
} ngt_hls_layer_stats;
typedef struct ngt_hls_stats {
    int n_layers;
    int64_t in_size, out_size; /* float values per event, ONNX layout */
    ngt_hls_layer_stats layer[NGT_HLS_MAX_LAYERS];
} ngt_hls_stats;
/* in: n x in_size floats; out (n x out_size floats) may be NULL; st may be NULL (fast path). */
int ngt_hls_profile(const char *model, const char *precision, const float *in, int n, float *out,
                    ngt_hls_stats *st, ngt_error *err);

#ifdef __cplusplus
}
#endif
#endif
