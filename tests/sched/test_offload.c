/* test_offload.c: offload steps run on the helper pool, never on a worker, their results reach
 * the later steps, and every batch comes back. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { CAP = 16, N_BATCHES = 300, N_EVENTS = CAP * N_BATCHES, MAX_TIDS = 16 };

static float g_pt[N_EVENTS], g_eta[N_EVENTS];

/* Threads seen running each kind of step. */
typedef struct tids {
    pthread_mutex_t mu;
    pthread_t t[MAX_TIDS];
    int n;
    long calls;
} tids;
static tids g_workers = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};
static tids g_helpers = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};

static void note(tids *s)
{
    pthread_t me = pthread_self();
    pthread_mutex_lock(&s->mu);
    int found = 0;
    for (int i = 0; i < s->n; i++)
        found |= pthread_equal(s->t[i], me);
    if (!found && s->n < MAX_TIDS)
        s->t[s->n++] = me;
    s->calls++;
    pthread_mutex_unlock(&s->mu);
}

static int square(void *user, ngt_step_io *io)
{
    (void)user;
    note(&g_helpers);
    const float *pt = ngt_batch_column_by_name(io->batch, "pt");
    float *sq = ngt_batch_column_by_name(io->batch, "sq");
    for (int i = 0; i < io->n; i++)
        sq[io->sel[i]] = pt[io->sel[i]] * pt[io->sel[i]];
    return NGT_OK;
}

static int on_worker(void *user, ngt_step_io *io)
{
    (void)user;
    (void)io;
    note(&g_workers);
    return NGT_OK;
}

static void test_offload_steps(void **state)
{
    (void)state;
    ngt_error err = {0};
    fx_events(N_EVENTS, g_pt, g_eta);
    ngt_schema *s = fx_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    ngt_schema_free(s);
    assert_int_equal(ngt_menu_chain(m, "Sq400", &err), 0);
    static const char *const reads[] = {"pt"}, *const writes[] = {"sq"}, *const types[] = {"f32"};
    ngt_step_def w = {.name = "on_worker", .fn = on_worker};
    ngt_step_def d = {.name = "square",
                      .fn = square,
                      .mode = NGT_STEP_OFFLOAD,
                      .timeout_s = 60,
                      .n_reads = 1,
                      .reads = reads,
                      .n_writes = 1,
                      .writes = writes,
                      .write_types = types};
    assert_int_equal(ngt_menu_step(m, 0, &w, &err), NGT_OK);
    assert_int_equal(ngt_menu_step(m, 0, &d, &err), NGT_OK);
    assert_int_equal(ngt_menu_cut(m, 0, "sq > 400", &err), NGT_OK);
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("menu build: %s", err.msg);
    fx_sink rec;
    fx_sink_init(&rec, m, N_EVENTS);
    ngt_run_opts o = {.threads = 2,
                      .batches = 12,
                      .capacity = CAP,
                      .offload_threads = 2,
                      .sink = fx_sink_fn,
                      .sink_user = &rec};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);
    fx_feed(r, N_EVENTS, CAP, g_pt, g_eta, 0);
    assert_int_equal(ngt_runner_drain(r), NGT_OK);
    ngt_runner_free(r);

    assert_int_equal(g_helpers.calls, N_BATCHES);
    assert_int_equal(g_workers.calls, N_BATCHES);
    assert_in_range(g_helpers.n, 1, 2);
    assert_in_range(g_workers.n, 1, 2);
    for (int i = 0; i < g_helpers.n; i++)
        for (int k = 0; k < g_workers.n; k++)
            assert_false(pthread_equal(g_helpers.t[i], g_workers.t[k]));
    for (int i = 0; i < N_EVENTS; i++)
        assert_int_equal(rec.status[i],
                         g_pt[i] * g_pt[i] > 400.0f ? NGT_EVENT_ACCEPTED : NGT_EVENT_REJECTED);
    fx_totals(m, N_EVENTS);
    fx_sink_free(&rec);
    ngt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_offload_steps)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
