/* ngt_npy.h: NumPy .npy files for the command line (`ngt run --input/--output`, `ngt infer`,
 * `ngt hls`): part of the ngt binary, not of libngt; fed to LuaJIT's ffi.cdef by lua/ngt/npyio.lua.
 */
#ifndef NGT_NPY_API_H
#define NGT_NPY_API_H

#include "ngt.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared below is exported by the ngt binary (reached through ffi.C). */
#pragma GCC visibility push(default)

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

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
