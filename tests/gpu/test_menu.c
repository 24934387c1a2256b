/* test_menu.c: the gpu backend in menus, through its asynchronous entry (the CPU-grid emulation
 * completes on a helper thread as a device would): decisions equal the hls backend's exactly in
 * fixed point and ref's away from the threshold in float, on the caller's thread and on a threaded
 * runner; a late device errors its events by the step's timeout and every event is accounted for.
 */
#include <math.h>

#include "ngt_npy.h"
#include "testutil.h"

enum { NEV = 512, BS = 64 };
static const float THRESH = 0.2584f; /* about the median of max(y) */

static float *g_in;
static int g_n;

static int setup(void **state)
{
    (void)state;
    ngt_npy a;
    ngt_error err = {0};
    if (ngt_npy_read("models/fad.input.npy", &a, &err) != NGT_OK)
        return -1;
    g_in = a.data;
    g_n = (int)a.shape[0];
    return g_n >= NEV ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(g_in);
    return 0;
}

static ngt_menu *make_menu(ngt_registry *reg, const char *backend, const char *opts)
{
    ngt_error err = {0};
    if (ngt_registry_load(reg, "fad", backend, "models/fad.onnx", opts, &err) != NGT_OK)
        fail_msg("load (%s): %s", backend, err.msg);
    ngt_schema *s = ngt_schema_new();
    TU_OK(ngt_schema_add(s, "x", "f32[77]", &err));
    ngt_menu *m = ngt_menu_new(s, reg, &err);
    ngt_schema_free(s);
    assert_non_null(m);
    int a = ngt_menu_chain(m, "A_score", &err), b = ngt_menu_chain(m, "B_low", &err);
    const char *in[] = {"x"}, *out[] = {"y"};
    TU_OK(ngt_menu_infer(m, a, "fad", 1, in, 1, out, &err));
    char cut[64];
    snprintf(cut, sizeof cut, "max(y) > %g", (double)THRESH);
    TU_OK(ngt_menu_cut(m, a, cut, &err));
    TU_OK(ngt_menu_infer(m, b, "fad", 1, in, 1, out, &err));
    TU_OK(ngt_menu_cut(m, b, "min(y) < -0.2555", &err));
    const char *phys[] = {"A_score", "B_low"};
    TU_OK(ngt_menu_stream(m, "physics", 2, phys, &err));
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("build: %s", err.msg);
    return m;
}

static void fill(ngt_batch *b, int first, int n)
{
    ngt_error err = {0};
    float *x = ngt_batch_column_by_name(b, "x");
    memcpy(x, g_in + (size_t)first * 77, (size_t)n * 77 * sizeof *x);
    uint64_t *ids = ngt_batch_event_ids(b);
    for (int i = 0; i < n; i++)
        ids[i] = (uint64_t)(first + i);
    TU_OK(ngt_batch_set_count(b, n, &err));
}

typedef struct result {
    uint8_t status[NEV];
    uint64_t dec[NEV];
    float score[NEV];
} result;

static void collect(result *r, ngt_batch *b)
{
    const ngt_schema *s = ngt_batch_schema(b);
    const uint64_t *ids = ngt_batch_event_ids(b);
    const uint8_t *st = ngt_batch_column(b, ngt_schema_find(s, "ngt.status"));
    const uint64_t *dec = ngt_batch_column(b, ngt_schema_find(s, "ngt.decision"));
    const float *y = ngt_batch_column(b, ngt_schema_find(s, "y"));
    for (int i = 0; i < ngt_batch_count(b); i++) {
        uint64_t e = ids[i];
        r->status[e] = st[i];
        r->dec[e] = dec[i];
        float mx = -INFINITY;
        for (int k = 0; k < 76; k++)
            mx = y[(size_t)i * 76 + k] > mx ? y[(size_t)i * 76 + k] : mx;
        r->score[e] = mx;
    }
}

static void check_totals(ngt_menu *m, uint64_t in, uint64_t timeouts)
{
    ngt_stats *st = ngt_stats_new(m);
    ngt_stats_read(m, st);
    const ngt_totals *t = ngt_stats_totals(st);
    assert_int_equal(t->in, in);
    assert_int_equal(t->in, t->accepted + t->rejected + t->errored);
    uint64_t to = 0;
    for (int k = 0; k < ngt_menu_nsteps(m); k++)
        to += ngt_stats_step(st, k)->timeouts;
    assert_true(timeouts ? to >= timeouts : to == 0);
    ngt_stats_free(st);
}

/* On the caller's thread (ngt_menu_process waits for the completion). */
static void run_sync(ngt_menu *m, result *r)
{
    ngt_error err = {0};
    ngt_ctx *c = ngt_ctx_new(m, BS, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), BS, &err);
    for (int first = 0; first < NEV; first += BS) {
        fill(b, first, BS);
        assert_int_equal(ngt_menu_process(m, c, b, &err), NGT_OK);
        collect(r, b);
    }
    ngt_batch_free(b);
    ngt_ctx_free(c);
}

static void sink(void *user, ngt_batch *b)
{
    collect(user, b);
}

static int hook_calls;
static int count_hook(void *user, void *p, size_t bytes, int attach)
{
    (void)user;
    assert_non_null(p);
    assert_true(bytes > 0);
    hook_calls += attach ? 1 : -1;
    return NGT_OK;
}

/* Two workers, eight batches in flight: the worker never waits on the inference. */
static void run_threads(ngt_menu *m, result *r)
{
    ngt_error err = {0};
    ngt_run_opts o = {.threads = 2,
                      .batches = 8,
                      .capacity = BS,
                      .sink = sink,
                      .sink_user = r,
                      .batch_memory = count_hook};
    hook_calls = 0;
    ngt_runner *run = ngt_runner_new(m, &o, &err);
    if (!run)
        fail_msg("runner: %s", err.msg);
    assert_int_equal(hook_calls, 8);
    for (int first = 0; first < NEV; first += BS) {
        ngt_batch *b = ngt_runner_acquire(run);
        fill(b, first, BS);
        TU_OK(ngt_runner_submit(run, b, &err));
    }
    ngt_runner_drain(run);
    ngt_runner_free(run);
    assert_int_equal(hook_calls, 0);
}

static void test_fixed_equals_hls(void **state)
{
    (void)state;
    static result h, g1, g2;
    ngt_error err = {0};
    ngt_registry *rh = ngt_registry_new(&err), *rg = ngt_registry_new(&err);
    ngt_menu *mh = make_menu(rh, "hls", "configs/fad_hls.json");
    ngt_menu *mg = make_menu(rg, "gpu", "emulate=1 precision=configs/fad_hls.json");
    run_sync(mh, &h);
    run_sync(mg, &g1);
    run_threads(mg, &g2);
    int acc = 0;
    for (int e = 0; e < NEV; e++) {
        assert_int_equal(g1.status[e], h.status[e]);
        assert_int_equal(g2.status[e], h.status[e]);
        assert_true(g1.dec[e] == h.dec[e] && g2.dec[e] == h.dec[e]);
        assert_true(memcmp(&g1.score[e], &h.score[e], sizeof(float)) == 0);
        acc += h.status[e] == NGT_EVENT_ACCEPTED;
    }
    print_message("fixed: %d of %d accepted, decisions equal to hls's\n", acc, NEV);
    assert_true(acc > 0 && acc < NEV);
    check_totals(mg, 2 * NEV, 0);
    ngt_menu_free(mh);
    ngt_menu_free(mg);
    ngt_registry_free(rh);
    ngt_registry_free(rg);
}

static void test_float_equals_ref(void **state)
{
    (void)state;
    static result f, g;
    ngt_error err = {0};
    ngt_registry *rf = ngt_registry_new(&err), *rg = ngt_registry_new(&err);
    ngt_menu *mf = make_menu(rf, "ref", NULL);
    ngt_menu *mg = make_menu(rg, "gpu", "emulate=1");
    run_sync(mf, &f);
    run_threads(mg, &g);
    int near = 0;
    for (int e = 0; e < NEV; e++) {
        if (fabsf(f.score[e] - THRESH) < 5e-5f) { /* too close to the threshold to ask */
            near++;
            continue;
        }
        assert_int_equal(g.status[e], f.status[e]);
    }
    print_message("float: %d of %d events near the threshold left out\n", near, NEV);
    assert_true(near < NEV / 10);
    ngt_menu_free(mf);
    ngt_menu_free(mg);
    ngt_registry_free(rf);
    ngt_registry_free(rg);
}

/* The device answers after 1.5 s, the step gives up at 1 s: every event errored, counted, and the
 * model works again for the next batch. */
static void test_timeout(void **state)
{
    (void)state;
    static result r;
    ngt_error err = {0};
    ngt_registry *reg = ngt_registry_new(&err);
    ngt_menu *m = make_menu(reg, "gpu", "emulate=1 delay_ms=1500");
    ngt_ctx *c = ngt_ctx_new(m, BS, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), BS, &err);
    fill(b, 0, BS);
    /* the batch is processed (its events errored) and the step's failure is returned */
    assert_int_equal(ngt_menu_process(m, c, b, &err), NGT_ESTEP);
    collect(&r, b);
    for (int e = 0; e < BS; e++)
        assert_int_equal(r.status[e], NGT_EVENT_ERRORED);
    ngt_batch_free(b);
    ngt_ctx_free(c);
    check_totals(m, BS, 1);
    ngt_menu_free(m); /* waits for the late completion before the model goes */
    ngt_registry_free(reg);
}

static void test_no_device(void **state)
{
    (void)state;
    ngt_error err = {0};
    ngt_registry *reg = ngt_registry_new(&err);
    assert_non_null(ngt_registry_backend(reg, "gpu"));
    int rc = ngt_registry_load(reg, "fad", "gpu", "models/fad.onnx", NULL, &err);
    if (rc == NGT_OK)
        print_message("a CUDA device is present: the gpu backend loaded\n");
    else
        assert_non_null(strstr(err.msg, "CUDA"));
    ngt_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_equals_hls),
        cmocka_unit_test(test_float_equals_ref),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_no_device),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
