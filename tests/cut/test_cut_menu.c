/* test_cut_menu.c: a menu's cuts compiled (ngt_menu_set_cuts, NGT_CUTS) decide exactly as the
 * interpreter does: every cut of the NumPy suite as a chain (some prescaled, some seeded, some
 * repeated, one reading a derived column, which stays interpreted), processed in batches of 1, 7
 * and 256 on the caller's thread and by the runner with 1 and 2 threads; the decisions, statuses
 * and chain counts must be identical. With no compiler, auto falls back to the interpreter and
 * compiled fails the build; a bad NGT_CUTS is a build error. The suite's events with a collection
 * count outside 0..max are refused by the menu's input check: errored in every mode. */
#include "testutil.h"

#include "cut_data.h"
#include "cut_exprs.h"

#include <unistd.h>

enum { N_EVENTS = 1000, N_CHAINS = N_CUT_EXPRS + 3 };

static ngt_schema *in_schema;
static ngt_batch *source;
static char cache_dir[256];
static uint8_t refused[N_EVENTS]; /* the events the input check refuses (bad counts) */
static int n_refused;

static int setup(void **state)
{
    (void)state;
    snprintf(cache_dir, sizeof cache_dir, "/tmp/ngt-cut-menu-%ld", (long)getpid());
    setenv("NGT_CACHE", cache_dir, 1);
    unsetenv("NGT_CUTS");
    in_schema = cd_schema();
    source = cd_batch(in_schema, N_EVENTS, 777);
    if (!in_schema || !source)
        return -1;
    ngt_error e;
    n_refused = ngt_batch_check_counts(source, 0, N_EVENTS, refused, &e);
    return n_refused > 0 && n_refused < N_EVENTS / 2 ? 0 : -1; /* some of each */
}

static int teardown(void **state)
{
    (void)state;
    ngt_batch_free(source);
    ngt_schema_free(in_schema);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Producer: p = 2 * pt (a derived column). */
static int produce_p(void *u, ngt_step_io *io)
{
    (void)u;
    const float *pt = ngt_batch_column_by_name(io->batch, "pt");
    float *p = ngt_batch_column_by_name(io->batch, "p");
    for (int i = 0; i < io->n; i++)
        p[io->sel[i]] = 2 * pt[io->sel[i]];
    return NGT_OK;
}

static ngt_menu *make_menu(int mode, int *build_rc, ngt_error *err)
{
    ngt_menu *m = ngt_menu_new(in_schema, NULL, err);
    assert_non_null(m);
    char name[32];
    for (int k = 0; k < N_CUT_EXPRS; k++) {
        snprintf(name, sizeof name, "c%d", k);
        int ci = ngt_menu_chain(m, name, err);
        assert_true(ci >= 0);
        if (k % 9 == 8) {
            const char *seed = "c0";
            TU_OK(ngt_menu_seed(m, ci, 1, &seed, err));
        }
        if (k % 5 == 4)
            TU_OK(ngt_menu_prescale(m, ci, 3, err));
        TU_OK(ngt_menu_cut(m, ci, cut_exprs[k], err));
        if (k % 7 == 6) /* two cuts in one chain */
            TU_OK(ngt_menu_cut(m, ci, "count(jet, pt > 20) >= 1", err));
    }
    int ci = ngt_menu_chain(m, "repeat", err); /* the same cut as chain c0 */
    TU_OK(ngt_menu_cut(m, ci, cut_exprs[0], err));
    ci = ngt_menu_chain(m, "derived", err);
    const char *reads[] = {"pt"}, *writes[] = {"p"}, *types[] = {"f32"};
    ngt_step_def def = {.name = "double_pt",
                        .fn = produce_p,
                        .n_reads = 1,
                        .reads = reads,
                        .n_writes = 1,
                        .writes = writes,
                        .write_types = types};
    TU_OK(ngt_menu_step(m, ci, &def, err));
    TU_OK(ngt_menu_cut(m, ci, "p > 60 and count(jet, pt > 25) >= 1", err));
    ci = ngt_menu_chain(m, "ht", err);
    TU_OK(ngt_menu_cut(m, ci, "ht(jet, pt > 30) > 150", err));
    TU_OK(ngt_menu_set_cuts(m, (ngt_cuts_mode)mode, err));
    *build_rc = ngt_menu_build(m, err);
    return m;
}

typedef struct result {
    uint64_t decision[N_EVENTS][2];
    uint8_t status[N_EVENTS];
    uint64_t passed[N_CHAINS];
    uint64_t in, accepted, rejected, errored;
} result;

static void copy_events(ngt_batch *dst, int first, int n)
{
    const ngt_schema *s = ngt_batch_schema(source);
    TU_OK(ngt_batch_set_count(dst, n, NULL));
    for (int c = 0; c < ngt_schema_ncolumns(s); c++) {
        const ngt_column_info *ci = ngt_schema_column(s, c);
        const char *from = ngt_batch_column(source, c);
        char *to = ngt_batch_column(dst, c);
        if (ci->kind == NGT_COL_SCALAR)
            memcpy(to, from, ci->row_bytes);
        else
            memcpy(to, from + (size_t)first * ci->row_bytes, (size_t)n * ci->row_bytes);
    }
    for (int i = 0; i < n; i++)
        ngt_batch_event_ids(dst)[i] = (uint64_t)(first + i);
}

static void collect(result *r, ngt_batch *b)
{
    const ngt_schema *s = ngt_batch_schema(b);
    const uint64_t *dec = ngt_batch_column(b, ngt_schema_find(s, "ngt.decision"));
    const uint8_t *st = ngt_batch_column(b, ngt_schema_find(s, "ngt.status"));
    for (int i = 0; i < ngt_batch_count(b); i++) {
        uint64_t id = ngt_batch_event_ids(b)[i];
        r->decision[id][0] = dec[2 * i];
        r->decision[id][1] = dec[2 * i + 1];
        r->status[id] = st[i];
    }
}

static void sink(void *u, ngt_batch *b)
{
    collect(u, b);
}

static void read_stats(ngt_menu *m, result *r)
{
    ngt_stats *st = ngt_stats_new(m);
    TU_OK(ngt_stats_read(m, st));
    const ngt_totals *t = ngt_stats_totals(st);
    r->in = t->in, r->accepted = t->accepted, r->rejected = t->rejected, r->errored = t->errored;
    assert_int_equal(t->errored, n_refused);
    assert_int_equal(t->in, t->accepted + t->rejected + t->errored);
    for (int c = 0; c < N_CHAINS; c++)
        r->passed[c] = ngt_stats_chain(st, c)->passed;
    ngt_stats_free(st);
}

/* Events through the menu in batches of bsize: on this thread (threads 0) or by the runner. */
static void run(int mode, int bsize, int threads, result *r)
{
    ngt_error err = {0};
    int rc;
    memset(r, 0, sizeof *r);
    ngt_menu *m = make_menu(mode, &rc, &err);
    if (rc)
        fail_msg("build: %s", err.msg);
    if (mode == NGT_CUTS_INTERP)
        assert_int_equal(ngt_menu_compiled_cuts(m), 0);
    else /* every cut but the one reading the derived column */
        assert_int_equal(ngt_menu_compiled_cuts(m), N_CUT_EXPRS + N_CUT_EXPRS / 7 + 2);
    if (threads == 0) {
        ngt_ctx *ctx = ngt_ctx_new(m, bsize, &err);
        ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), bsize, &err);
        assert_non_null(ctx);
        assert_non_null(b);
        for (int first = 0; first < N_EVENTS; first += bsize) {
            copy_events(b, first, N_EVENTS - first < bsize ? N_EVENTS - first : bsize);
            int n = N_EVENTS - first < bsize ? N_EVENTS - first : bsize, bad = 0;
            for (int e = first; e < first + n; e++)
                bad |= refused[e];
            rc = ngt_menu_process(m, ctx, b, &err);
            if (rc != (bad ? NGT_ESTEP : NGT_OK) || (bad && !strstr(err.msg, "input:")))
                fail_msg("process: %d %s", rc, err.msg);
            collect(r, b);
        }
        ngt_batch_free(b);
        read_stats(m, r);
        ngt_ctx_free(ctx);
    } else {
        ngt_run_opts o = {.threads = threads, .capacity = bsize, .sink = sink, .sink_user = r};
        ngt_runner *rn = ngt_runner_new(m, &o, &err);
        assert_non_null(rn);
        for (int first = 0; first < N_EVENTS; first += bsize) {
            ngt_batch *b = ngt_runner_acquire(rn);
            copy_events(b, first, N_EVENTS - first < bsize ? N_EVENTS - first : bsize);
            TU_OK(ngt_runner_submit(rn, b, &err));
        }
        ngt_runner_drain(rn);
        read_stats(m, r);
        ngt_runner_free(rn);
    }
    ngt_menu_free(m);
    for (int e = 0; e < N_EVENTS; e++)
        if (refused[e] && r->status[e] != NGT_EVENT_ERRORED)
            fail_msg("event %d: refused input but status %d", e, r->status[e]);
}

static void same(const result *a, const result *b, const char *what)
{
    for (int e = 0; e < N_EVENTS; e++)
        if (a->decision[e][0] != b->decision[e][0] || a->decision[e][1] != b->decision[e][1] ||
            a->status[e] != b->status[e])
            fail_msg("%s: event %d: decision %016llx%016llx vs %016llx%016llx", what, e,
                     (unsigned long long)a->decision[e][1], (unsigned long long)a->decision[e][0],
                     (unsigned long long)b->decision[e][1], (unsigned long long)b->decision[e][0]);
    for (int c = 0; c < N_CHAINS; c++)
        if (a->passed[c] != b->passed[c])
            fail_msg("%s: chain %d passed %llu vs %llu", what, c, (unsigned long long)a->passed[c],
                     (unsigned long long)b->passed[c]);
    assert_int_equal(a->in, N_EVENTS);
    assert_int_equal(b->in, N_EVENTS);
    assert_int_equal(a->accepted, b->accepted);
    assert_int_equal(a->errored, b->errored);
}

static void test_decisions_identical(void **state)
{
    (void)state;
    static result ref, got;
    run(NGT_CUTS_INTERP, 256, 0, &ref);
    int mixed = 0; /* the reference's chains pass some events and reject others */
    for (int c = 0; c < N_CHAINS; c++)
        mixed += ref.passed[c] > 0 && ref.passed[c] < N_EVENTS;
    assert_true(mixed > N_CHAINS * 3 / 4);
    const int sizes[] = {1, 7, 256};
    char what[64];
    for (int k = 0; k < 3; k++) {
        snprintf(what, sizeof what, "interp batch %d", sizes[k]);
        run(NGT_CUTS_INTERP, sizes[k], 0, &got);
        same(&ref, &got, what);
        snprintf(what, sizeof what, "compiled batch %d", sizes[k]);
        run(NGT_CUTS_COMPILED, sizes[k], 0, &got);
        same(&ref, &got, what);
    }
    for (int t = 1; t <= 2; t++)
        for (int k = 1; k < 3; k++) {
            snprintf(what, sizeof what, "compiled threads %d batch %d", t, sizes[k]);
            run(NGT_CUTS_COMPILED, sizes[k], t, &got);
            same(&ref, &got, what);
        }
}

static void test_fallback(void **state)
{
    (void)state;
    ngt_error err = {0};
    int rc;
    setenv("NGT_CC", "/nonexistent/cc", 1);
    ngt_menu *m = make_menu(NGT_CUTS_AUTO, &rc, &err); /* auto: interpreted */
    assert_int_equal(rc, NGT_OK);
    assert_int_equal(ngt_menu_compiled_cuts(m), 0);
    ngt_menu_free(m);
    m = make_menu(NGT_CUTS_COMPILED, &rc, &err); /* compiled: an error naming the compiler */
    assert_true(rc < 0);
    assert_non_null(strstr(err.msg, "/nonexistent/cc"));
    ngt_menu_free(m);
    unsetenv("NGT_CC");
    setenv("NGT_CUTS", "interp", 1); /* the environment overrides the menu */
    m = make_menu(NGT_CUTS_COMPILED, &rc, &err);
    assert_int_equal(rc, NGT_OK);
    assert_int_equal(ngt_menu_compiled_cuts(m), 0);
    ngt_menu_free(m);
    setenv("NGT_CUTS", "fast", 1);
    m = make_menu(NGT_CUTS_AUTO, &rc, &err);
    assert_int_equal(rc, NGT_EINVAL);
    assert_non_null(strstr(err.msg, "NGT_CUTS='fast'"));
    ngt_menu_free(m);
    unsetenv("NGT_CUTS");
    assert_int_equal(ngt_menu_set_cuts(NULL, NGT_CUTS_AUTO, &err), NGT_EINVAL);
}

/* The no-compiler fallback decides as the compiled menu does (run() checks the counts). */
static void test_fallback_decisions(void **state)
{
    (void)state;
    static result a, b;
    run(NGT_CUTS_COMPILED, 7, 0, &a);
    run(NGT_CUTS_INTERP, 7, 2, &b);
    same(&a, &b, "interp threads 2 batch 7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_decisions_identical),
                                       cmocka_unit_test(test_fallback),
                                       cmocka_unit_test(test_fallback_decisions)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
