/* test_optests.c: ref on every case of the operator zoo (tools/make_op_tests.py, run by the
 * ref_optests_generate fixture) against ONNX Runtime, within the tolerance of conform.h, and
 * bit-identical when each event is run alone (batch invariance). Reports the worst case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ref/ref.h"
#include "conform/conform.h"

static void test_zoo(void **state)
{
    (void)state;
    static const int chunks[] = {1};
    conform_zoo z = {
        .be = ref_backend(), .who = "ref", .chunks = chunks, .n_chunks = 1, .min_cases = 1};
    conform_zoo_run(&z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_zoo)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
