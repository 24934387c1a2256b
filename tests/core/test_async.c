/* test_async.c: asynchronous steps on the synchronous path: completion from another thread,
 * when_all, a step that never completes (timeout: its events errored, the run goes on), offload. */
#include "testutil.h"

#include <pthread.h>
#include <time.h>

typedef struct op {
    ngt_async *a;
    int status;
    int delay_us;
} op;

static void *completer(void *arg)
{
    op *o = arg;
    struct timespec ts = {0, (long)o->delay_us * 1000};
    nanosleep(&ts, NULL);
    ngt_async_complete(o->a, o->status);
    return NULL;
}

static op ops[NGT_MAX_ASYNC];
static pthread_t threads[NGT_MAX_ASYNC];
static int n_threads;
static int mode_ops = 3, mode_fail = 0, mode_never = 0;

static int async_step(void *u, ngt_step_io *io)
{
    (void)u;
    float *o = ngt_batch_column_by_name(io->batch, "o");
    for (int i = 0; i < io->n; i++)
        o[io->sel[i]] = 1;
    for (int k = 0; k < mode_ops; k++) {
        ops[k].a = ngt_step_async(io);
        if (!ops[k].a)
            return NGT_ESTEP;
        ops[k].status = mode_fail && k == 1 ? NGT_ESTEP : NGT_OK;
        ops[k].delay_us = 1000 * (mode_ops - k); /* complete in reverse order */
        if (!mode_never)
            pthread_create(&threads[n_threads++], NULL, completer, &ops[k]);
    }
    return NGT_PENDING;
}

static int offload_calls;
static int offload_step(void *u, ngt_step_io *io)
{
    (void)u;
    offload_calls++;
    const float *x = ngt_batch_column_by_name(io->batch, "x");
    for (int i = 0; i < io->n; i++)
        io->pass[i] = x[io->sel[i]] < 0.5f;
    return NGT_OK;
}

static ngt_menu *build(ngt_schema *s, double timeout)
{
    ngt_error err;
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    const char *o[] = {"o"}, *f32[] = {"f32"};
    ngt_step_def a = {.name = "remote",
                      .fn = async_step,
                      .mode = NGT_STEP_ASYNC,
                      .timeout_s = timeout,
                      .n_writes = 1,
                      .writes = o,
                      .write_types = f32};
    ngt_step_def off = {.name = "helper", .fn = offload_step, .mode = NGT_STEP_OFFLOAD};
    int c = ngt_menu_chain(m, "Async", &err);
    TU_OK(ngt_menu_step(m, c, &a, &err));
    int d = ngt_menu_chain(m, "Offload", &err);
    TU_OK(ngt_menu_step(m, d, &off, &err));
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("%s", err.msg);
    return m;
}

static void run_one(ngt_menu *m, ngt_stats *st)
{
    ngt_error err;
    ngt_ctx *c = ngt_ctx_new(m, 64, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 64, &err);
    tu_fill(b, 0, 64);
    n_threads = 0;
    int rc = ngt_menu_process(m, c, b, &err); /* NGT_ESTEP when the step failed: batch complete */
    assert_true(rc == NGT_OK || rc == NGT_ESTEP);
    for (int k = 0; k < n_threads; k++)
        pthread_join(threads[k], NULL);
    ngt_batch_free(b);
    ngt_ctx_free(c);
    ngt_stats_read(m, st);
}

static void when_all_resumes(void **state)
{
    (void)state;
    ngt_schema *s = tu_schema();
    ngt_menu *m = build(s, 5.0);
    ngt_stats *st = ngt_stats_new(m);
    mode_ops = 3, mode_fail = 0, mode_never = 0, offload_calls = 0;
    run_one(m, st);
    assert_int_equal(ngt_stats_chain(st, 0)->passed, 64);
    assert_int_equal(ngt_stats_totals(st)->errored, 0);
    assert_int_equal(offload_calls, 1);
    ngt_stats_free(st);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

static void one_failed_operation_errors_the_step(void **state)
{
    (void)state;
    ngt_schema *s = tu_schema();
    ngt_menu *m = build(s, 5.0);
    ngt_stats *st = ngt_stats_new(m);
    mode_ops = 3, mode_fail = 1, mode_never = 0;
    run_one(m, st);
    assert_int_equal(ngt_stats_chain(st, 0)->errored, 64);
    assert_int_equal(ngt_stats_chain(st, 0)->passed, 0);
    ngt_stats_free(st);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

static void never_completes_times_out(void **state)
{
    (void)state;
    ngt_schema *s = tu_schema();
    ngt_menu *m = build(s, 0.05);
    ngt_stats *st = ngt_stats_new(m);
    mode_ops = 2, mode_fail = 0, mode_never = 1;
    run_one(m, st);
    assert_int_equal(ngt_stats_chain(st, 0)->errored, 64);
    const ngt_totals *t = ngt_stats_totals(st);
    assert_int_equal(t->in, 64);
    assert_int_equal(t->in, t->accepted + t->rejected + t->errored);
    int found = 0;
    for (int i = 0; i < ngt_menu_nsteps(m); i++)
        if (strcmp(ngt_menu_step_name(m, i), "remote") == 0) {
            assert_int_equal(ngt_stats_step(st, i)->timeouts, 1);
            uint64_t fails = 0;
            const char *msg = ngt_stats_step_error(st, i, &fails);
            assert_non_null(msg);
            assert_non_null(strstr(msg, "timed out"));
            assert_int_equal(fails, 1);
            found = 1;
        }
    assert_true(found);
    ngt_stats_free(st);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(when_all_resumes),
        cmocka_unit_test(one_failed_operation_errors_the_step),
        cmocka_unit_test(never_completes_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
