/* test_stats.c: the latency histogram's buckets (monotonic, within 12.5 % of the value) and the
 * quantiles a snapshot reports from per-step call latencies. */
#include "testutil.h"

#include "menu_int.h"

#include <math.h>
#include <time.h>

static void buckets(void **state)
{
    (void)state;
    int prev = -1;
    for (uint64_t ns = 1; ns < (1ULL << 46); ns += ns / 7 + 1) {
        int b = hist_bin(ns);
        assert_true(b >= prev);
        assert_true(b >= 0 && b < HIST_BINS);
        assert_true(fabs(hist_value(b) - (double)ns) <= 0.125 * (double)ns + 0.5);
        prev = b;
    }
    assert_int_equal(hist_bin(UINT64_MAX), HIST_BINS - 1);
}

static int sleepy(void *u, ngt_step_io *io)
{
    (void)io;
    long us = *(const long *)u;
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
    return NGT_OK;
}

/* Per-call latencies: 90 calls of the step sleep 0.2 ms, 10 sleep 20 ms: p50 is near the short
 * ones, p99 among the long ones (lower bounds only: sleeping never takes less). */
static void quantiles(void **state)
{
    (void)state;
    ngt_error err;
    ngt_schema *s = ngt_schema_new();
    ngt_schema_add(s, "x", "f32", &err);
    static long us;
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    int c = ngt_menu_chain(m, "Sleepy", &err);
    ngt_step_def d = {.name = "sleepy", .fn = sleepy, .user = &us};
    TU_OK(ngt_menu_step(m, c, &d, &err));
    TU_OK(ngt_menu_build(m, &err));
    ngt_ctx *ctx = ngt_ctx_new(m, 4, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 4, &err);
    ngt_batch_set_count(b, 4, NULL);
    for (int k = 0; k < 100; k++) {
        us = k % 10 == 9 ? 20000 : 200;
        TU_OK(ngt_menu_process(m, ctx, b, &err));
    }
    ngt_stats *st = ngt_stats_new(m);
    ngt_stats_read(m, st);
    const ngt_step_stats *x = ngt_stats_step(st, 0);
    assert_int_equal(x->calls, 100);
    assert_true(x->p50_us >= 200 * 0.875 && x->p50_us < 20000 * 0.875);
    assert_true(x->p99_us >= 20000 * 0.875);
    ngt_stats_free(st);
    ngt_batch_free(b);
    ngt_ctx_free(ctx);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(buckets), cmocka_unit_test(quantiles)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
