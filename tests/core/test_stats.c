/* test_stats.c: the latency histogram's buckets (monotonic, within 12.5 % of the value), the
 * quantiles a snapshot reports from per-step call latencies, and a batch's end (decision bits,
 * statuses, streams, unique accepts, stream overlaps) against the same recomputed from the cuts. */
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

/* Errors the events whose id is a multiple of 5; passes those with x < 0.05. */
static int errs_fifth(void *u, ngt_step_io *io)
{
    (void)u;
    const float *x = ngt_batch_column_by_name(io->batch, "x");
    const uint64_t *ids = ngt_batch_event_ids(io->batch);
    for (int i = 0; i < io->n; i++) {
        io->error[i] = ids[io->sel[i]] % 5 == 0;
        io->pass[i] = x[io->sel[i]] < 0.05f;
    }
    return NGT_OK;
}

static double frac(double v)
{
    return v - floor(v);
}

/* nc chains "x > T and y < U" (T, U spread over 0..1) plus chain E (errs_fifth); streams A
 * (chains 0..nc/2-1, or E when nc < 2) and B (chains nc/3..nc-1 and E). Batches of 61 and 64 events
 * (a tail that is not a multiple of 8). Every event's decision bits, status and streams, and the
 * statistics' totals, passed, unique, streams and overlap equal what the cuts give. */
static void batch_end_counts(int nc, ngt_cuts_mode mode)
{
    enum { NB = 6, CAPB = 64, MAXC = 80 };
    ngt_error err;
    ngt_schema *s = tu_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    double T[MAXC], U[MAXC];
    const char *names[MAXC + 1];
    char buf[MAXC + 1][16];
    for (int i = 0; i <= nc; i++) {
        snprintf(buf[i], sizeof buf[i], i < nc ? "C%d" : "E", i);
        names[i] = buf[i];
        int c = ngt_menu_chain(m, names[i], &err);
        assert_int_equal(c, i);
        if (i == nc) {
            ngt_step_def d = {.name = "errs", .fn = errs_fifth};
            TU_OK(ngt_menu_step(m, c, &d, &err));
            break;
        }
        T[i] = frac(0.37 * i + 0.2) * 0.9;
        U[i] = 0.3 + 0.7 * frac(0.61 * i + 0.5);
        char expr[96];
        snprintf(expr, sizeof expr, "x > %.3f and y < %.3f", T[i], U[i]);
        T[i] = strtod(expr + 4, NULL);
        U[i] = strtod(strstr(expr, "y < ") + 4, NULL);
        TU_OK(ngt_menu_cut(m, c, expr, &err));
    }
    int na = nc / 2 > 0 ? nc / 2 : 1, b0 = nc / 3;
    TU_OK(ngt_menu_stream(m, "A", na, names, &err));
    TU_OK(ngt_menu_stream(m, "B", nc + 1 - b0, names + b0, &err));
    TU_OK(ngt_menu_set_cuts(m, mode, &err));
    TU_OK(ngt_menu_build(m, &err));
    ngt_ctx *ctx = ngt_ctx_new(m, CAPB, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), CAPB, &err);
    int words = (nc + 1 + 63) / 64;
    uint64_t want_in = 0, want_acc = 0, want_err = 0, passed[MAXC + 1] = {0},
             unique[MAXC + 1] = {0}, in_a = 0, in_b = 0, in_ab = 0, in_e = 0;
    uint64_t id0 = 0;
    for (int k = 0; k < NB; k++) {
        int n = k % 2 ? CAPB : 61;
        tu_fill(b, id0, n);
        id0 += (uint64_t)n;
        ngt_menu_process(m, ctx, b, &err); /* NGT_ESTEP: E errs */
        const float *x = ngt_batch_column_by_name(b, "x"), *y = ngt_batch_column_by_name(b, "y");
        const uint64_t *dec = ngt_batch_column_by_name(b, "ngt.decision");
        const uint64_t *streams = ngt_batch_column_by_name(b, "ngt.streams");
        const uint8_t *status = ngt_batch_column_by_name(b, "ngt.status");
        for (int e = 0; e < n; e++) {
            uint64_t id = ngt_batch_event_ids(b)[e], bits[2] = {0, 0};
            int n_acc = 0, last = -1, sa = 0, sb = 0;
            for (int i = 0; i <= nc; i++) {
                int on = i < nc ? (double)x[e] > T[i] && (double)y[e] < U[i]
                                : id % 5 != 0 && x[e] < 0.05f;
                if (!on)
                    continue;
                bits[i / 64] |= 1ULL << (i % 64);
                passed[i]++;
                n_acc++;
                last = i;
                sa |= i < na;
                sb |= i >= b0;
            }
            for (int w = 0; w < words; w++)
                assert_true(dec[(size_t)e * (size_t)words + (size_t)w] == bits[w]);
            int bad = n_acc == 0 && id % 5 == 0;
            assert_int_equal(status[e], n_acc ? NGT_EVENT_ACCEPTED
                                        : bad ? NGT_EVENT_ERRORED
                                              : NGT_EVENT_REJECTED);
            uint64_t sm = (uint64_t)sa | (uint64_t)sb << 1 | (uint64_t)bad << 2;
            assert_true(streams[e] == sm);
            want_acc += n_acc > 0;
            want_err += (uint64_t)bad;
            unique[last >= 0 ? last : 0] += n_acc == 1;
            in_a += (uint64_t)sa;
            in_b += (uint64_t)sb;
            in_ab += (uint64_t)(sa & sb);
            in_e += (uint64_t)bad;
        }
        want_in += (uint64_t)n;
    }
    ngt_stats *st = ngt_stats_new(m);
    ngt_stats_read(m, st);
    const ngt_totals *t = ngt_stats_totals(st);
    assert_int_equal(t->batches, NB);
    assert_int_equal(t->in, want_in);
    assert_int_equal(t->accepted, want_acc);
    assert_int_equal(t->errored, want_err);
    assert_int_equal(t->in, t->accepted + t->rejected + t->errored);
    assert_true(want_err > 0 && want_acc > 0 && want_acc < want_in);
    uint64_t any_unique = 0;
    for (int i = 0; i <= nc; i++) {
        assert_int_equal(ngt_stats_chain(st, i)->passed, passed[i]);
        assert_int_equal(ngt_stats_chain(st, i)->unique, unique[i]);
        any_unique += unique[i];
    }
    assert_true(any_unique > 0);
    assert_int_equal(ngt_stats_stream(st, 0)->accepted, in_a);
    assert_int_equal(ngt_stats_stream(st, 1)->accepted, in_b);
    assert_int_equal(ngt_stats_stream(st, 2)->accepted, in_e);
    assert_int_equal(ngt_stats_overlap(st, 0, 1), in_ab);
    assert_int_equal(ngt_stats_overlap(st, 1, 0), in_ab);
    assert_int_equal(ngt_stats_overlap(st, 0, 2), 0);
    ngt_stats_free(st);
    ngt_batch_free(b);
    ngt_ctx_free(ctx);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

static void batch_end_one_chain(void **state)
{
    (void)state;
    batch_end_counts(0, NGT_CUTS_AUTO); /* E alone */
    batch_end_counts(1, NGT_CUTS_AUTO);
}

static void batch_end_few_chains(void **state)
{
    (void)state;
    batch_end_counts(3, NGT_CUTS_AUTO);
    batch_end_counts(9, NGT_CUTS_INTERP);
}

static void batch_end_two_words(void **state)
{
    (void)state;
    batch_end_counts(70, NGT_CUTS_INTERP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(buckets), cmocka_unit_test(quantiles),
                                       cmocka_unit_test(batch_end_one_chain),
                                       cmocka_unit_test(batch_end_few_chains),
                                       cmocka_unit_test(batch_end_two_words)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
