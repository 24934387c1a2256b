/* registry.h: model versions as the engine sees them: pinned per batch, released after it. */
#ifndef NGT_REGISTRY_H
#define NGT_REGISTRY_H

#include "ngt.h"

#include <stdatomic.h>

typedef struct model_version {
    atomic_int refs;
    const ngt_backend *backend;
    void *model;
    ngt_model_desc desc;
    uint64_t hash;   /* FNV-1a 64 of the model file */
    uint64_t serial; /* 1, 2, ... per name: bumped by every publish */
} model_version;

int registry_slot(ngt_registry *r, const char *name); /* -1 when unknown */
/* Takes a reference on the current version of a slot (NULL when nothing is published). */
model_version *registry_pin(ngt_registry *r, int slot);
void registry_release(ngt_registry *r, model_version *v);

#endif
