/* genc_backend.c: the "genc" backend: an ONNX file compiled to C (genc_plan, genc_emit), built
 * and cached as a shared object (genc_build) and run through its prefix_infer; ngt compile's entry.
 */
#include "genc/genc_build.h"
#include "genc/ngt_genc.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

extern void openblas_set_num_threads(int);

enum { GENC_DEFAULT_MAX_BATCH = 1 << 20 };

typedef struct genc_model {
    onnx_graph *g;
    genc_lib lib;
    ngt_model_desc desc;
    size_t ws;
    genc_target target;
} genc_model;

typedef struct genc_opts {
    genc_target target;
    int max_batch;
} genc_opts;

/* Options: "target=avx512|avx2|generic|native max_batch=N" (spaces or commas between). */
static int parse_opts(const char *s, genc_opts *o, ngt_error *err)
{
    o->target = genc_target_host();
    o->max_batch = GENC_DEFAULT_MAX_BATCH;
    while (s && *s) {
        size_t n = strcspn(s, " ,");
        char kv[128];
        if (n >= sizeof kv)
            return seterr(err, NGT_EINVAL, "genc: option too long: %.40s...", s);
        memcpy(kv, s, n);
        kv[n] = 0;
        s += n + (s[n] != 0);
        if (!n)
            continue;
        if (!strncmp(kv, "target=", 7)) {
            if (genc_target_parse(kv + 7, &o->target))
                return seterr(err, NGT_EINVAL,
                              "genc: unknown target '%s' (avx512, avx2, generic, native)", kv + 7);
        } else if (!strncmp(kv, "max_batch=", 10)) {
            char *end;
            long v = strtol(kv + 10, &end, 10);
            if (*end || v < 1 || v > (1L << 30))
                return seterr(err, NGT_EINVAL, "genc: bad max_batch '%s'", kv + 10);
            o->max_batch = (int)v;
        } else
            return seterr(err, NGT_EINVAL, "genc: unknown option '%s' (target=..., max_batch=N)",
                          kv);
    }
    return NGT_OK;
}

/* Reads and compiles a model to C text (and header text when h is not NULL). */
static int compile_text(const void *bytes, size_t size, genc_target t, const char *prefix,
                        onnx_graph **gout, genc_buf *c, genc_buf *h, int *blas, ngt_error *err)
{
    onnx_graph *g = onnx_read_buffer(bytes, size, err);
    if (!g)
        return err && err->code ? err->code : NGT_EFORMAT;
    genc_plan p;
    int rc = genc_plan_build(g, t, &p, err);
    if (!rc) {
        rc = genc_emit(&p, prefix, c, err);
        if (!rc && h)
            rc = genc_emit_header(&p, prefix, h, err);
        *blas = p.uses_blas;
        genc_plan_free(&p);
    }
    if (rc || !gout)
        onnx_graph_free(g);
    else
        *gout = g;
    return rc;
}

static void model_free(genc_model *m)
{
    if (!m)
        return;
    if (m->lib.handle)
        dlclose(m->lib.handle);
    onnx_graph_free(m->g);
    free(m);
}

static int genc_load(const char *path, const char *options, void **model, ngt_error *err)
{
    *model = NULL;
    genc_opts o;
    int rc = parse_opts(options, &o, err);
    if (rc)
        return rc;
    size_t size = 0;
    void *bytes = read_file(path, (size_t)1 << 32, &size, err);
    if (!bytes)
        return err ? err->code : NGT_EIO;
    genc_model *m = calloc(1, sizeof *m);
    genc_buf c = {0};
    int blas = 0;
    if (!m)
        rc = seterr(err, NGT_ENOMEM, "out of memory");
    else
        rc = compile_text(bytes, size, o.target, "genc_model", &m->g, &c, NULL, &blas, err);
    if (!rc) {
        rc = genc_build_load(c.s, c.len, o.target, blas, bytes, size, &m->lib, err);
    }
    free(bytes);
    free(c.s);
    if (rc) {
        preferr(err, rc, "genc: %s", path);
        model_free(m);
        return rc;
    }
    /* One BLAS thread inside each ngt worker (its idle helper threads would spin on the workers'
     * cores: parallelism comes from batches in flight), unless the user set OPENBLAS_NUM_THREADS.
     */
    const char *nt = getenv("OPENBLAS_NUM_THREADS");
    if (!nt || !*nt)
        openblas_set_num_threads(1);
    m->target = o.target;
    m->ws = m->lib.workspace_size();
    onnx_describe(m->g, o.max_batch, &m->desc);
    *model = m;
    return NGT_OK;
}

static int genc_describe(const void *model, ngt_model_desc *desc)
{
    *desc = ((const genc_model *)model)->desc;
    return NGT_OK;
}

/* The workspace holds one tile whatever max_batch is: infer walks any n in tiles. */
static size_t genc_workspace_size(const void *model, int max_batch)
{
    (void)max_batch;
    return ((const genc_model *)model)->ws;
}

static int genc_infer(const void *model, void *workspace, const void *const *inputs,
                      void *const *outputs, int n, ngt_error *err)
{
    const genc_model *m = model;
    if (n < 0 || n > m->desc.max_batch)
        return seterr(err, NGT_EINVAL, "genc: %d events (the model takes 0 to %d)", n,
                      m->desc.max_batch);
    int bad = m->lib.infer(workspace, inputs, outputs, n);
    if (bad) {
        const onnx_node *nd = &m->g->nodes[bad - 1];
        return seterr(err, NGT_EINVAL, "node '%s' (%s): index out of range", nd->name, nd->op_type);
    }
    return NGT_OK;
}

static void genc_unload(void *model)
{
    model_free(model);
}

static const ngt_backend GENC_BACKEND = {
    .name = "genc",
    .load = genc_load,
    .describe = genc_describe,
    .workspace_size = genc_workspace_size,
    .infer = genc_infer,
    .unload = genc_unload,
};

const ngt_backend *genc_backend(void)
{
    return &GENC_BACKEND;
}

static int write_text(const char *path, const genc_buf *b, ngt_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return seterr(err, NGT_EIO, "cannot write %s", path);
    size_t w = fwrite(b->s, 1, b->len, f);
    if (fclose(f) || w != b->len)
        return seterr(err, NGT_EIO, "cannot write %s", path);
    return NGT_OK;
}

int ngt_genc_compile_file(const char *path, const char *target, const char *prefix,
                          const char *c_path, const char *h_path, ngt_error *err)
{
    genc_target t = genc_target_host();
    if (target && *target && genc_target_parse(target, &t))
        return seterr(err, NGT_EINVAL, "unknown target '%s' (avx512, avx2, generic, native)",
                      target);
    size_t size = 0;
    void *bytes = read_file(path, (size_t)1 << 32, &size, err);
    if (!bytes)
        return err ? err->code : NGT_EIO;
    genc_buf c = {0}, h = {0};
    int blas = 0;
    int rc = compile_text(bytes, size, t, prefix, NULL, &c, h_path ? &h : NULL, &blas, err);
    if (!rc)
        rc = write_text(c_path, &c, err);
    if (!rc && h_path)
        rc = write_text(h_path, &h, err);
    free(bytes);
    free(c.s);
    free(h.s);
    if (rc)
        preferr(err, rc, "%s", path);
    return rc;
}
