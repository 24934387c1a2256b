/* sched_mem.c: the pool's memory hooks. Each batch's storage block is shown to the host's hook
 * (ngt_run_opts.batch_memory) and to the host_memory entry of every backend the menu's models use
 * (the gpu backend registers it as pinned memory, so copies to the device are asynchronous). */
#include "internal.h"
#include "menu_int.h"
#include "registry.h"
#include "sched_int.h"

void sched_mem_setup(ngt_runner *r, const ngt_run_opts *o)
{
    r->mem_hook = o->batch_memory;
    r->mem_user = o->batch_memory_user;
    r->n_mem_backends = 0;
    ngt_menu *m = r->menu;
    for (int k = 0; k < m->n_models; k++) {
        model_version *v = registry_pin(m->reg, m->model_slots[k]);
        const ngt_backend *b = v ? v->backend : NULL;
        registry_release(m->reg, v);
        if (!b || !b->host_memory)
            continue;
        int seen = 0;
        for (int i = 0; i < r->n_mem_backends; i++)
            seen |= r->mem_backends[i] == b;
        if (!seen && r->n_mem_backends < SCHED_MEM_BACKENDS)
            r->mem_backends[r->n_mem_backends++] = b;
    }
}

int sched_mem_attach(ngt_runner *r, ngt_batch *b, ngt_error *err)
{
    size_t bytes;
    void *p = batch_memory(b, &bytes);
    if (r->mem_hook && r->mem_hook(r->mem_user, p, bytes, 1) < 0)
        return seterr(err, NGT_EIO, "the host's batch memory hook failed");
    for (int i = 0; i < r->n_mem_backends; i++)
        if (r->mem_backends[i]->host_memory(p, bytes, 1) < 0) {
            const char *name = r->mem_backends[i]->name;
            while (i-- > 0)
                r->mem_backends[i]->host_memory(p, bytes, 0);
            if (r->mem_hook)
                r->mem_hook(r->mem_user, p, bytes, 0);
            return seterr(err, NGT_EIO, "backend '%s' could not register the batch memory", name);
        }
    return NGT_OK;
}

void sched_mem_detach(ngt_runner *r, ngt_batch *b)
{
    size_t bytes;
    void *p = batch_memory(b, &bytes);
    for (int i = r->n_mem_backends; i-- > 0;)
        r->mem_backends[i]->host_memory(p, bytes, 0);
    if (r->mem_hook)
        r->mem_hook(r->mem_user, p, bytes, 0);
}
