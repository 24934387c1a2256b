/* test_batch.c: column layout (alignment, padding), counts, zero-copy wrapping and counted copies.
 */
#include "testutil.h"

static void layout(void **state)
{
    (void)state;
    ngt_schema *s = tu_schema();
    ngt_error err;
    ngt_batch *b = ngt_batch_new(s, 7, &err);
    assert_non_null(b);
    for (int i = 0; i < ngt_schema_ncolumns(s); i++)
        assert_int_equal((uintptr_t)ngt_batch_column(b, i) % 64, 0);
    /* x: 7 floats = 28 bytes, padded to 64: y starts 64 bytes later */
    char *x = ngt_batch_column_by_name(b, "x"), *y = ngt_batch_column_by_name(b, "y");
    assert_int_equal(y - x, 64);
    char *v = ngt_batch_column_by_name(b, "v");
    assert_int_equal(v - y, 64);
    assert_int_equal(ngt_batch_capacity(b), 7);
    assert_int_equal(ngt_batch_set_count(b, 8, &err), NGT_EINVAL);
    assert_int_equal(ngt_batch_set_count(b, 7, &err), NGT_OK);
    assert_int_equal(ngt_batch_count(b), 7);
    assert_null(ngt_batch_column(b, 99));
    ngt_batch_free(b);
    ngt_schema_free(s);
}

static void wrap(void **state)
{
    (void)state;
    ngt_schema *s = tu_schema();
    ngt_error err;
    ngt_batch *b = ngt_batch_new(s, 16, &err);
    float *aligned = aligned_alloc(64, 64 * 4);
    float *raw = malloc(17 * 4 + 64);
    float *unaligned = (float *)((char *)raw + 4 + (64 - (uintptr_t)raw % 64) % 64);
    for (int i = 0; i < 16; i++)
        aligned[i] = unaligned[i] = (float)i;
    int x = ngt_schema_find(s, "x");
    assert_int_equal(ngt_batch_wrap(b, x, aligned, 16, &err), NGT_OK);
    assert_ptr_equal(ngt_batch_column(b, x), aligned);
    assert_int_equal(ngt_batch_copies(b), 0);
    assert_int_equal(ngt_batch_wrap(b, x, unaligned, 16, &err), NGT_OK);
    assert_ptr_not_equal(ngt_batch_column(b, x), unaligned);
    assert_int_equal(((float *)ngt_batch_column(b, x))[15], 15.0f);
    assert_int_equal(ngt_batch_copies(b), 1);
    assert_int_equal(ngt_batch_wrap(b, x, aligned, 17, &err), NGT_EINVAL);
    assert_non_null(strstr(err.msg, "do not fit"));
    ngt_batch_unwrap(b);
    assert_int_equal((uintptr_t)ngt_batch_column(b, x) % 64, 0);
    free(aligned);
    free(raw);
    ngt_batch_free(b);
    ngt_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(layout), cmocka_unit_test(wrap)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
