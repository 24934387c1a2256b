/* fixture.c: shared pieces of the scheduler tests (see fixture.h): schema, events, feeding a
 * runner, a sink filing decisions by event id, and the async completion queue. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

ngt_schema *fx_schema(void)
{
    ngt_error err = {0};
    ngt_schema *s = ngt_schema_new();
    assert_non_null(s);
    assert_true(ngt_schema_add(s, "pt", "f32", &err) >= 0);
    assert_true(ngt_schema_add(s, "eta", "f32", &err) >= 0);
    assert_true(ngt_schema_add_scalar(s, "tag", NGT_U32, &err) >= 0);
    return s;
}

void fx_events(int n, float *pt, float *eta)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        pt[i] = (float)((x >> 40) % 60000) / 1000.0f;
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        eta[i] = (float)((x >> 40) % 6000) / 1000.0f - 3.0f;
    }
}

void fx_fill(ngt_batch *b, int first, int n, const float *pt, const float *eta, uint32_t tag)
{
    ngt_error err = {0};
    assert_int_equal(ngt_batch_set_count(b, n, &err), NGT_OK);
    float *p = ngt_batch_column_by_name(b, "pt");
    float *e = ngt_batch_column_by_name(b, "eta");
    uint32_t *t = ngt_batch_column_by_name(b, "tag");
    uint64_t *ids = ngt_batch_event_ids(b);
    assert_non_null(p);
    assert_non_null(e);
    assert_non_null(t);
    *t = tag;
    for (int i = 0; i < n; i++) {
        p[i] = pt[first + i];
        e[i] = eta[first + i];
        ids[i] = (uint64_t)(first + i);
    }
}

void fx_feed(ngt_runner *r, int n, int cap, const float *pt, const float *eta, uint32_t tag)
{
    fx_feed_from(r, 0, n, cap, pt, eta, tag);
}

void fx_feed_from(ngt_runner *r, int from, int n, int cap, const float *pt, const float *eta,
                  uint32_t tag)
{
    ngt_error err = {0};
    for (int first = from; first < n; first += cap) {
        int k = n - first < cap ? n - first : cap;
        ngt_batch *b = ngt_runner_acquire(r);
        assert_non_null(b);
        fx_fill(b, first, k, pt, eta, tag);
        assert_int_equal(ngt_runner_submit(r, b, &err), NGT_OK);
    }
}

ngt_totals fx_totals(const ngt_menu *m, uint64_t n)
{
    ngt_stats *st = ngt_stats_new(m);
    assert_non_null(st);
    assert_int_equal(ngt_stats_read(m, st), NGT_OK);
    ngt_totals t = *ngt_stats_totals(st);
    ngt_stats_free(st);
    assert_int_equal(t.in, n);
    assert_int_equal(t.in, t.accepted + t.rejected + t.errored);
    return t;
}

void fx_sink_init(fx_sink *s, const ngt_menu *m, int n)
{
    memset(s, 0, sizeof *s);
    s->words = (ngt_menu_nchains(m) + 63) / 64;
    s->n = n;
    s->dec = calloc((size_t)n * (size_t)s->words, sizeof *s->dec);
    s->status = malloc((size_t)n);
    assert_non_null(s->dec);
    assert_non_null(s->status);
    memset(s->status, 0xff, (size_t)n);
}

void fx_sink_free(fx_sink *s)
{
    free(s->dec);
    free(s->status);
}

void fx_sink_fn(void *user, ngt_batch *b)
{
    fx_sink *s = user;
    const uint64_t *dec = ngt_batch_column_by_name(b, "ngt.decision");
    const uint8_t *status = ngt_batch_column_by_name(b, "ngt.status");
    const uint64_t *ids = ngt_batch_event_ids(b);
    int n = ngt_batch_count(b);
    for (int i = 0; dec && status && i < n; i++) {
        if (ids[i] >= (uint64_t)s->n)
            continue; /* not an event of this test's array: shows up in the counts */
        memcpy(&s->dec[ids[i] * (uint64_t)s->words], &dec[(size_t)i * (size_t)s->words],
               (size_t)s->words * sizeof *dec);
        s->status[ids[i]] = status[i];
    }
    atomic_fetch_add(&s->events, n);
    atomic_fetch_add(&s->batches, 1);
}

int fx_decision(const fx_sink *s, int event, int chain)
{
    return (int)((s->dec[(size_t)event * (size_t)s->words + (size_t)chain / 64] >> (chain % 64)) &
                 1);
}

void fx_queue_init(fx_queue *q, int cap)
{
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->items = calloc((size_t)cap, sizeof *q->items);
    assert_non_null(q->items);
    q->cap = cap;
}

void fx_queue_free(fx_queue *q)
{
    for (int i = 0; i < q->count; i++)
        free(q->items[(q->head + i) % q->cap].sel);
    free(q->items);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

int fx_queue_start(fx_queue *q, ngt_step_io *io, int op)
{
    fx_req r = {.b = io->batch, .n = io->n, .op = op};
    r.sel = malloc(((size_t)io->n + 1) * sizeof *r.sel);
    if (!r.sel)
        return -1;
    memcpy(r.sel, io->sel, (size_t)io->n * sizeof *r.sel);
    r.a = ngt_step_async(io);
    if (!r.a) {
        free(r.sel);
        return -1;
    }
    pthread_mutex_lock(&q->mu);
    if (q->count == q->cap) {
        pthread_mutex_unlock(&q->mu);
        free(r.sel);
        ngt_async_complete(r.a, NGT_ESTEP); /* the test's queue is too small: fail loudly */
        return -1;
    }
    q->items[(q->head + q->count) % q->cap] = r;
    q->count++;
    q->pushed++;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

static struct timespec fx_deadline(double s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ns = (long long)ts.tv_nsec + (long long)(s * 1e9);
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    return ts;
}

int fx_queue_pop(fx_queue *q, fx_req *out, double timeout_s)
{
    struct timespec ts = fx_deadline(timeout_s);
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->closed)
        if (pthread_cond_timedwait(&q->cv, &q->mu, &ts) != 0)
            break;
    int got = q->count > 0;
    if (got) {
        *out = q->items[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    pthread_mutex_unlock(&q->mu);
    return got;
}

void fx_queue_close(fx_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

long fx_queue_pushed(fx_queue *q)
{
    pthread_mutex_lock(&q->mu);
    long n = q->pushed;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void fx_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

long fx_wait_at_least(_Atomic long *v, long want, double timeout_s)
{
    for (int waited = 0; (double)waited < timeout_s * 1000.0; waited++) {
        long x = atomic_load(v);
        if (x >= want)
            return x;
        fx_sleep_ms(1);
    }
    return atomic_load(v);
}
