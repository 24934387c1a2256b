/* test_stack.c: a million suspend/resume cycles (async steps completed from another thread) run in
 * constant stack: the address of a local in the step stays within a few KiB on each worker. */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

enum { STEPS = 50, N_BATCHES = 20000, CYCLES = STEPS * N_BATCHES, THREADS = 2, RING = 64 };
enum { STACK_SLACK = 4096 };

/* A bare ring of handles (no allocation per cycle), completed as soon as they arrive. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ngt_async *items[RING];
    int head, count, stop;
} g_ring = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0};

static _Atomic long g_cycles, g_completed;
static uintptr_t g_lo[THREADS], g_hi[THREADS]; /* each written only by its worker */
static _Atomic long g_bad_worker;

static int hop(void *user, ngt_step_io *io)
{
    (void)user;
    volatile char probe = 0;
    uintptr_t here = (uintptr_t)&probe;
    if (io->worker < 0 || io->worker >= THREADS) {
        atomic_fetch_add(&g_bad_worker, 1);
    } else {
        int w = io->worker;
        if (!g_lo[w] || here < g_lo[w])
            g_lo[w] = here;
        if (here > g_hi[w])
            g_hi[w] = here;
    }
    ngt_async *a = ngt_step_async(io);
    if (!a)
        return NGT_ESTEP;
    pthread_mutex_lock(&g_ring.mu);
    g_ring.items[(g_ring.head + g_ring.count) % RING] = a; /* RING > batches in flight */
    g_ring.count++;
    pthread_cond_signal(&g_ring.cv);
    pthread_mutex_unlock(&g_ring.mu);
    atomic_fetch_add(&g_cycles, 1);
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
        atomic_fetch_add(&g_completed, 1);
        pthread_mutex_lock(&g_ring.mu);
    }
    pthread_mutex_unlock(&g_ring.mu);
    return NULL;
}

static void test_million_cycles_constant_stack(void **state)
{
    (void)state;
    ngt_error err = {0};
    ngt_schema *s = fx_schema();
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    ngt_schema_free(s);
    assert_int_equal(ngt_menu_chain(m, "Hops", &err), 0);
    char names[STEPS][16];
    for (int k = 0; k < STEPS; k++) {
        snprintf(names[k], sizeof names[k], "hop%d", k);
        ngt_step_def d = {.name = names[k], .fn = hop, .mode = NGT_STEP_ASYNC, .timeout_s = 60};
        assert_int_equal(ngt_menu_step(m, 0, &d, &err), NGT_OK);
    }
    if (ngt_menu_build(m, &err) != NGT_OK)
        fail_msg("menu build: %s", err.msg);
    ngt_run_opts o = {.threads = THREADS, .batches = 8, .capacity = 1};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    assert_non_null(r);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, completer, NULL), 0);
    float pt = 30, eta = 0;
    for (int i = 0; i < N_BATCHES; i++) {
        ngt_batch *b = ngt_runner_acquire(r);
        assert_non_null(b);
        fx_fill(b, 0, 1, &pt, &eta, 0);
        assert_int_equal(ngt_runner_submit(r, b, &err), NGT_OK);
    }
    assert_int_equal(ngt_runner_drain(r), NGT_OK);
    ngt_runner_free(r);
    pthread_mutex_lock(&g_ring.mu);
    g_ring.stop = 1;
    pthread_cond_broadcast(&g_ring.cv);
    pthread_mutex_unlock(&g_ring.mu);
    pthread_join(t, NULL);

    assert_int_equal(atomic_load(&g_cycles), CYCLES);
    assert_int_equal(atomic_load(&g_completed), CYCLES);
    assert_int_equal(atomic_load(&g_bad_worker), 0);
    for (int w = 0; w < THREADS; w++) {
        if (!g_lo[w])
            continue; /* this worker never ran a step */
        print_message("worker %d: step stack addresses span %lu bytes\n", w,
                      (unsigned long)(g_hi[w] - g_lo[w]));
        assert_true(g_hi[w] - g_lo[w] < STACK_SLACK);
    }
    assert_true(g_lo[0] || g_lo[1]);
    ngt_totals tot = fx_totals(m, N_BATCHES);
    assert_int_equal(tot.accepted, N_BATCHES);
    ngt_menu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_million_cycles_constant_stack)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
