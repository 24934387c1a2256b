/* test_drain.c: drain returns only when every submitted batch has left the sink, loses nothing,
 * and the runner keeps working after it; free drains what is still in flight. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { CAP = 50, N_EVENTS = 20000 };

static float g_pt[N_EVENTS], g_eta[N_EVENTS];
static _Atomic long g_sunk_events;

/* A step with some work, so batches are still in flight when drain is called. */
static int spin(void *user, ngt_step_io *io)
{
    (void)user;
    const float *pt = ngt_batch_column_by_name(io->batch, "pt");
    for (int i = 0; i < io->n; i++) {
        volatile float x = pt[io->sel[i]];
        for (int k = 0; k < 200; k++)
            x = x * 0.999f + 0.001f;
        io->pass[i] = x >= 0.0f;
    }
    return NGT_OK;
}

static void sink(void *user, ngt_batch *b)
{
    fx_sink_fn(user, b);
    atomic_fetch_add(&g_sunk_events, ngt_batch_count(b));
}

static ngt_menu *make_menu(void)
{
    ngt_error err = {0};
    ngt_schema *s = fx_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    ngt_schema_free(s);
    assert_int_equal(ngt_menu_chain(m, "Spin", &err), 0);
    static const char *const reads[] = {"pt"};
    ngt_step_def d = {.name = "spin", .fn = spin, .n_reads = 1, .reads = reads};
    assert_int_equal(ngt_menu_step(m, 0, &d, &err), NGT_OK);
    assert_int_equal(ngt_menu_cut(m, 0, "eta < 1", &err), NGT_OK);
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("menu build: %s", err.msg);
    return m;
}

static void test_drain_loses_nothing(void **state)
{
    (void)state;
    ngt_error err = {0};
    fx_events(N_EVENTS, g_pt, g_eta);
    ngt_menu *m = make_menu();
    fx_sink rec;
    fx_sink_init(&rec, m, N_EVENTS);
    ngt_run_opts o = {
        .threads = 2, .batches = 16, .capacity = CAP, .sink = sink, .sink_user = &rec};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);
    int half = N_EVENTS / 2;
    fx_feed_from(r, 0, half, CAP, g_pt, g_eta, 0);
    assert_int_equal(ngt_runner_drain(r), NGT_OK);
    assert_int_equal(atomic_load(&g_sunk_events), half); /* all of them, at return */
    fx_totals(m, (uint64_t)half);
    fx_feed_from(r, half, N_EVENTS, CAP, g_pt, g_eta, 0); /* works again after a drain */
    assert_int_equal(ngt_runner_drain(r), NGT_OK);
    assert_int_equal(atomic_load(&g_sunk_events), N_EVENTS);
    assert_int_equal(ngt_runner_drain(r), NGT_OK); /* nothing in flight: returns at once */
    ngt_runner_free(r);
    for (int i = 0; i < N_EVENTS; i++)
        assert_int_equal(rec.status[i], g_eta[i] < 1.0f ? NGT_EVENT_ACCEPTED : NGT_EVENT_REJECTED);
    fx_totals(m, N_EVENTS);
    fx_sink_free(&rec);
    ngt_menu_free(m);
}

static void test_free_drains(void **state)
{
    (void)state;
    ngt_error err = {0};
    atomic_store(&g_sunk_events, 0);
    ngt_menu *m = make_menu();
    fx_sink rec;
    fx_sink_init(&rec, m, N_EVENTS);
    ngt_run_opts o = {
        .threads = 2, .batches = 16, .capacity = CAP, .sink = sink, .sink_user = &rec};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);
    fx_feed(r, N_EVENTS, CAP, g_pt, g_eta, 0);
    ngt_runner_free(r); /* no drain first */
    assert_int_equal(atomic_load(&g_sunk_events), N_EVENTS);
    fx_totals(m, N_EVENTS);
    fx_sink_free(&rec);
    ngt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drain_loses_nothing),
        cmocka_unit_test(test_free_drains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
