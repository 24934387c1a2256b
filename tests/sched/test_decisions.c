/* test_decisions.c: the runner makes bitwise the same decisions as the synchronous path at 1 and 2
 * threads and batch sizes 1, 7 and 256, on a menu of cuts, a prescale and C steps. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { N_EVENTS = 3000, CH_PT20 = 0, CH_PRE3, CH_ETAPOS, CH_COMBO, N_CHAINS };

static float g_pt[N_EVENTS], g_eta[N_EVENTS];

/* Filter: keeps events with eta > *(float *)user. */
static int eta_above(void *user, ngt_step_io *io)
{
    float cut = *(const float *)user;
    const float *eta = ngt_batch_column_by_name(io->batch, "eta");
    for (int i = 0; i < io->n; i++)
        io->pass[i] = eta[io->sel[i]] > cut;
    return NGT_OK;
}

static float g_zero = 0.0f, g_minus1 = -1.0f;

static void add_c_step(ngt_menu *m, int chain, const char *name, float *cut)
{
    ngt_error err = {0};
    static const char *const reads[] = {"eta"};
    ngt_step_def d = {.name = name,
                      .fn = eta_above,
                      .user = cut,
                      .mode = NGT_STEP_SYNC,
                      .n_reads = 1,
                      .reads = reads};
    assert_int_equal(ngt_menu_step(m, chain, &d, &err), NGT_OK);
}

static ngt_menu *make_menu(void)
{
    ngt_error err = {0};
    ngt_schema *s = fx_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    ngt_schema_free(s);
    assert_non_null(m);
    const char *names[N_CHAINS] = {"Pt20", "Pre3", "EtaPos", "Combo"};
    for (int c = 0; c < N_CHAINS; c++)
        assert_int_equal(ngt_menu_chain(m, names[c], &err), c);
    assert_int_equal(ngt_menu_cut(m, CH_PT20, "pt > 20", &err), NGT_OK);
    assert_int_equal(ngt_menu_prescale(m, CH_PRE3, 3, &err), NGT_OK);
    add_c_step(m, CH_ETAPOS, "eta_pos", &g_zero);
    assert_int_equal(ngt_menu_cut(m, CH_COMBO, "pt > 10", &err), NGT_OK);
    assert_int_equal(ngt_menu_prescale(m, CH_COMBO, 2, &err), NGT_OK);
    add_c_step(m, CH_COMBO, "eta_gt_m1", &g_minus1);
    assert_int_equal(ngt_menu_stream(m, "all", N_CHAINS, names, &err), NGT_OK);
    int rc = ngt_menu_build(m, &err);
    if (rc != NGT_OK)
        fail_msg("menu build: %s", err.msg);
    return m;
}

/* The reference: ngt_menu_process on this thread, batches of 256. */
static void run_sync(fx_sink *out)
{
    ngt_error err = {0};
    ngt_menu *m = make_menu();
    fx_sink_init(out, m, N_EVENTS);
    ngt_ctx *c = ngt_ctx_new(m, 256, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 256, &err);
    assert_non_null(c);
    assert_non_null(b);
    for (int first = 0; first < N_EVENTS; first += 256) {
        int k = N_EVENTS - first < 256 ? N_EVENTS - first : 256;
        fx_fill(b, first, k, g_pt, g_eta, 0);
        assert_int_equal(ngt_menu_process(m, c, b, &err), NGT_OK);
        fx_sink_fn(out, b);
    }
    ngt_batch_free(b);
    ngt_ctx_free(c);
    fx_totals(m, N_EVENTS);
    ngt_menu_free(m);
}

static void run_threaded(fx_sink *out, int threads, int cap, int in_order)
{
    ngt_error err = {0};
    ngt_menu *m = make_menu();
    fx_sink_init(out, m, N_EVENTS);
    ngt_run_opts o = {.threads = threads,
                      .capacity = cap,
                      .in_order = in_order,
                      .sink = fx_sink_fn,
                      .sink_user = out};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    if (!r)
        fail_msg("runner: %s", err.msg);
    fx_feed(r, N_EVENTS, cap, g_pt, g_eta, 0);
    assert_int_equal(ngt_runner_drain(r), NGT_OK);
    ngt_runner_free(r);
    assert_int_equal(atomic_load(&out->events), N_EVENTS);
    assert_int_equal(atomic_load(&out->batches), (N_EVENTS + cap - 1) / cap);
    ngt_totals t = fx_totals(m, N_EVENTS);
    assert_int_equal(t.batches, (N_EVENTS + cap - 1) / cap);
    ngt_menu_free(m);
}

/* The reference itself is right: cuts and C steps match a direct computation, the prescales keep
 * about 1/N, and an event is accepted exactly when a chain accepted it. */
static void check_reference(const fx_sink *ref)
{
    int pre3 = 0, combo_ok = 0, combo = 0;
    for (int i = 0; i < N_EVENTS; i++) {
        assert_int_equal(fx_decision(ref, i, CH_PT20), g_pt[i] > 20.0f);
        assert_int_equal(fx_decision(ref, i, CH_ETAPOS), g_eta[i] > 0.0f);
        pre3 += fx_decision(ref, i, CH_PRE3);
        int eligible = g_pt[i] > 10.0f && g_eta[i] > -1.0f;
        combo_ok += eligible;
        combo += fx_decision(ref, i, CH_COMBO);
        if (!eligible)
            assert_int_equal(fx_decision(ref, i, CH_COMBO), 0);
        int any = ref->dec[i] != 0;
        assert_int_equal(ref->status[i], any ? NGT_EVENT_ACCEPTED : NGT_EVENT_REJECTED);
    }
    assert_in_range(pre3, 871, 1129); /* 1000 +- 5 sigma */
    assert_in_range(combo, combo_ok / 2 - 120, combo_ok / 2 + 120);
}

static void test_identical_decisions(void **state)
{
    (void)state;
    fx_events(N_EVENTS, g_pt, g_eta);
    fx_sink ref;
    run_sync(&ref);
    check_reference(&ref);
    const int threads[] = {1, 2}, caps[] = {1, 7, 256};
    for (int t = 0; t < 2; t++)
        for (int c = 0; c < 3; c++) {
            fx_sink got;
            run_threaded(&got, threads[t], caps[c], caps[c] == 7);
            size_t bytes = (size_t)N_EVENTS * (size_t)ref.words * sizeof *ref.dec;
            if (memcmp(got.dec, ref.dec, bytes) != 0)
                fail_msg("decisions differ at %d threads, batch size %d", threads[t], caps[c]);
            assert_memory_equal(got.status, ref.status, N_EVENTS);
            fx_sink_free(&got);
        }
    fx_sink_free(&ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_identical_decisions)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
