/* test_swap_api.c: runtime swap, shadow, provenance and the per-chain prescale setter through the
 * C API (core/ngt.h): a candidate is published only when it validates; a failed one changes
 * nothing; every batch names the version that decided it; a shadow is compared, never used. */
#include "ngt_npy.h"
#include "testutil.h"

#include <stdio.h>

static void swap_validates(void **state)
{
    (void)state;
    ngt_error err;
    ngt_registry *r = ngt_registry_new(&err);
    TU_OK(ngt_registry_load(r, "fad", "ref", "models/fad.onnx", NULL, &err));
    uint64_t h = ngt_registry_model_hash(r, "fad");
    assert_int_equal(ngt_registry_model_serial(r, "fad"), 1);
    ngt_npy in, out;
    TU_OK(ngt_npy_read("models/fad.input.npy", &in, &err));
    TU_OK(ngt_npy_read("models/fad.output.npy", &out, &err));
    const void *ins[] = {in.data}, *outs[] = {out.data};
    ngt_swap_check chk = {(int)in.shape[0], ins, outs, 1e-4};
    assert_int_equal(ngt_registry_swap(r, "fad", NULL, "models/fad.onnx", NULL, &chk, &err), 2);
    assert_int_equal(ngt_registry_model_serial(r, "fad"), 2);
    /* wrong shapes */
    assert_true(ngt_registry_swap(r, "fad", NULL, "models/mdt.onnx", NULL, NULL, &err) < 0);
    assert_non_null(strstr(err.msg, "input 0 is f32[1][216], the current version's f32[77]"));
    assert_non_null(strstr(err.msg, "kept the current version"));
    /* missing file, unknown model, unknown backend */
    assert_true(ngt_registry_swap(r, "fad", NULL, "models/none.onnx", NULL, NULL, &err) < 0);
    assert_non_null(strstr(err.msg, "none.onnx"));
    assert_true(ngt_registry_swap(r, "nope", NULL, "models/fad.onnx", NULL, NULL, &err) < 0);
    assert_non_null(strstr(err.msg, "unknown model 'nope'"));
    assert_true(ngt_registry_swap(r, "fad", "nope", "models/fad.onnx", NULL, NULL, &err) < 0);
    /* reference outputs off by one in one value */
    ((float *)out.data)[3 * 76 + 5] += 1.0f;
    assert_true(ngt_registry_swap(r, "fad", NULL, "models/fad.onnx", NULL, &chk, &err) < 0);
    assert_non_null(strstr(err.msg, "validation: output 0, event 3, value 5"));
    ngt_swap_check no_inputs = {0, NULL, outs, 0};
    assert_true(ngt_registry_swap(r, "fad", NULL, "models/fad.onnx", NULL, &no_inputs, &err) < 0);
    assert_non_null(strstr(err.msg, "reference outputs need validation inputs"));
    ngt_npy_free(&in);
    ngt_npy_free(&out);
    assert_int_equal(ngt_registry_model_serial(r, "fad"), 2);
    assert_true(ngt_registry_model_hash(r, "fad") == h);
    ngt_registry_free(r);
}

static void provenance_shadow_prescale(void **state)
{
    (void)state;
    ngt_error err;
    ngt_registry *r = ngt_registry_new(&err);
    TU_OK(ngt_registry_load(r, "fad", "ref", "models/fad.onnx", NULL, &err));
    ngt_schema *s = ngt_schema_new();
    ngt_schema_add(s, "fad_in", "f32[77]", &err);
    ngt_menu *m = ngt_menu_new(s, r, &err);
    int c = ngt_menu_chain(m, "Fad", &err);
    const char *in[] = {"fad_in"}, *outc[] = {"fad_out"};
    TU_OK(ngt_menu_infer(m, c, "fad", 1, in, 1, outc, &err));
    int p = ngt_menu_chain(m, "Pre", &err);
    TU_OK(ngt_menu_prescale(m, p, 1, &err));
    const char *pc[] = {"Pre"};
    const uint32_t pf[] = {7};
    assert_true(ngt_menu_prescale_column(m, "col", 1, pc, pf, &err) >= 0);
    TU_OK(ngt_menu_build(m, &err));
    assert_int_equal(ngt_menu_nmodels(m), 1);
    assert_string_equal(ngt_menu_model_name(m, 0), "fad");
    assert_ptr_equal(ngt_menu_registry(m), r);
    ngt_ctx *ctx = ngt_ctx_new(m, 64, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 64, &err);
    ngt_batch_set_count(b, 64, NULL);
    float *x = ngt_batch_column_by_name(b, "fad_in");
    for (int i = 0; i < 64 * 77; i++)
        x[i] = (float)((i * 37) % 101) / 101.0f;
    uint64_t *ids = ngt_batch_event_ids(b);
    for (int i = 0; i < 64; i++)
        ids[i] = (uint64_t)i;
    ngt_stats *st = ngt_stats_new(m);
    TU_OK(ngt_menu_process(m, ctx, b, &err));
    const ngt_provenance *pv = ngt_batch_provenance(b);
    assert_int_equal(pv->n_models, 1);
    assert_true(pv->models[0].hash == ngt_registry_model_hash(r, "fad"));
    assert_int_equal(pv->models[0].serial, 1);
    assert_string_equal(pv->models[0].name, "fad");
    assert_true(pv->menu_hash == ngt_menu_hash(m));
    assert_int_equal(pv->column, -1);
    /* shadow of the same file: identical on every event */
    TU_OK(ngt_registry_shadow(r, "fad", NULL, "models/fad.onnx", NULL, NULL, &err));
    TU_OK(ngt_menu_process(m, ctx, b, &err));
    ngt_shadow_stats sh;
    TU_OK(ngt_registry_shadow_stats(r, "fad", &sh));
    assert_int_equal(sh.active, 1);
    assert_int_equal(sh.events, 64);
    assert_int_equal(sh.identical, 64);
    assert_true(sh.max_abs_diff == 0);
    assert_int_equal(ngt_registry_model_serial(r, "fad"), 1); /* never published by itself */
    assert_int_equal(ngt_registry_promote(r, "fad", &err), 2);
    TU_OK(ngt_registry_shadow_stats(r, "fad", &sh));
    assert_int_equal(sh.active, 0);
    assert_true(ngt_registry_promote(r, "fad", &err) < 0);
    assert_non_null(strstr(err.msg, "no shadow"));
    TU_OK(ngt_menu_process(m, ctx, b, &err));
    assert_int_equal(ngt_batch_provenance(b)->models[0].serial, 2);
    /* a shadow that does not fit is refused before it is installed */
    assert_true(ngt_registry_shadow(r, "fad", NULL, "models/mdt.onnx", NULL, NULL, &err) < 0);
    TU_OK(ngt_registry_shadow_stats(r, "fad", &sh));
    assert_int_equal(sh.active, 0);
    /* per-chain prescale at the next batch; a column clears it */
    assert_int_equal(ngt_menu_chain_prescale(m, p), 1);
    assert_true(ngt_menu_set_prescale(m, c, 3, &err) < 0); /* no prescale step */
    TU_OK(ngt_menu_set_prescale(m, p, 0, &err));
    assert_int_equal(ngt_menu_chain_prescale(m, p), 0);
    ngt_stats_read(m, st);
    uint64_t passed = ngt_stats_chain(st, p)->passed;
    TU_OK(ngt_menu_process(m, ctx, b, &err));
    ngt_stats_read(m, st);
    assert_int_equal(ngt_stats_chain(st, p)->passed, passed); /* disabled */
    TU_OK(ngt_menu_select_column(m, "col", &err));
    assert_int_equal(ngt_menu_chain_prescale(m, p), 7);
    TU_OK(ngt_menu_process(m, ctx, b, &err));
    ngt_stats_read(m, st);
    uint64_t kept = ngt_stats_chain(st, p)->passed - passed;
    assert_true(kept > 0 && kept < 64);
    assert_int_equal(ngt_batch_provenance(b)->column, 0);
    ngt_stats_free(st);
    ngt_batch_free(b);
    ngt_ctx_free(ctx);
    ngt_menu_free(m);
    ngt_schema_free(s);
    ngt_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(swap_validates),
        cmocka_unit_test(provenance_shadow_prescale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
