/* torch_int.h: the torch backend's internals: the few AOTInductor C ABI types and functions it uses
 * (declared here, so ngt builds without torch: torch/csrc/inductor/aoti_runtime/interface.h and
 * aoti_torch/c/shim.h are C++), the libtorch it dlopens, and the .pt2 package reader. */
#ifndef NGT_TORCH_INT_H
#define NGT_TORCH_INT_H

#include "internal.h"
#include "torch/ngt_torch.h"

#include <stdint.h>

/* The backend (listed in the generated module table: cmake/ngt_module.cmake). */
const ngt_backend *torch_backend(void);

/* ---- AOTInductor C ABI (opaque handles, int32 error codes: 0 = success) ---- */
typedef struct torch_aten_tensor *AtenTensorHandle;
typedef struct torch_aoti_container *AOTInductorModelContainerHandle;
typedef struct torch_aoti_stream *AOTInductorStreamHandle;
typedef struct torch_aoti_proxy *AOTIProxyExecutorHandle;
typedef int32_t AOTIRuntimeError;
typedef int32_t AOTITorchError;

/* In the model library (each AOTInductor .so exports them). */
typedef struct torch_model_fns {
    AOTIRuntimeError (*create)(AOTInductorModelContainerHandle *, size_t num_models,
                               const char *device, const char *cubin_dir);
    AOTIRuntimeError (*destroy)(AOTInductorModelContainerHandle);
    AOTIRuntimeError (*run)(AOTInductorModelContainerHandle, AtenTensorHandle *inputs,
                            size_t n_inputs, AtenTensorHandle *outputs, size_t n_outputs,
                            AOTInductorStreamHandle, AOTIProxyExecutorHandle);
    AOTIRuntimeError (*num_inputs)(AOTInductorModelContainerHandle, size_t *);
    AOTIRuntimeError (*num_outputs)(AOTInductorModelContainerHandle, size_t *);
    AOTIRuntimeError (*last_error)(const char **); /* optional (torch >= 2.10) */
} torch_model_fns;

/* In libtorch. */
typedef struct torch_lib {
    void *handle;
    char path[1024];
    char version[64]; /* torch.__version__ of the torch beside the library */
    AOTITorchError (*from_blob)(void *data, int64_t ndim, const int64_t *sizes,
                                const int64_t *strides, int64_t storage_offset, int32_t dtype,
                                int32_t device_type, int32_t device_index, AtenTensorHandle *ret);
    AOTITorchError (*del)(AtenTensorHandle);
    AOTITorchError (*data_ptr)(AtenTensorHandle, void **);
    AOTITorchError (*dim)(AtenTensorHandle, int64_t *);
    AOTITorchError (*sizes)(AtenTensorHandle, int64_t **);
    AOTITorchError (*strides)(AtenTensorHandle, int64_t **);
    AOTITorchError (*dtype)(AtenTensorHandle, int32_t *);
    int32_t dtype_f32, dtype_f64, device_cpu;
    void (*omp_set_num_threads)(int); /* from libgomp, which libtorch loads */
} torch_lib;

/* dlopens libtorch once per process ($NGT_LIBTORCH, else the path found at configure time). */
const torch_lib *torch_lib_get(ngt_error *err);

/* ---- .pt2 packages ---- */
enum { TORCH_META_MAX = 32, TORCH_MAX_SOURCES = 8 };
typedef struct torch_pkg {
    char dir[1024]; /* cache folder the model's files were extracted into */
    char lib[1280]; /* the model library in it ("" for a source-only package) */
    int n_sources;  /* source-only (package_cpp_only): .cpp and .o files to compile */
    char sources[TORCH_MAX_SOURCES][1280];
    char compile_flags[4096]; /* *_compile_flags.json of a source-only package ("" if none) */
    int n_meta;
    char meta_key[TORCH_META_MAX][64];
    char meta_val[TORCH_META_MAX][256];
} torch_pkg;

/* Opens the zip at path, finds the model NAME (data/aotinductor/NAME/; NULL = "model"), extracts
 * its files into the cache (once per package content) and reads its metadata. */
int torch_pkg_open(const char *path, const char *name, torch_pkg *p, ngt_error *err);
const char *torch_pkg_meta(const torch_pkg *p, const char *key);
/* The strings of array KEY in a flat JSON object (e.g. "cflags" of *_compile_flags.json), each
 * as " PREFIXvalue", appended to out; -1 when out is too small. */
int torch_json_strings(const char *json, const char *key, const char *prefix, char *out, size_t n);

#endif
