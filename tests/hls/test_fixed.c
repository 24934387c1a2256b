/* test_fixed.c: hls_fixed against Xilinx ap_types: every source code for narrow types in every
 * mode, random doubles and random wide values (expectations in data/aptypes.txt, see its tool). */
#include <math.h>

#include "testutil.h"

#include "hls/hls_fixed.h"

/* ap_types' enum orders (ap_decl.h) mapped to ours. */
static const int QMAP[] = {HLS_RND,      HLS_RND_ZERO, HLS_RND_MIN_INF, HLS_RND_INF,
                           HLS_RND_CONV, HLS_TRN,      HLS_TRN_ZERO};
static const int OMAP[] = {HLS_SAT, HLS_SAT_ZERO, HLS_SAT_SYM, HLS_WRAP};

static uint64_t sm_state;
static uint64_t next_u64(void)
{
    uint64_t z = (sm_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t fnv(uint64_t h, uint64_t v)
{
    for (int k = 0; k < 8; k++) {
        h ^= (v >> (8 * k)) & 0xff;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t fnv_raw(uint64_t h, hls_i128 r)
{
    return fnv(fnv(h, (uint64_t)(hls_u128)r), (uint64_t)((hls_u128)r >> 64));
}

static uint64_t run_case(const char *kind, const hls_type *t)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    if (strcmp(kind, "narrow") == 0) {
        int ws = t->w + 5, is = t->i + 2;
        for (long c = -(1L << (ws - 1)); c < (1L << (ws - 1)); c++)
            h = fnv_raw(h, hls_quant(c, ws - is, t, NULL));
    } else if (strcmp(kind, "double") == 0) {
        sm_state = 12345 + (uint64_t)(t->w * 1000 + t->i * 10 + t->sign);
        for (int n = 0; n < 300; n++) {
            int64_t m = (int64_t)(next_u64() >> 11) - (1LL << 52);
            int e = t->i + 1 - 52 - (int)(next_u64() % 12);
            h = fnv_raw(h, hls_from_double(ldexp((double)m, e), t, NULL));
        }
    } else {
        sm_state = 777 + (uint64_t)(t->w * 1000 + (t->i + 300) * 3 + t->sign);
        for (int n = 0; n < 2000; n++) {
            uint64_t u = next_u64();
            int sh = (int)(next_u64() % 48);
            int64_t c = (int64_t)u >> sh;
            h = fnv_raw(h, hls_quant(c, 64 - 20, t, NULL));
        }
    }
    return h;
}

static void test_against_aptypes(void **state)
{
    (void)state;
    FILE *f = fopen("tests/hls/data/aptypes.txt", "r");
    assert_non_null(f);
    char line[256], kind[16];
    int lines = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        int s, w, i, q, o;
        long count;
        unsigned long long want;
        if (sscanf(line, "%15s %d %d %d %d %d %ld %llx", kind, &s, &w, &i, &q, &o, &count, &want) !=
            8)
            fail_msg("bad line: %s", line);
        hls_type t = {w, i, s, QMAP[q], OMAP[o]};
        uint64_t got = run_case(kind, &t);
        if (got != want) {
            char buf[64];
            if (bad < 20)
                print_message("mismatch: %s %s\n", kind, hls_type_str(&t, buf, sizeof buf));
            bad++;
        }
        lines++;
    }
    fclose(f);
    print_message("%d cases against ap_types, %d mismatches\n", lines, bad);
    assert_true(lines > 2500);
    assert_int_equal(bad, 0);
}

/* The worked examples of ap_fixed<6,3> (LSB 0.125) in notes/inference-backends.md. */
static double as(double x, int q, int o)
{
    hls_type t = {6, 3, 1, q, o};
    return hls_to_double(hls_from_double(x, &t, NULL), &t);
}

static void test_examples(void **state)
{
    (void)state;
    assert_true(as(0.0625, HLS_RND, HLS_WRAP) == 0.125);
    assert_true(as(-0.0625, HLS_RND, HLS_WRAP) == 0.0);
    assert_true(as(-0.0625, HLS_TRN, HLS_WRAP) == -0.125);
    assert_true(as(-0.1875, HLS_TRN_ZERO, HLS_WRAP) == -0.125);
    assert_true(as(0.1875, HLS_RND_CONV, HLS_WRAP) == 0.25);
    assert_true(as(-0.1875, HLS_RND_CONV, HLS_WRAP) == -0.25);
    assert_true(as(-0.0625, HLS_RND_INF, HLS_WRAP) == -0.125);
    assert_true(as(3.99, HLS_RND, HLS_WRAP) == -4.0);
    assert_true(as(5.0, HLS_TRN, HLS_WRAP) == -3.0);
    assert_true(as(5.0, HLS_TRN, HLS_SAT) == 3.875);
    assert_true(as(5.0, HLS_TRN, HLS_SAT_ZERO) == 0.0);
    assert_true(as(-5.0, HLS_TRN, HLS_SAT) == -4.0);
    assert_true(as(-5.0, HLS_TRN, HLS_SAT_SYM) == -3.875);
    assert_true(as(-4.0, HLS_TRN, HLS_SAT_SYM) == -3.875);
    int fl = 0;
    hls_type t = {6, 3, 1, HLS_TRN, HLS_SAT};
    hls_from_double(5.0, &t, &fl);
    assert_int_equal(fl & HLS_F_OVERFLOW, HLS_F_OVERFLOW);
}

static void test_parse(void **state)
{
    (void)state;
    hls_type t;
    ngt_error err = {0};
    char buf[64];
    assert_int_equal(hls_type_parse("ap_fixed<16,6>", &t, 32, &err), NGT_OK);
    assert_true(t.w == 16 && t.i == 6 && t.sign && t.q == HLS_TRN && t.o == HLS_WRAP);
    assert_int_equal(hls_type_parse("fixed<18, 8, RND_CONV, SAT_SYM>", &t, 32, &err), NGT_OK);
    assert_string_equal(hls_type_str(&t, buf, sizeof buf), "ap_fixed<18,8,AP_RND_CONV,AP_SAT_SYM>");
    assert_int_equal(hls_type_parse("ap_ufixed<8,0,AP_RND,AP_SAT>", &t, 32, &err), NGT_OK);
    assert_true(!t.sign && t.w == 8 && t.i == 0 && t.q == HLS_RND && t.o == HLS_SAT);
    assert_int_equal(hls_type_parse("uint<4>", &t, 32, &err), NGT_OK);
    assert_true(!t.sign && t.w == 4 && t.i == 4);
    assert_int_equal(hls_type_parse("ap_fixed<40,10>", &t, 32, &err), NGT_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "width 40"));
    assert_int_equal(hls_type_parse("ap_fixed<129,10>", &t, 128, &err), NGT_EUNSUPPORTED);
    assert_int_equal(hls_type_parse("ap_fixed<16,6,AP_FOO>", &t, 32, &err), NGT_EINVAL);
    assert_non_null(strstr(err.msg, "AP_FOO"));
    assert_int_equal(hls_type_parse("float", &t, 32, &err), NGT_EINVAL);
    assert_int_equal(hls_type_parse("fixed<16,6", &t, 32, &err), NGT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_aptypes),
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
