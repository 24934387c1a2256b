/* test_snapshot.c: two menus in one process run at once on their own runners while another
 * thread keeps reading both menus' statistics; the snapshots only grow, add up at every read,
 * and each menu's decisions equal those it gives alone. No shared state between menus. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { N = 40000, CAP = 128 };

static float g_pt[N], g_eta[N];

static ngt_menu *make_menu(const char *cut)
{
    ngt_error err = {0};
    ngt_schema *s = fx_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    ngt_schema_free(s);
    assert_non_null(m);
    assert_int_equal(ngt_menu_chain(m, "Cut", &err), 0);
    assert_int_equal(ngt_menu_cut(m, 0, cut, &err), NGT_OK);
    assert_int_equal(ngt_menu_chain(m, "Pre", &err), 1);
    assert_int_equal(ngt_menu_prescale(m, 1, 5, &err), NGT_OK);
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("menu build: %s", err.msg);
    return m;
}

typedef struct reader {
    ngt_menu *m[2];
    _Atomic int stop;
    long reads, bad;
} reader;

/* Reads both menus' statistics until told to stop: totals never shrink and always add up. */
static void *read_loop(void *arg)
{
    reader *r = arg;
    ngt_stats *st[2] = {ngt_stats_new(r->m[0]), ngt_stats_new(r->m[1])};
    uint64_t last[2] = {0, 0};
    while (!atomic_load(&r->stop)) {
        for (int k = 0; k < 2; k++) {
            ngt_stats_read(r->m[k], st[k]);
            const ngt_totals *t = ngt_stats_totals(st[k]);
            if (t->in < last[k] || t->in != t->accepted + t->rejected + t->errored)
                r->bad++;
            last[k] = t->in;
        }
        r->reads++;
    }
    ngt_stats_free(st[0]);
    ngt_stats_free(st[1]);
    return NULL;
}

typedef struct feeder {
    ngt_runner *r;
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    fx_feed(f->r, N, CAP, g_pt, g_eta, 0);
    ngt_runner_drain(f->r);
    return NULL;
}

static void run_alone(ngt_menu *m, fx_sink *sink)
{
    ngt_error err = {0};
    ngt_run_opts o = {.threads = 1, .capacity = CAP, .sink = fx_sink_fn, .sink_user = sink};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);
    fx_feed(r, N, CAP, g_pt, g_eta, 0);
    ngt_runner_drain(r);
    ngt_runner_free(r);
}

static void test_two_menus_and_live_snapshots(void **state)
{
    (void)state;
    ngt_error err = {0};
    fx_events(N, g_pt, g_eta);
    const char *cuts[2] = {"pt > 30 and abs(eta) < 2", "pt < 10"};
    ngt_menu *m[2], *alone[2];
    fx_sink both[2], ref[2];
    for (int k = 0; k < 2; k++) {
        alone[k] = make_menu(cuts[k]);
        fx_sink_init(&ref[k], alone[k], N);
        run_alone(alone[k], &ref[k]);
        m[k] = make_menu(cuts[k]);
        fx_sink_init(&both[k], m[k], N);
    }
    reader rd = {.m = {m[0], m[1]}};
    pthread_t rt, ft[2];
    assert_int_equal(pthread_create(&rt, NULL, read_loop, &rd), 0);
    ngt_runner *r[2];
    feeder f[2];
    for (int k = 0; k < 2; k++) {
        ngt_run_opts o = {.threads = 2, .capacity = CAP, .sink = fx_sink_fn, .sink_user = &both[k]};
        r[k] = ngt_runner_new(m[k], &o, &err);
        assert_non_null(r[k]);
        f[k].r = r[k];
        assert_int_equal(pthread_create(&ft[k], NULL, feed, &f[k]), 0);
    }
    for (int k = 0; k < 2; k++)
        pthread_join(ft[k], NULL);
    atomic_store(&rd.stop, 1);
    pthread_join(rt, NULL);
    assert_true(rd.reads > 0);
    assert_int_equal(rd.bad, 0);
    for (int k = 0; k < 2; k++) {
        ngt_runner_free(r[k]);
        fx_totals(m[k], N);
        assert_memory_equal(both[k].dec, ref[k].dec,
                            sizeof(uint64_t) * (size_t)N * (size_t)ref[k].words);
        assert_memory_equal(both[k].status, ref[k].status, (size_t)N);
        fx_sink_free(&both[k]);
        fx_sink_free(&ref[k]);
        ngt_menu_free(m[k]);
        ngt_menu_free(alone[k]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_two_menus_and_live_snapshots)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
