/* prescale.c: deterministic prescales and prescale columns. An event is kept by a prescale of N
 * when splitmix64(key ^ seed) % N == 0, key being the event's identity (docs/prescale.md), seed the
 * FNV-1a 64 of the chain name: the same events are kept at any thread count or batch size. */
#include "internal.h"
#include "menu_int.h"

#include <string.h>

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

int prescale_keep(uint64_t key, uint64_t seed, uint32_t n)
{
    if (n == 0)
        return 0;
    return n == 1 || splitmix64(key ^ seed) % n == 0;
}

/* keep[e] = live[e] && prescale_keep(keys[e], seed, n) for e < count, without a division: for n =
 * 2^k d (d odd), h % n == 0 exactly when rotr(h * d^-1 mod 2^64, k) <= (2^64 - 1) / n (Granlund
 * and Montgomery). Returns the events kept. */
int prescale_mask(const uint64_t *keys, uint64_t seed, uint32_t n, const uint8_t *live,
                  uint8_t *keep, int count)
{
    int kept = 0;
    if (n <= 1) {
        for (int e = 0; e < count; e++)
            kept += keep[e] = (uint8_t)(n == 1 && live[e]);
        return kept;
    }
    int k = __builtin_ctz(n);
    uint64_t d = n >> k, inv = d; /* Newton: each step doubles the correct low bits (3 -> 96) */
    for (int i = 0; i < 5; i++)
        inv *= 2 - d * inv;
    uint64_t limit = UINT64_MAX / n;
    for (int e = 0; e < count; e++) {
        uint64_t q = splitmix64(keys[e] ^ seed) * inv;
        q = k ? (q >> k) | (q << (64 - k)) : q;
        keep[e] = (uint8_t)(live[e] != 0 && q <= limit);
        kept += keep[e];
    }
    return kept;
}

static int declare_prescale_column(ngt_menu *m, const char *column, int n,
                                   const char *const *chains, const uint32_t *factors,
                                   ngt_error *err)
{
    if (!m || m->built)
        return seterr(err, NGT_ESTATE, "prescale columns are declared before the menu is built");
    if (!column || !*column || strlen(column) >= NGT_NAME_MAX)
        return seterr(err, NGT_EINVAL, "bad prescale column name '%s'", column ? column : "(null)");
    for (int i = 0; i < m->n_pcols; i++)
        if (strcmp(m->pcols[i].name, column) == 0)
            return seterr(err, NGT_EINVAL, "duplicate prescale column '%s'", column);
    uint32_t *f = malloc(sizeof *f * (size_t)(m->n_chains + 1));
    if (!f)
        return seterr(err, NGT_ENOMEM, "out of memory");
    for (int c = 0; c < m->n_chains; c++)
        f[c] = UINT32_MAX;
    for (int i = 0; i < n; i++) {
        int c = menu_find_chain(m, chains[i]);
        if (c < 0 || m->chains[c].prescale_step < 0) {
            free(f);
            return seterr(err, NGT_EINVAL, "prescale column '%s': %s '%s'", column,
                          c < 0 ? "unknown chain" : "no prescale step in chain",
                          chains[i] ? chains[i] : "(null)");
        }
        f[c] = factors[i];
    }
    pcolumn *v = realloc(m->pcols, sizeof *v * (size_t)(m->n_pcols + 1));
    if (!v) {
        free(f);
        return seterr(err, NGT_ENOMEM, "out of memory");
    }
    m->pcols = v;
    str_copy(v[m->n_pcols].name, column, NGT_NAME_MAX);
    v[m->n_pcols].factors = f;
    return m->n_pcols++;
}

int ngt_menu_select_column(ngt_menu *m, const char *column, ngt_error *err)
{
    if (!m || !column)
        return seterr(err, NGT_EINVAL, "select column: no menu or name");
    int k = -1;
    for (int i = 0; i < m->n_pcols && k < 0; i++)
        if (strcmp(m->pcols[i].name, column) == 0)
            k = i;
    if (k < 0 && *column)
        return seterr(err, NGT_EINVAL, "unknown prescale column '%s'", column);
    pthread_mutex_lock(&m->col_mu);
    for (int c = 0; m->override && c < m->n_chains; c++)
        m->override[c] = UINT32_MAX;
    atomic_store(&m->requested_col, k);
    pthread_mutex_unlock(&m->col_mu);
    return NGT_OK;
}

const char *ngt_menu_current_column(const ngt_menu *mc)
{
    ngt_menu *m = (ngt_menu *)mc; /* the lock only */
    pthread_mutex_lock(&m->col_mu);
    int k = m->applied_col;
    pthread_mutex_unlock(&m->col_mu);
    return k >= 0 ? m->pcols[k].name : "";
}

/* The lumi section of a batch, when the schema has one as a batch scalar. */
static int64_t batch_lumi(const ngt_menu *m, ngt_batch *b)
{
    if (m->lumi_col < 0)
        return INT64_MIN;
    const ngt_column_info *c = ngt_schema_column(m->schema, m->lumi_col);
    return read_int(ngt_batch_column(b, m->lumi_col), c->dtype);
}

int menu_column_for_batch(ngt_menu *m, ngt_batch *b, uint32_t *factors)
{
    int64_t lumi = batch_lumi(m, b);
    pthread_mutex_lock(&m->col_mu);
    m->batches_started++;
    int want = atomic_load(&m->requested_col);
    int boundary = m->lumi_col < 0 || lumi != m->last_lumi;
    if (want != m->applied_col && boundary) {
        m->applied_col = want;
        m->applied_since = m->batches_started;
    }
    m->last_lumi = lumi;
    int k = m->applied_col;
    memcpy(factors, m->override, sizeof *factors * (size_t)m->n_chains);
    pthread_mutex_unlock(&m->col_mu);
    return k;
}

int ngt_menu_set_prescale(ngt_menu *m, int chain, uint32_t n, ngt_error *err)
{
    if (!m || !m->built)
        return seterr(err, NGT_ESTATE, "set prescale: the menu is not built");
    if (chain < 0 || chain >= m->n_chains)
        return seterr(err, NGT_EINVAL, "set prescale: no chain %d", chain);
    if (m->chains[chain].prescale_step < 0)
        return seterr(err, NGT_EINVAL, "chain '%s' has no prescale step", m->chains[chain].name);
    pthread_mutex_lock(&m->col_mu);
    m->override[chain] = n;
    pthread_mutex_unlock(&m->col_mu);
    return NGT_OK;
}

uint32_t ngt_menu_chain_prescale(const ngt_menu *mc, int chain)
{
    ngt_menu *m = (ngt_menu *)mc; /* the lock only */
    if (!m || !m->built || chain < 0 || chain >= m->n_chains || m->chains[chain].prescale_step < 0)
        return 0;
    pthread_mutex_lock(&m->col_mu);
    uint32_t f = m->override[chain];
    int k = atomic_load(&m->requested_col);
    pthread_mutex_unlock(&m->col_mu);
    if (f != UINT32_MAX)
        return f;
    if (k >= 0 && m->pcols[k].factors[chain] != UINT32_MAX)
        return m->pcols[k].factors[chain];
    return m->steps[m->chains[chain].prescale_step].factor;
}

/* ---- declarations: a failed one is remembered, and ngt_menu_build refuses the menu ---- */

int ngt_menu_prescale_column(ngt_menu *m, const char *column, int n, const char *const *chains,
                             const uint32_t *factors, ngt_error *err)
{
    ngt_error own = {0};
    ngt_error *e = err ? err : &own;
    int rc = declare_prescale_column(m, column, n, chains, factors, e);
    if (rc < 0)
        menu_declaration_failed(m, rc, e, "ngt_menu_prescale_column('%s')",
                                column ? column : "(null)");
    return rc;
}
