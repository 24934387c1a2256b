/* test_cut_compiled.c: the cut compiler (cut_gen.c) against the block interpreter: every cut of
 * the NumPy suite (cut_exprs.h), compiled together into one function (shared sub-expressions
 * computed once), must give the interpreter's pass masks exactly, through a selection with gaps
 * and densely; a second build of the same cuts loads the cached object without compiling; with
 * no compiler the build fails cleanly (callers fall back to the interpreter). */
#include "testutil.h"

#include "ccache.h"
#include "cut_data.h"
#include "cut_exprs.h"
#include "cut_int.h"

#include <sys/stat.h>
#include <unistd.h>

enum { N_EVENTS = 1000 };

static char cache_dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(cache_dir, sizeof cache_dir, "/tmp/ngt-cut-compiled-%ld", (long)getpid());
    setenv("NGT_CACHE", cache_dir, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static cut_program **compile_all(const ngt_schema *s)
{
    cut_program **cuts = calloc(N_CUT_EXPRS, sizeof *cuts);
    assert_non_null(cuts);
    for (int k = 0; k < N_CUT_EXPRS; k++) {
        ngt_error err = {0};
        cuts[k] = cut_compile(s, cut_exprs[k], &err);
        if (!cuts[k])
            fail_msg("%s: %s", cut_exprs[k], err.msg);
    }
    return cuts;
}

static void free_all(cut_program **cuts)
{
    for (int k = 0; k < N_CUT_EXPRS; k++)
        cut_free(cuts[k]);
    free(cuts);
}

/* Compiled and interpreted masks of every cut on sel[0..n) (every event when sel is NULL). */
static void compare_k(cutc_set *set, cut_program **cuts, const char *const *names, int ncuts,
                      ngt_batch *b, const uint32_t *sel, int n)
{
    static uint8_t rows[N_CUT_EXPRS][N_EVENTS], interp[N_EVENTS];
    static uint32_t all[N_EVENTS];
    uint8_t *out[N_CUT_EXPRS];
    for (int r = 0; r < N_CUT_EXPRS; r++)
        out[r] = rows[r];
    memset(rows, 7, sizeof rows);
    double *cs = aligned_alloc(64, cutc_scratch_size(set) + 64);
    assert_non_null(cs);
    cutc_run(set, b, sel, n, out, cs);
    free(cs);
    for (int e = 0; e < N_EVENTS; e++)
        all[e] = (uint32_t)e;
    void *scratch = aligned_alloc(64, 8u << 20);
    assert_non_null(scratch);
    for (int k = 0; k < ncuts; k++) {
        assert_true(cut_scratch_size(cuts[k], N_EVENTS) <= (8u << 20));
        assert_int_equal(cut_eval(cuts[k], b, sel ? sel : all, n, interp, scratch), NGT_OK);
        const uint8_t *c = rows[cutc_row(set, k)];
        int ones = 0;
        for (int i = 0; i < n; i++) {
            if (c[i] != interp[i])
                fail_msg("'%s': event %u: compiled %d, interpreted %d", names[k],
                         sel ? sel[i] : (uint32_t)i, c[i], interp[i]);
            ones += c[i];
        }
        if (ones == 0 || ones == n) /* the suite's masks all hold both values */
            fail_msg("'%s': every event %s", names[k], ones ? "passes" : "fails");
    }
    free(scratch);
}

static void compare(cutc_set *set, cut_program **cuts, ngt_batch *b, const uint32_t *sel, int n)
{
    compare_k(set, cuts, cut_exprs, N_CUT_EXPRS, b, sel, n);
}

static void test_compiled_equals_interpreted(void **state)
{
    (void)state;
    if (!cc_available(cc_default_compiler()))
        skip();
    ngt_schema *s = cd_schema();
    ngt_batch *b = cd_batch(s, N_EVENTS, 20240611);
    assert_non_null(b);
    cut_program **cuts = compile_all(s);
    ngt_error err = {0};
    cutc_set *set = cutc_build(s, (const cut_program *const *)cuts, N_CUT_EXPRS, &err);
    if (!set)
        fail_msg("cutc_build: %s", err.msg);
    /* shared sub-expressions: fewer values than the programs' instructions added up */
    int total = 0;
    for (int k = 0; k < N_CUT_EXPRS; k++)
        total += cut_prog_of(cuts[k])->n;
    assert_true(cutc_values(set) < total);
    assert_true(cutc_rows(set) <= N_CUT_EXPRS);
    static uint32_t sel[N_EVENTS];
    int n = 0;
    for (int e = 0; e < N_EVENTS; e++)
        if (e % 7 != 3 && e % 11 != 5)
            sel[n++] = (uint32_t)e;
    compare(set, cuts, b, sel, n);
    compare(set, cuts, b, NULL, N_EVENTS);

    /* the second build of the same cuts loads the cached object: same file, not rewritten */
    struct stat st1, st2;
    assert_int_equal(stat(cutc_path(set), &st1), 0);
    char path[1100];
    snprintf(path, sizeof path, "%s", cutc_path(set));
    cutc_free(set);
    setenv("NGT_CC", "/nonexistent/cc", 1); /* would fail if it had to compile */
    set = cutc_build(s, (const cut_program *const *)cuts, N_CUT_EXPRS, &err);
    unsetenv("NGT_CC");
    /* ccache asks for a working compiler before looking in the cache: with none, no build */
    if (set) {
        assert_string_equal(cutc_path(set), path);
        cutc_free(set);
    }
    set = cutc_build(s, (const cut_program *const *)cuts, N_CUT_EXPRS, &err);
    if (!set)
        fail_msg("cutc_build again: %s", err.msg);
    assert_string_equal(cutc_path(set), path);
    assert_int_equal(stat(cutc_path(set), &st2), 0);
    assert_true(st1.st_ino == st2.st_ino && st1.st_mtim.tv_sec == st2.st_mtim.tv_sec &&
                st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);
    compare(set, cuts, b, sel, n);
    cutc_free(set);
    /* a few cuts (under CUTC_O3_ROWS rows) are compiled -O2, a menu -O3: both sides */
    for (int first = 0; first < N_CUT_EXPRS; first += 16) {
        int k = N_CUT_EXPRS - first < 16 ? N_CUT_EXPRS - first : 16;
        set = cutc_build(s, (const cut_program *const *)cuts + first, k, &err);
        if (!set)
            fail_msg("cutc_build of %d cuts: %s", k, err.msg);
        assert_true(cutc_rows(set) < CUTC_O3_ROWS);
        compare_k(set, cuts + first, cut_exprs + first, k, b, sel, n);
        cutc_free(set);
    }
    free_all(cuts);
    ngt_batch_free(b);
    ngt_schema_free(s);
}

/* Menus' many thresholds: count families (binary search among sorted thresholds) and result
 * tables, on thresholds that the data hit exactly, against the interpreter. */
static void test_threshold_families(void **state)
{
    (void)state;
    if (!cc_available(cc_default_compiler()))
        skip();
    ngt_schema *s = cd_schema();
    ngt_batch *b = cd_batch(s, N_EVENTS, 99);
    static const double ts[] = {-1, 0, 0.5, 10, 20, 25, 30, 30.5, 40, 50, 80, 1e300};
    static const char *forms[] = {"count(jet, pt > %g) >= %d", "count(jet, pt >= %g) >= %d",
                                  "count(mu, pt > %g) >= %d",  "count(jet, pt > %g) < %d",
                                  "max(jet.pt) > %g + %d",     "x > %g + %d"};
    enum { NT = sizeof ts / sizeof ts[0], NF = sizeof forms / sizeof forms[0], NC = NT * NF * 3 };
    static cut_program *cuts[NC];
    static char text[NC][80];
    static uint8_t rows[NC][N_EVENTS], interp[N_EVENTS];
    uint8_t *out[NC];
    int n = 0;
    ngt_error err = {0};
    for (int f = 0; f < NF; f++)
        for (int q = 0; q < NT; q++)
            for (int k = 1; k <= 3; k++) {
                snprintf(text[n], sizeof text[n], forms[f], ts[q], k);
                if (!(cuts[n] = cut_compile(s, text[n], &err)))
                    fail_msg("%s: %s", text[n], err.msg);
                n++;
            }
    cutc_set *set = cutc_build(s, (const cut_program *const *)cuts, n, &err);
    if (!set)
        fail_msg("cutc_build: %s", err.msg);
    for (int r = 0; r < n; r++)
        out[r] = rows[r];
    double *cs = aligned_alloc(64, cutc_scratch_size(set) + 64);
    void *scratch = aligned_alloc(64, 1u << 20);
    static uint32_t sel[N_EVENTS];
    int ns = 0;
    for (int e = 0; e < N_EVENTS; e++)
        if (e % 5 != 2)
            sel[ns++] = (uint32_t)e;
    cutc_run(set, b, sel, ns, out, cs);
    char *src = cutc_source(s, (const cut_program *const *)cuts, n, &err);
    assert_non_null(src);
    assert_non_null(strstr(src, "static const double ct")); /* count families were made */
    assert_non_null(strstr(src, "static const double rt")); /* and result tables */
    free(src);
    int mixed = 0;
    for (int c = 0; c < n; c++) {
        assert_int_equal(cut_eval(cuts[c], b, sel, ns, interp, scratch), NGT_OK);
        int ones = 0;
        for (int i = 0; i < ns; i++) {
            if (rows[cutc_row(set, c)][i] != interp[i])
                fail_msg("'%s': event %u: compiled %d, interpreted %d", text[c], sel[i],
                         rows[cutc_row(set, c)][i], interp[i]);
            ones += interp[i];
        }
        mixed += ones > 0 && ones < ns;
        cut_free(cuts[c]);
    }
    assert_true(mixed > n / 2);
    free(cs);
    free(scratch);
    cutc_free(set);
    ngt_batch_free(b);
    ngt_schema_free(s);
}

/* No working compiler: cutc_build fails with a message naming it, nothing is left loaded. */
static void test_no_compiler(void **state)
{
    (void)state;
    ngt_schema *s = cd_schema();
    ngt_error err = {0};
    cut_program *c = cut_compile(s, "pt > 30", &err);
    assert_non_null(c);
    setenv("NGT_CC", "/nonexistent/cc", 1);
    cutc_set *set = cutc_build(s, (const cut_program *const *)&c, 1, &err);
    unsetenv("NGT_CC");
    assert_null(set);
    assert_int_equal(err.code, NGT_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "/nonexistent/cc"));
    cut_free(c);
    ngt_schema_free(s);
}

/* The generated source names every cut and shares the same column load between cuts. */
static void test_source_shares(void **state)
{
    (void)state;
    ngt_schema *s = cd_schema();
    ngt_error err = {0};
    const char *exprs[] = {"ht(jet, pt > 30) > 100", "ht(jet, pt > 30) > 200",
                           "count(jet, pt > 30) >= 2", "ht(jet, pt > 30) > 100"};
    cut_program *cuts[4];
    for (int k = 0; k < 4; k++)
        assert_non_null(cuts[k] = cut_compile(s, exprs[k], &err));
    char *src = cutc_source(s, (const cut_program *const *)cuts, 4, &err);
    assert_non_null(src);
    /* jet.pt loaded once, the HT reduction once, the predicate pt > 30 once */
    const char *body = strstr(src, "double *scratch)\n{");
    assert_non_null(body);
    int gts = 0, reduces = 0;
    for (const char *p = body; (p = strstr(p, "cuts_reduce(0,")); p++)
        reduces++;
    for (const char *p = body; (p = strstr(p, "cuts_gt(")); p++)
        gts++;
    assert_int_equal(reduces, 1); /* the HT once */
    assert_int_equal(gts, 2);     /* pt > 30 once; one loop for both HT thresholds */
    /* HT's two thresholds are one table (the repeated cut shares its row), the count another */
    assert_non_null(strstr(src, "static const int rr0[2]"));
    assert_non_null(strstr(src, "static const int rr1[1]"));
    free(src);
    for (int k = 0; k < 4; k++)
        cut_free(cuts[k]);
    ngt_schema_free(s);
}

/* Sets of cuts on scalar values only (no collection, no count family) are vectorised across
 * events ("#pragma omp simd" on the event loop): the suite's such cuts, alone and together, give
 * the interpreter's masks exactly (NaN and infinity included), densely and through a selection. */
static void test_scalar_sets_vectorised(void **state)
{
    (void)state;
    if (!cc_available(cc_default_compiler()))
        skip();
    static const char marker[] = "#pragma omp simd\nfor (int ii = 0; ii < nb; ii++) {";
    ngt_schema *s = cd_schema();
    ngt_batch *b = cd_batch(s, N_EVENTS, 20240611);
    assert_non_null(b);
    cut_program **cuts = compile_all(s), *scalar[N_CUT_EXPRS];
    const char *names[N_CUT_EXPRS];
    int m = 0;
    ngt_error err = {0};
    for (int k = 0; k < N_CUT_EXPRS; k++) {
        char *src = cutc_source(s, (const cut_program *const *)&cuts[k], 1, &err);
        assert_non_null(src);
        if (strstr(src, marker)) {
            scalar[m] = cuts[k];
            names[m++] = cut_exprs[k];
        }
        free(src);
    }
    assert_true(m >= 4); /* the suite has several */
    char *src = cutc_source(s, (const cut_program *const *)scalar, m, &err);
    assert_non_null(strstr(src, marker));
    free(src);
    cutc_set *set = cutc_build(s, (const cut_program *const *)scalar, m, &err);
    if (!set)
        fail_msg("cutc_build: %s", err.msg);
    static uint32_t sel[N_EVENTS];
    int n = 0;
    for (int e = 0; e < N_EVENTS; e++)
        if (e % 5 != 1)
            sel[n++] = (uint32_t)e;
    compare_k(set, scalar, names, m, b, NULL, N_EVENTS);
    compare_k(set, scalar, names, m, b, sel, n);
    compare_k(set, scalar, names, m, b, NULL, 61); /* a last chunk of other than 64 */
    cutc_free(set);
    free_all(cuts);
    ngt_batch_free(b);
    ngt_schema_free(s);
}

/* Counts (and any, all) read a collection's elements only below its count: the generated code
 * loads and tests those elements only ("j < (int)vN[0]" loops); sums keep fixed-width loops.
 * The suite's cuts with a count, any or all, compiled together and one by one, equal the
 * interpreter (the whole suite does too, test_compiled_equals_interpreted). */
static void test_counts_bounded(void **state)
{
    (void)state;
    if (!cc_available(cc_default_compiler()))
        skip();
    ngt_schema *s = cd_schema();
    ngt_batch *b = cd_batch(s, N_EVENTS, 20240611);
    assert_non_null(b);
    ngt_error err = {0};
    const char *exprs[] = {"count(jet, pt > 30 and abs(eta) < 2.4) >= 2", "ht(jet, pt > 30) > 100"};
    cut_program *two[2];
    for (int k = 0; k < 2; k++)
        assert_non_null(two[k] = cut_compile(s, exprs[k], &err));
    char *src = cutc_source(s, (const cut_program *const *)two, 1, &err);
    assert_non_null(src);
    assert_non_null(strstr(src, "; j < (int)v")); /* bounded loops */
    assert_null(strstr(src, "[r * 12 + 11]"));    /* no load of the last slot by itself */
    free(src);
    src = cutc_source(s, (const cut_program *const *)two + 1, 1, &err);
    assert_null(strstr(src, "; j < (int)v")); /* the sum: fixed width */
    free(src);
    for (int k = 0; k < 2; k++)
        cut_free(two[k]);
    cut_program **cuts = compile_all(s), *counting[N_CUT_EXPRS];
    const char *names[N_CUT_EXPRS];
    int m = 0;
    for (int k = 0; k < N_CUT_EXPRS; k++)
        if (strstr(cut_exprs[k], "count(") || strstr(cut_exprs[k], "any(") ||
            strstr(cut_exprs[k], "all(")) {
            counting[m] = cuts[k];
            names[m++] = cut_exprs[k];
        }
    assert_true(m >= 4);
    static uint32_t sel[N_EVENTS];
    int n = 0;
    for (int e = 0; e < N_EVENTS; e++)
        if (e % 3 != 2)
            sel[n++] = (uint32_t)e;
    cutc_set *set = cutc_build(s, (const cut_program *const *)counting, m, &err);
    if (!set)
        fail_msg("cutc_build: %s", err.msg);
    compare_k(set, counting, names, m, b, NULL, N_EVENTS);
    compare_k(set, counting, names, m, b, sel, n);
    cutc_free(set);
    for (int k = 0; k < m; k++) {
        set = cutc_build(s, (const cut_program *const *)&counting[k], 1, &err);
        if (!set)
            fail_msg("cutc_build: %s", err.msg);
        compare_k(set, &counting[k], &names[k], 1, b, NULL, N_EVENTS);
        cutc_free(set);
    }
    free_all(cuts);
    ngt_batch_free(b);
    ngt_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_compiled_equals_interpreted),
                                       cmocka_unit_test(test_threshold_families),
                                       cmocka_unit_test(test_no_compiler),
                                       cmocka_unit_test(test_source_shares),
                                       cmocka_unit_test(test_scalar_sets_vectorised),
                                       cmocka_unit_test(test_counts_bounded)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
