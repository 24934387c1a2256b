/* test_errors.c: failures are never silent. A step's first message and its failed calls are kept
 * in the statistics and ngt_menu_process returns NGT_ESTEP naming the step; collection counts
 * outside 0..max are refused before any step sees them, on the synchronous path and the runner,
 * and counted with their message (in == accepted + rejected + errored). */
#include "testutil.h"

enum { CAP = 64 };

static int calls_failing;

/* Fails every call with a message (as a host's C step does). */
static int failing(void *u, ngt_step_io *io)
{
    (void)u;
    calls_failing++;
    snprintf(io->err->msg, sizeof io->err->msg, "calibration %d missing", calls_failing);
    io->err->code = NGT_ESTEP;
    return NGT_ESTEP;
}

/* Marks its first event in error[] and says nothing. */
static int marks_one(void *u, ngt_step_io *io)
{
    (void)u;
    if (io->n > 0)
        io->error[0] = 1;
    return NGT_OK;
}

static int max_count_seen;

/* Reads every jet of every event it is given: a count beyond max would read the next event. */
static int reads_jets(void *u, ngt_step_io *io)
{
    (void)u;
    const int32_t *nj = ngt_batch_column_by_name(io->batch, "jet.n");
    for (int i = 0; i < io->n; i++)
        if (nj[io->sel[i]] > max_count_seen || nj[io->sel[i]] < 0)
            max_count_seen = nj[io->sel[i]] < 0 ? 1000 : nj[io->sel[i]];
    return NGT_OK;
}

static int step_index(const ngt_menu *m, const char *name)
{
    for (int i = 0; i < ngt_menu_nsteps(m); i++) { /* "chain:name" */
        const char *full = ngt_menu_step_name(m, i), *colon = strchr(full, ':');
        if (strcmp(full, name) == 0 || (colon && strcmp(colon + 1, name) == 0))
            return i;
    }
    fail_msg("no step %s", name);
    return -1;
}

static ngt_menu *menu_with(ngt_schema *s, const char *name, ngt_step_fn fn)
{
    ngt_error err;
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    int c = ngt_menu_chain(m, "A", &err);
    ngt_step_def d = {.name = name, .fn = fn};
    TU_OK(ngt_menu_step(m, c, &d, &err));
    int c2 = ngt_menu_chain(m, "B", &err);
    TU_OK(ngt_menu_cut(m, c2, "x > 0.5", &err));
    if (ngt_menu_build(m, &err) < 0)
        fail_msg("%s", err.msg);
    return m;
}

static void step_message_kept(void **state)
{
    (void)state;
    ngt_error err;
    ngt_schema *s = tu_schema();
    ngt_menu *m = menu_with(s, "calib", failing);
    ngt_ctx *c = ngt_ctx_new(m, CAP, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), CAP, &err);
    ngt_stats *st = ngt_stats_new(m);
    calls_failing = 0;
    for (int k = 0; k < 3; k++) {
        tu_fill(b, (uint64_t)k * CAP, CAP);
        memset(&err, 0, sizeof err);
        assert_int_equal(ngt_menu_process(m, c, b, &err), NGT_ESTEP);
        assert_non_null(strstr(err.msg, "calib"));
        assert_non_null(strstr(err.msg, "calibration"));
    }
    ngt_stats_read(m, st);
    uint64_t fails = 0;
    const char *msg = ngt_stats_step_error(st, step_index(m, "calib"), &fails);
    assert_non_null(msg);
    assert_string_equal(msg, "calibration 1 missing"); /* the first one is kept */
    assert_int_equal(fails, 3);
    assert_int_equal(ngt_stats_step(st, step_index(m, "calib"))->errors, 3 * CAP);
    assert_null(ngt_stats_step_error(st, step_index(m, "B:cut(x > 0.5)"), &fails));
    assert_int_equal(fails, 0);
    const ngt_totals *t = ngt_stats_totals(st);
    assert_int_equal(t->in, t->accepted + t->rejected + t->errored);
    assert_true(t->errored > 0);
    ngt_stats_free(st);
    ngt_batch_free(b);
    ngt_ctx_free(c);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

static void silent_error_flags_get_a_message(void **state)
{
    (void)state;
    ngt_error err;
    ngt_schema *s = tu_schema();
    ngt_menu *m = menu_with(s, "flagger", marks_one);
    ngt_ctx *c = ngt_ctx_new(m, CAP, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), CAP, &err);
    ngt_stats *st = ngt_stats_new(m);
    tu_fill(b, 0, CAP);
    assert_int_equal(ngt_menu_process(m, c, b, &err), NGT_ESTEP);
    assert_non_null(strstr(err.msg, "flagger"));
    ngt_stats_read(m, st);
    const char *msg = ngt_stats_step_error(st, step_index(m, "flagger"), NULL);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "marked 1 events in error[]"));
    ngt_stats_free(st);
    ngt_batch_free(b);
    ngt_ctx_free(c);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

/* Counts 2e9, -1 and max+1 in events 3, 10 and 20 (jet max is 6). */
static void set_bad_counts(ngt_batch *b)
{
    int32_t *nj = ngt_batch_column_by_name(b, "jet.n");
    nj[3] = 2000000000;
    nj[10] = -1;
    nj[20] = 7;
}

static void check_counts_contract(void **state)
{
    (void)state;
    ngt_error err;
    ngt_schema *s = tu_schema();
    ngt_batch *b = ngt_batch_new(s, CAP, &err);
    tu_fill(b, 100, CAP);
    uint8_t bad[CAP];
    memset(bad, 7, sizeof bad);
    assert_int_equal(ngt_batch_check_counts(b, 0, CAP, bad, &err), 0);
    for (int i = 0; i < CAP; i++)
        assert_int_equal(bad[i], 0);
    set_bad_counts(b);
    memset(&err, 0, sizeof err);
    assert_int_equal(ngt_batch_check_counts(b, 0, CAP, bad, &err), 3);
    for (int i = 0; i < CAP; i++)
        assert_int_equal(bad[i], i == 3 || i == 10 || i == 20);
    assert_non_null(strstr(err.msg, "jet.n"));
    assert_non_null(strstr(err.msg, "event 3"));
    assert_non_null(strstr(err.msg, "2000000000"));
    /* a window: indexed from first, NULL bad */
    assert_int_equal(ngt_batch_check_counts(b, 5, 10, NULL, &err), 1);
    assert_non_null(strstr(err.msg, "event 10"));
    assert_non_null(strstr(err.msg, "-1"));
    assert_int_equal(ngt_batch_check_counts(b, 15, 10, bad, &err), 1);
    assert_int_equal(bad[5], 1);
    assert_non_null(strstr(err.msg, "count 7 outside 0..6"));
    assert_true(ngt_batch_check_counts(b, 60, 10, bad, &err) < 0); /* outside the batch */
    assert_true(ngt_batch_check_counts(b, -1, 2, bad, &err) < 0);
    ngt_batch_free(b);
    ngt_schema_free(s);
}

static void bad_counts_never_reach_steps(void **state)
{
    (void)state;
    ngt_error err;
    ngt_schema *s = tu_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    int a = ngt_menu_chain(m, "A", &err);
    ngt_step_def d = {.name = "jets", .fn = reads_jets};
    TU_OK(ngt_menu_step(m, a, &d, &err));
    int c2 = ngt_menu_chain(m, "HT", &err);
    TU_OK(ngt_menu_cut(m, c2, "count(jet) >= 0", &err)); /* every good event passes */
    TU_OK(ngt_menu_build(m, &err));
    ngt_ctx *c = ngt_ctx_new(m, CAP, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), CAP, &err);
    ngt_stats *st = ngt_stats_new(m);
    tu_fill(b, 0, CAP);
    set_bad_counts(b);
    max_count_seen = 0;
    assert_int_equal(ngt_menu_process(m, c, b, &err), NGT_ESTEP);
    assert_non_null(strstr(err.msg, "jet.n"));
    assert_true(max_count_seen <= 6);
    const uint8_t *status = ngt_batch_column_by_name(b, "ngt.status");
    for (int i = 0; i < CAP; i++)
        assert_int_equal(status[i],
                         i == 3 || i == 10 || i == 20 ? NGT_EVENT_ERRORED : NGT_EVENT_ACCEPTED);
    ngt_stats_read(m, st);
    uint64_t refused = 0;
    const char *msg = ngt_stats_input_error(st, &refused);
    assert_int_equal(refused, 3);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "2000000000"));
    const ngt_totals *t = ngt_stats_totals(st);
    assert_int_equal(t->in, CAP);
    assert_int_equal(t->errored, 3);
    assert_int_equal(t->in, t->accepted + t->rejected + t->errored);
    assert_int_equal(ngt_stats_stream(st, ngt_menu_nstreams(m) - 1)->accepted, 3);
    ngt_stats_free(st);
    ngt_batch_free(b);
    ngt_ctx_free(c);

    /* the runner: the same refusal on every batch */
    ngt_run_opts o = {.threads = 2, .capacity = CAP};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);
    for (int k = 0; k < 4; k++) {
        ngt_batch *rb = ngt_runner_acquire(r);
        tu_fill(rb, (uint64_t)k * CAP, CAP);
        set_bad_counts(rb);
        TU_OK(ngt_runner_submit(r, rb, &err));
    }
    ngt_runner_drain(r);
    ngt_runner_free(r);
    st = ngt_stats_new(m);
    ngt_stats_read(m, st);
    ngt_stats_input_error(st, &refused);
    assert_int_equal(refused, 3 + 4 * 3);
    t = ngt_stats_totals(st);
    assert_int_equal(t->in, t->accepted + t->rejected + t->errored);
    assert_int_equal(t->errored, 15);
    assert_true(max_count_seen <= 6);
    ngt_stats_free(st);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

static int writes_one(void *u, ngt_step_io *io)
{
    (void)u;
    float *z = ngt_batch_column_by_name(io->batch, "z");
    for (int i = 0; i < io->n; i++)
        z[io->sel[i]] = 1.0f;
    return NGT_OK;
}

/* A producer's column holds 0 for the events it did not run on, never a pooled batch's earlier
 * values (what --output-columns writes). */
static void producer_gaps_are_zero(void **state)
{
    (void)state;
    ngt_error err;
    ngt_schema *s = tu_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    int a = ngt_menu_chain(m, "S", &err);
    TU_OK(ngt_menu_cut(m, a, "x > 0.5", &err));
    int p = ngt_menu_chain(m, "P", &err);
    const char *seeds[] = {"S"}, *w[] = {"z"}, *wt[] = {"f32"};
    TU_OK(ngt_menu_seed(m, p, 1, seeds, &err));
    ngt_step_def d = {.name = "z", .fn = writes_one, .n_writes = 1, .writes = w, .write_types = wt};
    TU_OK(ngt_menu_step(m, p, &d, &err));
    TU_OK(ngt_menu_build(m, &err));
    ngt_ctx *c = ngt_ctx_new(m, CAP, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), CAP, &err);
    float *x = ngt_batch_column_by_name(b, "x"), *z = ngt_batch_column_by_name(b, "z");
    tu_fill(b, 0, CAP);
    for (int i = 0; i < CAP; i++)
        x[i] = 1.0f; /* every event: z = 1 */
    TU_OK(ngt_menu_process(m, c, b, &err));
    for (int i = 0; i < CAP; i++)
        x[i] = i % 3 == 0 ? 1.0f : 0.0f;
    TU_OK(ngt_menu_process(m, c, b, &err));
    for (int i = 0; i < CAP; i++)
        assert_true(z[i] == (i % 3 == 0 ? 1.0f : 0.0f));
    ngt_batch_free(b);
    ngt_ctx_free(c);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

/* A batch must come from ngt_menu_schema() of the menu or a schema with exactly its columns: one
 * of the input schema (no derived columns), of another dtype or of a schema changed after a
 * batch was made from it is refused with a message, and counts nothing, every time (also after
 * batches of an equal schema were accepted: the check is by layout token, then column by column).
 */
static void foreign_batches_refused(void **state)
{
    (void)state;
    ngt_error err;
    ngt_schema *s = tu_schema();
    ngt_menu *m = menu_with(s, "flagger", marks_one);
    ngt_ctx *c = ngt_ctx_new(m, CAP, &err);
    ngt_schema *copy = ngt_schema_clone(ngt_menu_schema(m));
    ngt_schema *s2 = tu_schema();
    ngt_menu *m2 = menu_with(s2, "flagger", marks_one); /* an equal menu: equal columns */
    ngt_batch *own = ngt_batch_new(ngt_menu_schema(m), CAP, &err);
    ngt_batch *equal = ngt_batch_new(ngt_menu_schema(m2), CAP, &err);
    ngt_batch *input = ngt_batch_new(s, CAP, &err); /* no derived columns */
    ngt_schema *wide = tu_schema(); /* the derived columns' types under other names */
    TU_OK(ngt_schema_add(wide, "decision", "u64[1]", &err));
    TU_OK(ngt_schema_add(wide, "streams", "u64", &err));
    TU_OK(ngt_schema_add(wide, "status", "u8", &err));
    ngt_batch *other = ngt_batch_new(wide, CAP, &err);
    ngt_batch *copied = ngt_batch_new(copy, CAP, &err);
    TU_OK(ngt_schema_add(copy, "z", "f32", &err)); /* changed after its first batch */
    ngt_batch *changed = ngt_batch_new(copy, CAP, &err);
    ngt_batch *good[] = {own, equal, copied}, *bad[] = {input, other, changed};
    for (int k = 0; k < 3; k++) {
        tu_fill(good[k], 0, CAP);
        tu_fill(bad[k], 0, CAP);
    }
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < 3; k++) {
            memset(&err, 0, sizeof err);
            assert_int_equal(ngt_menu_process(m, c, bad[k], &err), NGT_EINVAL);
            assert_non_null(strstr(err.msg, "ngt_menu_schema()"));
            memset(&err, 0, sizeof err);
            assert_int_equal(ngt_menu_process(m, c, good[k], &err), NGT_ESTEP); /* flagger */
            assert_non_null(strstr(err.msg, "flagger"));
        }
    ngt_stats *st = ngt_stats_new(m);
    ngt_stats_read(m, st);
    const ngt_totals *t = ngt_stats_totals(st);
    assert_int_equal(t->batches, 9); /* the refused ones count nothing */
    assert_int_equal(t->in, 9 * CAP);
    assert_int_equal(t->in, t->accepted + t->rejected + t->errored);
    ngt_stats_free(st);
    for (int k = 0; k < 3; k++) {
        ngt_batch_free(good[k]);
        ngt_batch_free(bad[k]);
    }
    ngt_schema_free(copy);
    ngt_schema_free(wide);
    ngt_ctx_free(c);
    ngt_menu_free(m);
    ngt_menu_free(m2);
    ngt_schema_free(s);
    ngt_schema_free(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(step_message_kept),
        cmocka_unit_test(silent_error_flags_get_a_message),
        cmocka_unit_test(check_counts_contract),
        cmocka_unit_test(bad_counts_never_reach_steps),
        cmocka_unit_test(producer_gaps_are_zero),
        cmocka_unit_test(foreign_batches_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
