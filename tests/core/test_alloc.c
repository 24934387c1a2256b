/* test_alloc.c: no allocation in steady state. malloc and friends are interposed and counted
 * while a menu with cuts, a prescale, C steps and a model on the ref backend runs, both through
 * ngt_menu_process and through the threaded runner. Plain build only (sanitizers own malloc). */
#include "testutil.h"

#include <stdatomic.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_int counting;
static atomic_long allocations;

static void count(void)
{
    if (atomic_load(&counting))
        atomic_fetch_add(&allocations, 1);
}
void *malloc(size_t n)
{
    count();
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    count();
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    count();
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t al, size_t n)
{
    count();
    return __libc_memalign(al, n);
}
int posix_memalign(void **p, size_t al, size_t n)
{
    count();
    *p = __libc_memalign(al, n);
    return *p ? 0 : 12;
}
void free(void *p)
{
    __libc_free(p);
}

static int square(void *u, ngt_step_io *io)
{
    (void)u;
    const float *x = ngt_batch_column_by_name(io->batch, "x");
    float *x2 = ngt_batch_column_by_name(io->batch, "x2");
    for (int i = 0; i < io->n; i++)
        x2[io->sel[i]] = x[io->sel[i]] * x[io->sel[i]];
    return NGT_OK;
}

static ngt_menu *build(ngt_schema *s, ngt_registry *r)
{
    ngt_error err;
    ngt_menu *m = ngt_menu_new(s, r, &err);
    const char *x2[] = {"x2"}, *f32[] = {"f32"}, *in[] = {"fad_in"}, *out[] = {"fad_out"};
    int a = ngt_menu_chain(m, "Jets", &err);
    TU_OK(ngt_menu_cut(m, a, "count(jet, pt > 30 and abs(eta) < 2.4) >= 2", &err));
    int b = ngt_menu_chain(m, "Fad", &err);
    TU_OK(ngt_menu_cut(m, b, "x < 0.5", &err));
    TU_OK(ngt_menu_prescale(m, b, 2, &err));
    TU_OK(ngt_menu_infer(m, b, "fad", 1, in, 1, out, &err));
    TU_OK(ngt_menu_cut(m, b, "mean((fad_out - fad_in[0:76]) ** 2) > 0.01", &err));
    int c = ngt_menu_chain(m, "Square", &err);
    ngt_step_def d = {
        .name = "square", .fn = square, .n_writes = 1, .writes = x2, .write_types = f32};
    TU_OK(ngt_menu_step(m, c, &d, &err));
    TU_OK(ngt_menu_cut(m, c, "x2 < 0.1", &err));
    const char *phys[] = {"Jets", "Fad"}, *sq[] = {"Square"};
    TU_OK(ngt_menu_stream(m, "physics", 2, phys, &err));
    TU_OK(ngt_menu_stream(m, "calib", 1, sq, &err));
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("%s", err.msg);
    return m;
}

static ngt_schema *schema(void)
{
    ngt_schema *s = tu_schema();
    ngt_schema_add(s, "fad_in", "f32[77]", NULL);
    return s;
}

static void fill(ngt_batch *b, uint64_t first, int n)
{
    tu_fill(b, first, n);
    float *f = ngt_batch_column_by_name(b, "fad_in");
    for (int i = 0; i < n * 77; i++)
        f[i] = (float)tu_unit(first * 77 + (uint64_t)i);
}

static void synchronous(void **state)
{
    (void)state;
    ngt_error err;
    ngt_registry *r = ngt_registry_new(&err);
    TU_OK(ngt_registry_load(r, "fad", "ref", "models/fad.onnx", NULL, &err));
    ngt_schema *s = schema();
    ngt_menu *m = build(s, r);
    ngt_ctx *c = ngt_ctx_new(m, 256, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 256, &err);
    for (int k = 0; k < 200; k++) {
        fill(b, (uint64_t)k * 256, 256);
        if (k == 20)
            atomic_store(&counting, 1);
        TU_OK(ngt_menu_process(m, c, b, &err));
    }
    atomic_store(&counting, 0);
    assert_int_equal(atomic_load(&allocations), 0);
    ngt_stats *st = ngt_stats_new(m);
    ngt_stats_read(m, st);
    assert_true(ngt_stats_chain(st, 1)->passed > 0); /* the model ran and something passed */
    assert_true(ngt_stats_chain(st, 0)->passed > 0);
    ngt_stats_free(st);
    ngt_batch_free(b);
    ngt_ctx_free(c);
    ngt_menu_free(m);
    ngt_schema_free(s);
    ngt_registry_free(r);
}

static void threaded(void **state)
{
    (void)state;
    ngt_error err;
    ngt_registry *r = ngt_registry_new(&err);
    TU_OK(ngt_registry_load(r, "fad", "ref", "models/fad.onnx", NULL, &err));
    ngt_schema *s = schema();
    ngt_menu *m = build(s, r);
    ngt_run_opts o = {.threads = 2, .batches = 8, .capacity = 256, .in_order = 1};
    ngt_runner *run = ngt_runner_new(m, &o, &err);
    assert_non_null(run);
    atomic_store(&allocations, 0);
    for (int k = 0; k < 300; k++) {
        if (k == 50)
            atomic_store(&counting, 1);
        ngt_batch *b = ngt_runner_acquire(run);
        fill(b, (uint64_t)k * 256, 256);
        TU_OK(ngt_runner_submit(run, b, &err));
    }
    ngt_runner_drain(run);
    atomic_store(&counting, 0);
    assert_int_equal(atomic_load(&allocations), 0);
    ngt_runner_free(run);
    ngt_menu_free(m);
    ngt_schema_free(s);
    ngt_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(synchronous), cmocka_unit_test(threaded)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
