/* genc_build.h: building emitted C into a cached shared object and loading it (genc_build.c).
 * The cache is the core's (ccache.h): files genc-<key>.so beside their genc-<key>.c. */
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
/* Compiles ctext (the C of model, size bytes of ONNX) unless cached, and loads it into lib. */
int genc_build_load(const char *ctext, size_t len, genc_target t, int blas, const void *model,
                    size_t size, genc_lib *lib, ngt_error *err);
int genc_dlopen(const char *so, genc_lib *lib, ngt_error *err);

#endif
