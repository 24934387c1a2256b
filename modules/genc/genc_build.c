/* genc_build.c: turns emitted C into a loaded model: compiled with the system C compiler into a
 * shared object cached by a hash of (model bytes, ngt version, compiler, flags, target), dlopened.
 */
#include "genc/genc_build.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static char cc_id[256];
static pthread_once_t cc_once = PTHREAD_ONCE_INIT;

/* The compiler's first line of --version: part of the cache key. */
static void probe_cc(void)
{
    FILE *f = popen(NGT_GENC_CC " --version 2>/dev/null", "r");
    if (f) {
        if (!fgets(cc_id, sizeof cc_id, f))
            cc_id[0] = 0;
        pclose(f);
    }
    cc_id[strcspn(cc_id, "\n")] = 0;
    if (!cc_id[0])
        snprintf(cc_id, sizeof cc_id, "%s (version unknown)", NGT_GENC_CC);
}

const char *genc_cc_id(void)
{
    pthread_once(&cc_once, probe_cc);
    return cc_id;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0755) && errno != EEXIST ? -1 : 0;
}

int genc_cache_dir(char *out, size_t n, ngt_error *err)
{
    const char *env = getenv("NGT_CACHE"), *home = getenv("HOME");
    if (env && *env)
        snprintf(out, n, "%s", env);
    else
        snprintf(out, n, "%s/.cache/ngt/genc", home && *home ? home : "/tmp");
    if (mkdirs(out))
        return ngt_seterr(err, NGT_EIO, "genc: cannot create the cache directory %s: %s", out,
                          strerror(errno));
    return NGT_OK;
}

uint64_t genc_cache_key(const void *model, size_t size, genc_target t, const char *ctext)
{
    uint64_t h = ngt_fnv1a(model, size, ngt_fnv1a_basis());
    const char *parts[] = {NGT_VERSION_STRING, genc_cc_id(),        NGT_GENC_CC,
                           genc_cflags(t),     genc_target_name(t), ctext};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        h = ngt_fnv1a(parts[i], strlen(parts[i]) + 1, h);
    return h;
}

static int write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(text, 1, len, f);
    return fclose(f) || w != len ? -1 : 0;
}

/* The compiler's complaint, for the error message. */
static void read_log(const char *path, char *out, size_t n)
{
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t r = fread(out, 1, n - 1, f);
    out[r] = 0;
    fclose(f);
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

int genc_build_so(const char *ctext, size_t len, genc_target t, int blas, uint64_t key, char *so,
                  size_t n, ngt_error *err)
{
    static atomic_int seq;
    char dir[900], tmp_c[1024], tmp_so[1024], log[1024], final_c[1024], cmd[4096];
    int rc = genc_cache_dir(dir, sizeof dir, err);
    if (rc)
        return rc;
    snprintf(so, n, "%s/genc-%016llx.so", dir, (unsigned long long)key);
    if (access(so, R_OK) == 0)
        return NGT_OK; /* built before (by this process or another) */
    int id = atomic_fetch_add(&seq, 1);
    snprintf(tmp_c, sizeof tmp_c, "%s/.tmp-%016llx-%ld-%d.c", dir, (unsigned long long)key,
             (long)getpid(), id);
    snprintf(tmp_so, sizeof tmp_so, "%s/.tmp-%016llx-%ld-%d.so", dir, (unsigned long long)key,
             (long)getpid(), id);
    snprintf(log, sizeof log, "%s/.tmp-%016llx-%ld-%d.log", dir, (unsigned long long)key,
             (long)getpid(), id);
    snprintf(final_c, sizeof final_c, "%s/genc-%016llx.c", dir, (unsigned long long)key);
    if (write_file(tmp_c, ctext, len))
        return ngt_seterr(err, NGT_EIO, "genc: cannot write %s: %s", tmp_c, strerror(errno));
    snprintf(cmd, sizeof cmd, "%s %s -o '%s' '%s'%s -lm > '%s' 2>&1", NGT_GENC_CC, genc_cflags(t),
             tmp_so, tmp_c, blas ? " -lopenblas" : "", log);
    int st = system(cmd);
    if (st != 0) {
        char msg[600];
        read_log(log, msg, sizeof msg);
        unlink(tmp_so);
        unlink(log);
        rc = ngt_seterr(err, NGT_EIO, "genc: the C compiler failed on %s (status %d): %s", tmp_c,
                        st, msg);
        return rc; /* the C is kept for inspection */
    }
    unlink(log);
    /* atomic publication: a concurrent build of the same key renames an identical file */
    if (rename(tmp_so, so) || rename(tmp_c, final_c)) {
        unlink(tmp_so);
        unlink(tmp_c);
        if (access(so, R_OK) != 0)
            return ngt_seterr(err, NGT_EIO, "genc: cannot publish %s: %s", so, strerror(errno));
    }
    return NGT_OK;
}

int genc_dlopen(const char *so, genc_lib *lib, ngt_error *err)
{
    memset(lib, 0, sizeof *lib);
    lib->handle = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!lib->handle)
        return ngt_seterr(err, NGT_EIO, "genc: cannot load %s: %s", so, dlerror());
    lib->infer = (genc_infer_fn)dlsym(lib->handle, "genc_model_infer");
    lib->workspace_size = (size_t(*)(void))dlsym(lib->handle, "genc_model_workspace_size");
    if (!lib->infer || !lib->workspace_size) {
        dlclose(lib->handle);
        lib->handle = NULL;
        return ngt_seterr(err, NGT_EFORMAT, "genc: %s lacks genc_model_infer", so);
    }
    return NGT_OK;
}
