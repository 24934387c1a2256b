/* ccache.h: the one compile-cache-dlopen helper. Generated source (genc's models, a menu's compiled
 * cuts, torch's source-only packages) is compiled with the system compiler into a shared object
 * named by a hash of everything the result depends on, published atomically, and dlopened.
 * Cache: $NGT_CACHE or ~/.cache/ngt/compiled, files KIND-KEY.so beside the source they came from.
 * Several processes may build the same key at once: each renames an identical file into place. */
#ifndef NGT_CCACHE_H
#define NGT_CCACHE_H

#include "ngt.h"

#include <stddef.h>
#include <stdint.h>

typedef struct cc_job {
    const char *kind;     /* file prefix and message prefix: "genc", "cuts", "torch" */
    const char *compiler; /* NULL: $NGT_CC, else the C compiler found at configure time */
    const char *flags;    /* compile and link flags before the sources (part of the key) */
    const char *libs;     /* flags after the sources, e.g. "-lm -lopenblas" (part of the key) */
    /* The source: either text (written to KIND-KEY.EXT) ... */
    const char *text;
    size_t len;
    const char *ext; /* ".c" (default) or ".cpp" */
    /* ... or existing files compiled where they are (their bytes enter the key). */
    int n_files;
    const char *const *files;
    uint64_t extra_key; /* anything else the result depends on (e.g. a hash of the model file) */
} cc_job;

/* The compiler a job with compiler == NULL uses. */
const char *cc_default_compiler(void);
/* 1 when the compiler runs (`CC --version` succeeds); the answer is cached per compiler name. */
int cc_available(const char *compiler);
/* The cache directory (created if missing). */
int cc_cache_dir(char *out, size_t n, ngt_error *err);
/* The key of a job: FNV-1a 64 of ngt's version, the compiler and its --version line, the flags,
 * the libraries, the source bytes and extra_key. */
uint64_t cc_key(const cc_job *job, ngt_error *err);
/* Writes into so the path of the job's shared object, compiling it when it is not cached. A
 * compiler failure returns NGT_EIO with the compiler's first complaint; the source is kept. */
int cc_build(const cc_job *job, char *so, size_t n, ngt_error *err);
/* dlopen(so, RTLD_NOW | RTLD_LOCAL); NULL with err filled on failure. */
void *cc_open(const char *so, ngt_error *err);
/* cc_build + cc_open. */
void *cc_build_open(const cc_job *job, ngt_error *err);

#endif
