/* menu_info.c: ngt_menu_build and what a built menu tells about itself: names, the resolved
 * order, a readable description and the menu hash. */
#include "internal.h"
#include "menu_int.h"
#include "strbuf.h"

#include <stdio.h>
#include <string.h>

int ngt_menu_build(ngt_menu *m, ngt_error *err)
{
    if (!m)
        return seterr(err, NGT_EINVAL, "no menu");
    if (m->built)
        return seterr(err, NGT_ESTATE, "the menu is already built");
    if (m->n_failed_decls > 0)
        return seterr(err, NGT_EINVAL,
                      "the menu is incomplete: %d declaration%s failed; the first: %s",
                      m->n_failed_decls, m->n_failed_decls > 1 ? "s" : "", m->failed_decl);
    if (m->n_chains == 0)
        return seterr(err, NGT_EINVAL, "the menu has no chains");
    int rc = plan_build(m, err);
    if (rc == NGT_OK)
        rc = menu_compile_cuts(m, err);
    if (rc != NGT_OK)
        return preferr(err, rc, "menu");
    free(m->err_msg);
    free(m->err_set);
    m->err_msg = calloc((size_t)m->n_order + 1, sizeof *m->err_msg);
    m->err_set = calloc((size_t)m->n_order + 1, sizeof *m->err_set);
    if (!m->err_msg || !m->err_set)
        return seterr(err, NGT_ENOMEM, "out of memory");
    int lumi = -1;
    ngt_schema_identity(m->schema, NULL, &lumi, NULL);
    m->lumi_col =
        lumi >= 0 && ngt_schema_column(m->schema, lumi)->kind == NGT_COL_SCALAR ? lumi : -1;
    m->override = malloc(sizeof *m->override * (size_t)m->n_chains);
    if (!m->override)
        return seterr(err, NGT_ENOMEM, "out of memory");
    for (int c = 0; c < m->n_chains; c++)
        m->override[c] = UINT32_MAX;
    m->built = 1;
    size_t need = ngt_menu_describe(m, NULL, 0);
    char *text = malloc(need + 1);
    if (!text)
        return seterr(err, NGT_ENOMEM, "out of memory");
    ngt_menu_describe(m, text, need + 1);
    m->hash = fnv1a(text, strlen(text), fnv1a_basis());
    free(text);
    return NGT_OK;
}

void menu_note_error(ngt_menu *m, int k, const char *msg)
{
    if (k < 0 || k > m->n_order || atomic_load_explicit(&m->err_set[k], memory_order_acquire))
        return;
    pthread_mutex_lock(&m->err_mu);
    if (!atomic_load_explicit(&m->err_set[k], memory_order_relaxed)) {
        str_copy(m->err_msg[k], msg, sizeof m->err_msg[k]);
        atomic_store_explicit(&m->err_set[k], 1, memory_order_release);
    }
    pthread_mutex_unlock(&m->err_mu);
}

const ngt_schema *ngt_menu_schema(const ngt_menu *m)
{
    return m->schema;
}
int ngt_menu_nchains(const ngt_menu *m)
{
    return m->n_chains;
}
const char *ngt_menu_chain_name(const ngt_menu *m, int c)
{
    return c >= 0 && c < m->n_chains ? m->chains[c].name : NULL;
}
int ngt_menu_nstreams(const ngt_menu *m)
{
    return m->n_streams + 1;
}
const char *ngt_menu_stream_name(const ngt_menu *m, int s)
{
    return s >= 0 && s < m->n_streams ? m->streams[s].name : s == m->n_streams ? "error" : NULL;
}
int ngt_menu_nsteps(const ngt_menu *m)
{
    return m->built ? m->n_order : m->n_steps;
}
const char *ngt_menu_step_name(const ngt_menu *m, int i)
{
    if (i < 0 || i >= ngt_menu_nsteps(m))
        return NULL;
    return m->steps[m->built ? m->order_step[i] : i].name;
}
int ngt_menu_step_producer(const ngt_menu *m, int i)
{
    if (i < 0 || i >= ngt_menu_nsteps(m))
        return -1;
    step_kind k = m->steps[m->built ? m->order_step[i] : i].kind;
    return k == STEP_INFER || k == STEP_PRODUCE;
}
uint64_t ngt_menu_hash(const ngt_menu *m)
{
    return m->hash;
}

static void describe_chain(const ngt_menu *m, strbuf *o, int ci)
{
    const chain *c = &m->chains[ci];
    sb_printf(o, "chain %s\n", c->name);
    for (int k = 0; k < c->n_seeds; k++)
        sb_printf(o, "  seed %s\n", c->seed_names[k]);
    for (int k = 0; k < c->n_vetoes; k++)
        sb_printf(o, "  veto %s\n", c->veto_names[k]);
    for (int k = 0; k < c->n_items; k++) {
        const step *s = &m->steps[c->items[k]];
        if (s->kind == STEP_CUT)
            sb_printf(o, "  cut %s\n", cut_text(s->cut));
        else
            sb_printf(o, "  %s\n", s->name);
    }
}

size_t ngt_menu_describe(const ngt_menu *m, char *buf, size_t size)
{
    strbuf o = sb_fixed(buf, size);
    if (buf && size)
        buf[0] = 0;
    sb_printf(&o, "%s", ngt_schema_text(m->schema));
    for (int i = 0; i < ngt_schema_ncolumns(m->schema); i++) {
        const ngt_column_info *c = ngt_schema_column(m->schema, i);
        if (c->derived)
            sb_printf(&o, "derived %s %s[%lld]\n", c->name, ngt_dtype_name(c->dtype),
                      (long long)c->elems);
    }
    for (int c = 0; c < m->n_chains; c++)
        describe_chain(m, &o, c);
    for (int s = 0; s < m->n_streams; s++) {
        sb_printf(&o, "stream %s:", m->streams[s].name);
        for (int k = 0; k < m->streams[s].n_chains; k++)
            sb_printf(&o, " %s", m->chains[m->streams[s].chains[k]].name);
        sb_printf(&o, "\n");
    }
    for (int p = 0; p < m->n_pcols; p++) {
        sb_printf(&o, "prescale-column %s:", m->pcols[p].name);
        for (int c = 0; c < m->n_chains; c++)
            if (m->pcols[p].factors[c] != UINT32_MAX)
                sb_printf(&o, " %s=%u", m->chains[c].name, m->pcols[p].factors[c]);
        sb_printf(&o, "\n");
    }
    if (m->built) {
        sb_printf(&o, "order:");
        for (int i = 0; i < m->n_order; i++)
            sb_printf(&o, " [%s]", m->steps[m->order_step[i]].name);
        sb_printf(&o, "\n");
    }
    return o.len;
}

int ngt_menu_nmodels(const ngt_menu *m)
{
    return m ? m->n_models : 0;
}
const char *ngt_menu_model_name(const ngt_menu *m, int k)
{
    return m && k >= 0 && k < m->n_models ? ngt_registry_name(m->reg, m->model_slots[k]) : NULL;
}
ngt_registry *ngt_menu_registry(const ngt_menu *m)
{
    return m ? m->reg : NULL;
}
