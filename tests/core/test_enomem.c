/* test_enomem.c: allocation failures on every load path. The library's malloc family is wrapped
 * (tests/alloc_wrap.c); for each of registry (with a model), menu build, context and runner, the
 * N-th allocation is failed for N = 0, 1, 2, ... until the call succeeds without one failing: each
 * failing call returns NGT_ENOMEM (or NULL with err->code NGT_ENOMEM), never crashes, and frees
 * what it took (the ASan build's leak checker runs this test too). */
#include "testutil.h"

#include "alloc_wrap.h"

typedef struct fixture {
    ngt_schema *s;
    ngt_registry *r;
    ngt_menu *m;
} fixture;

/* Each op returns NGT_OK or a negative code, leaving nothing allocated on failure. */
typedef int (*op_fn)(fixture *f, ngt_error *err);

static int op_registry(fixture *f, ngt_error *err)
{
    ngt_registry *r = ngt_registry_new(err);
    if (!r)
        return err->code;
    int rc = ngt_registry_load(r, "fad", "ref", "models/fad.onnx", NULL, err);
    ngt_registry_free(r);
    (void)f;
    return rc;
}

static int build_menu(fixture *f, ngt_menu **out, ngt_error *err)
{
    ngt_menu *m = ngt_menu_new(f->s, f->r, err);
    if (!m)
        return err->code;
    int rc = NGT_OK, c = ngt_menu_chain(m, "A", err);
    const char *in[1] = {"fad_in"}, *o[1] = {"fad_out"};
    if (c < 0)
        rc = c;
    if (!rc)
        rc = ngt_menu_cut(m, c, "count(jet, pt > 30 and abs(eta) < 2.4) >= 1", err);
    if (!rc)
        rc = ngt_menu_infer(m, c, "fad", 1, in, 1, o, err);
    if (!rc)
        rc = ngt_menu_cut(m, c, "max(fad_out) > 0.1", err);
    int d = rc ? -1 : ngt_menu_chain(m, "B", err);
    if (!rc && d < 0)
        rc = d;
    if (!rc)
        rc = ngt_menu_prescale(m, d, 3, err);
    const char *phys[2] = {"A", "B"};
    if (!rc) {
        int st = ngt_menu_stream(m, "physics", 2, phys, err);
        rc = st < 0 ? st : NGT_OK;
    }
    if (!rc)
        rc = ngt_menu_build(m, err);
    if (rc) {
        ngt_menu_free(m);
        return rc;
    }
    *out = m;
    return NGT_OK;
}

static int op_menu(fixture *f, ngt_error *err)
{
    ngt_menu *m = NULL;
    int rc = build_menu(f, &m, err);
    ngt_menu_free(m);
    return rc;
}

static int op_ctx(fixture *f, ngt_error *err)
{
    ngt_ctx *c = ngt_ctx_new(f->m, 256, err);
    ngt_ctx_free(c);
    return c ? NGT_OK : err->code;
}

static int op_runner(fixture *f, ngt_error *err)
{
    ngt_run_opts o = {.threads = 2, .batches = 3, .capacity = 64};
    ngt_runner *r = ngt_runner_new(f->m, &o, err);
    ngt_runner_free(r);
    return r ? NGT_OK : err->code;
}

/* Fails allocation 0, 1, 2, ... of op until it succeeds; returns how many were failed. */
static int fail_each(fixture *f, op_fn op, const char *what)
{
    for (long n = 0;; n++) {
        ngt_error err = {0};
        aw_arm(n);
        int rc = op(f, &err);
        aw_disarm();
        if (!aw_failed()) {
            if (rc != NGT_OK)
                fail_msg("%s: failed without an allocation failure: %s", what, err.msg);
            return (int)n;
        }
        if (rc != NGT_ENOMEM)
            fail_msg("%s: allocation %ld failed, the call returned %d (%s), not NGT_ENOMEM", what,
                     n, rc, err.msg);
    }
}

static fixture make(void)
{
    fixture f = {0};
    ngt_error e = {0};
    f.s = ngt_schema_new();
    TU_OK(ngt_schema_add(f.s, "fad_in", "f32[77]", &e));
    const char *fields[2] = {"pt", "eta"};
    ngt_dtype t[2] = {NGT_F32, NGT_F32};
    TU_OK(ngt_schema_add_collection(f.s, "jet", 12, 2, fields, t, &e));
    f.r = ngt_registry_new(&e);
    TU_OK(ngt_registry_load(f.r, "fad", "ref", "models/fad.onnx", NULL, &e));
    return f;
}

static void test_every_path(void **state)
{
    (void)state;
    fixture f = make();
    int n_reg = fail_each(&f, op_registry, "registry");
    int n_menu = fail_each(&f, op_menu, "menu build");
    ngt_error e = {0};
    TU_OK(build_menu(&f, &f.m, &e));
    int n_ctx = fail_each(&f, op_ctx, "context");
    int n_run = fail_each(&f, op_runner, "runner");
    printf("allocations failed in turn: registry %d, menu %d, context %d, runner %d\n", n_reg,
           n_menu, n_ctx, n_run);
    /* each path allocates: a wrapper that saw nothing would make this test vacuous */
    assert_true(n_reg > 3 && n_menu > 10 && n_ctx > 1 && n_run > 1);
    ngt_menu_free(f.m);
    ngt_registry_free(f.r);
    ngt_schema_free(f.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_path)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
