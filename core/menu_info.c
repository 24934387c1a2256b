/* menu_info.c: ngt_menu_build and what a built menu tells about itself: names, the resolved
 * order, a readable description and the menu hash. */
#include "internal.h"
#include "menu_int.h"

#include <stdio.h>
#include <string.h>

int ngt_menu_build(ngt_menu *m, ngt_error *err)
{
    if (!m)
        return ngt_seterr(err, NGT_EINVAL, "no menu");
    if (m->built)
        return ngt_seterr(err, NGT_ESTATE, "the menu is already built");
    if (m->n_chains == 0)
        return ngt_seterr(err, NGT_EINVAL, "the menu has no chains");
    int rc = plan_build(m, err);
    if (rc == NGT_OK)
        rc = menu_compile_cuts(m, err);
    if (rc != NGT_OK)
        return ngt_preferr(err, rc, "menu");
    int lumi = -1;
    ngt_schema_identity(m->schema, NULL, &lumi, NULL);
    m->lumi_col =
        lumi >= 0 && ngt_schema_column(m->schema, lumi)->kind == NGT_COL_SCALAR ? lumi : -1;
    m->built = 1;
    size_t need = ngt_menu_describe(m, NULL, 0);
    char *text = malloc(need + 1);
    if (!text)
        return ngt_seterr(err, NGT_ENOMEM, "out of memory");
    ngt_menu_describe(m, text, need + 1);
    m->hash = ngt_fnv1a(text, strlen(text), ngt_fnv1a_basis());
    free(text);
    return NGT_OK;
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

typedef struct out {
    char *buf;
    size_t size, len;
} out;

static void emit(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = o->buf && o->len < o->size ? o->buf + o->len : NULL;
    int k = vsnprintf(at, at ? o->size - o->len : 0, fmt, ap);
    va_end(ap);
    if (k > 0)
        o->len += (size_t)k;
}

static void describe_chain(const ngt_menu *m, out *o, int ci)
{
    const chain *c = &m->chains[ci];
    emit(o, "chain %s\n", c->name);
    for (int k = 0; k < c->n_seeds; k++)
        emit(o, "  seed %s\n", c->seed_names[k]);
    for (int k = 0; k < c->n_vetoes; k++)
        emit(o, "  veto %s\n", c->veto_names[k]);
    for (int k = 0; k < c->n_items; k++) {
        const step *s = &m->steps[c->items[k]];
        if (s->kind == STEP_CUT)
            emit(o, "  cut %s\n", ngt_cut_text(s->cut));
        else
            emit(o, "  %s\n", s->name);
    }
}

size_t ngt_menu_describe(const ngt_menu *m, char *buf, size_t size)
{
    out o = {buf, size, 0};
    if (buf && size)
        buf[0] = 0;
    emit(&o, "%s", ngt_schema_text(m->schema));
    for (int i = 0; i < ngt_schema_ncolumns(m->schema); i++) {
        const ngt_column_info *c = ngt_schema_column(m->schema, i);
        if (c->derived)
            emit(&o, "derived %s %s[%lld]\n", c->name, ngt_dtype_name(c->dtype),
                 (long long)c->elems);
    }
    for (int c = 0; c < m->n_chains; c++)
        describe_chain(m, &o, c);
    for (int s = 0; s < m->n_streams; s++) {
        emit(&o, "stream %s:", m->streams[s].name);
        for (int k = 0; k < m->streams[s].n_chains; k++)
            emit(&o, " %s", m->chains[m->streams[s].chains[k]].name);
        emit(&o, "\n");
    }
    for (int p = 0; p < m->n_pcols; p++) {
        emit(&o, "prescale-column %s:", m->pcols[p].name);
        for (int c = 0; c < m->n_chains; c++)
            if (m->pcols[p].factors[c] != UINT32_MAX)
                emit(&o, " %s=%u", m->chains[c].name, m->pcols[p].factors[c]);
        emit(&o, "\n");
    }
    if (m->built) {
        emit(&o, "order:");
        for (int i = 0; i < m->n_order; i++)
            emit(&o, " [%s]", m->steps[m->order_step[i]].name);
        emit(&o, "\n");
    }
    return o.len;
}
