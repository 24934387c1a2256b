/* ngt_genc.h: the genc module's public tool API (`ngt compile`), installed beside ngt.h and fed to
 * LuaJIT's ffi.cdef by lua/ngt/cmd_compile.lua: no macros in declarations. */
#ifndef NGT_GENC_API_H
#define NGT_GENC_API_H

#include "ngt.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared below is libngt's public API (the rest of the library is hidden). */
#pragma GCC visibility push(default)

/* ---- ngt compile ------------------------------------------------------------------------------
 * Reads an ONNX model and writes it as one C file and its header, functions named PREFIX_*, for
 * target "avx512", "avx2", "generic" or "native" (docs/genc.md). Thread-safe. */
int ngt_genc_compile_file(const char *path, const char *target, const char *prefix,
                          const char *c_path, const char *h_path, ngt_error *err);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
