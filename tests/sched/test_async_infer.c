/* test_async_infer.c: a backend's asynchronous entry (infer_start / infer_end) in menus: results
 * land in the right events (sparse selections gathered and scattered), decisions equal the
 * synchronous entry's, failures and late completions error the events (timeouts counted), every
 * event is accounted for, and the pool's memory hook sees every batch. A fake backend (y = 2x)
 * completes on helper threads, as a device would. */
#include <pthread.h>
#include <time.h>

#include "testutil.h"

enum { NEV = 1024, BS = 32, NOPS = 64, W = 4 };

typedef struct op {
    struct fake *f;
    float in[BS * W], out[BS * W];
    int n, busy, abandoned, used;
    ngt_infer_done_fn done;
    void *user;
} op;

typedef struct fake {
    int mode; /* 0 ok, 1 fail, 2 late */
    pthread_mutex_t mu;
    op ops[NOPS];
    pthread_t threads[NOPS];
    int started[NOPS];
} fake;

static int starts;

static int seterr(ngt_error *e, int code, const char *msg)
{
    if (e) {
        e->code = code;
        snprintf(e->msg, sizeof e->msg, "%s", msg);
    }
    return code;
}

static int f_load(const char *path, const char *options, void **model, ngt_error *err)
{
    (void)path;
    (void)err;
    fake *f = calloc(1, sizeof *f);
    f->mode = !options                       ? 0
              : strcmp(options, "fail") == 0 ? 1
              : strcmp(options, "late") == 0 ? 2
                                             : 0;
    pthread_mutex_init(&f->mu, NULL);
    *model = f;
    return NGT_OK;
}

static int f_describe(const void *model, ngt_model_desc *d)
{
    (void)model;
    memset(d, 0, sizeof *d);
    d->n_inputs = d->n_outputs = 1;
    strcpy(d->inputs[0].name, "x");
    strcpy(d->outputs[0].name, "y");
    d->inputs[0].rank = d->outputs[0].rank = 1;
    d->inputs[0].shape[0] = d->outputs[0].shape[0] = W;
    d->batch_invariant = 1;
    return NGT_OK;
}

static size_t f_ws(const void *model, int n)
{
    (void)model;
    (void)n;
    return 64;
}

static int f_infer(const void *model, void *ws, const void *const *in, void *const *out, int n,
                   ngt_error *err)
{
    (void)model;
    (void)ws;
    (void)err;
    for (int i = 0; i < n * W; i++)
        ((float *)out[0])[i] = 2.0f * ((const float *)in[0])[i];
    return NGT_OK;
}

static void *worker(void *arg)
{
    op *o = arg;
    fake *f = o->f;
    struct timespec ts = {0, 2000000}; /* 2 ms, or 1.3 s when late */
    if (f->mode == 2) {
        ts.tv_sec = 1;
        ts.tv_nsec = 300000000;
    }
    nanosleep(&ts, NULL);
    for (int i = 0; i < o->n * W; i++)
        o->out[i] = 2.0f * o->in[i];
    pthread_mutex_lock(&f->mu);
    o->busy = 0;
    int abandoned = o->abandoned;
    ngt_infer_done_fn done = o->done;
    void *user = o->user;
    if (abandoned)
        o->used = 0;
    pthread_mutex_unlock(&f->mu);
    if (!abandoned)
        done(user, f->mode == 1 ? NGT_EIO : NGT_OK);
    return NULL;
}

static int f_start(const void *model, const void *const *in, int n, int lane,
                   ngt_infer_done_fn done, void *user, void **opp, ngt_error *err)
{
    fake *f = (fake *)model;
    assert_true(lane >= -1 && lane < 2);
    assert_true(n > 0 && n <= BS);
    pthread_mutex_lock(&f->mu);
    int k = 0;
    while (k < NOPS && f->ops[k].used)
        k++;
    if (k == NOPS) {
        pthread_mutex_unlock(&f->mu);
        return seterr(err, NGT_ENOMEM, "fake: no free op");
    }
    op *o = &f->ops[k];
    o->used = o->busy = 1;
    o->abandoned = 0;
    starts++;
    if (f->started[k])
        pthread_join(f->threads[k], NULL);
    pthread_mutex_unlock(&f->mu);
    o->f = f;
    o->n = n;
    o->done = done;
    o->user = user;
    memcpy(o->in, in[0], (size_t)n * W * sizeof(float));
    *opp = o;
    f->started[k] = 1;
    pthread_create(&f->threads[k], NULL, worker, o);
    return NGT_PENDING;
}

static int f_end(const void *model, void *opp, void *const *out, int n, int status, ngt_error *err)
{
    fake *f = (fake *)model;
    op *o = opp;
    pthread_mutex_lock(&f->mu);
    int busy = o->busy;
    if (busy)
        o->abandoned = 1;
    pthread_mutex_unlock(&f->mu);
    if (busy)
        return status < 0 ? status : seterr(err, NGT_ESTATE, "fake: ended early");
    assert_int_equal(n, o->n);
    if (status == NGT_OK)
        memcpy(out[0], o->out, (size_t)n * W * sizeof(float));
    pthread_mutex_lock(&f->mu);
    o->used = 0;
    pthread_mutex_unlock(&f->mu);
    return status < 0 ? status : NGT_OK;
}

static void f_unload(void *model)
{
    fake *f = model;
    for (int k = 0; k < NOPS; k++)
        if (f->started[k])
            pthread_join(f->threads[k], NULL);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static const ngt_backend FAKE = {.name = "fake_async",
                                 .load = f_load,
                                 .describe = f_describe,
                                 .workspace_size = f_ws,
                                 .infer = f_infer,
                                 .unload = f_unload,
                                 .infer_start = f_start,
                                 .infer_end = f_end};
static const ngt_backend FAKE_SYNC = {.name = "fake_sync",
                                      .load = f_load,
                                      .describe = f_describe,
                                      .workspace_size = f_ws,
                                      .infer = f_infer,
                                      .unload = f_unload};

static ngt_menu *make(ngt_registry **rp, const char *backend, const char *opts)
{
    ngt_error err = {0};
    ngt_registry *r = ngt_registry_new(&err);
    TU_OK(ngt_registry_add_backend(r, &FAKE, &err));
    TU_OK(ngt_registry_add_backend(r, &FAKE_SYNC, &err));
    if (ngt_registry_load(r, "twice", backend, "models/fad.onnx", opts, &err) != NGT_OK)
        fail_msg("load: %s", err.msg);
    ngt_schema *s = ngt_schema_new();
    TU_OK(ngt_schema_add(s, "x", "f32[4]", &err));
    ngt_menu *m = ngt_menu_new(s, r, &err);
    ngt_schema_free(s);
    int a = ngt_menu_chain(m, "A", &err), b = ngt_menu_chain(m, "B", &err);
    const char *in[] = {"x"}, *out[] = {"y"};
    TU_OK(ngt_menu_cut(m, a, "sum(x) > 2", &err)); /* a sparse selection for the model */
    TU_OK(ngt_menu_infer(m, a, "twice", 1, in, 1, out, &err));
    TU_OK(ngt_menu_cut(m, a, "max(y) > 1.5", &err));
    TU_OK(ngt_menu_cut(m, b, "sum(x) < 1", &err));
    const char *all[] = {"A", "B"};
    TU_OK(ngt_menu_stream(m, "all", 2, all, &err));
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("build: %s", err.msg);
    *rp = r;
    return m;
}

static float xval(int e, int k)
{
    return (float)tu_unit((uint64_t)e * 8 + (uint64_t)k);
}

typedef struct res {
    uint8_t status[NEV];
    float y[NEV][W];
} res;

static void sink(void *user, ngt_batch *b)
{
    res *r = user;
    const ngt_schema *s = ngt_batch_schema(b);
    const uint8_t *st = ngt_batch_column(b, ngt_schema_find(s, "ngt.status"));
    const float *y = ngt_batch_column(b, ngt_schema_find(s, "y"));
    for (int i = 0; i < ngt_batch_count(b); i++) {
        uint64_t e = ngt_batch_event_ids(b)[i];
        r->status[e] = st[i];
        memcpy(r->y[e], y + (size_t)i * W, sizeof r->y[e]);
    }
}

static int hooked;
static int hook(void *user, void *p, size_t bytes, int attach)
{
    (void)user;
    (void)p;
    (void)bytes;
    hooked += attach ? 1 : -1;
    return NGT_OK;
}

static void run(ngt_menu *m, res *r, int threads)
{
    ngt_error err = {0};
    ngt_run_opts o = {.threads = threads,
                      .batches = 12,
                      .capacity = BS,
                      .sink = sink,
                      .sink_user = r,
                      .batch_memory = hook};
    ngt_runner *run = ngt_runner_new(m, &o, &err);
    if (!run)
        fail_msg("runner: %s", err.msg);
    assert_int_equal(hooked, 12);
    for (int first = 0; first < NEV; first += BS) {
        ngt_batch *b = ngt_runner_acquire(run);
        float *x = ngt_batch_column_by_name(b, "x");
        for (int i = 0; i < BS; i++) {
            ngt_batch_event_ids(b)[i] = (uint64_t)(first + i);
            for (int k = 0; k < W; k++)
                x[i * W + k] = xval(first + i, k);
        }
        TU_OK(ngt_batch_set_count(b, BS, &err));
        TU_OK(ngt_runner_submit(run, b, &err));
    }
    ngt_runner_drain(run);
    ngt_runner_free(run);
    assert_int_equal(hooked, 0);
}

static void totals(ngt_menu *m, uint64_t *errored, uint64_t *timeouts)
{
    ngt_stats *st = ngt_stats_new(m);
    ngt_stats_read(m, st);
    const ngt_totals *t = ngt_stats_totals(st);
    assert_int_equal(t->in, NEV);
    assert_int_equal(t->in, t->accepted + t->rejected + t->errored);
    *errored = t->errored;
    *timeouts = 0;
    for (int k = 0; k < ngt_menu_nsteps(m); k++)
        *timeouts += ngt_stats_step(st, k)->timeouts;
    ngt_stats_free(st);
}

static void test_equal_to_sync(void **state)
{
    (void)state;
    static res a, s;
    ngt_registry *ra, *rs;
    ngt_menu *ma = make(&ra, "fake_async", NULL), *ms = make(&rs, "fake_sync", NULL);
    starts = 0;
    run(ma, &a, 2);
    assert_true(starts > 0);
    run(ms, &s, 2);
    int acc = 0, computed = 0;
    for (int e = 0; e < NEV; e++) {
        assert_int_equal(a.status[e], s.status[e]);
        float sum = 0;
        for (int k = 0; k < W; k++)
            sum += xval(e, k);
        if (sum > 2) { /* the model ran on this event: y = 2x in place */
            computed++;
            for (int k = 0; k < W; k++)
                assert_true(a.y[e][k] == 2.0f * xval(e, k));
        }
        acc += a.status[e] == NGT_EVENT_ACCEPTED;
    }
    assert_true(computed > 0 && computed < NEV && acc > 0);
    uint64_t errored, timeouts;
    totals(ma, &errored, &timeouts);
    assert_int_equal(errored, 0);
    ngt_menu_free(ma);
    ngt_menu_free(ms);
    ngt_registry_free(ra);
    ngt_registry_free(rs);
}

static void test_fail(void **state)
{
    (void)state;
    static res r;
    ngt_registry *reg;
    ngt_menu *m = make(&reg, "fake_async", "fail");
    run(m, &r, 2);
    uint64_t errored, timeouts;
    totals(m, &errored, &timeouts);
    assert_true(errored > 0);
    assert_int_equal(timeouts, 0);
    ngt_menu_free(m);
    ngt_registry_free(reg);
}

static void test_late(void **state)
{
    (void)state;
    static res r;
    ngt_registry *reg;
    ngt_menu *m = make(&reg, "fake_async", "late");
    run(m, &r, 2);
    uint64_t errored, timeouts;
    totals(m, &errored, &timeouts);
    assert_true(errored > 0);
    assert_true(timeouts > 0);
    ngt_menu_free(m);
    ngt_registry_free(reg); /* joins the late helpers */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_to_sync),
        cmocka_unit_test(test_fail),
        cmocka_unit_test(test_late),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
