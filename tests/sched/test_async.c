/* test_async.c: asynchronous steps through the runner: completions from another thread resume the
 * batch with the step's results, failed completions error the events, when_all waits for every
 * operation (completed in random order), and a completion that never comes times out. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { CAP = 32, N_BATCHES = 120, N_EVENTS = CAP * N_BATCHES, N_OPS = 5, TAG_FAIL = 1 };

static float g_pt[N_EVENTS], g_eta[N_EVENTS];
static fx_queue g_q;

static ngt_menu *new_menu(void)
{
    ngt_error err = {0};
    ngt_schema *s = fx_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    ngt_schema_free(s);
    assert_non_null(m);
    return m;
}

static void build(ngt_menu *m)
{
    ngt_error err = {0};
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("menu build: %s", err.msg);
}

static ngt_runner *start(ngt_menu *m, int batches, fx_sink *rec)
{
    ngt_error err = {0};
    ngt_run_opts o = {
        .threads = 2, .batches = batches, .capacity = CAP, .sink = fx_sink_fn, .sink_user = rec};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    if (!r)
        fail_msg("runner: %s", err.msg);
    return r;
}

/* ---- one operation per step: results written by the completing thread ---- */

static int twice_start(void *user, ngt_step_io *io)
{
    (void)user;
    return fx_queue_start(&g_q, io, 0) == 0 ? NGT_PENDING : NGT_ESTEP;
}

/* Writes twice = 2 pt for the request's events and completes it (failing tagged batches). */
static void *twice_completer(void *arg)
{
    (void)arg;
    fx_req q;
    while (fx_queue_pop(&g_q, &q, 5.0)) {
        const float *pt = ngt_batch_column_by_name(q.b, "pt");
        float *twice = ngt_batch_column_by_name(q.b, "twice");
        int fail = *(uint32_t *)ngt_batch_column_by_name(q.b, "tag") == TAG_FAIL;
        for (int i = 0; i < q.n; i++)
            twice[q.sel[i]] = 2.0f * pt[q.sel[i]];
        free(q.sel);
        ngt_async_complete(q.a, fail ? NGT_ESTEP : NGT_OK);
    }
    return NULL;
}

static void test_async_resumes(void **state)
{
    (void)state;
    ngt_error err = {0};
    fx_events(N_EVENTS, g_pt, g_eta);
    fx_queue_init(&g_q, N_BATCHES * N_OPS);
    ngt_menu *m = new_menu();
    assert_int_equal(ngt_menu_chain(m, "Twice40", &err), 0);
    static const char *const reads[] = {"pt"}, *const writes[] = {"twice"},
                             *const types[] = {"f32"};
    ngt_step_def d = {.name = "twice",
                      .fn = twice_start,
                      .mode = NGT_STEP_ASYNC,
                      .timeout_s = 60,
                      .n_reads = 1,
                      .reads = reads,
                      .n_writes = 1,
                      .writes = writes,
                      .write_types = types};
    assert_int_equal(ngt_menu_step(m, 0, &d, &err), NGT_OK);
    assert_int_equal(ngt_menu_cut(m, 0, "twice > 40", &err), NGT_OK);
    build(m);
    fx_sink rec;
    fx_sink_init(&rec, m, N_EVENTS);
    ngt_runner *r = start(m, 8, &rec);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, twice_completer, NULL), 0);
    int half = N_EVENTS / 2; /* the second half is tagged to fail */
    fx_feed_from(r, 0, half, CAP, g_pt, g_eta, 0);
    fx_feed_from(r, half, N_EVENTS, CAP, g_pt, g_eta, TAG_FAIL);
    assert_int_equal(ngt_runner_drain(r), NGT_OK);
    fx_queue_close(&g_q);
    pthread_join(t, NULL);
    ngt_runner_free(r);
    int accepted = 0;
    for (int i = 0; i < N_EVENTS; i++) {
        int want = i >= half         ? NGT_EVENT_ERRORED
                   : g_pt[i] > 20.0f ? NGT_EVENT_ACCEPTED
                                     : NGT_EVENT_REJECTED;
        assert_int_equal(rec.status[i], want);
        accepted += want == NGT_EVENT_ACCEPTED;
    }
    ngt_totals tot = fx_totals(m, N_EVENTS);
    assert_int_equal(tot.accepted, accepted);
    assert_int_equal(tot.errored, N_EVENTS - half);
    fx_sink_free(&rec);
    fx_queue_free(&g_q);
    ngt_menu_free(m);
}

/* ---- when_all: N_OPS operations per batch, completed in random order ---- */

static _Atomic long g_early, g_checked;

/* Starts N_OPS operations; operation k writes parts[k] = (k + 1) pt. */
static int parts_start(void *user, ngt_step_io *io)
{
    (void)user;
    float *done = ngt_batch_column_by_name(io->batch, "ops_done");
    for (int i = 0; i < io->n; i++)
        done[io->sel[i]] = 0;
    for (int k = 0; k < N_OPS; k++)
        if (fx_queue_start(&g_q, io, k) != 0)
            return NGT_ESTEP;
    return NGT_PENDING;
}

/* After the when_all: every part must be there and every operation completed. */
static int parts_check(void *user, ngt_step_io *io)
{
    (void)user;
    const float *pt = ngt_batch_column_by_name(io->batch, "pt");
    const float *parts = ngt_batch_column_by_name(io->batch, "parts");
    const float *done = ngt_batch_column_by_name(io->batch, "ops_done");
    for (int i = 0; i < io->n; i++) {
        uint32_t e = io->sel[i];
        int ok = done[e] == (float)N_OPS;
        for (int k = 0; k < N_OPS; k++)
            ok = ok && parts[e * N_OPS + (uint32_t)k] == (float)(k + 1) * pt[e];
        if (!ok)
            atomic_fetch_add(&g_early, 1);
        atomic_fetch_add(&g_checked, 1);
    }
    return NGT_OK;
}

static void complete_part(fx_req *q)
{
    const float *pt = ngt_batch_column_by_name(q->b, "pt");
    float *parts = ngt_batch_column_by_name(q->b, "parts");
    float *done = ngt_batch_column_by_name(q->b, "ops_done");
    for (int i = 0; i < q->n; i++) {
        uint32_t e = q->sel[i];
        parts[e * N_OPS + (uint32_t)q->op] = (float)(q->op + 1) * pt[e];
        done[e] += 1.0f;
    }
    free(q->sel);
    ngt_async_complete(q->a, NGT_OK);
}

/* Collects requests until one batch has all N_OPS, then completes those in a shuffled order,
 * pausing before the last so that an early resume would find a part missing. */
static void *parts_completer(void *arg)
{
    (void)arg;
    fx_req held[64];
    int n_held = 0;
    uint64_t x = 12345;
    for (;;) {
        if (n_held == 64 || !fx_queue_pop(&g_q, &held[n_held], 5.0))
            break;
        n_held++;
        ngt_batch *b = held[n_held - 1].b;
        int idx[N_OPS], k = 0;
        for (int i = 0; i < n_held && k < N_OPS; i++)
            if (held[i].b == b)
                idx[k++] = i;
        if (k < N_OPS)
            continue;
        for (int i = N_OPS - 1; i > 0; i--) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            int j = (int)((x >> 33) % (uint64_t)(i + 1)), tmp = idx[i];
            idx[i] = idx[j];
            idx[j] = tmp;
        }
        for (int i = 0; i < N_OPS; i++) {
            if (i == N_OPS - 1)
                fx_sleep_ms(1);
            complete_part(&held[idx[i]]);
            held[idx[i]].b = NULL;
        }
        int w = 0;
        for (int i = 0; i < n_held; i++)
            if (held[i].b)
                held[w++] = held[i];
        n_held = w;
    }
    return NULL;
}

static void test_when_all(void **state)
{
    (void)state;
    ngt_error err = {0};
    int n = 40 * CAP;
    fx_events(n, g_pt, g_eta);
    fx_queue_init(&g_q, 64);
    ngt_menu *m = new_menu();
    assert_int_equal(ngt_menu_chain(m, "Parts", &err), 0);
    static const char *const reads[] = {"pt"}, *const writes[] = {"parts", "ops_done"},
                             *const types[] = {"f32[5]", "f32"},
                             *const check_reads[] = {"parts", "ops_done", "pt"};
    ngt_step_def d = {.name = "parts",
                      .fn = parts_start,
                      .mode = NGT_STEP_ASYNC,
                      .timeout_s = 60,
                      .n_reads = 1,
                      .reads = reads,
                      .n_writes = 2,
                      .writes = writes,
                      .write_types = types};
    ngt_step_def c = {.name = "check", .fn = parts_check, .n_reads = 3, .reads = check_reads};
    assert_int_equal(ngt_menu_step(m, 0, &d, &err), NGT_OK);
    assert_int_equal(ngt_menu_step(m, 0, &c, &err), NGT_OK);
    build(m);
    fx_sink rec;
    fx_sink_init(&rec, m, n);
    ngt_runner *r = start(m, 6, &rec);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, parts_completer, NULL), 0);
    fx_feed(r, n, CAP, g_pt, g_eta, 0);
    assert_int_equal(ngt_runner_drain(r), NGT_OK);
    fx_queue_close(&g_q);
    pthread_join(t, NULL);
    ngt_runner_free(r);
    assert_int_equal(atomic_load(&g_checked), n);
    assert_int_equal(atomic_load(&g_early), 0);
    ngt_totals tot = fx_totals(m, (uint64_t)n);
    assert_int_equal(tot.accepted, n);
    fx_sink_free(&rec);
    fx_queue_free(&g_q);
    ngt_menu_free(m);
}

/* ---- a completion that never comes ---- */

static _Atomic long g_abandoned;

static int never(void *user, ngt_step_io *io)
{
    (void)user;
    if (!ngt_step_async(io))
        return NGT_ESTEP;
    atomic_fetch_add(&g_abandoned, 1);
    return NGT_PENDING;
}

static void test_timeout(void **state)
{
    (void)state;
    ngt_error err = {0};
    int n = 12 * CAP;
    fx_events(n, g_pt, g_eta);
    ngt_menu *m = new_menu();
    assert_int_equal(ngt_menu_chain(m, "Never", &err), 0);
    assert_int_equal(ngt_menu_chain(m, "Pt20", &err), 1);
    ngt_step_def d = {.name = "never", .fn = never, .mode = NGT_STEP_ASYNC, .timeout_s = 0.05};
    assert_int_equal(ngt_menu_step(m, 0, &d, &err), NGT_OK);
    assert_int_equal(ngt_menu_cut(m, 1, "pt > 20", &err), NGT_OK);
    build(m);
    fx_sink rec;
    fx_sink_init(&rec, m, n);
    ngt_runner *r = start(m, 4, &rec);
    fx_feed(r, n, CAP, g_pt, g_eta, 0);
    assert_int_equal(ngt_runner_drain(r), NGT_OK); /* finishes although nothing completes */
    ngt_runner_free(r);
    assert_int_equal(atomic_load(&g_abandoned), 12);
    int errored = 0;
    for (int i = 0; i < n; i++) {
        int want = g_pt[i] > 20.0f ? NGT_EVENT_ACCEPTED : NGT_EVENT_ERRORED;
        assert_int_equal(rec.status[i], want);
        assert_int_equal(fx_decision(&rec, i, 0), 0);
        errored += want == NGT_EVENT_ERRORED;
    }
    ngt_stats *st = ngt_stats_new(m);
    assert_int_equal(ngt_stats_read(m, st), NGT_OK);
    assert_int_equal(ngt_stats_totals(st)->errored, errored);
    assert_int_equal(ngt_stats_chain(st, 0)->errored, n);
    uint64_t timeouts = 0;
    for (int k = 0; k < ngt_menu_nsteps(m); k++)
        if (strstr(ngt_menu_step_name(m, k), "never"))
            timeouts += ngt_stats_step(st, k)->timeouts;
    assert_int_equal(timeouts, 12);
    ngt_stats_free(st);
    fx_totals(m, (uint64_t)n);
    fx_sink_free(&rec);
    ngt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_async_resumes),
        cmocka_unit_test(test_when_all),
        cmocka_unit_test(test_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
