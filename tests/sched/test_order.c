/* test_order.c: with in_order set, the sink sees batches in submission order, one at a time, even
 * when they finish in a different order (an async step completes them in reverse groups). */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { CAP = 4, GROUP = 8, N_BATCHES = 400, N_EVENTS = CAP * N_BATCHES };

static float g_pt[N_EVENTS], g_eta[N_EVENTS];
static fx_queue g_q;

static _Atomic long g_inside, g_overlaps, g_out_of_order, g_delivered, g_finished_inversions;
static _Atomic long g_last_first = -CAP, g_last_finished = -1;
static fx_sink g_rec;

static int park(void *user, ngt_step_io *io)
{
    (void)user;
    return fx_queue_start(&g_q, io, 0) == 0 ? NGT_PENDING : NGT_ESTEP;
}

/* Runs after the async step: records the order in which batches finish processing. */
static int after(void *user, ngt_step_io *io)
{
    (void)user;
    long first = (long)ngt_batch_event_ids(io->batch)[0];
    long prev = atomic_exchange(&g_last_finished, first);
    if (first < prev)
        atomic_fetch_add(&g_finished_inversions, 1);
    return NGT_OK;
}

static void sink(void *user, ngt_batch *b)
{
    (void)user;
    if (atomic_fetch_add(&g_inside, 1) != 0)
        atomic_fetch_add(&g_overlaps, 1);
    long first = (long)ngt_batch_event_ids(b)[0];
    long prev = atomic_exchange(&g_last_first, first);
    if (first != prev + CAP)
        atomic_fetch_add(&g_out_of_order, 1);
    fx_sink_fn(&g_rec, b);
    atomic_fetch_add(&g_delivered, 1);
    atomic_fetch_sub(&g_inside, 1);
}

/* Completes the parked batches up to GROUP at a time, last first. A group is completed early when
 * no batch parks for 50 ms: with in-order delivery the batches waiting in the reorder buffer hold
 * pool slots, so a full group may never park (a batch parked late holds back all later ones). */
static void *completer(void *arg)
{
    (void)arg;
    fx_req reqs[GROUP];
    int done = 0, idle_ms = 0;
    while (done < N_BATCHES && idle_ms < 30000) {
        int k = 0;
        while (k < GROUP && fx_queue_pop(&g_q, &reqs[k], 0.05))
            k++;
        idle_ms = k ? 0 : idle_ms + 50;
        for (int i = k - 1; i >= 0; i--) {
            free(reqs[i].sel);
            ngt_async_complete(reqs[i].a, NGT_OK);
        }
        done += k;
    }
    return NULL; /* after 30 s without a parked batch the test sees the missing ones */
}

static ngt_menu *make_menu(void)
{
    ngt_error err = {0};
    ngt_schema *s = fx_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    ngt_schema_free(s);
    assert_non_null(m);
    assert_int_equal(ngt_menu_chain(m, "Parked", &err), 0);
    ngt_step_def p = {.name = "park", .fn = park, .mode = NGT_STEP_ASYNC, .timeout_s = 60};
    ngt_step_def a = {.name = "after", .fn = after, .mode = NGT_STEP_SYNC};
    assert_int_equal(ngt_menu_step(m, 0, &p, &err), NGT_OK);
    assert_int_equal(ngt_menu_step(m, 0, &a, &err), NGT_OK);
    assert_int_equal(ngt_menu_cut(m, 0, "pt > 25", &err), NGT_OK);
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("menu build: %s", err.msg);
    return m;
}

static void test_in_order_delivery(void **state)
{
    (void)state;
    ngt_error err = {0};
    fx_events(N_EVENTS, g_pt, g_eta);
    fx_queue_init(&g_q, N_BATCHES);
    ngt_menu *m = make_menu();
    fx_sink_init(&g_rec, m, N_EVENTS);
    ngt_run_opts o = {
        .threads = 2, .batches = 2 * GROUP, .capacity = CAP, .in_order = 1, .sink = sink};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, completer, NULL), 0);
    fx_feed(r, N_EVENTS, CAP, g_pt, g_eta, 0);
    assert_int_equal(ngt_runner_drain(r), NGT_OK);
    pthread_join(t, NULL);
    ngt_runner_free(r);
    assert_int_equal(atomic_load(&g_delivered), N_BATCHES);
    assert_true(atomic_load(&g_finished_inversions) > 0); /* they did finish out of order */
    assert_int_equal(atomic_load(&g_out_of_order), 0);
    assert_int_equal(atomic_load(&g_overlaps), 0);
    for (int i = 0; i < N_EVENTS; i++)
        assert_int_equal(g_rec.status[i],
                         g_pt[i] > 25.0f ? NGT_EVENT_ACCEPTED : NGT_EVENT_REJECTED);
    fx_totals(m, N_EVENTS);
    fx_sink_free(&g_rec);
    fx_queue_free(&g_q);
    ngt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_in_order_delivery)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
