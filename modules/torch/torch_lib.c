/* torch_lib.c: libtorch, dlopened once per process with RTLD_GLOBAL (a model library resolves its
 * aoti_torch_* symbols against it): $NGT_LIBTORCH, else the path found at configure time. A failed
 * load is retried by the next model load (the path may have been fixed meanwhile). */
#include "torch/torch_int.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#ifndef NGT_LIBTORCH_DEFAULT
#define NGT_LIBTORCH_DEFAULT ""
#endif

static pthread_mutex_t lib_mu = PTHREAD_MUTEX_INITIALIZER;
static torch_lib lib;
static int lib_ok;

/* torch.__version__ from TORCHDIR/version.py (a wheel), or TORCHDIR/build-version (the libtorch
 * zip), TORCHDIR being the folder above the library's. */
static void read_version(const char *so, char *out, size_t n)
{
    char dir[1024], path[1100], line[256];
    str_copy(dir, so, sizeof dir);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            str_copy(dir, up ? ".." : ".", sizeof dir);
    }
    out[0] = 0;
    snprintf(path, sizeof path, "%s/version.py", dir);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        char *q;
        if (strncmp(line, "__version__", 11) == 0 && (q = strpbrk(line, "'\""))) {
            char quote = *q++, *end = strchr(q, quote);
            if (end) {
                *end = 0;
                str_copy(out, q, n);
            }
            break;
        }
    }
    if (f)
        fclose(f);
    if (out[0])
        return;
    snprintf(path, sizeof path, "%s/build-version", dir);
    f = fopen(path, "r");
    if (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        str_copy(out, line, n);
    }
    if (f)
        fclose(f);
}

#define SYM(field, name)                                                                           \
    do {                                                                                           \
        *(void **)&l.field = dlsym(h, name);                                                       \
        if (!l.field)                                                                              \
            missing = name;                                                                        \
    } while (0)

static int load(ngt_error *err)
{
    const char *env = getenv("NGT_LIBTORCH");
    const char *path = env && *env ? env : NGT_LIBTORCH_DEFAULT;
    if (!*path)
        return seterr(err, NGT_EUNSUPPORTED,
                      "torch: no libtorch: none was found when ngt was configured (install "
                      "torch: scripts/bootstrap --torch) and NGT_LIBTORCH is not set");
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!h)
        return seterr(err, NGT_EUNSUPPORTED,
                      "torch: cannot load libtorch %s%s: %s (set NGT_LIBTORCH to an installed "
                      "torch's lib/libtorch.so; the CUDA libraries it links must be on the "
                      "library path: scripts/torch-env)",
                      path, env && *env ? " (from NGT_LIBTORCH)" : "", dlerror());
    torch_lib l = {.handle = h};
    const char *missing = NULL;
    SYM(from_blob, "aoti_torch_create_tensor_from_blob");
    SYM(del, "aoti_torch_delete_tensor_object");
    SYM(data_ptr, "aoti_torch_get_data_ptr");
    SYM(dim, "aoti_torch_get_dim");
    SYM(sizes, "aoti_torch_get_sizes");
    SYM(strides, "aoti_torch_get_strides");
    SYM(dtype, "aoti_torch_get_dtype");
    int32_t (*f32)(void), (*f64)(void), (*cpu)(void);
    *(void **)&f32 = dlsym(h, "aoti_torch_dtype_float32");
    *(void **)&f64 = dlsym(h, "aoti_torch_dtype_float64");
    *(void **)&cpu = dlsym(h, "aoti_torch_device_type_cpu");
    if (!f32 || !f64 || !cpu)
        missing = "aoti_torch_dtype_float32";
    *(void **)&l.omp_set_num_threads = dlsym(h, "omp_set_num_threads"); /* optional */
    if (missing) {
        dlclose(h);
        return seterr(err, NGT_EUNSUPPORTED,
                      "torch: %s has no %s (a torch older than 2.3, without the AOTInductor C "
                      "shim)",
                      path, missing);
    }
    l.dtype_f32 = f32();
    l.dtype_f64 = f64();
    l.device_cpu = cpu();
    str_copy(l.path, path, sizeof l.path);
    read_version(path, l.version, sizeof l.version);
    lib = l;
    return NGT_OK;
}

const torch_lib *torch_lib_get(ngt_error *err)
{
    pthread_mutex_lock(&lib_mu);
    int rc = lib_ok ? NGT_OK : load(err);
    lib_ok = rc == NGT_OK;
    pthread_mutex_unlock(&lib_mu);
    return rc ? NULL : &lib;
}
