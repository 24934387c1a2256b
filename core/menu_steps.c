/* menu_steps.c: producer steps (models and C/Lua functions writing columns), which chains share,
 * and function filters. A second declaration of the same producer reuses the first. */
#include "internal.h"
#include "menu_int.h"
#include "schema_int.h"

#include <stdio.h>
#include <string.h>

int menu_new_step(ngt_menu *m, step_kind kind, int chain_index, ngt_error *err);
int menu_chain_append(ngt_menu *m, int ci, int si, ngt_error *err);

/* The producer step that writes column col, or -1. */
static int producer_of(const ngt_menu *m, int col)
{
    for (int i = 0; i < m->n_steps; i++)
        for (int k = 0; k < m->steps[i].n_out; k++)
            if (m->steps[i].out[k] == col)
                return i;
    return -1;
}

static int model_index(ngt_menu *m, int slot, ngt_error *err)
{
    for (int i = 0; i < m->n_models; i++)
        if (m->model_slots[i] == slot)
            return i;
    if (m->n_models == (int)(sizeof m->model_slots / sizeof m->model_slots[0]))
        return seterr(err, NGT_EINVAL, "too many models in one menu");
    m->model_slots[m->n_models] = slot;
    return m->n_models++;
}

static int check_input(const ngt_menu *m, const char *model, const char *name,
                       const ngt_tensor_desc *t, int *col, ngt_error *err)
{
    *col = ngt_schema_find(m->schema, name);
    if (*col < 0)
        return seterr(err, NGT_EINVAL, "model '%s' input '%s': unknown column '%s'", model, t->name,
                      name ? name : "(null)");
    const ngt_column_info *c = ngt_schema_column(m->schema, *col);
    int64_t elems = 1;
    for (int i = 0; i < t->rank; i++)
        elems *= t->shape[i];
    if (c->kind == NGT_COL_SCALAR || c->kind == NGT_COL_COUNT)
        return seterr(err, NGT_EINVAL,
                      "model '%s' input '%s': column '%s' is not an event "
                      "array",
                      model, t->name, name);
    if (c->dtype != t->dtype || c->elems != elems)
        return seterr(err, NGT_EINVAL,
                      "model '%s' input '%s' wants %s with %lld values per event; column '%s' "
                      "is %s with %lld",
                      model, t->name, ngt_dtype_name(t->dtype), (long long)elems, name,
                      ngt_dtype_name(c->dtype), (long long)c->elems);
    return NGT_OK;
}

/* Looks for an identical infer producer: *found is its index or -1; an error if one of the
 * outputs is already taken by something else. */
static int same_infer(const ngt_menu *m, int slot, int n_in, const int *in, int n_out,
                      const char *const *outputs, int *found, ngt_error *err)
{
    *found = -1;
    for (int k = 0; k < n_out; k++) {
        int col = ngt_schema_find(m->schema, outputs[k]);
        if (col < 0)
            continue;
        int p = producer_of(m, col);
        const step *s = p >= 0 ? &m->steps[p] : NULL;
        int same = s && s->kind == STEP_INFER && s->model_slot == slot && s->n_in == n_in &&
                   s->n_out == n_out && memcmp(s->in, in, sizeof *in * (size_t)n_in) == 0 &&
                   s->out[k] == col;
        if (!same)
            return seterr(err, NGT_EINVAL, "column '%s' already exists%s%s", outputs[k],
                          s ? ", written by step " : " in the input schema", s ? s->name : "");
        *found = p;
    }
    return NGT_OK;
}

static int add_output(ngt_menu *m, const char *name, ngt_dtype dt, int rank, const int64_t *shape,
                      ngt_error *err)
{
    if (!schema_valid_name(name))
        return seterr(err, NGT_EINVAL, "bad output column name '%s'", name ? name : "(null)");
    return schema_append(m->schema, name, dt, NGT_COL_EVENT, rank, shape, -1, 1, err);
}

static int declare_infer(ngt_menu *m, int ci, const char *model, int n_in,
                         const char *const *inputs, int n_out, const char *const *outputs,
                         ngt_error *err)
{
    if (!m || m->built || ci < 0 || ci >= m->n_chains)
        return seterr(err, m && m->built ? NGT_ESTATE : NGT_EINVAL,
                      "infer: bad menu or chain index %d", ci);
    const char *cn = m->chains[ci].name;
    int slot = m->reg && model ? registry_slot(m->reg, model) : -1;
    ngt_model_desc d;
    if (slot < 0 || ngt_registry_describe(m->reg, model, &d, err) != NGT_OK)
        return seterr(err, NGT_EINVAL, "chain '%s': unknown model '%s' (load it first)", cn,
                      model ? model : "(null)");
    if (n_in != d.n_inputs || n_out != d.n_outputs)
        return seterr(err, NGT_EINVAL,
                      "chain '%s': model '%s' has %d inputs and %d outputs; %d and %d given", cn,
                      model, d.n_inputs, d.n_outputs, n_in, n_out);
    int in[NGT_MAX_MODEL_IO];
    for (int k = 0; k < n_in; k++)
        if (check_input(m, model, inputs[k], &d.inputs[k], &in[k], err) != NGT_OK)
            return preferr(err, NGT_EINVAL, "chain '%s'", cn);
    int si;
    if (same_infer(m, slot, n_in, in, n_out, outputs, &si, err) != NGT_OK)
        return preferr(err, NGT_EINVAL, "chain '%s': infer '%s'", cn, model);
    if (si < 0) {
        int mi = model_index(m, slot, err);
        if (mi < 0 || (si = menu_new_step(m, STEP_INFER, -1, err)) < 0)
            return mi < 0 ? mi : si;
        step *s = &m->steps[si];
        str_copy(s->model, model, sizeof s->model);
        s->model_slot = slot;
        s->model_index = mi;
        s->timeout_ns = 1000000000ULL; /* an asynchronous backend's inference: 1 s */
        s->n_in = n_in;
        memcpy(s->in, in, sizeof in[0] * (size_t)n_in);
        snprintf(s->name, sizeof s->name, "infer:%s", model);
        for (int k = 0; k < n_out; k++) {
            int col = add_output(m, outputs[k], d.outputs[k].dtype, d.outputs[k].rank,
                                 d.outputs[k].shape, err);
            if (col < 0)
                return preferr(err, col, "chain '%s': infer '%s'", cn, model);
            m->steps[si].out[m->steps[si].n_out++] = col;
        }
    }
    return menu_chain_append(m, ci, si, err);
}

static int resolve_reads(ngt_menu *m, step *s, const ngt_step_def *d, ngt_error *err)
{
    s->reads = malloc(sizeof *s->reads * (size_t)(d->n_reads + 1));
    if (!s->reads)
        return seterr(err, NGT_ENOMEM, "out of memory");
    for (int i = 0; i < d->n_reads; i++) {
        int col = ngt_schema_find(m->schema, d->reads[i]);
        if (col < 0)
            return seterr(err, NGT_EINVAL, "step '%s' reads unknown column '%s'", d->name,
                          d->reads[i] ? d->reads[i] : "(null)");
        s->reads[s->n_reads++] = col;
    }
    return NGT_OK;
}

/* An identical function producer already declared (same function, user data and outputs)? */
static int same_function(const ngt_menu *m, const ngt_step_def *d, int *found, ngt_error *err)
{
    *found = -1;
    for (int k = 0; k < d->n_writes; k++) {
        int col = ngt_schema_find(m->schema, d->writes[k]);
        if (col < 0)
            continue;
        int p = producer_of(m, col);
        const step *s = p >= 0 ? &m->steps[p] : NULL;
        if (!s || s->kind != STEP_PRODUCE || s->fn != d->fn || s->user != d->user ||
            s->n_out != d->n_writes || s->out[k] != col)
            return seterr(err, NGT_EINVAL, "step '%s': column '%s' already exists", d->name,
                          d->writes[k]);
        *found = p;
    }
    return NGT_OK;
}

static int declare_writes(ngt_menu *m, int si, const ngt_step_def *d, ngt_error *err)
{
    for (int k = 0; k < d->n_writes; k++) {
        ngt_dtype dt = NGT_F32;
        int rank = 0;
        int64_t shape[NGT_MAX_RANK];
        const char *type = d->write_types ? d->write_types[k] : NULL;
        int rc = schema_parse_type(type, &dt, &rank, shape, err);
        if (rc != NGT_OK)
            return preferr(err, rc, "step '%s' output '%s'", d->name, d->writes[k]);
        int col = add_output(m, d->writes[k], dt, rank, shape, err);
        if (col < 0)
            return preferr(err, col, "step '%s'", d->name);
        m->steps[si].out[m->steps[si].n_out++] = col;
    }
    return NGT_OK;
}

static int declare_step(ngt_menu *m, int ci, const ngt_step_def *d, ngt_error *err)
{
    if (!m || m->built || ci < 0 || ci >= m->n_chains)
        return seterr(err, m && m->built ? NGT_ESTATE : NGT_EINVAL,
                      "step: bad menu or chain index %d", ci);
    if (!d || !d->fn || !d->name || !*d->name)
        return seterr(err, NGT_EINVAL, "chain '%s': a step needs a name and a function",
                      m->chains[ci].name);
    if (d->mode != NGT_STEP_SYNC && d->mode != NGT_STEP_ASYNC && d->mode != NGT_STEP_OFFLOAD)
        return seterr(err, NGT_EINVAL, "step '%s': bad mode %d", d->name, (int)d->mode);
    if (d->n_writes < 0 || d->n_writes > NGT_MAX_MODEL_IO || d->n_reads < 0)
        return seterr(err, NGT_EINVAL, "step '%s': bad number of reads or writes", d->name);
    int si = -1;
    if (d->n_writes && same_function(m, d, &si, err) != NGT_OK)
        return NGT_EINVAL;
    if (si < 0) {
        si = menu_new_step(m, d->n_writes ? STEP_PRODUCE : STEP_FILTER, d->n_writes ? -1 : ci, err);
        if (si < 0)
            return si;
        step *s = &m->steps[si];
        snprintf(s->name, sizeof s->name, "%s%s%s", d->n_writes ? "" : m->chains[ci].name,
                 d->n_writes ? "" : ":", d->name);
        s->fn = d->fn;
        s->user = d->user;
        s->mode = d->mode;
        s->timeout_ns = (uint64_t)((d->timeout_s > 0 ? d->timeout_s : 1.0) * 1e9);
        int rc = resolve_reads(m, s, d, err);
        if (rc == NGT_OK)
            rc = declare_writes(m, si, d, err);
        if (rc != NGT_OK)
            return rc;
    }
    return menu_chain_append(m, ci, si, err);
}

static int declare_stream(ngt_menu *m, const char *name, int n, const char *const *chains,
                          ngt_error *err)
{
    if (!m || m->built)
        return seterr(err, NGT_ESTATE, "stream: the menu is already built");
    if (!name || !*name || strlen(name) >= NGT_NAME_MAX || strcmp(name, "error") == 0)
        return seterr(err, NGT_EINVAL, "bad stream name '%s'%s", name ? name : "(null)",
                      name && strcmp(name, "error") == 0 ? " (the error stream is built in)" : "");
    for (int i = 0; i < m->n_streams; i++)
        if (strcmp(m->streams[i].name, name) == 0)
            return seterr(err, NGT_EINVAL, "duplicate stream '%s'", name);
    if (m->n_streams >= 62)
        return seterr(err, NGT_EINVAL, "too many streams (max 62 plus 'error')");
    stream *v = realloc(m->streams, sizeof *v * (size_t)(m->n_streams + 1));
    if (!v)
        return seterr(err, NGT_ENOMEM, "out of memory");
    m->streams = v;
    stream *s = &v[m->n_streams];
    memset(s, 0, sizeof *s);
    str_copy(s->name, name, sizeof s->name);
    s->chains = malloc(sizeof *s->chains * (size_t)(n + 1));
    if (!s->chains)
        return seterr(err, NGT_ENOMEM, "out of memory");
    m->n_streams++;
    for (int i = 0; i < n; i++) {
        int c = menu_find_chain(m, chains[i]);
        if (c < 0)
            return seterr(err, NGT_EINVAL, "stream '%s': unknown chain '%s'", name,
                          chains[i] ? chains[i] : "(null)");
        s->chains[s->n_chains++] = c;
    }
    return m->n_streams - 1;
}

/* ---- declarations: a failed one is remembered, and ngt_menu_build refuses the menu ---- */

int ngt_menu_infer(ngt_menu *m, int ci, const char *model, int n_in, const char *const *inputs,
                   int n_out, const char *const *outputs, ngt_error *err)
{
    ngt_error own = {0};
    ngt_error *e = err ? err : &own;
    int rc = declare_infer(m, ci, model, n_in, inputs, n_out, outputs, e);
    if (rc < 0)
        menu_declaration_failed(m, rc, e, "ngt_menu_infer(chain %d, '%s')", ci,
                                model ? model : "(null)");
    return rc;
}

int ngt_menu_step(ngt_menu *m, int ci, const ngt_step_def *d, ngt_error *err)
{
    ngt_error own = {0};
    ngt_error *e = err ? err : &own;
    int rc = declare_step(m, ci, d, e);
    if (rc < 0)
        menu_declaration_failed(m, rc, e, "ngt_menu_step(chain %d, '%s')", ci,
                                d && d->name ? d->name : "(null)");
    return rc;
}

int ngt_menu_stream(ngt_menu *m, const char *name, int n, const char *const *chains, ngt_error *err)
{
    ngt_error own = {0};
    ngt_error *e = err ? err : &own;
    int rc = declare_stream(m, name, n, chains, e);
    if (rc < 0)
        menu_declaration_failed(m, rc, e, "ngt_menu_stream('%s')", name ? name : "(null)");
    return rc;
}
