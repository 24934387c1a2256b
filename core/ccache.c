/* ccache.c: compile generated source into a cached shared object and load it (see ccache.h). */
#include "ccache.h"
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NGT_CC
#define NGT_CC "cc"
#endif

const char *cc_default_compiler(void)
{
    const char *env = getenv("NGT_CC");
    return env && *env ? env : NGT_CC;
}

/* Compiler identities (first line of --version), probed once per compiler name. */
enum { MAX_COMPILERS = 8 };
static struct {
    char name[256];
    char id[256];
    int ok;
} compilers[MAX_COMPILERS];
static int n_compilers;
static pthread_mutex_t compilers_mu = PTHREAD_MUTEX_INITIALIZER;

static void probe(const char *cc, char *id, size_t n, int *ok)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --version 2>/dev/null", cc);
    id[0] = 0;
    FILE *f = popen(cmd, "r");
    if (f) {
        if (!fgets(id, (int)n, f))
            id[0] = 0;
        *ok = pclose(f) == 0 && id[0];
    }
    id[strcspn(id, "\n")] = 0;
}

/* The compiler's --version line, or "" when it does not run. */
static const char *compiler_id(const char *cc, int *ok)
{
    pthread_mutex_lock(&compilers_mu);
    int i = 0;
    while (i < n_compilers && strcmp(compilers[i].name, cc) != 0)
        i++;
    if (i == n_compilers) {
        if (n_compilers == MAX_COMPILERS)
            i = MAX_COMPILERS - 1; /* reprobe in the last slot */
        else
            n_compilers++;
        str_copy(compilers[i].name, cc, sizeof compilers[i].name);
        compilers[i].ok = 0;
        probe(cc, compilers[i].id, sizeof compilers[i].id, &compilers[i].ok);
    }
    *ok = compilers[i].ok;
    const char *id = compilers[i].id;
    pthread_mutex_unlock(&compilers_mu);
    return id;
}

int cc_available(const char *compiler)
{
    int ok = 0;
    compiler_id(compiler ? compiler : cc_default_compiler(), &ok);
    return ok;
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

int cc_cache_dir(char *out, size_t n, ngt_error *err)
{
    const char *env = getenv("NGT_CACHE"), *home = getenv("HOME");
    if (env && *env)
        snprintf(out, n, "%s", env);
    else
        snprintf(out, n, "%s/.cache/ngt/compiled", home && *home ? home : "/tmp");
    if (mkdirs(out))
        return seterr(err, NGT_EIO, "cannot create the cache directory %s: %s", out,
                      strerror(errno));
    return NGT_OK;
}

static uint64_t hash_str(const char *s, uint64_t h)
{
    s = s ? s : "";
    return fnv1a(s, strlen(s) + 1, h);
}

uint64_t cc_key(const cc_job *job, ngt_error *err)
{
    const char *cc = job->compiler ? job->compiler : cc_default_compiler();
    int ok = 0;
    uint64_t h = fnv1a_basis();
    h = hash_str(NGT_VERSION_STRING, h);
    h = hash_str(cc, h);
    h = hash_str(compiler_id(cc, &ok), h);
    h = hash_str(job->flags, h);
    h = hash_str(job->libs, h);
    h = hash_str(job->ext, h);
    if (job->text)
        h = fnv1a(job->text, job->len, h);
    for (int i = 0; i < job->n_files; i++) {
        uint64_t fh = file_hash(job->files[i], err);
        if (!fh)
            return 0;
        h = fnv1a(&fh, sizeof fh, h);
    }
    return fnv1a(&job->extra_key, sizeof job->extra_key, h);
}

static int write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(text, 1, len, f);
    return fclose(f) || w != len ? -1 : 0;
}

/* The compiler's complaint, on one line, for the error message. */
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

/* Appends " 'path'" for each source to cmd. */
static int add_sources(char *cmd, size_t n, const char *const *files, int n_files)
{
    size_t len = strlen(cmd);
    for (int i = 0; i < n_files; i++) {
        int w = snprintf(cmd + len, n - len, " '%s'", files[i]);
        if (w < 0 || (size_t)w >= n - len)
            return -1;
        len += (size_t)w;
    }
    return 0;
}

int cc_build(const cc_job *job, char *so, size_t n, ngt_error *err)
{
    static atomic_int seq;
    const char *kind = job->kind ? job->kind : "cc";
    const char *cc = job->compiler ? job->compiler : cc_default_compiler();
    const char *ext = job->ext ? job->ext : ".c";
    if (!cc_available(cc))
        return seterr(err, NGT_EUNSUPPORTED, "%s: no working compiler '%s' (set NGT_CC)", kind, cc);
    char dir[900], tmp_src[1024], tmp_so[1024], log[1024], final_src[1024];
    int rc = cc_cache_dir(dir, sizeof dir, err);
    if (rc)
        return preferr(err, rc, "%s", kind);
    uint64_t key = cc_key(job, err);
    if (!key)
        return preferr(err, err ? err->code : NGT_EIO, "%s", kind);
    unsigned long long k = (unsigned long long)key;
    snprintf(so, n, "%s/%s-%016llx.so", dir, kind, k);
    if (access(so, R_OK) == 0)
        return NGT_OK; /* built before, by this process or another */
    int id = atomic_fetch_add(&seq, 1);
    long pid = (long)getpid();
    snprintf(tmp_src, sizeof tmp_src, "%s/.tmp-%s-%016llx-%ld-%d%s", dir, kind, k, pid, id, ext);
    snprintf(tmp_so, sizeof tmp_so, "%s/.tmp-%s-%016llx-%ld-%d.so", dir, kind, k, pid, id);
    snprintf(log, sizeof log, "%s/.tmp-%s-%016llx-%ld-%d.log", dir, kind, k, pid, id);
    snprintf(final_src, sizeof final_src, "%s/%s-%016llx%s", dir, kind, k, ext);
    if (job->text && write_file(tmp_src, job->text, job->len))
        return seterr(err, NGT_EIO, "%s: cannot write %s: %s", kind, tmp_src, strerror(errno));
    char *cmd = malloc(16384);
    if (!cmd)
        return seterr(err, NGT_ENOMEM, "out of memory");
    snprintf(cmd, 16384, "%s %s -o '%s'", cc, job->flags ? job->flags : "", tmp_so);
    const char *text_src[1] = {tmp_src};
    int bad =
        add_sources(cmd, 16384, job->text ? text_src : job->files, job->text ? 1 : job->n_files);
    size_t len = strlen(cmd);
    if (bad || (size_t)snprintf(cmd + len, 16384 - len, " %s > '%s' 2>&1",
                                job->libs ? job->libs : "", log) >= 16384 - len) {
        free(cmd);
        unlink(tmp_src);
        return seterr(err, NGT_EINVAL, "%s: compiler command too long", kind);
    }
    int st = system(cmd);
    free(cmd);
    if (st != 0) {
        char msg[600];
        read_log(log, msg, sizeof msg);
        unlink(tmp_so);
        unlink(log);
        /* the source is kept for inspection */
        return seterr(err, NGT_EIO, "%s: the compiler failed on %s (status %d): %s", kind,
                      job->text ? tmp_src : job->files[0], st, msg);
    }
    unlink(log);
    /* atomic publication: a concurrent build of the same key renames an identical file */
    int pub = rename(tmp_so, so);
    if (job->text && (pub || rename(tmp_src, final_src)))
        unlink(tmp_src);
    if (pub) {
        unlink(tmp_so);
        if (access(so, R_OK) != 0)
            return seterr(err, NGT_EIO, "%s: cannot publish %s: %s", kind, so, strerror(errno));
    }
    return NGT_OK;
}

void *cc_open(const char *so, ngt_error *err)
{
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        seterr(err, NGT_EIO, "cannot load %s: %s", so, dlerror());
    return h;
}

void *cc_build_open(const cc_job *job, ngt_error *err)
{
    char so[1100];
    if (cc_build(job, so, sizeof so, err))
        return NULL;
    void *h = cc_open(so, err);
    if (!h)
        preferr(err, NGT_EIO, "%s", job->kind ? job->kind : "cc");
    return h;
}
