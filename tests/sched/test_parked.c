/* test_parked.c: 1,000 batches parked at once on 2 workers: the workers keep processing other
 * batches meanwhile (no worker waits on a parked batch), then all 1,000 resume in random order. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { SLOW = 1000, FAST = 100, CAP = 4, TAG_SLOW = 1 };
enum { N_EVENTS = (SLOW + FAST) * CAP };

static float g_pt[N_EVENTS], g_eta[N_EVENTS];
static ngt_async *g_handles[SLOW];
static _Atomic long g_parked, g_overflow, g_fast_seen, g_slow_seen, g_sunk;
static fx_sink g_rec;

/* Parks the slow batches; lets the fast ones through synchronously. */
static int maybe_park(void *user, ngt_step_io *io)
{
    (void)user;
    if (*(uint32_t *)ngt_batch_column_by_name(io->batch, "tag") != TAG_SLOW)
        return NGT_OK;
    ngt_async *a = ngt_step_async(io);
    long k = atomic_load(&g_parked);
    if (!a || k >= SLOW) {
        atomic_fetch_add(&g_overflow, 1);
        return NGT_ESTEP;
    }
    g_handles[k] = a; /* only workers park; the counter publishes the slot */
    atomic_store(&g_parked, k + 1);
    return NGT_PENDING;
}

static pthread_mutex_t g_park_mu = PTHREAD_MUTEX_INITIALIZER;

static int maybe_park_locked(void *user, ngt_step_io *io)
{
    pthread_mutex_lock(&g_park_mu); /* two workers park concurrently */
    int rc = maybe_park(user, io);
    pthread_mutex_unlock(&g_park_mu);
    return rc;
}

static void sink(void *user, ngt_batch *b)
{
    (void)user;
    int slow = *(uint32_t *)ngt_batch_column_by_name(b, "tag") == TAG_SLOW;
    atomic_fetch_add(slow ? &g_slow_seen : &g_fast_seen, 1);
    fx_sink_fn(&g_rec, b);
    atomic_fetch_add(&g_sunk, 1);
}

static void *complete_shuffled(void *arg)
{
    (void)arg;
    int order[SLOW];
    for (int i = 0; i < SLOW; i++)
        order[i] = i;
    uint64_t x = 777;
    for (int i = SLOW - 1; i > 0; i--) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int j = (int)((x >> 33) % (uint64_t)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    pthread_mutex_lock(&g_park_mu); /* pairs with the parking workers' writes */
    pthread_mutex_unlock(&g_park_mu);
    for (int i = 0; i < SLOW; i++)
        ngt_async_complete(g_handles[order[i]], NGT_OK);
    return NULL;
}

static void test_thousand_parked(void **state)
{
    (void)state;
    ngt_error err = {0};
    fx_events(N_EVENTS, g_pt, g_eta);
    ngt_schema *s = fx_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    ngt_schema_free(s);
    assert_int_equal(ngt_menu_chain(m, "Pt20", &err), 0);
    ngt_step_def d = {
        .name = "maybe_park", .fn = maybe_park_locked, .mode = NGT_STEP_ASYNC, .timeout_s = 120};
    assert_int_equal(ngt_menu_step(m, 0, &d, &err), NGT_OK);
    assert_int_equal(ngt_menu_cut(m, 0, "pt > 20", &err), NGT_OK);
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("menu build: %s", err.msg);
    fx_sink_init(&g_rec, m, N_EVENTS);
    ngt_run_opts o = {.threads = 2, .batches = SLOW + FAST, .capacity = CAP, .sink = sink};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);

    fx_feed_from(r, 0, SLOW * CAP, CAP, g_pt, g_eta, TAG_SLOW);
    assert_int_equal(fx_wait_at_least(&g_parked, SLOW, 60.0), SLOW);
    /* All 1,000 parked, none completed: the workers must still take and finish new batches. */
    fx_feed_from(r, SLOW * CAP, N_EVENTS, CAP, g_pt, g_eta, 0);
    assert_int_equal(fx_wait_at_least(&g_fast_seen, FAST, 60.0), FAST);
    assert_int_equal(atomic_load(&g_slow_seen), 0);

    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, complete_shuffled, NULL), 0);
    assert_int_equal(ngt_runner_drain(r), NGT_OK);
    pthread_join(t, NULL);
    ngt_runner_free(r);
    assert_int_equal(atomic_load(&g_slow_seen), SLOW);
    assert_int_equal(atomic_load(&g_overflow), 0);
    assert_int_equal(atomic_load(&g_sunk), SLOW + FAST);
    for (int i = 0; i < N_EVENTS; i++)
        assert_int_equal(g_rec.status[i],
                         g_pt[i] > 20.0f ? NGT_EVENT_ACCEPTED : NGT_EVENT_REJECTED);
    fx_totals(m, N_EVENTS);
    fx_sink_free(&g_rec);
    ngt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_thousand_parked)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
