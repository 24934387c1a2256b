/* genc_build.c: turns emitted C into a loaded model through the core's compile-cache helper
 * (ccache.h): a shared object keyed by (model bytes, ngt version, compiler, flags, target).
 */
#include "genc/genc_build.h"
#include "ccache.h"
#include "internal.h"

#include <dlfcn.h>
#include <string.h>

/* The hot kernels are written with intrinsics (explicit FMAs); the generic ones are left scalar:
 * GCC 12's loop vectorizer turns an alternating x*k+s / x*k-s pattern into vfmsubadd even under
 * -ffp-contract=off, which would make a vector body and its scalar tail round differently. */
#define GENC_BASE_FLAGS "-O3 -std=c11 -fPIC -shared -ffp-contract=off -fno-tree-vectorize"

const char *genc_cflags(genc_target t)
{
    switch (t) {
    case GENC_AVX512:
        return GENC_BASE_FLAGS " -mavx512f -mavx512vl -mavx512dq -mavx2 -mfma";
    case GENC_AVX2:
        return GENC_BASE_FLAGS " -mavx2 -mfma";
    default:
        return GENC_BASE_FLAGS;
    }
}

int genc_build_load(const char *ctext, size_t len, genc_target t, int blas, const void *model,
                    size_t size, genc_lib *lib, ngt_error *err)
{
    uint64_t extra = fnv1a(model, size, fnv1a_basis());
    extra = fnv1a(genc_target_name(t), strlen(genc_target_name(t)) + 1, extra);
    cc_job job = {.kind = "genc",
                  .flags = genc_cflags(t),
                  .libs = blas ? "-lopenblas -lm" : "-lm",
                  .text = ctext,
                  .len = len,
                  .extra_key = extra};
    char so[1100];
    int rc = cc_build(&job, so, sizeof so, err);
    return rc ? rc : genc_dlopen(so, lib, err);
}

int genc_dlopen(const char *so, genc_lib *lib, ngt_error *err)
{
    memset(lib, 0, sizeof *lib);
    lib->handle = cc_open(so, err);
    if (!lib->handle)
        return preferr(err, NGT_EIO, "genc");
    lib->infer = (genc_infer_fn)dlsym(lib->handle, "genc_model_infer");
    lib->workspace_size = (size_t(*)(void))dlsym(lib->handle, "genc_model_workspace_size");
    if (!lib->infer || !lib->workspace_size) {
        dlclose(lib->handle);
        lib->handle = NULL;
        return seterr(err, NGT_EFORMAT, "genc: %s lacks genc_model_infer", so);
    }
    return NGT_OK;
}
