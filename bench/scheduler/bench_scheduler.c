/* bench_scheduler.c: the threaded runner's costs, printed as one table: overhead per step per
 * batch, one suspend+resume against a plain thread hand-off, and 2 threads against 1 on an MLP
 * menu. */
#include "ngt.h"

#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { REPS = 5, CAP = 256, TRIVIAL_STEPS = 100, ASYNC_STEPS = 100, IN = 77, HID = 32, OUT = 76 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const ngt_error *err)
{
    fprintf(stderr, "bench_scheduler: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

/* ---- menus ---------------------------------------------------------------------------------- */

static int pass_all(void *user, ngt_step_io *io)
{
    (void)user;
    (void)io;
    return NGT_OK;
}

static ngt_menu *menu_of(const ngt_schema *s, int n_steps, ngt_step_fn fn, ngt_step_mode mode,
                         int n_reads, const char *const *reads)
{
    ngt_error err = {0};
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    if (!m || ngt_menu_chain(m, "bench", &err) != 0)
        die("menu", &err);
    for (int k = 0; k < n_steps; k++) {
        char name[32];
        snprintf(name, sizeof name, "s%d", k);
        ngt_step_def d = {.name = name,
                          .fn = fn,
                          .mode = mode,
                          .timeout_s = 60,
                          .n_reads = n_reads,
                          .reads = reads};
        if (ngt_menu_step(m, 0, &d, &err) != NGT_OK)
            die("step", &err);
    }
    if (ngt_menu_build(m, &err) != NGT_OK)
        die("menu build", &err);
    return m;
}

/* Fills every batch of the pool once (pre-filled batches), then gives them back. */
static void prefill(ngt_runner *r, int pool, int cap)
{
    ngt_batch *held[1024];
    ngt_error err = {0};
    for (int i = 0; i < pool; i++) {
        held[i] = ngt_runner_acquire(r);
        if (ngt_batch_set_count(held[i], cap, &err) != NGT_OK)
            die("set count", &err);
        uint64_t *ids = ngt_batch_event_ids(held[i]);
        float *x = ngt_batch_column_by_name(held[i], "x");
        for (int e = 0; e < cap; e++) {
            ids[e] = (uint64_t)e;
            for (int k = 0; x && k < IN; k++)
                x[e * IN + k] = (float)((e * 31 + k * 7) % 97) / 97.0f;
        }
    }
    for (int i = 0; i < pool; i++)
        ngt_runner_release(r, held[i]);
}

/* Submits n pre-filled batches and waits for them; returns the seconds it took. */
static double pump(ngt_runner *r, int n)
{
    ngt_error err = {0};
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        if (ngt_runner_submit(r, ngt_runner_acquire(r), &err) != NGT_OK)
            die("submit", &err);
    ngt_runner_drain(r);
    return now_s() - t0;
}

static ngt_runner *runner(ngt_menu *m, int threads, int pool, int cap)
{
    ngt_error err = {0};
    ngt_run_opts o = {.threads = threads, .batches = pool, .capacity = cap};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    if (!r)
        die("runner", &err);
    prefill(r, pool, cap);
    return r;
}

/* ---- (1) overhead per step per batch ------------------------------------------------------- */

static double overhead_runner(const ngt_schema *s, int n_batches)
{
    ngt_menu *m = menu_of(s, TRIVIAL_STEPS, pass_all, NGT_STEP_SYNC, 0, NULL);
    ngt_runner *r = runner(m, 1, 4, CAP);
    pump(r, n_batches / 10); /* warm up */
    double t = pump(r, n_batches);
    ngt_runner_free(r);
    ngt_menu_free(m);
    return t * 1e9 / ((double)n_batches * TRIVIAL_STEPS);
}

static double overhead_sync(const ngt_schema *s, int n_batches)
{
    ngt_error err = {0};
    ngt_menu *m = menu_of(s, TRIVIAL_STEPS, pass_all, NGT_STEP_SYNC, 0, NULL);
    ngt_ctx *c = ngt_ctx_new(m, CAP, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), CAP, &err);
    if (!c || !b || ngt_batch_set_count(b, CAP, &err) != NGT_OK)
        die("context", &err);
    for (int e = 0; e < CAP; e++)
        ngt_batch_event_ids(b)[e] = (uint64_t)e;
    double t0 = now_s();
    for (int i = 0; i < n_batches; i++)
        if (ngt_menu_process(m, c, b, &err) != NGT_OK)
            die("process", &err);
    double t = now_s() - t0;
    ngt_batch_free(b);
    ngt_ctx_free(c);
    ngt_menu_free(m);
    return t * 1e9 / ((double)n_batches * TRIVIAL_STEPS);
}

/* ---- (2) suspend+resume vs a thread hand-off ------------------------------------------------ */

/* A one-slot mailbox between two threads (mutex + condvar), used by both measurements. */
typedef struct mailbox {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void *item;
    int full, stop;
} mailbox;
static mailbox g_box = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0};

static void box_put(mailbox *b, void *item)
{
    pthread_mutex_lock(&b->mu);
    b->item = item;
    b->full = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* Waits for an item (NULL once stopped). */
static void *box_take(mailbox *b)
{
    pthread_mutex_lock(&b->mu);
    while (!b->full && !b->stop)
        pthread_cond_wait(&b->cv, &b->mu);
    void *item = b->full ? b->item : NULL;
    b->full = 0;
    pthread_mutex_unlock(&b->mu);
    return item;
}

static void box_stop(mailbox *b)
{
    pthread_mutex_lock(&b->mu);
    b->stop = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static int hop(void *user, ngt_step_io *io)
{
    (void)user;
    ngt_async *a = ngt_step_async(io);
    if (!a)
        return NGT_ESTEP;
    box_put(&g_box, a);
    return NGT_PENDING;
}

static void *completer(void *arg)
{
    (void)arg;
    ngt_async *a;
    while ((a = box_take(&g_box)) != NULL)
        ngt_async_complete(a, NGT_OK);
    return NULL;
}

/* One batch in flight: every cycle parks, hands the operation to the completer, resumes. */
static double suspend_resume(const ngt_schema *s, int n_batches)
{
    ngt_menu *m = menu_of(s, ASYNC_STEPS, hop, NGT_STEP_ASYNC, 0, NULL);
    ngt_runner *r = runner(m, 1, 1, 1);
    g_box.stop = 0;
    pthread_t t;
    pthread_create(&t, NULL, completer, NULL);
    pump(r, n_batches / 10);
    double secs = pump(r, n_batches);
    box_stop(&g_box);
    pthread_join(t, NULL);
    ngt_runner_free(r);
    ngt_menu_free(m);
    return secs * 1e9 / ((double)n_batches * ASYNC_STEPS);
}

static mailbox g_ping = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0};
static mailbox g_pong = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0};

static void *ponger(void *arg)
{
    void *item;
    (void)arg;
    while ((item = box_take(&g_ping)) != NULL)
        box_put(&g_pong, item);
    return NULL;
}

/* Round trip of a token between two threads through the same kind of mailbox. */
static double ping_pong(int n)
{
    pthread_t t;
    int token = 1;
    g_ping.stop = 0;
    pthread_create(&t, NULL, ponger, NULL);
    for (int i = 0; i < n / 10; i++) {
        box_put(&g_ping, &token);
        box_take(&g_pong);
    }
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        box_put(&g_ping, &token);
        box_take(&g_pong);
    }
    double secs = now_s() - t0;
    box_stop(&g_ping);
    pthread_join(t, NULL);
    return secs * 1e9 / n;
}

/* ---- (3) 1 vs 2 threads on an inference-bound menu ------------------------------------------ */

static float g_w1[HID][IN], g_w2[HID][HID], g_w3[HID][HID], g_w4[OUT][HID];

static void dense(const float *x, int n_in, const float *w, int n_out, float *y, int relu)
{
    for (int o = 0; o < n_out; o++) {
        float acc = 0;
        for (int i = 0; i < n_in; i++)
            acc += w[o * n_in + i] * x[i];
        y[o] = relu && acc < 0 ? 0 : acc;
    }
}

/* The fad MLP (77-32-32-32-76, 13.9 kFLOP per event), plain C, and its anomaly score cut. */
static int mlp(void *user, ngt_step_io *io)
{
    (void)user;
    const float *x = ngt_batch_column_by_name(io->batch, "x");
    for (int i = 0; i < io->n; i++) {
        const float *in = x + (size_t)io->sel[i] * IN;
        float h1[HID], h2[HID], h3[HID], out[OUT], score = 0;
        dense(in, IN, &g_w1[0][0], HID, h1, 1);
        dense(h1, HID, &g_w2[0][0], HID, h2, 1);
        dense(h2, HID, &g_w3[0][0], HID, h3, 1);
        dense(h3, HID, &g_w4[0][0], OUT, out, 0);
        for (int k = 0; k < OUT; k++)
            score += (out[k] - in[k]) * (out[k] - in[k]);
        io->pass[i] = score / OUT > 0.5f;
    }
    return NGT_OK;
}

static void init_weights(void)
{
    uint32_t x = 1;
    float *all[] = {&g_w1[0][0], &g_w2[0][0], &g_w3[0][0], &g_w4[0][0]};
    size_t sizes[] = {sizeof g_w1, sizeof g_w2, sizeof g_w3, sizeof g_w4};
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < sizes[k] / sizeof(float); i++) {
            x = x * 1664525u + 1013904223u;
            all[k][i] = ((float)(x >> 8) / 16777216.0f - 0.5f) * 0.3f;
        }
}

/* Process CPU seconds (user + system), all threads. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Events per second; *cores gets the CPU seconds used per wall second (the cores really had). */
static double events_per_s(const ngt_schema *s, int threads, int n_batches, double *cores)
{
    static const char *const reads[] = {"x"};
    ngt_menu *m = menu_of(s, 1, mlp, NGT_STEP_SYNC, 1, reads);
    ngt_runner *r = runner(m, threads, 4 * threads, CAP);
    pump(r, 2 * threads);
    double c0 = cpu_s();
    double secs = pump(r, n_batches);
    *cores = (cpu_s() - c0) / secs;
    ngt_runner_free(r);
    ngt_menu_free(m);
    return (double)n_batches * CAP / secs;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of REPS samples (sorts them). */
static double median(double *v)
{
    qsort(v, REPS, sizeof *v, cmp_double);
    return v[REPS / 2];
}

/* The 1-minute load average before the run: figures taken on a busy machine are not comparable. */
static double loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

int main(int argc, char **argv)
{
    /* libngt links OpenBLAS, whose idle helper threads spin (sched_yield) and take CPU from the
     * workers; this benchmark uses no BLAS, so it runs itself again with one OpenBLAS thread. */
    if (!getenv("OPENBLAS_NUM_THREADS")) {
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        execv("/proc/self/exe", argv);
    }
    double load = loadavg();
    double scale = argc > 1 ? atof(argv[1]) : 1.0; /* "bench_scheduler 0.1": a quick run */
    if (scale <= 0)
        scale = 1.0;
    ngt_error err = {0};
    ngt_schema *s = ngt_schema_new();
    if (ngt_schema_add(s, "x", "f32[77]", &err) < 0)
        die("schema", &err);
    init_weights();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    /* Each figure is the median of REPS runs, the measurements interleaved, so that a burst of
     * other work on a shared machine moves one sample rather than the result. */
    double ov_run[REPS], ov_sync[REPS], sr[REPS], pp[REPS], ev1[REPS], ev2[REPS];
    double cores1[REPS], cores2[REPS];
    for (int i = 0; i < REPS; i++) {
        ov_run[i] = overhead_runner(s, (int)(8000 * scale));
        ov_sync[i] = overhead_sync(s, (int)(8000 * scale));
        sr[i] = suspend_resume(s, (int)(600 * scale));
        pp[i] = ping_pong((int)(60000 * scale));
        ev1[i] = events_per_s(s, 1, (int)(200 * scale), &cores1[i]);
        ev2[i] = events_per_s(s, 2, (int)(200 * scale), &cores2[i]);
    }
    double m_ov_run = median(ov_run), m_ov_sync = median(ov_sync), m_sr = median(sr);
    double m_pp = median(pp), m_ev1 = median(ev1), m_ev2 = median(ev2);
    double m_c1 = median(cores1), m_c2 = median(cores2);
    ngt_schema_free(s);

    printf("ngt scheduler benchmark (medians of %d runs) | cpu: %s | isa: %s | blas: %s (unused) | "
           "online cores: %ld | load before: %.2f\n",
           REPS, ngt_cpu_model(), ngt_cpu_isa(), ngt_blas_kernel(), cores, load);
    printf("| %-58s | %14s | %-22s |\n", "measure", "ngt", "peer / target");
    printf("|%.60s|%.16s|%.24s|\n", "------------------------------------------------------------",
           "----------------", "------------------------");
    printf("| %-58s | %9.1f ns   | %-22s |\n",
           "runner, 1 thread: per step per batch (100 trivial steps)", m_ov_run,
           "target <= 1000 ns");
    printf("| %-58s | %9.1f ns   | %-22s |\n", "ngt_menu_process, same menu: per step per batch",
           m_ov_sync, "(no scheduler)");
    printf("| %-58s | %9.1f ns   | %-22s |\n", "suspend+resume (async step completed by a thread)",
           m_sr, "");
    printf("| %-58s | %9.1f ns   | %-22s |\n",
           "thread hand-off round trip (mutex+condvar ping-pong)", m_pp, "peer");
    printf("| %-58s | %9.2f x    | %-22s |\n", "suspend+resume / hand-off round trip", m_sr / m_pp,
           "");
    printf("| %-58s | %9.0f ev/s | %-22s |\n",
           "MLP menu (fad 77-32-32-32-76 in C), batch 256, 1 thread", m_ev1, "");
    printf("| %-58s | %9.0f ev/s | %-22s |\n", "same, 2 threads", m_ev2, "");
    printf("| %-58s | %9.2f x    | %-22s |\n", "2 threads / 1 thread", m_ev2 / m_ev1,
           "target >= 1.8");
    printf("| %-58s | %5.2f / %4.2f   | %-22s |\n",
           "cores obtained at 1 / 2 threads (CPU s per wall s)", m_c1, m_c2, "< 2: machine busy");
    printf("| %-58s | %9.2f x    | %-22s |\n", "2 threads / 1 thread, per CPU second",
           (m_ev2 / m_c2) / (m_ev1 / m_c1), "1.0 = no contention");
    return 0;
}
