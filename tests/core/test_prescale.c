/* test_prescale.c: deterministic prescales (fractions within 3 sigma, same events at any batch
 * size, N = 1 and N = 0), physics identity keys, and prescale columns switched at a boundary. */
#include "testutil.h"

#include "menu_int.h"

#include <math.h>

static ngt_menu *menu_with(ngt_schema *s, uint32_t n1, uint32_t n100, uint32_t n0, ngt_error *err)
{
    ngt_menu *m = ngt_menu_new(s, NULL, err);
    int a = ngt_menu_chain(m, "P1", err), b = ngt_menu_chain(m, "P100", err);
    int c = ngt_menu_chain(m, "P0", err);
    TU_OK(ngt_menu_prescale(m, a, n1, err));
    TU_OK(ngt_menu_prescale(m, b, n100, err));
    TU_OK(ngt_menu_prescale(m, c, n0, err));
    const char *chains[] = {"P100"};
    uint32_t f[] = {10};
    TU_OK(ngt_menu_prescale_column(m, "loose", 1, chains, f, err));
    if (ngt_menu_build(m, err) != NGT_OK)
        fail_msg("build: %s", err->msg);
    return m;
}

static void run_count(ngt_menu *m, int bs, uint64_t nev, uint64_t first, uint64_t *kept,
                      unsigned char *bits)
{
    ngt_error err;
    ngt_ctx *c = ngt_ctx_new(m, bs, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), bs, &err);
    for (uint64_t at = 0; at < nev; at += (uint64_t)bs) {
        int n = (int)(nev - at < (uint64_t)bs ? nev - at : (uint64_t)bs);
        for (int i = 0; i < n; i++)
            ngt_batch_event_ids(b)[i] = first + at + (uint64_t)i;
        ngt_batch_set_count(b, n, NULL);
        assert_int_equal(ngt_menu_process(m, c, b, &err), NGT_OK);
        const uint64_t *d = ngt_batch_column_by_name(b, "ngt.decision");
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 3; k++)
                kept[k] += d[i] >> k & 1;
            if (bits)
                bits[at + (uint64_t)i] = (unsigned char)(d[i] >> 1 & 1);
        }
    }
    ngt_batch_free(b);
    ngt_ctx_free(c);
}

static void fractions(void **state)
{
    (void)state;
    ngt_schema *s = ngt_schema_new();
    ngt_error err;
    ngt_menu *m = menu_with(s, 1, 100, 0, &err);
    uint64_t kept[3] = {0}, n = 1000000;
    run_count(m, 256, n, 12345, kept, NULL);
    assert_int_equal(kept[0], n);
    assert_int_equal(kept[2], 0);
    double p = 0.01, mean = (double)n * p, sigma = sqrt((double)n * p * (1 - p));
    assert_true(fabs((double)kept[1] - mean) < 3 * sigma);
    ngt_stats *st = ngt_stats_new(m);
    ngt_stats_read(m, st);
    assert_int_equal(ngt_stats_chain(st, 1)->prescaled, n - kept[1]);
    assert_int_equal(ngt_stats_chain(st, 2)->prescaled, n);
    ngt_stats_free(st);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

static void same_events_any_batching(void **state)
{
    (void)state;
    ngt_schema *s = ngt_schema_new();
    ngt_error err;
    ngt_menu *m = menu_with(s, 1, 7, 0, &err);
    enum { N = 20000 };
    static unsigned char a[N], b[N];
    uint64_t k1[3] = {0}, k2[3] = {0};
    run_count(m, 1, N, 99, k1, a);
    run_count(m, 253, N, 99, k2, b);
    assert_memory_equal(a, b, N);
    assert_true(k1[1] > N / 7 - 3 * 40 && k1[1] < N / 7 + 3 * 40);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

/* With identity declared, the key is (run, lumi, event): ids no longer matter. */
static void identity_key(void **state)
{
    (void)state;
    ngt_error err;
    ngt_schema *s = ngt_schema_new();
    ngt_schema_add(s, "evt", "u64", &err);
    ngt_schema_add_scalar(s, "run", NGT_U32, &err);
    ngt_schema_add_scalar(s, "lumi", NGT_U32, &err);
    TU_OK(ngt_schema_set_identity(s, "run", "lumi", "evt", &err));
    ngt_menu *m = menu_with(s, 1, 5, 0, &err);
    ngt_ctx *c = ngt_ctx_new(m, 64, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 64, &err);
    uint64_t *evt = ngt_batch_column_by_name(b, "evt");
    *(uint32_t *)ngt_batch_column_by_name(b, "run") = 7;
    *(uint32_t *)ngt_batch_column_by_name(b, "lumi") = 3;
    unsigned char first[64];
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 64; i++) {
            evt[i] = 1000 + (uint64_t)i;
            ngt_batch_event_ids(b)[i] = pass ? tu_mix((uint64_t)i) : (uint64_t)i;
        }
        ngt_batch_set_count(b, 64, NULL);
        ngt_menu_process(m, c, b, &err);
        const uint64_t *d = ngt_batch_column_by_name(b, "ngt.decision");
        for (int i = 0; i < 64; i++) {
            if (pass == 0)
                first[i] = (unsigned char)(d[i] >> 1 & 1);
            else
                assert_int_equal(first[i], d[i] >> 1 & 1);
        }
    }
    /* another run number keeps other events */
    *(uint32_t *)ngt_batch_column_by_name(b, "run") = 8;
    ngt_menu_process(m, c, b, &err);
    const uint64_t *d = ngt_batch_column_by_name(b, "ngt.decision");
    int differ = 0;
    for (int i = 0; i < 64; i++)
        differ += first[i] != (d[i] >> 1 & 1);
    assert_true(differ > 0);
    ngt_batch_free(b);
    ngt_ctx_free(c);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

/* A column takes effect at the next batch; with a lumi scalar, at the next lumi section. */
static void column_switch(void **state)
{
    (void)state;
    ngt_error err;
    ngt_schema *s = ngt_schema_new();
    ngt_schema_add_scalar(s, "lumi", NGT_U32, &err);
    TU_OK(ngt_schema_set_identity(s, NULL, "lumi", NULL, &err));
    ngt_menu *m = menu_with(s, 1, 1000000, 0, &err);
    ngt_ctx *c = ngt_ctx_new(m, 256, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 256, &err);
    ngt_stats *st = ngt_stats_new(m);
    uint32_t *lumi = ngt_batch_column_by_name(b, "lumi");
    uint64_t ev = 0;
    int kept_per_batch[6];
    for (int k = 0; k < 6; k++) {
        *lumi = k < 4 ? 1 : 2; /* lumi changes at batch 5 */
        if (k == 2)
            assert_int_equal(ngt_menu_select_column(m, "loose", &err), NGT_OK);
        for (int i = 0; i < 256; i++)
            ngt_batch_event_ids(b)[i] = ev++;
        ngt_batch_set_count(b, 256, NULL);
        ngt_menu_process(m, c, b, &err);
        const uint64_t *d = ngt_batch_column_by_name(b, "ngt.decision");
        kept_per_batch[k] = 0;
        for (int i = 0; i < 256; i++)
            kept_per_batch[k] += (int)(d[i] >> 1 & 1);
    }
    for (int k = 0; k < 4; k++)
        assert_true(kept_per_batch[k] <= 1);                     /* 1 in 10^6 */
    assert_true(kept_per_batch[4] > 5 && kept_per_batch[5] > 5); /* 1 in 10 */
    assert_string_equal(ngt_menu_current_column(m), "loose");
    ngt_stats_read(m, st);
    assert_int_equal(ngt_stats_column_since(st), 5);
    assert_int_equal(ngt_menu_select_column(m, "nope", &err), NGT_EINVAL);
    assert_non_null(strstr(err.msg, "unknown prescale column 'nope'"));
    ngt_stats_free(st);
    ngt_batch_free(b);
    ngt_ctx_free(c);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

/* No identity and event ids never set (all 0): prescale(5) would keep all or none of 10240
 * events. The prescale refuses such a batch (its events errored, the message kept); with ids set
 * it keeps about one in five. */
static void no_keys_refused(void **state)
{
    (void)state;
    ngt_schema *s = ngt_schema_new();
    ngt_error err;
    ngt_schema_add(s, "x", "f32", &err);
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    TU_OK(ngt_menu_prescale(m, ngt_menu_chain(m, "P5", &err), 5, &err));
    TU_OK(ngt_menu_build(m, &err));
    ngt_ctx *c = ngt_ctx_new(m, 256, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 256, &err);
    ngt_stats *st = ngt_stats_new(m);
    for (int k = 0; k < 40; k++) {
        ngt_batch_set_count(b, 256, NULL); /* event ids left 0 */
        assert_int_equal(ngt_menu_process(m, c, b, &err), NGT_ESTEP);
        assert_non_null(strstr(err.msg, "same prescale key"));
        assert_non_null(strstr(err.msg, "event ids"));
    }
    ngt_stats_read(m, st);
    assert_int_equal(ngt_stats_totals(st)->errored, 10240);
    assert_non_null(ngt_stats_step_error(st, 0, NULL));
    uint64_t kept[3] = {0};
    ngt_stats_free(st);
    ngt_batch_free(b);
    ngt_ctx_free(c);
    run_count(m, 256, 10240, 0, kept, NULL); /* ids set: kept near 2048 */
    assert_true(kept[0] > 1800 && kept[0] < 2300);
    ngt_menu_free(m);
    ngt_schema_free(s);
}

/* The batch path (prescale_mask, no division) keeps exactly the events prescale_keep keeps, for
 * factors 0 to 1000, powers of two and large ones, only among live events. */
static void mask_equals_keep(void **state)
{
    (void)state;
    enum { N = 4096 };
    static uint64_t keys[N];
    static uint8_t live[N], keep[N];
    for (int e = 0; e < N; e++) {
        keys[e] = tu_mix((uint64_t)e * 7919);
        live[e] = (uint8_t)(e % 13 != 0);
    }
    uint32_t extra[] = {1024, 4096, 65536, 1u << 31, 3u << 30, 4000000007u, UINT32_MAX};
    for (uint32_t i = 0; i < 1001 + sizeof extra / sizeof extra[0]; i++) {
        uint32_t n = i <= 1000 ? i : extra[i - 1001];
        int kept = prescale_mask(keys, 0x1234567ULL * n, n, live, keep, N), want = 0;
        for (int e = 0; e < N; e++) {
            int k = live[e] && prescale_keep(keys[e], 0x1234567ULL * n, n);
            if (keep[e] != k)
                fail_msg("factor %u, key %d: mask %d, keep %d", n, e, keep[e], k);
            want += k;
        }
        assert_int_equal(kept, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_keys_refused),  cmocka_unit_test(fractions),
        cmocka_unit_test(mask_equals_keep), cmocka_unit_test(same_events_any_batching),
        cmocka_unit_test(identity_key),     cmocka_unit_test(column_switch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
