/* test_contracts.c: known-answer vectors for the contracts other systems reimplement: the schema
 * id (docs/schema.md) and the prescale decision (docs/prescale.md). The expected values were
 * computed by an independent implementation (a few lines of Python, shown in the docs); a change
 * here breaks every sender, farm node and offline tool that computes them. */
#include "testutil.h"

static const char SCHEMA_TEXT[] = "ngt-schema 1\n"
                                  "column fad_in f32[77]\n"
                                  "column pt f32\n"
                                  "collection jet 12 pt:f32 eta:f32 phi:f32\n"
                                  "scalar run u32\n"
                                  "identity run - -\n";

static void test_schema_id(void **state)
{
    (void)state;
    ngt_error e = {0};
    ngt_schema *s = ngt_schema_parse(SCHEMA_TEXT, &e);
    assert_non_null(s);
    assert_string_equal(ngt_schema_text(s), SCHEMA_TEXT);
    assert_true(ngt_schema_id(s) == 0xb0e21aa91388676eULL);
    ngt_schema_free(s);
    /* the same schema declared through the API */
    s = ngt_schema_new();
    TU_OK(ngt_schema_add(s, "fad_in", "f32[77]", &e));
    TU_OK(ngt_schema_add(s, "pt", "f32", &e));
    const char *fields[3] = {"pt", "eta", "phi"};
    ngt_dtype types[3] = {NGT_F32, NGT_F32, NGT_F32};
    TU_OK(ngt_schema_add_collection(s, "jet", 12, 3, fields, types, &e));
    TU_OK(ngt_schema_add_scalar(s, "run", NGT_U32, &e));
    TU_OK(ngt_schema_set_identity(s, "run", NULL, NULL, &e));
    assert_string_equal(ngt_schema_text(s), SCHEMA_TEXT);
    assert_true(ngt_schema_id(s) == 0xb0e21aa91388676eULL);
    ngt_schema_free(s);
    s = ngt_schema_parse("ngt-schema 1\ncolumn x f32\n", &e);
    assert_true(ngt_schema_id(s) == 0x6def74f236e2d08eULL);
    ngt_schema_free(s);
}

/* Runs a one-chain menu with prescale n over 64 events and returns the accepted events' bitmap. */
static uint64_t kept(ngt_schema *s, const char *chain, uint32_t n, void (*fill)(ngt_batch *))
{
    ngt_error e = {0};
    ngt_registry *r = ngt_registry_new(&e);
    ngt_menu *m = ngt_menu_new(s, r, &e);
    int c = ngt_menu_chain(m, chain, &e);
    TU_OK(ngt_menu_prescale(m, c, n, &e));
    TU_OK(ngt_menu_build(m, &e));
    ngt_ctx *ctx = ngt_ctx_new(m, 64, &e);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 64, &e);
    TU_OK(ngt_batch_set_count(b, 64, &e));
    fill(b);
    TU_OK(ngt_menu_process(m, ctx, b, &e));
    const uint8_t *st = ngt_batch_column_by_name(b, "ngt.status");
    uint64_t bits = 0;
    for (int i = 0; i < 64; i++)
        bits |= (uint64_t)(st[i] == NGT_EVENT_ACCEPTED) << i;
    ngt_batch_free(b);
    ngt_ctx_free(ctx);
    ngt_menu_free(m);
    ngt_registry_free(r);
    return bits;
}

static uint64_t bitmap(const int *v, int n)
{
    uint64_t b = 0;
    for (int i = 0; i < n; i++)
        b |= 1ULL << v[i];
    return b;
}

static void fill_identity(ngt_batch *b)
{
    int64_t *evt = ngt_batch_column_by_name(b, "evt");
    *(uint32_t *)ngt_batch_column_by_name(b, "run") = 362000;
    *(uint32_t *)ngt_batch_column_by_name(b, "lumi") = 17;
    uint64_t *ids = ngt_batch_event_ids(b);
    for (int i = 0; i < 64; i++) {
        evt[i] = 1000 + i;
        ids[i] = 0xdead0000 + (uint64_t)i * 7919; /* ignored: the identity decides */
    }
}

static void fill_ids(ngt_batch *b)
{
    uint64_t *ids = ngt_batch_event_ids(b);
    for (int i = 0; i < 64; i++)
        ids[i] = (7ULL << 40) | (uint64_t)i;
}

static void test_prescale_vectors(void **state)
{
    (void)state;
    ngt_error e = {0};
    /* identity (run 362000, lumi 17, event 1000 + i), chain L1_Test, prescale 5 */
    ngt_schema *s = ngt_schema_new();
    TU_OK(ngt_schema_add(s, "evt", "i64", &e));
    TU_OK(ngt_schema_add_scalar(s, "run", NGT_U32, &e));
    TU_OK(ngt_schema_add_scalar(s, "lumi", NGT_U32, &e));
    TU_OK(ngt_schema_set_identity(s, "run", "lumi", "evt", &e));
    static const int with_identity[] = {1, 2, 6, 8, 19, 21, 26, 39, 41, 43, 48, 49, 51, 53, 54, 61};
    assert_true(kept(s, "L1_Test", 5, fill_identity) ==
                bitmap(with_identity, (int)(sizeof with_identity / sizeof *with_identity)));
    ngt_schema_free(s);
    /* no identity: event ids (7 << 40) | i, chain HLT_Random, prescale 3 */
    s = ngt_schema_new();
    TU_OK(ngt_schema_add(s, "x", "f32", &e));
    static const int with_ids[] = {4,  8,  12, 13, 18, 19, 30, 31, 32, 33, 38,
                                   40, 43, 48, 50, 51, 52, 58, 59, 60, 61};
    assert_true(kept(s, "HLT_Random", 3, fill_ids) ==
                bitmap(with_ids, (int)(sizeof with_ids / sizeof *with_ids)));
    ngt_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_schema_id),
                                       cmocka_unit_test(test_prescale_vectors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
