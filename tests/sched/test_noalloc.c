/* test_noalloc.c: the runner allocates nothing in steady state: malloc and friends are interposed
 * and counted while batches flow through cuts, a prescale, C, async and offload steps in order.
 * (Plain build only: the sanitizers interpose malloc themselves.) */
#include "fixture.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NOALLOC_SKIP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NOALLOC_SKIP 1
#endif
#endif

enum { CAP = 64, POOL = 8, WARM = 300, STEADY = 3000, RING = 64 };

static _Atomic int g_counting;
static _Atomic long g_allocs;

#ifndef NOALLOC_SKIP
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t k);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t a, size_t n);

static void count(void)
{
    if (atomic_load_explicit(&g_counting, memory_order_relaxed))
        atomic_fetch_add(&g_allocs, 1);
}

void *malloc(size_t n)
{
    count();
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t k)
{
    count();
    return __libc_calloc(n, k);
}

void *realloc(void *p, size_t n)
{
    count();
    return __libc_realloc(p, n);
}

void *aligned_alloc(size_t a, size_t n)
{
    count();
    return __libc_memalign(a, n);
}

int posix_memalign(void **out, size_t a, size_t n)
{
    count();
    *out = __libc_memalign(a, n);
    return *out ? 0 : ENOMEM;
}
#endif

static float g_pt[CAP], g_eta[CAP];

/* Async operations go to a completer through a fixed ring (no allocation in the test either). */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ngt_async *items[RING];
    int head, count, stop;
} g_ring = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0};

static int async_step(void *user, ngt_step_io *io)
{
    (void)user;
    ngt_async *a = ngt_step_async(io);
    if (!a)
        return NGT_ESTEP;
    pthread_mutex_lock(&g_ring.mu);
    g_ring.items[(g_ring.head + g_ring.count++) % RING] = a;
    pthread_cond_signal(&g_ring.cv);
    pthread_mutex_unlock(&g_ring.mu);
    return NGT_PENDING;
}

static void *completer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_ring.mu);
    for (;;) {
        while (g_ring.count == 0 && !g_ring.stop)
            pthread_cond_wait(&g_ring.cv, &g_ring.mu);
        if (g_ring.count == 0)
            break;
        ngt_async *a = g_ring.items[g_ring.head];
        g_ring.head = (g_ring.head + 1) % RING;
        g_ring.count--;
        pthread_mutex_unlock(&g_ring.mu);
        ngt_async_complete(a, NGT_OK);
        pthread_mutex_lock(&g_ring.mu);
    }
    pthread_mutex_unlock(&g_ring.mu);
    return NULL;
}

static int eta_small(void *user, ngt_step_io *io)
{
    (void)user;
    const float *eta = ngt_batch_column_by_name(io->batch, "eta");
    for (int i = 0; i < io->n; i++)
        io->pass[i] = eta[io->sel[i]] < 2.0f;
    return NGT_OK;
}

static _Atomic long g_sunk;
static void sink(void *user, ngt_batch *b)
{
    (void)user;
    (void)b;
    atomic_fetch_add(&g_sunk, 1);
}

static ngt_menu *make_menu(void)
{
    ngt_error err = {0};
    ngt_schema *s = fx_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    ngt_schema_free(s);
    assert_int_equal(ngt_menu_chain(m, "A", &err), 0);
    assert_int_equal(ngt_menu_chain(m, "B", &err), 1);
    static const char *const reads[] = {"eta"};
    ngt_step_def c = {.name = "eta_small", .fn = eta_small, .n_reads = 1, .reads = reads};
    ngt_step_def a = {.name = "async", .fn = async_step, .mode = NGT_STEP_ASYNC, .timeout_s = 60};
    ngt_step_def o = {.name = "offload",
                      .fn = eta_small,
                      .mode = NGT_STEP_OFFLOAD,
                      .timeout_s = 60,
                      .n_reads = 1,
                      .reads = reads};
    assert_int_equal(ngt_menu_cut(m, 0, "pt > 5", &err), NGT_OK);
    assert_int_equal(ngt_menu_step(m, 0, &a, &err), NGT_OK);
    assert_int_equal(ngt_menu_step(m, 0, &c, &err), NGT_OK);
    assert_int_equal(ngt_menu_prescale(m, 1, 2, &err), NGT_OK);
    assert_int_equal(ngt_menu_step(m, 1, &o, &err), NGT_OK);
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("menu build: %s", err.msg);
    return m;
}

static void pump(ngt_runner *r, int n)
{
    ngt_error err = {0};
    for (int i = 0; i < n; i++) {
        ngt_batch *b = ngt_runner_acquire(r);
        assert_non_null(b);
        uint64_t *ids = ngt_batch_event_ids(b);
        for (int e = 0; e < CAP; e++)
            ids[e] = (uint64_t)i * CAP + (uint64_t)e;
        assert_int_equal(ngt_runner_submit(r, b, &err), NGT_OK);
    }
    assert_int_equal(ngt_runner_drain(r), NGT_OK);
}

static void test_steady_state_allocates_nothing(void **state)
{
    (void)state;
#ifdef NOALLOC_SKIP
    skip(); /* the sanitizer owns malloc: nothing to count */
#endif
    ngt_error err = {0};
    fx_events(CAP, g_pt, g_eta);
    ngt_menu *m = make_menu();
    ngt_run_opts o = {.threads = 2,
                      .batches = POOL,
                      .capacity = CAP,
                      .in_order = 1,
                      .offload_threads = 1,
                      .sink = sink};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, completer, NULL), 0);
    for (int i = 0; i < POOL; i++) { /* fill the pool once */
        ngt_batch *b = ngt_runner_acquire(r);
        fx_fill(b, 0, CAP, g_pt, g_eta, 0);
        ngt_runner_release(r, b);
    }
    pump(r, WARM);
    atomic_store(&g_counting, 1);
    pump(r, STEADY);
    atomic_store(&g_counting, 0);
    long allocs = atomic_load(&g_allocs);
    ngt_runner_free(r);
    pthread_mutex_lock(&g_ring.mu);
    g_ring.stop = 1;
    pthread_cond_broadcast(&g_ring.cv);
    pthread_mutex_unlock(&g_ring.mu);
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&g_sunk), WARM + STEADY);
    assert_int_equal(allocs, 0);
    /* The counter works: an allocation while counting is seen. */
    atomic_store(&g_counting, 1);
    void *volatile p = malloc(16);
    atomic_store(&g_counting, 0);
    free(p);
    assert_int_equal(atomic_load(&g_allocs), 1);
    fx_totals(m, (uint64_t)(WARM + STEADY) * CAP);
    ngt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_steady_state_allocates_nothing)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
