/* test_cut_numpy.c: evaluates every expression of cut_exprs.h on a seeded batch through a
 * selection with gaps and writes columns, selection and pass masks as .npy for numpy_check.py. */
#include "testutil.h"

#include "cut.h"
#include "cut_data.h"
#include "cut_exprs.h"

enum { N_EVENTS = 1000 };

static const char *out_dir(void)
{
    const char *d = getenv("NGT_CUT_NPY_DIR");
    return d && *d ? d : "cut_numpy";
}

static void write_columns(ngt_batch *b, const char *dir)
{
    const ngt_schema *s = ngt_batch_schema(b);
    char path[1024];
    for (int c = 0; c < ngt_schema_ncolumns(s); c++) {
        const ngt_column_info *ci = ngt_schema_column(s, c);
        int64_t shape[2] = {N_EVENTS, ci->elems};
        int rank = ci->kind == NGT_COL_SCALAR ? 0 : ci->rank > 0 ? 2 : 1;
        snprintf(path, sizeof path, "%s/%s.npy", dir, ci->name);
        assert_int_equal(cd_npy_write(path, ci->dtype, rank, shape, ngt_batch_column(b, c)), 0);
    }
}

/* Events with gaps (every 7th and 11th missing), more than one block of 256. */
static int make_selection(uint32_t *sel)
{
    int n = 0;
    for (int e = 0; e < N_EVENTS; e++)
        if (e % 7 != 3 && e % 11 != 5)
            sel[n++] = (uint32_t)e;
    return n;
}

/* Evaluates expression k on sel and, as a cross-check, on every event: both must agree. */
static void eval_one(const ngt_schema *s, ngt_batch *b, int k, const uint32_t *sel, int n,
                     uint8_t *pass, const uint32_t *all, void *scratch, size_t scratch_size)
{
    ngt_error err = {0};
    cut_program *c = cut_compile(s, cut_exprs[k], &err);
    if (!c)
        fail_msg("%s: %s", cut_exprs[k], err.msg);
    assert_true(cut_scratch_size(c, N_EVENTS) <= scratch_size);
    memset(pass, 7, (size_t)n);
    assert_int_equal(cut_eval(c, b, sel, n, pass, scratch), NGT_OK);
    uint8_t dense[N_EVENTS];
    assert_int_equal(cut_eval(c, b, all, N_EVENTS, dense, scratch), NGT_OK);
    for (int i = 0; i < n; i++) {
        if (pass[i] > 1 || pass[i] != dense[sel[i]])
            fail_msg("%s: event %u: %d selected, %d dense", cut_exprs[k], sel[i], pass[i],
                     dense[sel[i]]);
    }
    cut_free(c);
}

static void test_numpy_data(void **state)
{
    (void)state;
    const char *dir = out_dir();
    ngt_schema *s = cd_schema();
    assert_non_null(s);
    ngt_batch *b = cd_batch(s, N_EVENTS, 20240611);
    assert_non_null(b);
    write_columns(b, dir);
    static uint32_t sel[N_EVENTS], all[N_EVENTS];
    for (int e = 0; e < N_EVENTS; e++)
        all[e] = (uint32_t)e;
    int n = make_selection(sel);
    int64_t shape[1] = {n};
    char path[1024];
    snprintf(path, sizeof path, "%s/sel.npy", dir);
    assert_int_equal(cd_npy_write(path, NGT_U32, 1, shape, sel), 0);
    size_t scratch_size = 8u << 20;
    void *scratch = aligned_alloc(64, scratch_size);
    snprintf(path, sizeof path, "%s/exprs.txt", dir);
    FILE *list = fopen(path, "w");
    assert_non_null(list);
    for (int k = 0; k < N_CUT_EXPRS; k++) {
        uint8_t pass[N_EVENTS];
        eval_one(s, b, k, sel, n, pass, all, scratch, scratch_size);
        snprintf(path, sizeof path, "%s/mask_%03d.npy", dir, k);
        assert_int_equal(cd_npy_write(path, NGT_U8, 1, shape, pass), 0);
        fprintf(list, "%s\n", cut_exprs[k]);
    }
    fclose(list);
    free(scratch);
    ngt_batch_free(b);
    ngt_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_numpy_data)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
