/* genc_build.h: building emitted C into a cached shared object and loading it (genc_build.c).
 * Cache: $NGT_CACHE or ~/.cache/ngt/genc, files genc-<key>.so beside their genc-<key>.c. */
#ifndef NGT_GENC_BUILD_H
#define NGT_GENC_BUILD_H

#include "genc/genc.h"

typedef int (*genc_infer_fn)(void *ws, const void *const *in, void *const *out, int n);

typedef struct genc_lib {
    void *handle;
    genc_infer_fn infer;
    size_t (*workspace_size)(void);
} genc_lib;

const char *genc_cflags(genc_target t);
const char *genc_cc_id(void);
int genc_cache_dir(char *out, size_t n, ngt_error *err);
uint64_t genc_cache_key(const void *model, size_t size, genc_target t, const char *ctext);
/* Writes the path of the shared object for key into so, compiling ctext when it is not cached. */
int genc_build_so(const char *ctext, size_t len, genc_target t, int blas, uint64_t key, char *so,
                  size_t n, ngt_error *err);
int genc_dlopen(const char *so, genc_lib *lib, ngt_error *err);

#endif
