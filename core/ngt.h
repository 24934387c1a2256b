/* ngt.h: the whole public C API of ngt's core, the Next-Generation Trigger toolkit. Modules add
 * their own tool headers beside it (ngt_genc.h, ngt_hls.h); backends plug in by name.
 * One header for C hosts and for LuaJIT's ffi.cdef: constants are enums, no macros in declarations.
 *
 * Ownership, lifetimes and threads, in one place (each section repeats what concerns it):
 *   - Whatever a *_new returns, the caller frees with the matching *_free (NULL is accepted).
 *   - Borrowing: a menu borrows its registry (free the menu first); a context, a runner and a
 *     statistics snapshot borrow their menu (free them before it); a menu and a batch copy the
 *     schema they are given (free yours whenever). Strings returned as const char * belong to the
 *     object that returned them and live as long as it.
 *   - Threads: no global state; distinct objects may be used from distinct threads freely. On one
 *     object, the calls marked "thread-safe" may run concurrently; every other call needs the
 *     caller to serialise it. */
#ifndef NGT_H
#define NGT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared below is libngt's public API (the rest of the library is hidden). */
#pragma GCC visibility push(default)

/* ---- Versions -------------------------------------------------------------------------------
 * The ABI version changes whenever a struct below, or one in a module's public header
 * (ngt_zmq.h, ngt_farm.h, ...), changes layout or a function its signature. 4: ngt_zmq_opts,
 * ngt_zmq_stats and ngt_farm_stats grew fields.
 * A host checks ngt_abi_version() == NGT_ABI_VERSION at start-up. */
enum { NGT_ABI_VERSION = 4 };
int ngt_abi_version(void);
const char *ngt_version(void); /* "0.1.0" */

/* ---- Errors ---------------------------------------------------------------------------------
 * Functions return an int status (NGT_OK or a negative code) and fill an ngt_error with a message
 * for a person; pointer-returning functions return NULL on failure. err may be NULL. The error
 * is the caller's (often on its stack); ngt never keeps a pointer to it. */
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
 * text of the non-derived columns). A schema is built on one thread, then read-only (reads
 * are thread-safe). */
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
 * has a 64-bit event id ((source id << 40) | sequence number by convention). A batch owns its
 * columns and a copy of its schema; one thread at a time fills or processes it (the runner hands
 * its pool's batches from the producer thread to a worker and back). */
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
/* What decided a processed batch (set when it starts through a menu; read it in a sink, before the
 * batch returns to the pool): the menu, the prescale column, and for each of the menu's models
 * (ngt_menu_model_name order) the version it pinned. */
enum { NGT_MAX_MENU_MODELS = 64 };
typedef struct ngt_model_pin {
    char name[NGT_NAME_MAX];
    uint64_t hash;   /* FNV-1a 64 of the version's file */
    uint64_t serial; /* its serial in the registry (1, 2, ... per publish) */
} ngt_model_pin;
typedef struct ngt_provenance {
    uint64_t menu_hash;
    int column;                         /* prescale column index, -1 = the chains' own */
    char prescale_column[NGT_NAME_MAX]; /* its name, "" for the chains' own */
    int n_models;
    ngt_model_pin models[NGT_MAX_MENU_MODELS];
} ngt_provenance;
const ngt_provenance *ngt_batch_provenance(const ngt_batch *b);

/* ---- Models: registry and backends ----------------------------------------------------------
 * A backend turns a model file into an immutable model shared by all threads; each thread brings
 * its own workspace. infer() computes n events' outputs from dense [n][elems] inputs; an event's
 * outputs never depend on n or on the event's place in the batch (batch-invariant) unless the
 * backend says otherwise in describe().
 * Lifetimes: a backend vtable is static and outlives every registry. A registry owns its models;
 * ngt_registry_load and the read functions are thread-safe (a load publishes a new version
 * atomically; batches running keep the version they pinned, freed by the last one to finish).
 * Free a registry after every menu that borrows it. */
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

/* Called once, from any thread, when an asynchronous inference has finished (status NGT_OK or a
 * negative code). */
typedef void (*ngt_infer_done_fn)(void *user, int status);

typedef struct ngt_backend {
    const char *name; /* "ref", "genc", "hls", "torch", "gpu" */
    /* options: backend-specific text (may be NULL). On failure returns a negative code with err
     * naming the problem (the node, the operator, the file offset). */
    int (*load)(const char *path, const char *options, void **model, ngt_error *err);
    int (*describe)(const void *model, ngt_model_desc *desc);
    size_t (*workspace_size)(const void *model, int max_batch);
    int (*infer)(const void *model, void *workspace, const void *const *inputs,
                 void *const *outputs, int n, ngt_error *err);
    void (*unload)(void *model);
    /* Optional (NULL: infer only; ABI 2). Asynchronous inference, so that a worker never waits
     * on a device: infer_start begins n events and returns NGT_PENDING with *op set, then calls
     * done(user, status) once from any thread when the results are ready in the backend's own
     * buffers; or it returns a negative code (nothing started, done never called). The inputs
     * stay valid until done. lane is the worker (0..threads-1, or -1 for a host's thread): one
     * queue per lane. infer_end is called exactly once per started op, on a worker, after done
     * or after the step's timeout (status NGT_ETIMEOUT; the backend then recycles the op when
     * its device is finished): with status NGT_OK it writes the outputs and returns NGT_OK or
     * the error the device met. */
    int (*infer_start)(const void *model, const void *const *inputs, int n, int lane,
                       ngt_infer_done_fn done, void *user, void **op, ngt_error *err);
    int (*infer_end)(const void *model, void *op, void *const *outputs, int n, int status,
                     ngt_error *err);
    /* Optional: called by a runner for each batch of its pool (attach 1 after allocating it,
     * 0 before freeing it), e.g. to register the memory as pinned for a device's copies. */
    int (*host_memory)(void *p, size_t bytes, int attach);
} ngt_backend;

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

/* Runtime swap: loads PATH as a candidate version of the published model NAME (backend NULL or ""
 * = the current version's), validates it on the calling thread (off the hot path) and publishes it
 * with one store only when every check passes; otherwise the current version stays and err says
 * why. Checks: the same inputs and outputs (count, per-event shapes, dtypes) as the current
 * version, which the menus built on it read and write; a validation batch runs without error
 * (check->inputs, or NGT_SWAP_VALIDATION_EVENTS events of zeros); with check->outputs, every output
 * value within check->tol of the reference. Batches already running finish on the version they
 * pinned. check may be NULL; its arrays are borrowed for the call. Thread-safe. Returns the new
 * version's serial
 * (>= 1) or a negative code. */
typedef struct ngt_swap_check {
    int n;                      /* validation events in inputs/outputs (0: zeros) */
    const void *const *inputs;  /* per model input: n x elems values of its dtype, or NULL */
    const void *const *outputs; /* per model output: the reference, or NULL (no comparison) */
    double tol;                 /* largest |candidate - reference| accepted; <= 0: 1e-5 */
} ngt_swap_check;
enum { NGT_SWAP_VALIDATION_EVENTS = 16 };
int ngt_registry_swap(ngt_registry *r, const char *name, const char *backend, const char *path,
                      const char *options, const ngt_swap_check *check, ngt_error *err);
/* Current version of NAME: serial (1, 2, ... bumped by every publish; 0 when unknown), its file. */
uint64_t ngt_registry_model_serial(ngt_registry *r, const char *name);
int ngt_registry_model_file(ngt_registry *r, const char *name, char *path, size_t size);
/* Shadow: a validated candidate (checked as for a swap) runs beside the live version on the same
 * events of every batch, its outputs compared with the live ones, never used for a decision.
 * ngt_registry_promote publishes the shadow (as a swap would, no reload); clear drops it. */
int ngt_registry_shadow(ngt_registry *r, const char *name, const char *backend, const char *path,
                        const char *options, const ngt_swap_check *check, ngt_error *err);
int ngt_registry_promote(ngt_registry *r, const char *name, ngt_error *err);
int ngt_registry_shadow_clear(ngt_registry *r, const char *name, ngt_error *err);
typedef struct ngt_shadow_stats {
    int active;          /* a shadow is loaded */
    uint64_t hash;       /* its file's hash */
    uint64_t events;     /* events both ran on */
    uint64_t identical;  /* events whose outputs were bitwise identical to the live ones */
    uint64_t errors;     /* batches where the shadow failed */
    double max_abs_diff; /* largest |shadow - live| over every output value */
} ngt_shadow_stats;
int ngt_registry_shadow_stats(ngt_registry *r, const char *name, ngt_shadow_stats *st);

/* ---- Steps ----------------------------------------------------------------------------------
 * A step processes the events listed in sel (indices into the batch, ascending). A filter sets
 * pass[i] = 0 for sel[i] events it rejects (pass starts all 1); a producer writes its columns for
 * the sel events. A step that fails on some events sets error[i] = 1; returning a negative code
 * errors all of them. An asynchronous step calls ngt_step_async() once per operation it starts,
 * returns NGT_PENDING, and each operation ends with ngt_async_complete() from any thread; the
 * batch resumes when all have completed (when_all) or the step's timeout expires.
 * The io (and sel, pass, error) belong to ngt and are valid only during the call; user pointers
 * given in an ngt_step_def must outlive the menu. A step function runs on any worker thread,
 * possibly on several batches at once, so it must be thread-safe (or keep per-worker state
 * indexed by io->worker). ngt_async_complete is thread-safe. */
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
 * Functions taking a chain take the index ngt_menu_chain returned.
 * A menu copies its input schema and borrows the registry (which must outlive it). Declaring and
 * building happen on one thread; a built menu is shared read-only by every context and runner,
 * which must be freed before it. ngt_menu_select_column and the read functions are thread-safe. */
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
/* Operator's prescale for one chain (with a prescale step), applied at the next batch boundary and
 * taking precedence over the column until the column is selected again (which clears every
 * chain's override). */
int ngt_menu_set_prescale(ngt_menu *m, int chain, uint32_t n, ngt_error *err);
/* The factor the chain's prescale uses now (override, column or its own); 0 when it has none. */
uint32_t ngt_menu_chain_prescale(const ngt_menu *m, int chain);
int ngt_menu_nmodels(const ngt_menu *m); /* models the menu's steps use */
const char *ngt_menu_model_name(const ngt_menu *m, int k);
ngt_registry *ngt_menu_registry(const ngt_menu *m);

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
 * ngt_menu_schema() on the calling thread. No ngt thread, no global state. A context borrows
 * its menu and is used by one thread at a time; threads with their own contexts run at once. */
typedef struct ngt_ctx ngt_ctx;
ngt_ctx *ngt_ctx_new(ngt_menu *m, int max_batch, ngt_error *err);
void ngt_ctx_free(ngt_ctx *c);
int ngt_menu_process(ngt_menu *m, ngt_ctx *c, ngt_batch *b, ngt_error *err);

/* ---- Threaded runner (the scheduler) -----------------------------------------------------------
 * T workers over a pool of preallocated batches. A producer thread acquires a batch (blocking
 * when the pool is empty: back-pressure), fills it and submits it; the sink sees each processed
 * batch (in submission order when in_order is set) before it returns to the pool.
 * A runner borrows its menu (free the runner first) and owns its threads and pool: acquire,
 * try_acquire, release and submit are called from one producer thread (or serialised by the
 * caller); drain is thread-safe. The sink runs on worker threads: one call at a time when
 * in_order is set, else possibly several at once (on different batches). Batches belong to the
 * runner: never free one, and do not touch it after submitting it. */
typedef void (*ngt_sink_fn)(void *user, ngt_batch *b);
typedef struct ngt_run_opts {
    int threads;         /* workers; <= 0: number of cores */
    int batches;         /* pool size (batches in flight); <= 0: 4 * threads */
    int capacity;        /* events per batch; <= 0: 256 */
    int in_order;        /* deliver to the sink in submission order */
    int offload_threads; /* helper threads for offload steps; <= 0: 1 */
    ngt_sink_fn sink;
    void *sink_user;
    /* Optional: the pool's allocation hook, called for each batch's memory block after it is
     * allocated (attach 1) and before it is freed (attach 0), e.g. to register it pinned for a
     * device. A negative return fails ngt_runner_new. Backends with host_memory are called too. */
    int (*batch_memory)(void *user, void *p, size_t bytes, int attach);
    void *batch_memory_user;
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
 * any time, also while batches run. Invariant: in == accepted + rejected + errored.
 * A stats object borrows its menu's sizes (free it before the menu); ngt_stats_read is
 * thread-safe against running batches; one stats object is read and filled by one thread. */
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

/* ---- Errors of steps and of the input (issue 16) ---------------------------------------------
 * A step fails on a call when it returns a negative code, times out, or marks events in error[];
 * those events are errored (status NGT_EVENT_ERRORED, the "error" stream). The first message of
 * each step is kept, with the number of failed calls:
 *   ngt_stats_step_error: the step's first message (NULL when it never failed); failed_calls (may
 *   be NULL) gets the calls that failed. step is an index as for ngt_stats_step. The message is
 *   owned by s and lasts until the next ngt_stats_read.
 * ngt_menu_process processes the whole batch and then returns NGT_ESTEP with err naming the step
 * and its message when a step failed on some of its events (the batch's results are complete and
 * valid), or bad input was refused (below); NGT_OK when every event went through. */
const char *ngt_stats_step_error(const ngt_stats *s, int step, uint64_t *failed_calls);

/* The one check of collection counts (files, the C API and the wire decoder all use it).
 * Collection counts are checked before any step sees an event (ngt_menu_process and the runner
 * check every batch): an event whose count is outside 0..max is errored and counted here, with the
 * first message. Checks collection counts of events [first, first+n): returns the number of events
 * whose count is outside 0..max, marks them in bad[] (indexed from first, may be NULL; bad[i] is 1
 * for a bad event, 0 for a good one), err names the first (column, event, value). Returns
 * NGT_EINVAL when first and n are not inside the batch's count of events. */
int ngt_batch_check_counts(const ngt_batch *b, int first, int n, uint8_t *bad, ngt_error *err);
/* Events refused by the count check; the first message (NULL when none was refused). */
const char *ngt_stats_input_error(const ngt_stats *s, uint64_t *events);

/* ---- Machine and provenance ------------------------------------------------------------------*/
/* Thread-safe; the strings are static. */
const char *ngt_cpu_model(void); /* "AMD EPYC 9R45" */
const char *ngt_cpu_isa(void);   /* "avx512" / "avx2" / "sse2" / "generic"; env NGT_ISA lowers it */
const char *ngt_blas_kernel(void); /* openblas_get_corename(), or "none" */

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
