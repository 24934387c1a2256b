/* test_cut_errors.c: every compile-time error of the cut language names its column and the
 * problem; also the parsed text (precedence made visible) and the columns a cut reads. */
#include "testutil.h"

#include "cut.h"
#include "cut_data.h"

typedef struct bad_cut {
    const char *expr;
    const char *message; /* must appear in the error */
} bad_cut;

static const bad_cut bad[] = {
    {"", "col 1: empty expression"},
    {"   ", "col 4: empty expression"},
    {"pt >", "col 5: expression ends early: expected a number, a name or '('"},
    {"pt > 30 )", "col 9: expected an operator or the end of the expression, found ')'"},
    {"(pt > 30", "col 9: expression ends early: expected ')'"},
    {"pt = 30", "col 4: '=' is not an operator: write '==' to compare"},
    {"pt > 30 && x > 1", "col 9: '&' is not an operator: write 'and'"},
    {"pt > 30 || x > 1", "col 9: '|' is not an operator: write 'or'"},
    {"!flag", "col 1: '!' is not an operator: write 'not'"},
    {"pt > 3e", "col 7: malformed number: the exponent needs digits"},
    {"pt > 30abc", "col 8: malformed number: a letter follows the digits"},
    {"pt $ 3", "col 4: unexpected character '$'"},
    {"pt > \x01", "col 6: unexpected byte 0x01"},
    {"1 < pt < 3", "col 8: comparisons cannot be chained (after the one at col 3)"},
    {"leading(jet, 0). > 1", "col 18: expected a field name after '.', found '>'"},
    {"hits[0 > 1", "col 11: expression ends early: expected ':' or ']'"},
    {"nope > 3", "col 1: unknown column 'nope'"},
    {"count(jet, ptt > 30) > 1", "col 12: unknown column 'ptt' (not a field of 'jet' either)"},
    {"jet > 3", "col 1: 'jet' is a collection, not a value: use count(jet)"},
    {"jet.pt > 30",
     "col 1: 'jet.pt' is an array of 12 values; a comparison needs a scalar: use max(), min(), "
     "sum(), count() or any() to reduce it, or count(coll, pred) over the collection"},
    {"pt > 30 and max(jet.pt) < jet.eta", "col 27: 'jet.eta' is an array of 12 values"},
    {"hits > 0 or flag", "col 1: 'hits' is an array of 8 values; a comparison needs a scalar"},
    {"not (hits > 0)", "col 6: 'hits' is an array of 8 values; a comparison needs a scalar"},
    {"pt + 1", "col 1: the cut '(pt + 1)' is a float, not a boolean: compare it"},
    {"nhit", "col 1: the cut 'nhit' is an integer, not a boolean"},
    {"hits[0:2] == hits[1:3] or flag", "col 1: 'hits[0:2]' is an array of 2 values"},
    {"flag + 1 > 0", "col 1: arithmetic needs numbers; 'flag' is a boolean"},
    {"-flag", "col 2: unary '-' needs numbers; 'flag' is a boolean"},
    {"pt > 1 and x", "col 12: 'and' needs booleans; 'x' is a float (compare it, e.g. 'x' > 0)"},
    {"not nhit", "col 5: 'not' needs booleans; 'nhit' is an integer"},
    {"flag < true", "col 1: a comparison needs numbers; 'flag' is a boolean"},
    {"flag == 1", "col 1: a comparison needs numbers; 'flag' is a boolean"},
    {"max(v + fad_in) > 0",
     "col 5: arrays of different lengths: 'v' has 8 values, 'fad_in' has 77"},
    {"hits[8] > 0", "col 6: index 8 is out of range for 'hits' (8 values)"},
    {"hits[-9] > 0", "col 6: index -9 is out of range for 'hits' (8 values)"},
    {"hits[pt] > 0", "col 6: an index must be a whole number written in the expression"},
    {"hits[1.0] > 0", "col 6: an index must be a whole number"},
    {"max(v[5:2]) > 0", "col 5: slice [5:2] of 'v' (8 values) is empty or out of range"},
    {"max(v[0:9]) > 0", "col 5: slice [0:9] of 'v' (8 values) is empty or out of range"},
    {"max(jet.pt[0:2]) > 0", "col 5: 'jet.pt' belongs to a collection and cannot be sliced"},
    {"pt[0] > 1", "col 1: 'pt' is a single value and cannot be indexed"},
    {"max(pt[0:1]) > 1", "col 5: 'pt' is a single value and cannot be sliced"},
    {"sum(pt) > 1", "col 5: sum() reduces an array; 'pt' is a single value"},
    {"max(pt) > 1", "(the larger of two values is max(a, b))"},
    {"count(hits) > 1", "col 7: count() needs booleans; 'hits' is an integer"},
    {"any(v)", "col 5: any() needs booleans; 'v' is a float"},
    {"mean(hits > 0) > 1", "col 6: mean() needs numbers; '(hits > 0)' is a boolean"},
    {"foo(pt) > 1", "col 1: unknown function 'foo' (known: abs sqrt min max"},
    {"abs(pt, x) > 1", "col 1: wrong number of arguments to abs(): it takes one argument"},
    {"sqrt() > 1", "col 1: wrong number of arguments to sqrt()"},
    {"sum(v, v, v) > 1", "col 1: wrong number of arguments to sum(): f(array), or f(coll, ...)"},
    {"count(jet, pt > 30, eta < 1) > 1",
     "col 1: wrong number of arguments to count(): count(coll) or count(coll, pred)"},
    {"any(jet)", "col 1: wrong number of arguments to any(): any(coll, pred)"},
    {"min(jet) > 1", "col 1: wrong number of arguments to min(): min(coll, expr)"},
    {"count(jet, pt) > 1", "col 12: a predicate needs booleans; 'pt' is a float"},
    {"sum(jet, btag) > 1", "col 10: a per-object value needs numbers; 'btag' is a boolean"},
    {"sum(jet, pt, eta) > 1", "col 14: a predicate needs booleans; 'eta' is a float"},
    {"count(jet, hits > 0) > 1",
     "col 12: '(hits > 0)' has 8 values per event but 'jet' holds 12 objects"},
    {"count(jet, mu.pt > 0) > 1", "col 12: '(mu.pt > 0)' belongs to another collection than 'jet'"},
    {"leading(jet, 0) > 1", "col 1: leading(jet, k) is an object, not a value: pick a field"},
    {"leading(jet, 12).pt > 1",
     "col 14: object index 12 is out of range: 'jet' holds at most 12 objects"},
    {"leading(jet, pt).pt > 1", "col 14: an object index must be a whole number"},
    {"leading(jet, 0).foo > 1", "col 16: collection 'jet' has no field 'foo'"},
    {"leading(pt, 0).pt > 1", "col 9: leading() needs a collection as its first argument"},
    {"ht(pt) > 1", "col 4: ht() needs a collection as its first argument: ht(coll)"},
    {"mass(jet, 0) > 1", "col 1: wrong number of arguments to mass(): mass(coll, i, j)"},
    {"mass(jet, 0, 12) > 1", "col 14: object index 12 is out of range"},
    {"deltaR(jet, -1, 0) > 1", "col 13: object index -1 is out of range"},
    {"pt.x > 1", "col 1: unknown column 'pt.x'"},
    {"(pt).x > 1", "col 5: '.x' can only follow leading(coll, k)"},
    {"mindr(jet, pt) < 1", "col 12: a predicate needs booleans; 'pt' is a float"},
    {"ht(jet, pt > 1, eta > 1) > 0", "col 1: wrong number of arguments to ht()"},
    {"sum(jet, 1, 2, 3, 4) > 1", "col 19: too many arguments to 'sum'"},
};

static ngt_schema *schema;

static int setup(void **state)
{
    (void)state;
    schema = cd_schema();
    return schema ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ngt_schema_free(schema);
    return 0;
}

static void test_errors(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ngt_error err = {0};
        cut_program *c = cut_compile(schema, bad[k].expr, &err);
        if (c)
            fail_msg("'%s' compiled; expected: %s", bad[k].expr, bad[k].message);
        assert_int_equal(err.code, NGT_EINVAL);
        if (!strstr(err.msg, bad[k].message))
            fail_msg("'%s':\n  got      %s\n  expected %s", bad[k].expr, err.msg, bad[k].message);
    }
}

/* Error messages start with the cut itself so a menu's author finds the line. */
static void test_error_names_the_cut(void **state)
{
    (void)state;
    ngt_error err = {0};
    assert_null(cut_compile(schema, "pt > ptt", &err));
    assert_string_equal(err.msg, "cut 'pt > ptt': col 6: unknown column 'ptt'");
    assert_null(cut_compile(NULL, "pt > 1", &err));
    assert_null(cut_compile(schema, NULL, &err));
    assert_int_equal(err.code, NGT_EINVAL);
}

static void test_nesting_limit(void **state)
{
    (void)state;
    char expr[1024] = "";
    for (int k = 0; k < 300; k++)
        strcat(expr, "(");
    strcat(expr, "pt > 1");
    for (int k = 0; k < 300; k++)
        strcat(expr, ")");
    ngt_error err = {0};
    assert_null(cut_compile(schema, expr, &err));
    assert_non_null(strstr(err.msg, "nested more than 200 deep"));
    char name[100];
    memset(name, 'a', 80);
    name[80] = 0;
    assert_null(cut_compile(schema, name, &err));
    assert_non_null(strstr(err.msg, "col 1: name longer than 63 characters"));
}

static void expect_text(const char *expr, const char *text)
{
    ngt_error err = {0};
    cut_program *c = cut_compile(schema, expr, &err);
    if (!c)
        fail_msg("'%s': %s", expr, err.msg);
    assert_string_equal(cut_text(c), text);
    cut_free(c);
}

static void test_text_shows_precedence(void **state)
{
    (void)state;
    expect_text("pt > 30 and not flag or -x ** 2 < 3",
                "(((pt > 30) and (not flag)) or ((-(x ** 2)) < 3))");
    expect_text("not pt > 1", "(not (pt > 1))");
    expect_text("1 - 2 - 3 * pt / 4 ** 2 ** 0.5 >= .5e1",
                "(((1 - 2) - ((3 * pt) / (4 ** (2 ** 0.5)))) >= 5)");
    expect_text("count(jet, pt > 30.25 and abs(eta) < 2.4) >= 2",
                "(count(jet, ((pt > 30.25) and (abs(eta) < 2.4))) >= 2)");
    expect_text("leading(jet,0).pt>v[0:1][0]", "(leading(jet, 0).pt > v[0:1][0])");
}

static void test_columns(void **state)
{
    (void)state;
    ngt_error err = {0};
    cut_program *c =
        cut_compile(schema, "count(jet, pt > 30) >= 1 and calib > pt and pt < 90", &err);
    assert_non_null(c);
    int cols[8], want[3] = {ngt_schema_find(schema, "pt"), ngt_schema_find(schema, "calib"),
                            ngt_schema_find(schema, "jet.pt")};
    int jn = ngt_schema_find(schema, "jet.n");
    assert_int_equal(cut_columns(c, cols, 8), 4);
    assert_int_equal(cut_columns(c, cols, 1), 4); /* the count, whatever max is */
    cut_columns(c, cols, 8);
    int seen = 0;
    for (int k = 0; k < 4; k++) {
        if (k > 0)
            assert_true(cols[k - 1] < cols[k]);
        for (int w = 0; w < 3; w++)
            seen += cols[k] == want[w];
        seen += cols[k] == jn;
    }
    assert_int_equal(seen, 4);
    cut_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_error_names_the_cut),
        cmocka_unit_test(test_nesting_limit), cmocka_unit_test(test_text_shows_precedence),
        cmocka_unit_test(test_columns),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
