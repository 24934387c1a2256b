/* registry_swap.c: runtime model swap and shadow. A candidate is loaded and validated on the
 * caller's thread (never a worker's): same inputs and outputs as the current version, a validation
 * batch that runs, optional reference outputs within a tolerance; only then is it published with
 * one store (or installed as the shadow). A failed candidate leaves everything as it was. */
#include "internal.h"
#include "registry.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void tensor_text(const ngt_tensor_desc *t, char *buf, size_t size)
{
    int at = snprintf(buf, size, "%s", ngt_dtype_name(t->dtype));
    for (int d = 0; d < t->rank && at > 0 && (size_t)at < size; d++)
        at += snprintf(buf + at, size - (size_t)at, "[%lld]", (long long)t->shape[d]);
}

static int64_t tensor_elems(const ngt_tensor_desc *t)
{
    int64_t e = 1;
    for (int d = 0; d < t->rank; d++)
        e *= t->shape[d];
    return e;
}

/* The candidate must read and write what the current version does (what the menus were built
 * on): per tensor the same dtype and element count (the menus' own rule, exec_infer.c). */
static int same_io(const ngt_model_desc *cur, const ngt_model_desc *cand, ngt_error *err)
{
    if (cur->n_inputs != cand->n_inputs || cur->n_outputs != cand->n_outputs)
        return seterr(err, NGT_EINVAL,
                      "candidate has %d inputs and %d outputs, the current version %d and %d",
                      cand->n_inputs, cand->n_outputs, cur->n_inputs, cur->n_outputs);
    for (int k = 0; k < cur->n_inputs + cur->n_outputs; k++) {
        int in = k < cur->n_inputs;
        int i = in ? k : k - cur->n_inputs;
        const ngt_tensor_desc *a = in ? &cur->inputs[i] : &cur->outputs[i];
        const ngt_tensor_desc *b = in ? &cand->inputs[i] : &cand->outputs[i];
        if (a->dtype != b->dtype || tensor_elems(a) != tensor_elems(b)) {
            char ta[96], tb[96];
            tensor_text(a, ta, sizeof ta);
            tensor_text(b, tb, sizeof tb);
            return seterr(err, NGT_EINVAL, "%s %d is %s, the current version's %s",
                          in ? "input" : "output", i, tb, ta);
        }
    }
    return NGT_OK;
}

static size_t tensor_bytes(const ngt_tensor_desc *t)
{
    return (size_t)tensor_elems(t) * ngt_dtype_size(t->dtype);
}

static double value(const void *p, ngt_dtype t, int64_t i)
{
    switch (t) {
    case NGT_F32:
        return ((const float *)p)[i];
    case NGT_F64:
        return ((const double *)p)[i];
    default:
        return (double)read_int((const char *)p + (size_t)i * ngt_dtype_size(t), t);
    }
}

/* Runs the candidate over the validation inputs (or zeros) and compares with the references. */
static int validate(model_version *v, const ngt_swap_check *check, ngt_error *err)
{
    const ngt_model_desc *d = &v->desc;
    int given = check && check->n > 0 && check->inputs;
    if (check && check->outputs && !given)
        return seterr(err, NGT_EINVAL, "reference outputs need validation inputs");
    int64_t n = given ? check->n : NGT_SWAP_VALIDATION_EVENTS;
    void *zeros[NGT_MAX_MODEL_IO] = {0}, *out[NGT_MAX_MODEL_IO] = {0};
    const void *in[NGT_MAX_MODEL_IO] = {0};
    void *ws = NULL;
    int rc = NGT_OK;
    for (int k = 0; k < d->n_inputs && rc == NGT_OK; k++) {
        in[k] = given ? check->inputs[k]
                      : (zeros[k] = calloc(1, (size_t)n * tensor_bytes(&d->inputs[k]) + 1));
        if (!in[k])
            rc = given ? seterr(err, NGT_EINVAL, "validation input %d missing", k)
                       : seterr(err, NGT_ENOMEM, "out of memory");
    }
    int chunk = d->max_batch > 0 && d->max_batch < n ? d->max_batch : (int)n;
    if (rc == NGT_OK) {
        ws = aalloc(v->backend->workspace_size(v->model, chunk));
        if (!ws)
            rc = seterr(err, NGT_ENOMEM, "out of memory for the workspace");
    }
    for (int k = 0; k < d->n_outputs && rc == NGT_OK; k++) {
        out[k] = aalloc((size_t)n * tensor_bytes(&d->outputs[k]));
        if (!out[k])
            rc = seterr(err, NGT_ENOMEM, "out of memory");
    }
    for (int64_t at = 0; at < n && rc == NGT_OK; at += chunk) {
        int m = n - at < chunk ? (int)(n - at) : chunk;
        const void *inp[NGT_MAX_MODEL_IO];
        void *outp[NGT_MAX_MODEL_IO];
        for (int k = 0; k < d->n_inputs; k++)
            inp[k] = (const char *)in[k] + (size_t)at * tensor_bytes(&d->inputs[k]);
        for (int k = 0; k < d->n_outputs; k++)
            outp[k] = (char *)out[k] + (size_t)at * tensor_bytes(&d->outputs[k]);
        rc = v->backend->infer(v->model, ws, inp, outp, m, err);
        if (rc != NGT_OK)
            preferr(err, rc, "validation batch (%d events from %lld)", m, (long long)at);
    }
    double tol = check && check->tol > 0 ? check->tol : 1e-5;
    for (int k = 0; k < d->n_outputs && rc == NGT_OK && check && check->outputs; k++) {
        const void *ref = check->outputs[k];
        int64_t e = tensor_elems(&d->outputs[k]), total = n * e;
        for (int64_t i = 0; ref && i < total && rc == NGT_OK; i++) {
            double a = value(out[k], d->outputs[k].dtype, i);
            double b = value(ref, d->outputs[k].dtype, i);
            if (!(fabs(a - b) <= tol))
                rc = seterr(err, NGT_EINVAL,
                            "validation: output %d, event %lld, value %lld: %.9g, the reference "
                            "%.9g (tolerance %g)",
                            k, (long long)(i / e), (long long)(i % e), a, b, tol);
        }
    }
    afree(ws);
    for (int k = 0; k < NGT_MAX_MODEL_IO; k++) {
        free(zeros[k]);
        afree(out[k]);
    }
    return rc;
}

/* Loads and validates a candidate for the published model name; NULL with err on failure. */
static model_version *candidate(ngt_registry *r, const char *name, const char *backend,
                                const char *path, const char *options, const ngt_swap_check *check,
                                ngt_error *err)
{
    model_version *cur = registry_pin(r, name ? registry_slot(r, name) : -1);
    if (!cur) {
        seterr(err, NGT_EINVAL, "unknown model '%s'", name ? name : "(null)");
        return NULL;
    }
    if (!backend || !*backend)
        backend = cur->backend->name;
    model_version *v = registry_version_load(r, name, backend, path, options, err);
    int rc = v ? same_io(&cur->desc, &v->desc, err) : NGT_EINVAL;
    if (v && rc == NGT_OK)
        rc = validate(v, check, err);
    registry_release(r, cur);
    if (v && rc != NGT_OK) {
        registry_release(r, v);
        preferr(err, rc, "model '%s' (%s): kept the current version", name, path);
        return NULL;
    }
    if (!v)
        preferr(err, err ? err->code : NGT_EINVAL, "kept the current version");
    return v;
}

int ngt_registry_swap(ngt_registry *r, const char *name, const char *backend, const char *path,
                      const char *options, const ngt_swap_check *check, ngt_error *err)
{
    if (!r)
        return seterr(err, NGT_EINVAL, "no registry");
    model_version *v = candidate(r, name, backend, path, options, check, err);
    if (!v)
        return err && err->code < 0 ? err->code : NGT_EINVAL;
    int64_t serial = registry_publish(r, name, v, err);
    return serial < 0 ? (int)serial : (int)(serial > INT32_MAX ? INT32_MAX : serial);
}

uint64_t ngt_registry_model_serial(ngt_registry *r, const char *name)
{
    model_version *v = registry_pin(r, name ? registry_slot(r, name) : -1);
    uint64_t s = v ? v->serial : 0;
    registry_release(r, v);
    return s;
}

int ngt_registry_model_file(ngt_registry *r, const char *name, char *path, size_t size)
{
    model_version *v = registry_pin(r, name ? registry_slot(r, name) : -1);
    if (!v)
        return NGT_EINVAL;
    if (path && size)
        str_copy(path, v->path ? v->path : "", size);
    registry_release(r, v);
    return NGT_OK;
}

int ngt_registry_shadow(ngt_registry *r, const char *name, const char *backend, const char *path,
                        const char *options, const ngt_swap_check *check, ngt_error *err)
{
    if (!r)
        return seterr(err, NGT_EINVAL, "no registry");
    model_version *v = candidate(r, name, backend, path, options, check, err);
    if (!v)
        return err && err->code < 0 ? err->code : NGT_EINVAL;
    registry_release(r, registry_swap_shadow(r, registry_slot(r, name), v));
    return NGT_OK;
}

int ngt_registry_promote(ngt_registry *r, const char *name, ngt_error *err)
{
    int slot = r && name ? registry_slot(r, name) : -1;
    if (slot < 0)
        return seterr(err, NGT_EINVAL, "unknown model '%s'", name ? name : "(null)");
    model_version *sh = registry_swap_shadow(r, slot, NULL);
    if (!sh)
        return seterr(err, NGT_ESTATE, "model '%s' has no shadow to promote", name);
    int64_t serial = registry_publish(r, name, sh, err);
    return serial < 0 ? (int)serial : (int)(serial > INT32_MAX ? INT32_MAX : serial);
}

int ngt_registry_shadow_clear(ngt_registry *r, const char *name, ngt_error *err)
{
    int slot = r && name ? registry_slot(r, name) : -1;
    if (slot < 0)
        return seterr(err, NGT_EINVAL, "unknown model '%s'", name ? name : "(null)");
    registry_release(r, registry_swap_shadow(r, slot, NULL));
    return NGT_OK;
}

void registry_shadow_add(model_version *sh, uint64_t events, uint64_t identical, double max_diff,
                         int failed)
{
    pthread_mutex_lock(&sh->mu);
    sh->sh_events += events;
    sh->sh_identical += identical;
    sh->sh_errors += failed ? 1 : 0;
    if (max_diff > sh->sh_max_diff || isnan(max_diff))
        sh->sh_max_diff = max_diff;
    pthread_mutex_unlock(&sh->mu);
}

int ngt_registry_shadow_stats(ngt_registry *r, const char *name, ngt_shadow_stats *st)
{
    memset(st, 0, sizeof *st);
    model_version *sh = registry_pin_shadow(r, name ? registry_slot(r, name) : -1);
    if (!sh)
        return NGT_OK;
    st->active = 1;
    st->hash = sh->hash;
    pthread_mutex_lock(&sh->mu);
    st->events = sh->sh_events;
    st->identical = sh->sh_identical;
    st->errors = sh->sh_errors;
    st->max_abs_diff = sh->sh_max_diff;
    pthread_mutex_unlock(&sh->mu);
    registry_release(r, sh);
    return NGT_OK;
}
