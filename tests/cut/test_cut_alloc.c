/* test_cut_alloc.c: cut_eval allocates nothing. The malloc family is wrapped at link time
 * (-Wl,--wrap) so every allocation made by the library's code in this binary is counted. */
#include "testutil.h"

#include "cut.h"
#include "cut_data.h"
#include "cut_exprs.h"
#include "alloc_wrap.h"

enum { N_EVENTS = 700 };

/* The counter sees the library's allocations: compiling a cut allocates. */
static void test_counter_works(void **state)
{
    (void)state;
    ngt_schema *s = cd_schema();
    ngt_error err = {0};
    aw_counting = 1;
    aw_allocations = 0;
    cut_program *c = cut_compile(s, "count(jet, pt > 30) >= 2", &err);
    aw_counting = 0;
    assert_non_null(c);
    assert_true(aw_allocations >= 3);
    cut_free(c);
    ngt_schema_free(s);
}

/* Every expression of the NumPy suite, over several blocks, allocates nothing while it runs. */
static void test_eval_allocates_nothing(void **state)
{
    (void)state;
    ngt_schema *s = cd_schema();
    ngt_batch *b = cd_batch(s, N_EVENTS, 99);
    assert_non_null(b);
    static uint32_t sel[N_EVENTS];
    static uint8_t pass[N_EVENTS];
    int n = 0;
    for (int e = 0; e < N_EVENTS; e += 1 + (e % 3 == 0))
        sel[n++] = (uint32_t)e;
    for (int k = 0; k < N_CUT_EXPRS; k++) {
        ngt_error err = {0};
        cut_program *c = cut_compile(s, cut_exprs[k], &err);
        assert_non_null(c);
        void *scratch = aligned_alloc(64, (cut_scratch_size(c, n) + 63) / 64 * 64);
        assert_non_null(scratch);
        aw_counting = 1;
        aw_allocations = 0;
        for (int rep = 0; rep < 3; rep++)
            assert_int_equal(cut_eval(c, b, sel, n, pass, scratch), NGT_OK);
        aw_counting = 0;
        if (aw_allocations)
            fail_msg("'%s': %ld aw_allocations during eval", cut_exprs[k], aw_allocations);
        free(scratch);
        cut_free(c);
    }
    ngt_batch_free(b);
    ngt_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_works),
        cmocka_unit_test(test_eval_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
