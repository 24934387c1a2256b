/* test_registry.c: loading models, describing them, errors, and versions pinned per batch: a swap
 * during a batch does not touch that batch; the next batch runs the new version. */
#include "ngt_npy.h"
#include "testutil.h"

#include <math.h>

static void load_describe_infer(void **state)
{
    (void)state;
    ngt_error err;
    ngt_registry *r = ngt_registry_new(&err);
    assert_non_null(r);
    if (ngt_registry_load(r, "fad", "ref", "models/fad.onnx", NULL, &err) != NGT_OK)
        fail_msg("%s", err.msg);
    ngt_model_desc d;
    assert_int_equal(ngt_registry_describe(r, "fad", &d, &err), NGT_OK);
    assert_int_equal(d.n_inputs, 1);
    assert_int_equal(d.n_outputs, 1);
    assert_int_equal(d.inputs[0].dtype, NGT_F32);
    assert_int_equal(d.inputs[0].rank, 1);
    assert_int_equal(d.inputs[0].shape[0], 77);
    assert_int_equal(d.outputs[0].shape[0], 76);
    assert_int_equal(d.batch_invariant, 1);
    assert_true(ngt_registry_model_hash(r, "fad") != 0);
    ngt_npy in, out;
    assert_int_equal(ngt_npy_read("models/fad.input.npy", &in, &err), NGT_OK);
    assert_int_equal(ngt_npy_read("models/fad.output.npy", &out, &err), NGT_OK);
    int n = (int)in.shape[0];
    float *got = malloc(sizeof(float) * 76 * (size_t)n);
    const void *ins[] = {in.data};
    void *outs[] = {got};
    assert_int_equal(ngt_registry_infer(r, "fad", ins, outs, n, &err), NGT_OK);
    double worst = 0;
    for (int i = 0; i < n * 76; i++) {
        double ref = ((float *)out.data)[i], diff = fabs(got[i] - ref) / (1e-5 + 1e-5 * fabs(ref));
        worst = diff > worst ? diff : worst;
    }
    assert_true(worst <= 1.0);
    free(got);
    ngt_npy_free(&in);
    ngt_npy_free(&out);
    ngt_registry_free(r);
}

static void load_errors(void **state)
{
    (void)state;
    ngt_error err;
    ngt_registry *r = ngt_registry_new(&err);
    assert_int_equal(ngt_registry_load(r, "x", "nope", "models/fad.onnx", NULL, &err), NGT_EINVAL);
    assert_non_null(strstr(err.msg, "unknown backend 'nope'"));
    assert_true(ngt_registry_load(r, "x", "ref", "models/missing.onnx", NULL, &err) < 0);
    assert_non_null(strstr(err.msg, "missing.onnx"));
    assert_int_equal(ngt_registry_count(r), 0);
    assert_true(ngt_registry_load(r, "", "ref", "models/fad.onnx", NULL, &err) < 0);
    ngt_registry_free(r);
}

static ngt_registry *g_reg;
static int swapped;
static int swapper(void *u, ngt_step_io *io)
{
    (void)u;
    (void)io;
    if (!swapped++) { /* replace fad by a model that no longer fits the menu's columns */
        ngt_error err;
        if (ngt_registry_load(g_reg, "fad", "ref", "models/mdt.onnx", NULL, &err) != NGT_OK)
            return NGT_ESTEP;
    }
    return NGT_OK;
}

static void versions_pinned_per_batch(void **state)
{
    (void)state;
    ngt_error err;
    g_reg = ngt_registry_new(&err);
    TU_OK(ngt_registry_load(g_reg, "fad", "ref", "models/fad.onnx", NULL, &err));
    ngt_schema *s = ngt_schema_new();
    ngt_schema_add(s, "fad_in", "f32[77]", &err);
    ngt_menu *m = ngt_menu_new(s, g_reg, &err);
    int c = ngt_menu_chain(m, "Swap", &err);
    ngt_step_def d = {.name = "swapper", .fn = swapper};
    TU_OK(ngt_menu_step(m, c, &d, &err));
    const char *in[] = {"fad_in"}, *out[] = {"fad_out"};
    TU_OK(ngt_menu_infer(m, c, "fad", 1, in, 1, out, &err));
    TU_OK(ngt_menu_build(m, &err));
    ngt_ctx *ctx = ngt_ctx_new(m, 16, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 16, &err);
    ngt_stats *st = ngt_stats_new(m);
    ngt_batch_set_count(b, 16, NULL);
    TU_OK(ngt_menu_process(m, ctx, b, &err));
    ngt_stats_read(m, st);
    assert_int_equal(ngt_stats_chain(st, 0)->passed, 16); /* the pinned fad version ran */
    assert_int_equal(ngt_menu_process(m, ctx, b, &err), NGT_ESTEP);
    assert_non_null(strstr(err.msg, "no version that fits"));
    ngt_stats_read(m, st);
    assert_int_equal(ngt_stats_chain(st, 0)->errored, 16); /* mdt does not fit f32[77] */
    assert_int_equal(ngt_stats_totals(st)->errored, 16);
    ngt_stats_free(st);
    ngt_batch_free(b);
    ngt_ctx_free(ctx);
    ngt_menu_free(m);
    ngt_schema_free(s);
    ngt_registry_free(g_reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(load_describe_infer),
        cmocka_unit_test(load_errors),
        cmocka_unit_test(versions_pinned_per_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
