/* test_pool.c: an empty pool blocks acquire (back-pressure) rather than dropping or allocating,
 * every event is accounted for, and submit refuses batches the caller does not hold. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { POOL = 4, CAP = 16, ROUNDS = 40 };

static float g_pt[POOL * CAP * ROUNDS], g_eta[POOL * CAP * ROUNDS];

/* A sink that holds each batch until the test lets one more go. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long allowed;        /* batches the sink may let go in total */
    _Atomic long inside; /* batches currently held in the sink */
    _Atomic long passed;
    fx_sink rec;
} gate;

static void gate_sink(void *user, ngt_batch *b)
{
    gate *g = user;
    atomic_fetch_add(&g->inside, 1);
    pthread_mutex_lock(&g->mu);
    while (atomic_load(&g->passed) >= g->allowed)
        pthread_cond_wait(&g->cv, &g->mu);
    atomic_fetch_add(&g->passed, 1);
    pthread_mutex_unlock(&g->mu);
    fx_sink_fn(&g->rec, b);
    atomic_fetch_sub(&g->inside, 1);
}

static void gate_allow(gate *g, long more)
{
    pthread_mutex_lock(&g->mu);
    g->allowed += more;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

typedef struct acquirer {
    ngt_runner *r;
    ngt_batch *got;
    _Atomic int done;
} acquirer;

static void *acquire_main(void *arg)
{
    acquirer *a = arg;
    a->got = ngt_runner_acquire(a->r);
    atomic_store(&a->done, 1);
    return NULL;
}

static ngt_menu *make_menu(void)
{
    ngt_error err = {0};
    ngt_schema *s = fx_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    ngt_schema_free(s);
    assert_non_null(m);
    assert_int_equal(ngt_menu_chain(m, "Pt30", &err), 0);
    assert_int_equal(ngt_menu_cut(m, 0, "pt > 30", &err), NGT_OK);
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("menu build: %s", err.msg);
    return m;
}

static void test_exhausted_pool_blocks(void **state)
{
    (void)state;
    ngt_error err = {0};
    int n = POOL * CAP * ROUNDS;
    fx_events(n, g_pt, g_eta);
    ngt_menu *m = make_menu();
    gate g = {.allowed = 0};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    fx_sink_init(&g.rec, m, n);
    ngt_run_opts o = {
        .threads = 2, .batches = POOL, .capacity = CAP, .sink = gate_sink, .sink_user = &g};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);

    /* Take and submit the whole pool; the sink holds every batch. */
    for (int i = 0; i < POOL; i++) {
        ngt_batch *b = ngt_runner_try_acquire(r);
        assert_non_null(b);
        fx_fill(b, i * CAP, CAP, g_pt, g_eta, 0);
        assert_int_equal(ngt_runner_submit(r, b, &err), NGT_OK);
    }
    assert_null(ngt_runner_try_acquire(r));
    acquirer a = {.r = r};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, acquire_main, &a), 0);
    fx_sleep_ms(100);
    assert_int_equal(atomic_load(&a.done), 0); /* blocked, not served a new batch */
    assert_null(ngt_runner_try_acquire(r));
    gate_allow(&g, 1);
    pthread_join(t, NULL);
    assert_non_null(a.got);
    assert_int_equal(atomic_load(&g.passed), 1);

    /* The rest goes through a pool of POOL batches, the gate letting one out at a time. */
    fx_fill(a.got, POOL * CAP, CAP, g_pt, g_eta, 0);
    assert_int_equal(ngt_runner_submit(r, a.got, &err), NGT_OK);
    gate_allow(&g, (long)POOL * ROUNDS);
    fx_feed_from(r, (POOL + 1) * CAP, n, CAP, g_pt, g_eta, 0);
    assert_int_equal(ngt_runner_drain(r), NGT_OK);
    assert_int_equal(atomic_load(&g.rec.events), n);
    ngt_totals tot = fx_totals(m, (uint64_t)n);
    int above = 0;
    for (int i = 0; i < n; i++) {
        above += g_pt[i] > 30.0f;
        assert_int_equal(g.rec.status[i],
                         g_pt[i] > 30.0f ? NGT_EVENT_ACCEPTED : NGT_EVENT_REJECTED);
    }
    assert_int_equal(tot.accepted, above);
    assert_int_equal(tot.errored, 0);
    ngt_runner_free(r);
    fx_sink_free(&g.rec);
    ngt_menu_free(m);
}

static void test_submit_checks_ownership(void **state)
{
    (void)state;
    ngt_error err = {0};
    ngt_menu *m = make_menu();
    ngt_run_opts o = {.threads = 1, .batches = 2, .capacity = 8};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);
    ngt_batch *foreign = ngt_batch_new(ngt_menu_schema(m), 8, &err);
    assert_non_null(foreign);
    assert_int_equal(ngt_runner_submit(r, foreign, &err), NGT_EINVAL);
    assert_non_null(strstr(err.msg, "pool"));
    ngt_batch *b = ngt_runner_acquire(r);
    assert_non_null(b);
    ngt_runner_release(r, b);
    assert_int_equal(ngt_runner_submit(r, b, &err), NGT_ESTATE); /* released, not held */
    b = ngt_runner_acquire(r);
    ngt_batch *c = ngt_runner_acquire(r);
    assert_non_null(c);
    assert_null(ngt_runner_try_acquire(r)); /* both taken: the release above really returned */
    assert_int_equal(ngt_batch_set_count(b, 0, &err), NGT_OK);
    assert_int_equal(ngt_runner_submit(r, b, &err), NGT_OK);
    assert_int_equal(ngt_runner_submit(r, b, &err), NGT_ESTATE); /* twice */
    ngt_runner_release(r, c);
    ngt_runner_free(r);
    ngt_batch_free(foreign);
    ngt_menu_free(m);
}

static void test_bad_options(void **state)
{
    (void)state;
    ngt_error err = {0};
    ngt_menu *m = make_menu();
    ngt_run_opts o = {.threads = 100000};
    assert_null(ngt_runner_new(m, &o, &err));
    assert_int_equal(err.code, NGT_EINVAL);
    assert_non_null(strstr(err.msg, "threads"));
    assert_null(ngt_runner_new(NULL, &o, &err));
    assert_int_equal(err.code, NGT_EINVAL);
    ngt_menu_free(m);
}

/* free wakes a producer blocked in acquire: it gets NULL, and free waits for it to leave. */
static void test_free_wakes_blocked_acquire(void **state)
{
    (void)state;
    ngt_error err = {0};
    ngt_menu *m = make_menu();
    ngt_run_opts o = {.threads = 1, .batches = 1, .capacity = 8};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);
    ngt_batch *held = ngt_runner_acquire(r);
    assert_non_null(held);
    acquirer a = {.r = r};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, acquire_main, &a), 0);
    fx_sleep_ms(50);
    assert_int_equal(atomic_load(&a.done), 0);
    ngt_runner_free(r);
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&a.done), 1);
    assert_null(a.got);
    ngt_menu_free(m);
}

static void test_unbuilt_menu(void **state)
{
    (void)state;
    ngt_error err = {0};
    ngt_schema *s = fx_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    ngt_schema_free(s);
    assert_int_equal(ngt_menu_chain(m, "A", &err), 0);
    ngt_run_opts o = {.threads = 1, .batches = 2, .capacity = 8};
    err.code = 0;
    assert_null(ngt_runner_new(m, &o, &err));
    assert_int_not_equal(err.code, NGT_OK);
    assert_true(strlen(err.msg) > 0);
    ngt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exhausted_pool_blocks),
        cmocka_unit_test(test_submit_checks_ownership),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_free_wakes_blocked_acquire),
        cmocka_unit_test(test_unbuilt_menu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
