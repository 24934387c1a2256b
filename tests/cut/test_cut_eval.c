/* test_cut_eval.c: evaluation of compiled cuts on hand-set values: selections with gaps across
 * several blocks, every dtype, clamped counts, missing objects, kinematics, scratch sizing. */
#include "testutil.h"

#include "cut.h"
#include "cut_data.h"

#include <math.h>

enum { N_EVENTS = 600 };

static ngt_schema *schema;
static ngt_batch *batch;
static void *scratch;

static int setup(void **state)
{
    (void)state;
    schema = cd_schema();
    batch = schema ? cd_batch(schema, N_EVENTS, 5) : NULL;
    scratch = aligned_alloc(64, 16u << 20);
    return batch && scratch ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ngt_batch_free(batch);
    ngt_schema_free(schema);
    free(scratch);
    return 0;
}

static void *col(const char *name)
{
    void *p = ngt_batch_column_by_name(batch, name);
    assert_non_null(p);
    return p;
}

/* Evaluates expr on sel[0..n) into pass. */
static void eval(const char *expr, const uint32_t *sel, int n, uint8_t *pass)
{
    ngt_error err = {0};
    cut_program *c = cut_compile(schema, expr, &err);
    if (!c)
        fail_msg("'%s': %s", expr, err.msg);
    assert_true(cut_scratch_size(c, n) <= 16u << 20);
    memset(pass, 9, (size_t)n);
    assert_int_equal(cut_eval(c, batch, sel, n, pass, scratch), NGT_OK);
    cut_free(c);
}

/* The value of expr on event e alone. */
static int eval_event(const char *expr, uint32_t e)
{
    uint8_t pass;
    eval(expr, &e, 1, &pass);
    return pass;
}

static void test_selection_with_gaps(void **state)
{
    (void)state;
    float *pt = col("pt");
    for (int e = 0; e < N_EVENTS; e++)
        pt[e] = (float)e;
    static uint32_t sel[N_EVENTS];
    static uint8_t pass[N_EVENTS];
    int n = 0;
    for (int e = 1; e < N_EVENTS; e += 2) /* odd events only: 300 of them, two blocks */
        sel[n++] = (uint32_t)e;
    eval("pt >= 301 and pt < 555", sel, n, pass);
    for (int i = 0; i < n; i++)
        assert_int_equal(pass[i], sel[i] >= 301 && sel[i] < 555);
    /* descending order and repeats are read as given */
    uint32_t odd[4] = {599, 2, 2, 300};
    eval("pt > 299.5", odd, 4, pass);
    assert_memory_equal(pass, ((uint8_t[]){1, 0, 0, 1}), 4);
}

/* A wide cut uses blocks smaller than 256 events; the result does not depend on it. */
static void test_wide_cut_over_blocks(void **state)
{
    (void)state;
    const float *in = col("fad_in"), *out = col("fad_out");
    static uint32_t sel[N_EVENTS];
    static uint8_t pass[N_EVENTS];
    for (int e = 0; e < N_EVENTS; e++)
        sel[e] = (uint32_t)e;
    eval("mean((fad_out - fad_in[0:76])**2) > 1.5", sel, N_EVENTS, pass);
    int passed = 0;
    for (int e = 0; e < N_EVENTS; e++) {
        double acc = 0;
        for (int j = 0; j < 76; j++) {
            double d = (double)out[e * 76 + j] - (double)in[e * 77 + j];
            acc += d * d;
        }
        assert_int_equal(pass[e], acc / 76 > 1.5);
        passed += pass[e];
    }
    assert_true(passed > 10 && passed < N_EVENTS - 10);
}

static void test_every_dtype(void **state)
{
    (void)state;
    const uint32_t e = 17;
    ((int8_t *)col("s8"))[e] = -128;
    ((int16_t *)col("hits"))[e * 8 + 7] = -32768;
    ((int32_t *)col("nhit"))[e] = -2147483647 - 1;
    ((int64_t *)col("big"))[e] = -((int64_t)1 << 40);
    ((uint8_t *)col("q"))[e * 6 + 5] = 255;
    ((uint16_t *)col("w16"))[e] = 65535;
    ((uint32_t *)col("w32"))[e] = 4294967295u;
    ((uint64_t *)col("w64"))[e] = 1ull << 63;
    ((uint8_t *)col("flag"))[e] = 1;
    ((float *)col("pt"))[e] = 0.1f;
    ((double *)col("x"))[e] = 0.1;
    ((float *)col("m2"))[e * 6 + 4] = -2.5f;
    assert_true(eval_event("s8 == -128 and hits[7] == -32768 and nhit == -2147483648", e));
    assert_true(eval_event("big == -1099511627776 and q[5] == 255 and w16 == 65535", e));
    assert_true(eval_event("w32 == 4294967295 and w64 == 9223372036854775808 and flag", e));
    assert_true(eval_event("m2[4] == -2.5 and x == 0.1", e));
    /* f32 0.1 is read exactly and compared in double: it is not the double 0.1 */
    assert_false(eval_event("pt == 0.1", e));
    assert_true(eval_event("pt > 0.1 and pt < 0.1000001", e));
    ((uint8_t *)col("flag"))[e] = 0;
    assert_false(eval_event("flag", e));
    assert_true(eval_event("not flag", e));
}

static void test_batch_scalars_broadcast(void **state)
{
    (void)state;
    *(uint32_t *)col("run") = 4000000000u;
    *(double *)col("calib") = -0.5;
    uint32_t sel[3] = {0, 300, 599};
    uint8_t pass[3];
    eval("run == 4000000000 and calib < 0", sel, 3, pass);
    assert_memory_equal(pass, ((uint8_t[]){1, 1, 1}), 3);
    *(uint32_t *)col("run") = 7;
    eval("run == 4000000000 or calib > 0", sel, 3, pass);
    assert_memory_equal(pass, ((uint8_t[]){0, 0, 0}), 3);
}

static void set_jets(uint32_t e, int n, const float *pt, const float *eta, const float *phi, int k)
{
    ((int32_t *)col("jet.n"))[e] = n;
    for (int j = 0; j < k; j++) {
        ((float *)col("jet.pt"))[e * CD_JET_MAX + j] = pt[j];
        ((float *)col("jet.eta"))[e * CD_JET_MAX + j] = eta[j];
        ((float *)col("jet.phi"))[e * CD_JET_MAX + j] = phi[j];
    }
}

static void test_counts_are_clamped(void **state)
{
    (void)state;
    float pt[CD_JET_MAX], z[CD_JET_MAX] = {0};
    for (int j = 0; j < CD_JET_MAX; j++)
        pt[j] = 40;
    set_jets(3, -3, pt, z, z, CD_JET_MAX);
    assert_true(eval_event("count(jet) == 0 and jet.n == 0 and all(jet, pt > 1000)", 3));
    assert_false(eval_event("any(jet, pt > 0) or sum(jet, pt) != 0", 3));
    set_jets(3, 99, pt, z, z, CD_JET_MAX);
    assert_true(eval_event("count(jet) == 12 and jet.n == 12 and ht(jet) == 480", 3));
    set_jets(3, 2, pt, z, z, CD_JET_MAX); /* entries past the count never count */
    assert_true(eval_event("count(jet, pt > 30) == 2 and max(jet.pt) == 40", 3));
    assert_true(eval_event("sum(jet, pt, pt > 50) == 0 and mean(jet, pt) == 40", 3));
}

/* A missing object reads as NaN: every comparison is false except '!='. */
static void test_missing_objects(void **state)
{
    (void)state;
    float pt[2] = {50, 20}, z[2] = {0, 0};
    set_jets(4, 1, pt, z, z, 2);
    assert_true(eval_event("leading(jet, 0).pt == 50", 4));
    assert_false(eval_event("leading(jet, 1).pt < 1000", 4));
    assert_false(eval_event("leading(jet, 1).pt >= -1000", 4));
    assert_false(eval_event("jet.pt[1] == 20", 4));
    assert_true(eval_event("leading(jet, 1).pt != 20", 4));
    assert_false(eval_event("mass(jet, 0, 1) >= 0 or deltaR(jet, 0, 1) >= 0", 4));
    assert_false(eval_event("max(jet, pt, pt > 60) > -1 or maxmass(jet) >= 0", 4));
    assert_false(eval_event("mean(jet, pt, pt > 60) > -1 or mindr(jet) >= 0", 4));
}

static void test_kinematics(void **state)
{
    (void)state;
    /* back to back: m = 2 sqrt(pt1 pt2) = 20; phi 3 and -3 are 2 pi - 6 apart */
    float pt[3] = {10, 10, 5}, eta[3] = {0, 0, 1}, phi[3] = {0, (float)3.141592653589793, 3};
    set_jets(5, 3, pt, eta, phi, 3);
    assert_true(eval_event("mass(jet, 0, 1) > 19.9999 and mass(jet, 0, 1) < 20.0001", 5));
    assert_true(eval_event("mass(jet, 1, 0) == mass(jet, 0, 1) and mass(jet, 2, 2) == 0", 5));
    double dphi = (double)(float)3.141592653589793 - 3.0, dr = sqrt(1 + dphi * dphi);
    char expr[128];
    snprintf(expr, sizeof expr, "deltaR(jet, 1, 2) > %.12f and deltaR(jet, 1, 2) < %.12f",
             dr - 1e-9, dr + 1e-9);
    assert_true(eval_event(expr, 5));
    assert_true(
        eval_event("maxmass(jet) == mass(jet, 0, 1) and mindr(jet) == deltaR(jet, 1, 2)", 5));
    assert_true(eval_event("maxmass(jet, pt < 8) != 0", 5)); /* one object: no pair, NaN */
    /* muons carry a mass: two at rest-like kinematics, m = m1 + m2 when collinear */
    ((int32_t *)col("mu.n"))[5] = 2;
    float *mpt = col("mu.pt"), *meta = col("mu.eta"), *mphi = col("mu.phi"), *mm = col("mu.m");
    for (int j = 0; j < 2; j++)
        mpt[5 * 4 + j] = 3, meta[5 * 4 + j] = 0.5f, mphi[5 * 4 + j] = 1, mm[5 * 4 + j] = 4;
    assert_true(eval_event("mass(mu, 0, 1) > 7.99999 and mass(mu, 0, 1) < 8.00001", 5));
}

static void test_scratch_size(void **state)
{
    (void)state;
    ngt_error err = {0};
    cut_program *c = cut_compile(schema, "count(jet, pt > 30) >= 2 and pt > 1", &err);
    assert_non_null(c);
    size_t s1 = cut_scratch_size(c, 1), s256 = cut_scratch_size(c, 256);
    assert_true(s1 > 0 && s1 < s256);
    assert_int_equal(cut_scratch_size(c, 100000), s256); /* one block at most */
    uint8_t pass = 5;
    assert_int_equal(cut_eval(c, batch, NULL, 0, &pass, NULL), NGT_OK);
    assert_int_equal(pass, 5);
    cut_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selection_with_gaps), cmocka_unit_test(test_wide_cut_over_blocks),
        cmocka_unit_test(test_every_dtype),         cmocka_unit_test(test_batch_scalars_broadcast),
        cmocka_unit_test(test_counts_are_clamped),  cmocka_unit_test(test_missing_objects),
        cmocka_unit_test(test_kinematics),          cmocka_unit_test(test_scratch_size),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
