/* menu.c: building a menu from C: chains, their steps (cuts, prescales, models, functions), seeds
 * and vetoes, streams and prescale columns. ngt_menu_build (plan.c) resolves and orders it. */
#include "internal.h"
#include "menu_int.h"
#include "schema_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int check_open(ngt_menu *m, ngt_error *err)
{
    if (!m)
        return seterr(err, NGT_EINVAL, "no menu");
    return m->built ? seterr(err, NGT_ESTATE, "the menu is already built") : NGT_OK;
}

static int check_chain(ngt_menu *m, int chain, ngt_error *err)
{
    int rc = check_open(m, err);
    if (rc == NGT_OK && (chain < 0 || chain >= m->n_chains))
        rc = seterr(err, NGT_EINVAL, "no chain with index %d", chain);
    return rc;
}

ngt_menu *ngt_menu_new(const ngt_schema *input, ngt_registry *models, ngt_error *err)
{
    if (!input) {
        seterr(err, NGT_EINVAL, "a menu needs a schema");
        return NULL;
    }
    for (int i = 0; i < ngt_schema_ncolumns(input); i++)
        if (ngt_schema_column(input, i)->derived) {
            seterr(err, NGT_EINVAL, "the input schema already has derived column '%s'",
                   ngt_schema_column(input, i)->name);
            return NULL;
        }
    ngt_menu *m = calloc(1, sizeof *m);
    if (!m || !(m->schema = ngt_schema_clone(input))) {
        free(m);
        seterr(err, NGT_ENOMEM, "out of memory");
        return NULL;
    }
    m->reg = models;
    m->applied_col = -1;
    atomic_init(&m->requested_col, -1);
    m->last_lumi = INT64_MIN;
    pthread_mutex_init(&m->col_mu, NULL);
    pthread_mutex_init(&m->stats_mu, NULL);
    pthread_mutex_init(&m->err_mu, NULL);
    return m;
}

void menu_declaration_failed(ngt_menu *m, int rc, const ngt_error *e, const char *fmt, ...)
{
    if (!m || m->built || rc == NGT_ESTATE)
        return;
    if (m->n_failed_decls++ == 0) {
        char what[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        char full[sizeof what + NGT_ERR_MSG_MAX + 16];
        snprintf(full, sizeof full, "%s failed: %s", what,
                 e && e->msg[0] ? e->msg : "(no message)");
        str_copy(m->failed_decl, full, sizeof m->failed_decl);
    }
}

static void free_names(char **names, int n)
{
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

void ngt_menu_free(ngt_menu *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_steps; i++) {
        cut_free(m->steps[i].cut);
        free(m->steps[i].reads);
        free(m->steps[i].deps);
    }
    for (int i = 0; i < m->n_chains; i++) {
        chain *c = &m->chains[i];
        free(c->items);
        free(c->seeds);
        free(c->vetoes);
        free_names(c->seed_names, c->n_seeds);
        free_names(c->veto_names, c->n_vetoes);
    }
    for (int i = 0; i < m->n_streams; i++)
        free(m->streams[i].chains);
    for (int i = 0; i < m->n_pcols; i++)
        free(m->pcols[i].factors);
    menu_free_cuts(m);
    free(m->steps);
    free(m->chains);
    free(m->streams);
    free(m->pcols);
    free(m->override);
    free(m->nodes);
    free(m->user_start);
    free(m->users);
    free(m->step_order);
    free(m->order_step);
    stats_free(m->retired);
    pthread_mutex_destroy(&m->col_mu);
    pthread_mutex_destroy(&m->stats_mu);
    pthread_mutex_destroy(&m->err_mu);
    free(m->err_msg);
    free(m->err_set);
    ngt_schema_free(m->schema);
    free(m);
}

int menu_find_chain(const ngt_menu *m, const char *name)
{
    for (int i = 0; name && i < m->n_chains; i++)
        if (strcmp(m->chains[i].name, name) == 0)
            return i;
    return -1;
}

static int declare_chain(ngt_menu *m, const char *name, ngt_error *err)
{
    int rc = check_open(m, err);
    if (rc != NGT_OK)
        return rc;
    if (!name || !*name || strlen(name) >= NGT_NAME_MAX)
        return seterr(err, NGT_EINVAL, "bad chain name '%s'", name ? name : "(null)");
    if (menu_find_chain(m, name) >= 0)
        return seterr(err, NGT_EINVAL, "duplicate chain '%s'", name);
    if (m->n_chains == m->cap_chains) {
        int cap = m->cap_chains ? 2 * m->cap_chains : 16;
        chain *c = realloc(m->chains, sizeof *c * (size_t)cap);
        if (!c)
            return seterr(err, NGT_ENOMEM, "out of memory");
        m->chains = c;
        m->cap_chains = cap;
    }
    chain *c = &m->chains[m->n_chains];
    memset(c, 0, sizeof *c);
    str_copy(c->name, name, sizeof c->name);
    c->prescale_step = -1;
    return m->n_chains++;
}

static int copy_names(char ***dst, int *count, int n, const char *const *names, ngt_error *err)
{
    char **v = realloc(*dst, sizeof *v * (size_t)(*count + n + 1));
    if (!v)
        return seterr(err, NGT_ENOMEM, "out of memory");
    *dst = v;
    for (int i = 0; i < n; i++) {
        if (!names[i] || !(v[*count] = strdup(names[i])))
            return seterr(err, NGT_EINVAL, "bad chain name in a seed or veto list");
        (*count)++;
    }
    return NGT_OK;
}

static int declare_seed(ngt_menu *m, int chain, int n, const char *const *chains, ngt_error *err)
{
    int rc = check_chain(m, chain, err);
    if (rc != NGT_OK)
        return rc;
    if (m->chains[chain].n_items > 0)
        return seterr(err, NGT_EINVAL, "chain '%s': seeds come before its steps",
                      m->chains[chain].name);
    return copy_names(&m->chains[chain].seed_names, &m->chains[chain].n_seeds, n, chains, err);
}

static int declare_veto(ngt_menu *m, int chain, int n, const char *const *chains, ngt_error *err)
{
    int rc = check_chain(m, chain, err);
    if (rc != NGT_OK)
        return rc;
    return copy_names(&m->chains[chain].veto_names, &m->chains[chain].n_vetoes, n, chains, err);
}

/* Appends a zeroed step and returns its index (or a negative code). */
int menu_new_step(ngt_menu *m, step_kind kind, int chain_index, ngt_error *err)
{
    if (m->n_steps == m->cap_steps) {
        int cap = m->cap_steps ? 2 * m->cap_steps : 32;
        step *s = realloc(m->steps, sizeof *s * (size_t)cap);
        if (!s)
            return seterr(err, NGT_ENOMEM, "out of memory");
        m->steps = s;
        m->cap_steps = cap;
    }
    step *s = &m->steps[m->n_steps];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->chain = chain_index;
    s->model_slot = s->model_index = -1;
    return m->n_steps++;
}

/* Adds step si to the chain's item list. */
int menu_chain_append(ngt_menu *m, int ci, int si, ngt_error *err)
{
    chain *c = &m->chains[ci];
    int *v = realloc(c->items, sizeof *v * (size_t)(c->n_items + 1));
    if (!v)
        return seterr(err, NGT_ENOMEM, "out of memory");
    c->items = v;
    c->items[c->n_items++] = si;
    return NGT_OK;
}

static int declare_cut(ngt_menu *m, int ci, const char *expr, ngt_error *err)
{
    int rc = check_chain(m, ci, err);
    if (rc != NGT_OK)
        return rc;
    cut_program *cut = cut_compile(m->schema, expr ? expr : "", err);
    if (!cut)
        return preferr(err, NGT_EINVAL, "chain '%s'", m->chains[ci].name); /* names the cut */
    int si = menu_new_step(m, STEP_CUT, ci, err);
    if (si < 0) {
        cut_free(cut);
        return si;
    }
    step *s = &m->steps[si];
    s->cut = cut;
    s->cut_row = -1;
    snprintf(s->name, sizeof s->name, "%s:cut(%s)", m->chains[ci].name, expr);
    int nr = cut_columns(cut, NULL, 0);
    s->reads = malloc(sizeof *s->reads * (size_t)(nr + 1));
    if (!s->reads)
        return seterr(err, NGT_ENOMEM, "out of memory");
    s->n_reads = cut_columns(cut, s->reads, nr);
    return menu_chain_append(m, ci, si, err);
}

static int declare_prescale(ngt_menu *m, int ci, uint32_t n, ngt_error *err)
{
    int rc = check_chain(m, ci, err);
    if (rc != NGT_OK)
        return rc;
    int si = menu_new_step(m, STEP_PRESCALE, ci, err);
    if (si < 0)
        return si;
    step *s = &m->steps[si];
    s->factor = n;
    s->seed = fnv1a(m->chains[ci].name, strlen(m->chains[ci].name), fnv1a_basis());
    snprintf(s->name, sizeof s->name, "%s:prescale(%u)", m->chains[ci].name, n);
    if (m->chains[ci].prescale_step < 0)
        m->chains[ci].prescale_step = si;
    return menu_chain_append(m, ci, si, err);
}

/* ---- declarations: a failed one is remembered, and ngt_menu_build refuses the menu ---- */

int ngt_menu_chain(ngt_menu *m, const char *name, ngt_error *err)
{
    ngt_error own = {0};
    ngt_error *e = err ? err : &own;
    int rc = declare_chain(m, name, e);
    if (rc < 0)
        menu_declaration_failed(m, rc, e, "ngt_menu_chain('%s')", name ? name : "(null)");
    return rc;
}

int ngt_menu_seed(ngt_menu *m, int chain, int n, const char *const *chains, ngt_error *err)
{
    ngt_error own = {0};
    ngt_error *e = err ? err : &own;
    int rc = declare_seed(m, chain, n, chains, e);
    if (rc < 0)
        menu_declaration_failed(m, rc, e, "ngt_menu_seed(chain %d)", chain);
    return rc;
}

int ngt_menu_veto(ngt_menu *m, int chain, int n, const char *const *chains, ngt_error *err)
{
    ngt_error own = {0};
    ngt_error *e = err ? err : &own;
    int rc = declare_veto(m, chain, n, chains, e);
    if (rc < 0)
        menu_declaration_failed(m, rc, e, "ngt_menu_veto(chain %d)", chain);
    return rc;
}

int ngt_menu_cut(ngt_menu *m, int ci, const char *expr, ngt_error *err)
{
    ngt_error own = {0};
    ngt_error *e = err ? err : &own;
    int rc = declare_cut(m, ci, expr, e);
    if (rc < 0)
        menu_declaration_failed(m, rc, e, "ngt_menu_cut(chain %d, \"%s\")", ci,
                                expr ? expr : "(null)");
    return rc;
}

int ngt_menu_prescale(ngt_menu *m, int ci, uint32_t n, ngt_error *err)
{
    ngt_error own = {0};
    ngt_error *e = err ? err : &own;
    int rc = declare_prescale(m, ci, n, e);
    if (rc < 0)
        menu_declaration_failed(m, rc, e, "ngt_menu_prescale(chain %d, %u)", ci, n);
    return rc;
}
