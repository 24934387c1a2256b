/* test_schema.c: schema columns, collections, identity, canonical text, id and parsing. */
#include "testutil.h"

static uint64_t fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void canonical_text_and_id(void **state)
{
    (void)state;
    ngt_schema *s = tu_schema();
    ngt_error err;
    assert_int_equal(ngt_schema_set_identity(s, "run", NULL, "evt", &err), NGT_OK);
    const char *want = "ngt-schema 1\n"
                       "column x f32\n"
                       "column y f32\n"
                       "column v f32[8]\n"
                       "collection jet 6 pt:f32 eta:f32 phi:f32\n"
                       "column evt u64\n"
                       "scalar run u32\n"
                       "identity run - evt\n";
    assert_string_equal(ngt_schema_text(s), want);
    assert_true(ngt_schema_id(s) == fnv(want));
    ngt_schema *p = ngt_schema_parse(want, &err);
    assert_non_null(p);
    assert_string_equal(ngt_schema_text(p), want);
    assert_true(ngt_schema_id(p) == ngt_schema_id(s));
    ngt_schema_free(p);
    ngt_schema_free(s);
}

static void columns_and_collections(void **state)
{
    (void)state;
    ngt_schema *s = tu_schema();
    int n = ngt_schema_find(s, "jet.n"), pt = ngt_schema_find(s, "jet.pt");
    assert_true(n >= 0 && pt == n + 1);
    const ngt_column_info *c = ngt_schema_column(s, pt);
    assert_int_equal(c->kind, NGT_COL_FIELD);
    assert_int_equal(c->rank, 1);
    assert_int_equal(c->shape[0], 6);
    assert_int_equal(c->collection, n);
    assert_int_equal(ngt_schema_column(s, n)->kind, NGT_COL_COUNT);
    assert_int_equal(ngt_schema_column(s, n)->dtype, NGT_I32);
    const ngt_column_info *v = ngt_schema_column(s, ngt_schema_find(s, "v"));
    assert_int_equal(v->elems, 8);
    assert_int_equal(v->row_bytes, 32);
    assert_int_equal(ngt_schema_column(s, ngt_schema_find(s, "run"))->kind, NGT_COL_SCALAR);
    ngt_schema_free(s);
}

static void bad_declarations(void **state)
{
    (void)state;
    ngt_schema *s = ngt_schema_new();
    ngt_error err;
    assert_true(ngt_schema_add(s, "a", "f33", &err) < 0);
    assert_non_null(strstr(err.msg, "bad type 'f33'"));
    assert_true(ngt_schema_add(s, "a", "f32[0]", &err) < 0);
    assert_non_null(strstr(err.msg, "bad shape"));
    assert_true(ngt_schema_add(s, "1a", "f32", &err) < 0);
    assert_non_null(strstr(err.msg, "bad column name"));
    assert_true(ngt_schema_add(s, "a", "f32[2][3]", &err) >= 0);
    assert_int_equal(ngt_schema_column(s, 0)->elems, 6);
    assert_true(ngt_schema_add(s, "a", "f32", &err) < 0);
    assert_non_null(strstr(err.msg, "declared twice"));
    const char *f[] = {"pt", "pt"};
    ngt_dtype t[] = {NGT_F32, NGT_F32};
    assert_true(ngt_schema_add_collection(s, "mu", 4, 2, f, t, &err) < 0);
    assert_non_null(strstr(err.msg, "field 'pt' declared twice"));
    assert_true(ngt_schema_add_collection(s, "mu", 0, 1, f, t, &err) < 0);
    assert_true(ngt_schema_set_identity(s, "a", NULL, NULL, &err) < 0);
    assert_non_null(strstr(err.msg, "must be an integer"));
    assert_null(ngt_schema_parse("ngt-schema 1\ncolumn x f99\n", &err));
    assert_non_null(strstr(err.msg, "schema line 2"));
    assert_null(ngt_schema_parse("hello", &err));
    ngt_schema_free(s);
}

static void dtypes(void **state)
{
    (void)state;
    ngt_dtype t;
    for (int i = 0; i < NGT_DTYPE_COUNT; i++) {
        assert_int_equal(ngt_dtype_parse(ngt_dtype_name((ngt_dtype)i), &t), NGT_OK);
        assert_int_equal(t, i);
    }
    assert_int_equal(ngt_dtype_size(NGT_F64), 8);
    assert_int_equal(ngt_dtype_size(NGT_BOOL), 1);
    assert_int_equal(ngt_dtype_parse("float", &t), NGT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canonical_text_and_id),
        cmocka_unit_test(columns_and_collections),
        cmocka_unit_test(bad_declarations),
        cmocka_unit_test(dtypes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
