/* bench_swap: batch latency (submit -> sink) through the threaded runner at half its maximum rate,
 * steady and while the model is swapped every 100 ms between two versions that need no compile
 * (the ref backend), in the same run, interleaved. Target (DESIGN.md section 6): p99 during swaps
 * <= 2x steady. Usage: bench_swap [SCALE] (SCALE < 1: a shorter run). */
#define _GNU_SOURCE
#include "ngt.h"
#include "swapper.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { CAP = 256, MAX_LAT = 1 << 20, REPS = 3 };

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, const ngt_error *e)
{
    fprintf(stderr, "bench_swap: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

/* The sink: latency of each batch from the submit time kept in its first event id. */
typedef struct lat {
    uint64_t *ns;
    atomic_int n;
} lat;
static void sink(void *user, ngt_batch *b)
{
    lat *l = user;
    uint64_t t = now_ns() - ngt_batch_event_ids(b)[0];
    int k = atomic_fetch_add(&l->n, 1);
    if (k < MAX_LAT)
        l->ns[k] = t;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Submits batches for seconds: as fast as the pool allows (period 0) or one per period; returns
 * batches per second; latencies go to l. */
static double run(ngt_runner *r, lat *l, double seconds, uint64_t period_ns, const float *x)
{
    atomic_store(&l->n, 0);
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)(seconds * 1e9), next = t0;
    long batches = 0;
    while (now_ns() < end) {
        if (period_ns) {
            next += period_ns;
            struct timespec ts = {(time_t)(next / 1000000000ull), (long)(next % 1000000000ull)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
        ngt_batch *b = ngt_runner_acquire(r);
        memcpy(ngt_batch_column(b, 0), x, sizeof(float) * 77 * CAP);
        ngt_batch_set_count(b, CAP, NULL);
        ngt_batch_event_ids(b)[0] = now_ns();
        ngt_runner_submit(r, b, NULL);
        batches++;
    }
    ngt_runner_drain(r);
    return (double)batches / ((double)(now_ns() - t0) * 1e-9);
}

static void quantiles(lat *l, double *p50, double *p99)
{
    int n = atomic_load(&l->n);
    n = n < MAX_LAT ? n : MAX_LAT;
    qsort(l->ns, (size_t)n, sizeof *l->ns, cmp_u64);
    size_t mid = (size_t)n / 2;
    *p50 = n ? (double)l->ns[mid] * 1e-3 : 0;
    *p99 = n ? (double)l->ns[(size_t)((double)n * 0.99)] * 1e-3 : 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    if (!getenv("OPENBLAS_NUM_THREADS")) { /* no BLAS here: keep its idle threads off the cores */
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        execv("/proc/self/exe", argv);
    }
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (scale <= 0)
        scale = 1.0;
    ngt_error err = {0};
    ngt_registry *reg = ngt_registry_new(&err);
    if (!reg || ngt_registry_load(reg, "fad", "ref", "models/fad.onnx", NULL, &err) < 0)
        die("model (run from the source tree)", &err);
    ngt_schema *s = ngt_schema_new();
    ngt_schema_add(s, "fad_in", "f32[77]", &err);
    ngt_menu *m = ngt_menu_new(s, reg, &err);
    int c = ngt_menu_chain(m, "FAD", &err);
    const char *in[] = {"fad_in"}, *out[] = {"fad_out"};
    if (ngt_menu_infer(m, c, "fad", 1, in, 1, out, &err) < 0 ||
        ngt_menu_cut(m, c, "mean((fad_out - fad_in[0:76])**2) > 0.3", &err) < 0 ||
        ngt_menu_build(m, &err) < 0)
        die("menu", &err);
    lat l = {calloc(MAX_LAT, sizeof(uint64_t)), 0};
    ngt_run_opts o = {.threads = 2, .capacity = CAP, .sink = sink, .sink_user = &l};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    if (!r || !l.ns)
        die("runner", &err);
    float *x = malloc(sizeof(float) * 77 * CAP);
    for (int i = 0; i < 77 * CAP; i++)
        x[i] = (float)((i * 7919) % 1000) / 1000.0f;
    double secs = 3.0 * scale;
    double max_rate = run(r, &l, secs, 0, x);
    uint64_t period = (uint64_t)(1e9 / (max_rate / 2));
    double s50[REPS], s99[REPS], w50[REPS], w99[REPS];
    int swaps = 0, failed = 0;
    for (int k = 0; k < REPS; k++) { /* interleaved: steady, then swapping */
        run(r, &l, secs, period, x);
        quantiles(&l, &s50[k], &s99[k]);
        swapper sw = {reg, 0, 0, 0};
        pthread_t t;
        pthread_create(&t, NULL, swap_main, &sw);
        run(r, &l, secs, period, x);
        atomic_store(&sw.stop, 1);
        pthread_join(t, NULL);
        quantiles(&l, &w50[k], &w99[k]);
        swaps += sw.swaps;
        failed += sw.failed;
    }
    double a50 = median(s50, REPS), a99 = median(s99, REPS);
    double b50 = median(w50, REPS), b99 = median(w99, REPS);
    printf("bench_swap: %s, %s, BLAS %s; 2 workers, batches of %d events, menu: fad (ref) + "
           "cut\n",
           ngt_cpu_model(), ngt_cpu_isa(), ngt_blas_kernel(), CAP);
    printf("  maximum rate          %.0f batches/s (%.0f events/s)\n", max_rate, max_rate * CAP);
    printf("  at half of it         %.0f batches/s, %d x %.1f s each, medians:\n", max_rate / 2,
           REPS, secs);
    printf("  %-22s %10s %10s\n", "", "p50 us", "p99 us");
    printf("  %-22s %10.1f %10.1f\n", "steady", a50, a99);
    printf("  %-22s %10.1f %10.1f\n", "swap every 100 ms", b50, b99);
    printf("  swaps %d (failed %d); p99 swapping / steady = %.2fx (target <= 2x)\n", swaps, failed,
           a99 > 0 ? b99 / a99 : NAN);
    ngt_runner_free(r);
    ngt_menu_free(m);
    ngt_schema_free(s);
    ngt_registry_free(reg);
    free(l.ns);
    free(x);
    return failed ? 1 : 0;
}
