/* stats.c: per-context counters (one writer each, relaxed atomics) and the snapshot API that sums
 * every live context of a menu plus those already freed. */
#include "internal.h"
#include "menu_int.h"

#include <sched.h>
#include <string.h>

struct ngt_stats {
    const ngt_menu *m;
    ctx_stats *sum, *tmp;
    ngt_totals totals;
    ngt_chain_stats *chains;
    ngt_step_stats *steps;
    ngt_stream_stats *streams;
    uint64_t column_since;
    char (*msgs)[NGT_ERR_MSG_MAX]; /* first error per step, then the input check's */
    uint64_t input_errors;
};

static size_t n_streams_all(const ngt_menu *m)
{
    return (size_t)m->n_streams + 1;
}

ctx_stats *stats_alloc(const ngt_menu *m)
{
    ctx_stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    size_t ns = n_streams_all(m);
    s->chain = calloc((size_t)m->n_chains * CH_FIELDS + 1, sizeof *s->chain);
    s->step = calloc((size_t)m->n_steps * ST_FIELDS + 1, sizeof *s->step);
    s->stream = calloc(ns, sizeof *s->stream);
    s->overlap = calloc(ns * ns, sizeof *s->overlap);
    if (!s->chain || !s->step || !s->stream || !s->overlap) {
        stats_free(s);
        return NULL;
    }
    return s;
}

void stats_free(ctx_stats *s)
{
    if (!s)
        return;
    free(s->chain);
    free(s->step);
    free(s->stream);
    free(s->overlap);
    free(s);
}

static void add_array(_Atomic uint64_t *dst, _Atomic uint64_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        stat_add(&dst[i], atomic_load_explicit(&src[i], memory_order_acquire));
}

void stats_add(const ngt_menu *m, ctx_stats *dst, const ctx_stats *src_c)
{
    ctx_stats *src = (ctx_stats *)src_c; /* loads only */
    size_t ns = n_streams_all(m);
    add_array(&dst->batches, &src->batches, 1);
    add_array(&dst->in, &src->in, 1);
    add_array(&dst->accepted, &src->accepted, 1);
    add_array(&dst->rejected, &src->rejected, 1);
    add_array(&dst->errored, &src->errored, 1);
    add_array(&dst->input_errors, &src->input_errors, 1);
    add_array(dst->chain, src->chain, (size_t)m->n_chains * CH_FIELDS);
    add_array(dst->step, src->step, (size_t)m->n_steps * ST_FIELDS);
    add_array(dst->stream, src->stream, ns);
    add_array(dst->overlap, src->overlap, ns * ns);
}

ngt_stats *ngt_stats_new(const ngt_menu *m)
{
    if (!m || !m->built)
        return NULL;
    ngt_stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->m = m;
    s->chains = calloc((size_t)m->n_chains + 1, sizeof *s->chains);
    s->steps = calloc((size_t)m->n_steps + 1, sizeof *s->steps);
    s->streams = calloc(n_streams_all(m), sizeof *s->streams);
    s->sum = stats_alloc(m);
    s->tmp = stats_alloc(m);
    s->msgs = calloc((size_t)m->n_order + 1, sizeof *s->msgs);
    if (!s->msgs || !s->chains || !s->steps || !s->streams || !s->sum || !s->tmp) {
        ngt_stats_free(s);
        return NULL;
    }
    return s;
}

void ngt_stats_free(ngt_stats *s)
{
    if (!s)
        return;
    free(s->chains);
    free(s->steps);
    free(s->streams);
    free(s->msgs);
    stats_free(s->sum);
    stats_free(s->tmp);
    free(s);
}

static uint64_t ld(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* Latency quantile from the histogram: the middle of the bucket holding it. */
static double quantile_us(_Atomic uint64_t *hist, double q)
{
    uint64_t total = 0, seen = 0;
    for (int b = 0; b < HIST_BINS; b++)
        total += ld(&hist[b]);
    if (!total)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total);
    for (int b = 0; b < HIST_BINS; b++) {
        seen += ld(&hist[b]);
        if (seen > want)
            return hist_value(b) / 1000.0;
    }
    return hist_value(HIST_BINS - 1) / 1000.0;
}

static void zero(ctx_stats *s, const ngt_menu *m)
{
    size_t ns = n_streams_all(m);
    atomic_store(&s->batches, 0);
    atomic_store(&s->in, 0);
    atomic_store(&s->accepted, 0);
    atomic_store(&s->rejected, 0);
    atomic_store(&s->errored, 0);
    atomic_store(&s->input_errors, 0);
    for (size_t i = 0; i < (size_t)m->n_chains * CH_FIELDS; i++)
        atomic_store(&s->chain[i], 0);
    for (size_t i = 0; i < (size_t)m->n_steps * ST_FIELDS; i++)
        atomic_store(&s->step[i], 0);
    for (size_t i = 0; i < ns; i++)
        atomic_store(&s->stream[i], 0);
    for (size_t i = 0; i < ns * ns; i++)
        atomic_store(&s->overlap[i], 0);
}

/* A consistent copy of a context's counters: retried while its thread is adding a batch. */
static void snapshot(const ngt_menu *m, ctx_stats *dst, ctx_stats *src)
{
    for (;;) {
        uint64_t before = atomic_load_explicit(&src->seq, memory_order_acquire);
        if (before & 1) {
            sched_yield();
            continue;
        }
        zero(dst, m);
        stats_add(m, dst, src); /* acquire loads: the check below comes after them */
        if (atomic_load_explicit(&src->seq, memory_order_relaxed) == before)
            return;
    }
}

int ngt_stats_read(const ngt_menu *mc, ngt_stats *s)
{
    if (!mc || !s || s->m != mc)
        return NGT_EINVAL;
    ngt_menu *m = (ngt_menu *)mc; /* the lock only */
    ctx_stats *t = s->sum;
    zero(t, m);
    pthread_mutex_lock(&m->stats_mu);
    for (ngt_ctx *c = m->contexts; c; c = c->next) {
        snapshot(m, s->tmp, c->stats);
        stats_add(m, t, s->tmp);
    }
    if (m->retired)
        stats_add(m, t, m->retired);
    pthread_mutex_unlock(&m->stats_mu);
    s->totals = (ngt_totals){ld(&t->batches), ld(&t->in), ld(&t->accepted), ld(&t->rejected),
                             ld(&t->errored)};
    for (int c = 0; c < m->n_chains; c++) {
        _Atomic uint64_t *v = &t->chain[c * CH_FIELDS];
        s->chains[c] =
            (ngt_chain_stats){ld(&v[CH_SEEN]),    ld(&v[CH_PASSED]), ld(&v[CH_PRESCALED]),
                              ld(&v[CH_ERRORED]), ld(&v[CH_UNIQUE]), ld(&v[CH_TIME])};
    }
    for (int i = 0; i < m->n_steps; i++) {
        _Atomic uint64_t *v = &t->step[(size_t)i * ST_FIELDS];
        s->steps[i] = (ngt_step_stats){ld(&v[ST_CALLS]),
                                       ld(&v[ST_IN]),
                                       ld(&v[ST_PASSED]),
                                       ld(&v[ST_ERRORS]),
                                       ld(&v[ST_TIMEOUTS]),
                                       ld(&v[ST_TIME]),
                                       quantile_us(&v[ST_HIST], 0.5),
                                       quantile_us(&v[ST_HIST], 0.99)};
    }
    for (size_t k = 0; k < n_streams_all(m); k++)
        s->streams[k].accepted = ld(&t->stream[k]);
    s->input_errors = ld(&t->input_errors);
    pthread_mutex_lock(&m->err_mu);
    for (int k = 0; k <= m->n_order; k++)
        memcpy(s->msgs[k], m->err_msg[k], sizeof s->msgs[k]);
    pthread_mutex_unlock(&m->err_mu);
    pthread_mutex_lock(&m->col_mu);
    s->column_since = m->applied_since;
    pthread_mutex_unlock(&m->col_mu);
    return NGT_OK;
}

const ngt_totals *ngt_stats_totals(const ngt_stats *s)
{
    return &s->totals;
}
const ngt_chain_stats *ngt_stats_chain(const ngt_stats *s, int c)
{
    return c >= 0 && c < s->m->n_chains ? &s->chains[c] : NULL;
}
const ngt_step_stats *ngt_stats_step(const ngt_stats *s, int i)
{
    return i >= 0 && i < s->m->n_steps ? &s->steps[i] : NULL;
}
const ngt_stream_stats *ngt_stats_stream(const ngt_stats *s, int k)
{
    return k >= 0 && (size_t)k < n_streams_all(s->m) ? &s->streams[k] : NULL;
}

uint64_t ngt_stats_overlap(const ngt_stats *s, int a, int b)
{
    int ns = (int)n_streams_all(s->m);
    if (a < 0 || b < 0 || a >= ns || b >= ns)
        return 0;
    if (a == b)
        return s->streams[a].accepted;
    if (a > b) {
        int t = a;
        a = b;
        b = t;
    }
    return ld(&s->sum->overlap[a * ns + b]);
}

uint64_t ngt_stats_column_since(const ngt_stats *s)
{
    return s->column_since;
}

/* ---- errors ------------------------------------------------------------------------------- */

const char *ngt_stats_step_error(const ngt_stats *s, int step, uint64_t *failed_calls)
{
    if (failed_calls)
        *failed_calls = 0;
    if (!s || step < 0 || step >= s->m->n_order)
        return NULL;
    if (failed_calls)
        *failed_calls = ld(&s->sum->step[(size_t)step * ST_FIELDS + ST_FAILS]);
    return s->msgs[step][0] ? s->msgs[step] : NULL;
}

const char *ngt_stats_input_error(const ngt_stats *s, uint64_t *events)
{
    if (events)
        *events = s ? s->input_errors : 0;
    if (!s)
        return NULL;
    const char *msg = s->msgs[s->m->n_order];
    return msg[0] ? msg : NULL;
}
