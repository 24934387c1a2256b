/* registry.c: named models with refcounted immutable versions. Publishing swaps the current
 * pointer under a short lock; each batch pins the versions it uses, the last user frees the old. */
#include "internal.h"
#include "registry.h"

#include <pthread.h>
#include <string.h>

enum { MAX_BACKENDS = 16, MAX_MODELS = 256 };

typedef struct slot {
    char name[NGT_NAME_MAX];
    model_version *current;
    uint64_t serial;
} slot;

struct ngt_registry {
    pthread_mutex_t mu;
    const ngt_backend *backends[MAX_BACKENDS];
    int n_backends;
    slot slots[MAX_MODELS];
    int n_slots;
};

ngt_registry *ngt_registry_new(ngt_error *err)
{
    ngt_registry *r = calloc(1, sizeof *r);
    if (!r) {
        seterr(err, NGT_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    for (const registry_backend_fn *b = registry_builtin_backends; *b; b++)
        ngt_registry_add_backend(r, (*b)(), NULL);
    return r;
}

static void version_free(model_version *v)
{
    if (v->backend && v->model)
        v->backend->unload(v->model);
    free(v);
}

void ngt_registry_free(ngt_registry *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_slots; i++)
        if (r->slots[i].current)
            registry_release(r, r->slots[i].current);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int ngt_registry_add_backend(ngt_registry *r, const ngt_backend *b, ngt_error *err)
{
    if (!b || !b->name || !b->load || !b->describe || !b->workspace_size || !b->infer || !b->unload)
        return seterr(err, NGT_EINVAL, "backend is missing a name or a function");
    if (ngt_registry_backend(r, b->name))
        return seterr(err, NGT_EINVAL, "backend '%s' is already registered", b->name);
    if (r->n_backends == MAX_BACKENDS)
        return seterr(err, NGT_EINVAL, "too many backends (max %d)", MAX_BACKENDS);
    r->backends[r->n_backends++] = b;
    return NGT_OK;
}

const ngt_backend *ngt_registry_backend(const ngt_registry *r, const char *name)
{
    for (int i = 0; i < r->n_backends; i++)
        if (name && strcmp(r->backends[i]->name, name) == 0)
            return r->backends[i];
    return NULL;
}

int registry_slot(ngt_registry *r, const char *name)
{
    pthread_mutex_lock(&r->mu);
    int found = -1;
    for (int i = 0; i < r->n_slots && found < 0; i++)
        if (strcmp(r->slots[i].name, name) == 0)
            found = i;
    pthread_mutex_unlock(&r->mu);
    return found;
}

static int check_desc(const ngt_model_desc *d, ngt_error *err)
{
    if (d->n_inputs < 1 || d->n_inputs > NGT_MAX_MODEL_IO || d->n_outputs < 1 ||
        d->n_outputs > NGT_MAX_MODEL_IO)
        return seterr(err, NGT_EUNSUPPORTED,
                      "model has %d inputs and %d outputs (1..%d of each supported)", d->n_inputs,
                      d->n_outputs, NGT_MAX_MODEL_IO);
    return NGT_OK;
}

int ngt_registry_load(ngt_registry *r, const char *name, const char *backend, const char *path,
                      const char *options, ngt_error *err)
{
    if (!name || !*name || strlen(name) >= NGT_NAME_MAX)
        return seterr(err, NGT_EINVAL, "bad model name '%s'", name ? name : "(null)");
    const ngt_backend *be = ngt_registry_backend(r, backend);
    if (!be)
        return seterr(err, NGT_EINVAL, "model '%s': unknown backend '%s'", name,
                      backend ? backend : "(null)");
    model_version *v = calloc(1, sizeof *v);
    if (!v)
        return seterr(err, NGT_ENOMEM, "out of memory");
    v->backend = be;
    v->hash = file_hash(path, err);
    int rc = v->hash ? be->load(path, options, &v->model, err) : NGT_EIO;
    if (rc == NGT_OK)
        rc = be->describe(v->model, &v->desc) == NGT_OK
                 ? check_desc(&v->desc, err)
                 : seterr(err, NGT_EINVAL, "describe failed");
    if (rc != NGT_OK) {
        version_free(v);
        return preferr(err, rc, "model '%s' (%s, backend %s)", name, path, backend);
    }
    atomic_init(&v->refs, 1); /* the registry's own reference */
    pthread_mutex_lock(&r->mu);
    int i = 0;
    while (i < r->n_slots && strcmp(r->slots[i].name, name) != 0)
        i++;
    if (i == r->n_slots) {
        if (r->n_slots == MAX_MODELS) {
            pthread_mutex_unlock(&r->mu);
            version_free(v);
            return seterr(err, NGT_EINVAL, "too many models (max %d)", MAX_MODELS);
        }
        str_copy(r->slots[i].name, name, NGT_NAME_MAX);
        r->n_slots++;
    }
    model_version *old = r->slots[i].current;
    v->serial = ++r->slots[i].serial;
    r->slots[i].current = v;
    pthread_mutex_unlock(&r->mu);
    if (old)
        registry_release(r, old);
    return NGT_OK;
}

model_version *registry_pin(ngt_registry *r, int s)
{
    pthread_mutex_lock(&r->mu);
    model_version *v = s >= 0 && s < r->n_slots ? r->slots[s].current : NULL;
    if (v)
        atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&r->mu);
    return v;
}

void registry_release(ngt_registry *r, model_version *v)
{
    (void)r;
    if (v && atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1)
        version_free(v);
}

int ngt_registry_describe(ngt_registry *r, const char *name, ngt_model_desc *desc, ngt_error *err)
{
    model_version *v = registry_pin(r, registry_slot(r, name));
    if (!v)
        return seterr(err, NGT_EINVAL, "unknown model '%s'", name ? name : "(null)");
    *desc = v->desc;
    registry_release(r, v);
    return NGT_OK;
}

uint64_t ngt_registry_model_hash(ngt_registry *r, const char *name)
{
    model_version *v = registry_pin(r, registry_slot(r, name));
    uint64_t h = v ? v->hash : 0;
    registry_release(r, v);
    return h;
}

int ngt_registry_count(const ngt_registry *r)
{
    return r->n_slots;
}
const char *ngt_registry_name(const ngt_registry *r, int i)
{
    return i >= 0 && i < r->n_slots ? r->slots[i].name : NULL;
}

int ngt_registry_infer(ngt_registry *r, const char *name, const void *const *inputs,
                       void *const *outputs, int n, ngt_error *err)
{
    model_version *v = registry_pin(r, registry_slot(r, name));
    if (!v)
        return seterr(err, NGT_EINVAL, "unknown model '%s'", name ? name : "(null)");
    int rc = NGT_OK;
    if (v->desc.max_batch > 0 && n > v->desc.max_batch)
        rc = seterr(err, NGT_EINVAL, "model '%s': %d events exceed its maximum batch %d", name, n,
                    v->desc.max_batch);
    void *ws = NULL;
    if (rc == NGT_OK && n > 0) {
        ws = aalloc(v->backend->workspace_size(v->model, n));
        rc = ws ? v->backend->infer(v->model, ws, inputs, outputs, n, err)
                : seterr(err, NGT_ENOMEM, "out of memory for the workspace");
    }
    afree(ws);
    registry_release(r, v);
    return rc;
}
