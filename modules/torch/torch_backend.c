/* torch_backend.c: the "torch" backend. A .pt2 package (torch_pkg.c) is loaded into an AOTInductor
 * model container through the C ABI its model library exports; infer() wraps the batch's input
 * columns as tensors without copying (aoti_torch_create_tensor_from_blob), runs the container and
 * copies the output tensors AOTInductor allocated into the output columns. Source-only packages
 * (aot_inductor.package_cpp_only) are compiled first against the installed libtorch's headers,
 * through the core's compile cache. Not batch-invariant (docs/torch.md). */
#include "ccache.h"
#include "torch/torch_int.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum { TORCH_DEFAULT_INSTANCES = 4, TORCH_MAX_NAME = 64 };

typedef struct torch_model {
    const torch_lib *lib;
    void *so;
    torch_model_fns fn;
    AOTInductorModelContainerHandle c;
    ngt_model_desc desc;
    int32_t in_dtype[NGT_MAX_MODEL_IO], out_dtype[NGT_MAX_MODEL_IO];
    int64_t in_strides[NGT_MAX_MODEL_IO][NGT_MAX_RANK + 1];
    size_t out_row[NGT_MAX_MODEL_IO]; /* bytes per event */
    int threads;
} torch_model;

typedef struct torch_opts {
    char model[TORCH_MAX_NAME];
    int threads, instances;
} torch_opts;

static atomic_uint_fast64_t n_runs, n_errors, n_out_tensors, n_out_bytes;

void ngt_torch_counters_get(ngt_torch_counters *c)
{
    c->runs = atomic_load(&n_runs);
    c->errors = atomic_load(&n_errors);
    c->output_tensors = atomic_load(&n_out_tensors);
    c->output_bytes = atomic_load(&n_out_bytes);
}

/* Options: "model=NAME threads=N instances=N" (spaces or commas between). */
static int parse_opts(const char *s, torch_opts *o, ngt_error *err)
{
    str_copy(o->model, "model", sizeof o->model);
    o->threads = 1;
    o->instances = TORCH_DEFAULT_INSTANCES;
    while (s && *s) {
        size_t n = strcspn(s, " ,");
        char kv[128];
        if (n >= sizeof kv)
            return seterr(err, NGT_EINVAL, "torch: option too long: %.40s...", s);
        memcpy(kv, s, n);
        kv[n] = 0;
        s += n + (s[n] != 0);
        if (!n)
            continue;
        char *eq = strchr(kv, '=');
        long v = 0;
        char *end = NULL;
        if (eq)
            v = strtol(eq + 1, &end, 10);
        if (!strncmp(kv, "model=", 6) && n > 6 && n - 6 < sizeof o->model && !strpbrk(kv + 6, "/."))
            str_copy(o->model, kv + 6, sizeof o->model);
        else if (!strncmp(kv, "threads=", 8) && end && !*end && v >= 0 && v <= 1024)
            o->threads = (int)v;
        else if (!strncmp(kv, "instances=", 10) && end && !*end && v >= 1 && v <= 1024)
            o->instances = (int)v;
        else
            return seterr(err, NGT_EINVAL,
                          "torch: bad option '%s' (model=NAME, threads=N (0 = libtorch's "
                          "default), instances=N)",
                          kv);
    }
    return NGT_OK;
}

/* One tensor of ngt's metadata: "name:dtype:d1xd2..." (dims empty for a scalar per event). */
static int parse_spec(const char *s, size_t len, ngt_tensor_desc *d, ngt_error *err)
{
    char buf[256], *save = NULL;
    if (len >= sizeof buf)
        return seterr(err, NGT_EFORMAT, "tensor spec too long");
    memcpy(buf, s, len);
    buf[len] = 0;
    char *c1 = strchr(buf, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || c1 == buf || (size_t)(c1 - buf) >= NGT_NAME_MAX)
        return seterr(err, NGT_EFORMAT, "bad tensor spec '%s' (name:dtype:d1xd2)", buf);
    *c1 = *c2 = 0;
    memset(d, 0, sizeof *d);
    str_copy(d->name, buf, sizeof d->name);
    if (ngt_dtype_parse(c1 + 1, &d->dtype) || (d->dtype != NGT_F32 && d->dtype != NGT_F64))
        return seterr(err, NGT_EUNSUPPORTED,
                      "tensor '%s' has dtype %s (the torch backend takes f32 and f64)", buf,
                      c1 + 1);
    for (char *t = strtok_r(c2 + 1, "x", &save); t; t = strtok_r(NULL, "x", &save)) {
        char *end;
        long v = strtol(t, &end, 10);
        if (*end || v < 1 || v > (1L << 30) || d->rank == NGT_MAX_RANK)
            return seterr(err, NGT_EFORMAT, "tensor '%s': bad shape", buf);
        d->shape[d->rank++] = v;
    }
    return NGT_OK;
}

static int parse_specs(const char *s, const char *key, ngt_tensor_desc *d, int *n, ngt_error *err)
{
    if (!s)
        return seterr(err, NGT_EFORMAT,
                      "the package has no '%s' metadata (export it with tools/export_torch.py)",
                      key);
    *n = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        if (*n == NGT_MAX_MODEL_IO)
            return seterr(err, NGT_EUNSUPPORTED, "more than %d tensors in %s", NGT_MAX_MODEL_IO,
                          key);
        int rc = parse_spec(s, len, &d[(*n)++], err);
        if (rc)
            return rc;
        s += len + (s[len] != 0);
    }
    return *n ? NGT_OK : seterr(err, NGT_EFORMAT, "empty '%s' metadata", key);
}

static const char *last_error(const torch_model *m)
{
    const char *msg = NULL;
    if (m->fn.last_error && m->fn.last_error(&msg) == 0 && msg && *msg)
        return msg;
    return "(no message; run with AOTI_RUNTIME_CHECK_INPUTS=1 for details)";
}

static size_t row_bytes(const ngt_tensor_desc *d)
{
    size_t e = ngt_dtype_size(d->dtype);
    for (int k = 0; k < d->rank; k++)
        e *= (size_t)d->shape[k];
    return e;
}

/* Copies output tensor t (n events) into out, after checking it is what describe() says. */
static int take_output(const torch_model *m, int i, AtenTensorHandle t, void *out, int n,
                       ngt_error *err)
{
    const torch_lib *l = m->lib;
    const ngt_tensor_desc *d = &m->desc.outputs[i];
    int64_t dim = 0, *sizes = NULL, *strides = NULL;
    int32_t dtype = -1;
    void *data = NULL;
    if (l->dim(t, &dim) || l->sizes(t, &sizes) || l->strides(t, &strides) || l->dtype(t, &dtype) ||
        l->data_ptr(t, &data))
        return seterr(err, NGT_ESTEP, "torch: cannot inspect output '%s'", d->name);
    if (dtype != m->out_dtype[i] || dim != d->rank + 1 || sizes[0] != n)
        return seterr(err, NGT_ESTEP,
                      "torch: output '%s' is not %s with %d dimensions and %d events", d->name,
                      ngt_dtype_name(d->dtype), d->rank + 1, n);
    int64_t want = 1;
    for (int k = d->rank; k >= 0; k--) {
        if (k > 0 && sizes[k] != d->shape[k - 1])
            return seterr(err, NGT_ESTEP, "torch: output '%s' dimension %d is %lld, not %lld",
                          d->name, k, (long long)sizes[k], (long long)d->shape[k - 1]);
        if (sizes[k] != 1 && strides[k] != want)
            return seterr(err, NGT_EUNSUPPORTED, "torch: output '%s' is not contiguous", d->name);
        want *= sizes[k];
    }
    memcpy(out, data, (size_t)n * m->out_row[i]);
    atomic_fetch_add(&n_out_bytes, (uint64_t)n * m->out_row[i]);
    return NGT_OK;
}

static int torch_infer(const void *model, void *workspace, const void *const *inputs,
                       void *const *outputs, int n, ngt_error *err)
{
    (void)workspace;
    const torch_model *m = model;
    const torch_lib *l = m->lib;
    if (n == 0)
        return NGT_OK;
    if (n < 0 || n > m->desc.max_batch)
        return seterr(err, NGT_EINVAL, "torch: %d events (the model takes 1 to %d)", n,
                      m->desc.max_batch);
    AtenTensorHandle in[NGT_MAX_MODEL_IO] = {0}, out[NGT_MAX_MODEL_IO] = {0};
    int n_in = m->desc.n_inputs, n_out = m->desc.n_outputs;
    for (int i = 0; i < n_in; i++) {
        const ngt_tensor_desc *d = &m->desc.inputs[i];
        int64_t sizes[NGT_MAX_RANK + 1] = {n};
        for (int k = 0; k < d->rank; k++)
            sizes[k + 1] = d->shape[k];
        if (l->from_blob((void *)inputs[i], d->rank + 1, sizes, m->in_strides[i], 0, m->in_dtype[i],
                         l->device_cpu, 0, &in[i])) {
            for (int k = 0; k < i; k++)
                l->del(in[k]);
            return seterr(err, NGT_ESTEP, "torch: cannot wrap input '%s'", d->name);
        }
    }
    if (m->threads && l->omp_set_num_threads)
        l->omp_set_num_threads(m->threads);
    /* the container steals the input handles */
    if (m->fn.run(m->c, in, (size_t)n_in, out, (size_t)n_out, NULL, NULL)) {
        atomic_fetch_add(&n_errors, 1);
        return seterr(err, NGT_ESTEP, "torch: the model failed on %d events: %s", n, last_error(m));
    }
    atomic_fetch_add(&n_runs, 1);
    atomic_fetch_add(&n_out_tensors, (uint64_t)n_out);
    int rc = NGT_OK;
    for (int i = 0; i < n_out; i++) {
        if (!rc)
            rc = take_output(m, i, out[i], outputs[i], n, err);
        l->del(out[i]);
    }
    return rc;
}

static void model_free(torch_model *m)
{
    if (!m)
        return;
    if (m->c)
        m->fn.destroy(m->c);
    if (m->so)
        dlclose(m->so);
    free(m);
}

/* The include and library folders of the libtorch in use: TORCHDIR/include, TORCHDIR/lib. */
static void torch_dirs(const torch_lib *l, char *top, size_t n)
{
    str_copy(top, l->path, n);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(top, '/');
        if (slash)
            *slash = 0;
    }
}

/* A source-only package: its wrapper.cpp and weights.o compiled with the flags it recorded, the
 * include folders replaced by the installed libtorch's, and linked against that libtorch. */
static int build_sources(const torch_pkg *p, const torch_lib *l, char *so, size_t n, ngt_error *err)
{
    char top[1024], flags[8192] = "-shared -fPIC", libs[3200];
    torch_dirs(l, top, sizeof top);
    if (!p->compile_flags[0])
        return seterr(err, NGT_EFORMAT, "source-only package without *_compile_flags.json");
    if (torch_json_strings(p->compile_flags, "definitions", "-D", flags, sizeof flags) ||
        torch_json_strings(p->compile_flags, "cflags", "-", flags, sizeof flags) ||
        torch_json_strings(p->compile_flags, "passthrough_args", "", flags, sizeof flags))
        return seterr(err, NGT_EFORMAT, "compile flags too long");
    size_t len = strlen(flags);
    if ((size_t)snprintf(flags + len, sizeof flags - len,
                         " -I'%s/include' -I'%s/include/torch/csrc/api/include'", top,
                         top) >= sizeof flags - len)
        return seterr(err, NGT_EFORMAT, "compile flags too long");
    snprintf(libs, sizeof libs, "-L'%s/lib' -Wl,-rpath,'%s/lib' -ltorch -ltorch_cpu -lgomp", top,
             top);
    const char *files[TORCH_MAX_SOURCES];
    for (int i = 0; i < p->n_sources; i++)
        files[i] = p->sources[i];
    const char *cxx = getenv("NGT_CXX");
    cc_job job = {.kind = "torch",
                  .compiler = cxx && *cxx ? cxx : "g++",
                  .flags = flags,
                  .libs = libs,
                  .ext = ".cpp",
                  .n_files = p->n_sources,
                  .files = files,
                  .extra_key = fnv1a(l->version, strlen(l->version) + 1,
                                     fnv1a(top, strlen(top) + 1, fnv1a_basis()))};
    return cc_build(&job, so, n, err);
}

static int open_model(torch_model *m, const torch_pkg *p, const torch_opts *o, ngt_error *err)
{
    char built[1100];
    const char *so = p->lib;
    if (!so[0]) {
        int rc = build_sources(p, m->lib, built, sizeof built, err);
        if (rc)
            return rc;
        so = built;
    }
    m->so = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!m->so)
        return seterr(err, NGT_EFORMAT, "cannot load the model library: %s", dlerror());
    *(void **)&m->fn.create = dlsym(m->so, "AOTInductorModelContainerCreateWithDevice");
    *(void **)&m->fn.destroy = dlsym(m->so, "AOTInductorModelContainerDelete");
    *(void **)&m->fn.run = dlsym(m->so, "AOTInductorModelContainerRun");
    *(void **)&m->fn.num_inputs = dlsym(m->so, "AOTInductorModelContainerGetNumInputs");
    *(void **)&m->fn.num_outputs = dlsym(m->so, "AOTInductorModelContainerGetNumOutputs");
    *(void **)&m->fn.last_error = dlsym(m->so, "AOTInductorGetLastError");
    if (!m->fn.create || !m->fn.destroy || !m->fn.run || !m->fn.num_inputs || !m->fn.num_outputs)
        return seterr(err, NGT_EFORMAT,
                      "the model library lacks AOTInductorModelContainerCreateWithDevice (not "
                      "an AOTInductor model, or from a torch older than 2.3)");
    if (m->fn.create(&m->c, (size_t)o->instances, "cpu", p->dir)) {
        m->c = NULL;
        return seterr(err, NGT_EFORMAT, "cannot create the model container: %s", last_error(m));
    }
    size_t ni = 0, no = 0;
    if (m->fn.num_inputs(m->c, &ni) || m->fn.num_outputs(m->c, &no) ||
        ni != (size_t)m->desc.n_inputs || no != (size_t)m->desc.n_outputs)
        return seterr(err, NGT_EFORMAT,
                      "the model takes %zu inputs and gives %zu outputs; its metadata says "
                      "%d and %d",
                      ni, no, m->desc.n_inputs, m->desc.n_outputs);
    return NGT_OK;
}

/* Runs one event of zeros: an input shape or dtype the model does not take fails here. */
static int validate(torch_model *m, ngt_error *err)
{
    void *in[NGT_MAX_MODEL_IO] = {0}, *out[NGT_MAX_MODEL_IO] = {0};
    int rc = NGT_OK;
    for (int i = 0; i < m->desc.n_inputs && !rc; i++)
        if (!(in[i] = calloc(1, row_bytes(&m->desc.inputs[i]))))
            rc = seterr(err, NGT_ENOMEM, "out of memory");
    for (int i = 0; i < m->desc.n_outputs && !rc; i++)
        if (!(out[i] = calloc(1, m->out_row[i])))
            rc = seterr(err, NGT_ENOMEM, "out of memory");
    if (!rc)
        rc = torch_infer(m, NULL, (const void *const *)in, out, 1, err);
    for (int i = 0; i < NGT_MAX_MODEL_IO; i++) {
        free(in[i]);
        free(out[i]);
    }
    return rc ? preferr(err, rc,
                        "a first event of zeros (does the metadata's shape and dtype "
                        "match the model's?)")
              : NGT_OK;
}

static int load_model(const char *path, const torch_opts *o, torch_model *m, ngt_error *err)
{
    torch_pkg *p = malloc(sizeof *p);
    if (!p)
        return seterr(err, NGT_ENOMEM, "out of memory");
    int rc = torch_pkg_open(path, o->model, p, err);
    if (!rc)
        rc = parse_specs(torch_pkg_meta(p, "ngt.inputs"), "ngt.inputs", m->desc.inputs,
                         &m->desc.n_inputs, err);
    if (!rc)
        rc = parse_specs(torch_pkg_meta(p, "ngt.outputs"), "ngt.outputs", m->desc.outputs,
                         &m->desc.n_outputs, err);
    const char *mb = rc ? NULL : torch_pkg_meta(p, "ngt.max_batch");
    char *end = NULL;
    long max_batch = mb ? strtol(mb, &end, 10) : 0;
    if (!rc && (!mb || *end || max_batch < 1 || max_batch > (1L << 30)))
        rc = seterr(err, NGT_EFORMAT, "bad or missing 'ngt.max_batch' metadata");
    m->desc.max_batch = (int)max_batch;
    const char *dev = rc ? NULL : torch_pkg_meta(p, "AOTI_DEVICE_KEY");
    if (!rc && dev && strcmp(dev, "cpu") != 0)
        rc =
            seterr(err, NGT_EUNSUPPORTED, "the model was compiled for device '%s' (only cpu)", dev);
    if (!rc) {
        m->lib = torch_lib_get(err);
        if (!m->lib)
            rc = NGT_EUNSUPPORTED; /* err names the library */
    }
    const char *ver = rc ? NULL : torch_pkg_meta(p, "ngt.torch_version");
    if (!rc && !ver)
        rc = seterr(err, NGT_EFORMAT,
                    "the package does not record its torch version "
                    "('ngt.torch_version' metadata)");
    if (!rc && !m->lib->version[0])
        rc = seterr(err, NGT_EUNSUPPORTED,
                    "cannot tell the version of %s (no version.py or build-version above it)",
                    m->lib->path);
    if (!rc && strcmp(ver, m->lib->version) != 0)
        rc = seterr(err, NGT_EUNSUPPORTED,
                    "the package was compiled by torch %s, the installed torch is %s (%s): "
                    "export it again with this torch",
                    ver, m->lib->version, m->lib->path);
    for (int i = 0; !rc && i < m->desc.n_inputs; i++) {
        const ngt_tensor_desc *d = &m->desc.inputs[i];
        m->in_dtype[i] = d->dtype == NGT_F32 ? m->lib->dtype_f32 : m->lib->dtype_f64;
        int64_t s = 1;
        for (int k = d->rank; k >= 0; k--) {
            m->in_strides[i][k] = s;
            s *= k ? d->shape[k - 1] : 1;
        }
    }
    for (int i = 0; !rc && i < m->desc.n_outputs; i++) {
        m->out_dtype[i] =
            m->desc.outputs[i].dtype == NGT_F32 ? m->lib->dtype_f32 : m->lib->dtype_f64;
        m->out_row[i] = row_bytes(&m->desc.outputs[i]);
    }
    if (!rc)
        rc = open_model(m, p, o, err);
    free(p);
    if (!rc)
        rc = validate(m, err);
    return rc;
}

static int torch_load(const char *path, const char *options, void **model, ngt_error *err)
{
    *model = NULL;
    torch_opts o;
    int rc = parse_opts(options, &o, err);
    if (rc)
        return preferr(err, rc, "%s", path);
    torch_model *m = calloc(1, sizeof *m);
    if (!m)
        return seterr(err, NGT_ENOMEM, "out of memory");
    m->threads = o.threads;
    m->desc.batch_invariant = 0; /* AOTInductor's kernels may tile by batch size */
    rc = load_model(path, &o, m, err);
    if (rc) {
        preferr(err, rc, "torch: %s", path);
        model_free(m);
        return rc;
    }
    *model = m;
    return NGT_OK;
}

static int torch_describe(const void *model, ngt_model_desc *desc)
{
    *desc = ((const torch_model *)model)->desc;
    return NGT_OK;
}

static size_t torch_workspace_size(const void *model, int max_batch)
{
    (void)model;
    (void)max_batch;
    return 0; /* the container holds the intermediates */
}

static void torch_unload(void *model)
{
    model_free(model);
}

static const ngt_backend torch_vtable = {
    .name = "torch",
    .load = torch_load,
    .describe = torch_describe,
    .workspace_size = torch_workspace_size,
    .infer = torch_infer,
    .unload = torch_unload,
};

const ngt_backend *torch_backend(void)
{
    return &torch_vtable;
}
