/* test_optests.c: genc on every case of the operator zoo (tools/make_op_tests.py, written by the
 * genc_optests_generate fixture) against ONNX Runtime within the tolerance of conform.h, and the
 * same bits when the events run in calls of 1 and 7 (batch invariance). Reports the worst case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "genc/genc.h"
#include "conform/conform.h"

static void test_zoo(void **state)
{
    (void)state;
    static const int chunks[] = {1, 7};
    conform_zoo z = {.be = genc_backend(),
                     .who = "genc",
                     .ws_slack = CONFORM_GENC_WS_SLACK,
                     .chunks = chunks,
                     .n_chunks = 2,
                     .min_cases = 30};
    conform_zoo_run(&z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_zoo)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
