/* bench_zmq.c: the ZeroMQ node against its peer, in one run. Peer: a raw forwarder, PULL ->
 * zmq_proxy -> PUSH, the same two hops and the same input messages. Node: the same sender, an ngt
 * node (PULL source, runner, a trivial menu accepting every event, one PUSH sink), the same
 * receiver. tcp and ipc, 16 and 256 events per message (312 bytes per event). Prints events/s
 * and the ratio node/raw (target >= 80%); the process's CPU time per event (every thread: sender,
 * hops, receiver) for both, which a shared machine's load disturbs less than wall time; latency
 * (sender's clock to the receiver) p50/p99 at half the node's maximum rate for both, and ngt's own
 * allocations in the node's steady state (malloc interposed; allocations made from libzmq or
 * libstdc++ are libzmq's, counted apart); then latency while the node's model is swapped every
 * 100 ms. Usage: bench_zmq [--quick]; NGT_BENCH_CAP=N: the node's batches hold N events (256). */
#define _GNU_SOURCE
#include "swapper.h"
#include "wire.h"
#include "zmq/ngt_zmq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/* ---- allocation counting -------------------------------------------------------------------*/
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_int counting;
static atomic_long ngt_allocs, zmq_allocs;
static _Thread_local int in_count;

static void count(void *caller)
{
    if (!atomic_load_explicit(&counting, memory_order_relaxed) || in_count)
        return;
    in_count = 1;
    Dl_info info;
    const char *obj = dladdr(caller, &info) && info.dli_fname ? info.dli_fname : "";
    if (strstr(obj, "libzmq") || strstr(obj, "libstdc++") || strstr(obj, "libsodium"))
        atomic_fetch_add(&zmq_allocs, 1);
    else
        atomic_fetch_add(&ngt_allocs, 1);
    in_count = 0;
}
void *malloc(size_t n)
{
    count(__builtin_return_address(0));
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
    count(__builtin_return_address(0));
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
    count(__builtin_return_address(0));
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t al, size_t n)
{
    count(__builtin_return_address(0));
    return __libc_memalign(al, n);
}
int posix_memalign(void **p, size_t al, size_t n)
{
    count(__builtin_return_address(0));
    *p = __libc_memalign(al, n);
    return *p ? 0 : 12;
}
void free(void *p)
{
    __libc_free(p);
}

/* ---- the workload ----------------------------------------------------------------------------*/
enum { ELEMS = 77 };

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sleeps until the wall-clock time due (ns): a paced sender leaves the core to the others. */
static void sleep_until(uint64_t due)
{
    struct timespec ts = {(time_t)(due / 1000000000ULL), (long)(due % 1000000000ULL)};
    clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
}

typedef struct job {
    const char *in_ep, *out_ep; /* sender connects to in_ep, receiver to out_ep */
    int per_msg, msgs;
    double rate; /* events/s; 0 = as fast as possible */
    ngt_menu *menu;
    wire_layout *l;
    uint64_t *t_send;
    void *ctx;
    ngt_zmq_node *node; /* the node run: its statistics when messages go missing */
    swapper *swap;      /* model swaps during the node's run, or NULL */
} job;

static void *sender(void *arg)
{
    job *j = arg;
    void *s = zmq_socket(j->ctx, ZMQ_PUSH);
    int linger = -1;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(s, j->in_ep);
    size_t hs = wire_header_size(j->l);
    uint8_t *h = calloc(1, hs);
    size_t nf = (size_t)j->l->n_cols;
    uint8_t **cols = calloc(nf, sizeof *cols);
    for (size_t k = 0; k < nf; k++)
        cols[k] = calloc((size_t)j->per_msg, j->l->row[k]);
    uint64_t t0 = now_ns();
    for (int m = 0; m <= j->msgs; m++) {
        int end = m == j->msgs;
        if (j->rate > 0) {
            sleep_until(t0 + (uint64_t)((double)m * j->per_msg / j->rate * 1e9));
        }
        wire_msg hd = {0};
        hd.flags = end ? WIRE_F_END : 0;
        hd.first_seq = (uint64_t)m * (uint64_t)j->per_msg;
        hd.count = end ? 0 : (uint32_t)j->per_msg;
        hd.send_ns = now_ns();
        if (!end)
            j->t_send[m] = hd.send_ns;
        wire_put_header(h, j->l, &hd, NULL);
        zmq_send(s, h, hs, ZMQ_SNDMORE);
        for (size_t k = 0; k < nf; k++)
            zmq_send(s, cols[k], hd.count * j->l->row[k], k + 1 < nf ? ZMQ_SNDMORE : 0);
    }
    zmq_close(s);
    for (size_t k = 0; k < nf; k++)
        free(cols[k]);
    free(cols);
    free(h);
    return NULL;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct result {
    double ev_s, p50_us, p99_us;
    double cpu_ns; /* the process's CPU time (all threads: sender, hops, receiver) per event */
    long ngt_allocs, zmq_allocs;
} result;

static void *finisher(void *arg)
{
    ngt_zmq_node_finish(arg, NULL);
    return NULL;
}

/* Receives until the end of stream: events/s from the first send; latency per message from the
 * sender's time of the message holding its first event. count_allocs: count in the middle half. */
static result receive(job *j, int node, int count_allocs)
{
    void *s = zmq_socket(j->ctx, ZMQ_PULL);
    zmq_connect(s, j->out_ep);
    double *lat = calloc((size_t)j->msgs + 1, sizeof *lat);
    int nlat = 0;
    long events = 0, total = (long)j->msgs * j->per_msg;
    uint64_t t_last = 0;
    pthread_t fin;
    int finishing = 0;
    zmq_msg_t part;
    zmq_msg_init(&part);
    for (;;) {
        int idx = 0, end = 0;
        uint64_t first_seq = 0, t_recv = 0;
        uint32_t n = 0;
        int more = 1;
        if (idx == 0) {
            zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
            if (zmq_poll(&it, 1, 5000) == 0) {
                ngt_zmq_stats st = {0};
                if (j->node)
                    ngt_zmq_node_stats(j->node, &st);
                fprintf(stderr,
                        "bench_zmq: nothing for 5 s: %ld of %ld events; node: %llu messages, %llu "
                        "events in, %llu refused (%s), %llu sent\n",
                        events, total, (unsigned long long)st.messages,
                        (unsigned long long)st.events, (unsigned long long)st.refused_messages,
                        st.first_error, (unsigned long long)st.sent_events);
                exit(1);
            }
        }
        while (more) {
            zmq_msg_recv(&part, s, 0);
            const uint8_t *p = zmq_msg_data(&part);
            size_t sz = zmq_msg_size(&part);
            if (idx == 0 && sz >= WIRE_HEADER) {
                t_recv = now_ns();
                end = (wire_ld32(p + 8) & WIRE_F_END) != 0;
                n = wire_ld32(p + 40);
                first_seq = wire_ld64(p + 32);
            }
            if (node && idx == 1 + j->l->n_cols && sz >= 8)
                first_seq = wire_ld64(p) & ((1ULL << WIRE_SEQ_BITS) - 1); /* its first event id */
            more = zmq_msg_more(&part);
            idx++;
        }
        if (n > 0) {
            events += n;
            t_last = t_recv;
            uint64_t ts = j->t_send[first_seq / (uint64_t)j->per_msg];
            lat[nlat++] = t_recv > ts ? (double)(t_recv - ts) / 1e3 : 0;
            if (count_allocs && events >= total / 4 && events - n < total / 4)
                atomic_store(&counting, 1);
            if (count_allocs && events >= 3 * total / 4)
                atomic_store(&counting, 0);
        }
        if (node && events >= total && !finishing) {
            /* the node's end of stream comes when it finishes: finish it while still reading */
            pthread_create(&fin, NULL, finisher, j->node);
            finishing = 1;
        }
        if (end && node && finishing)
            break;
        if (end && !node)
            break;
    }
    if (finishing)
        pthread_join(fin, NULL);
    zmq_msg_close(&part);
    zmq_close(s);
    result r = {0};
    r.ev_s = (double)events / ((double)(t_last - j->t_send[0]) / 1e9);
    qsort(lat, (size_t)nlat, sizeof *lat, dcmp);
    r.p50_us = nlat ? lat[nlat / 2] : 0;
    r.p99_us = nlat ? lat[(int)((nlat - 1) * 0.99)] : 0;
    free(lat);
    return r;
}

static void *proxy_main(void *arg)
{
    void **socks = arg;
    zmq_proxy_steerable(socks[0], socks[1], NULL, socks[2]);
    return NULL;
}

/* CPU seconds this process has used, every thread (less sensitive to a shared machine's load
 * than wall time: what each event costs, not how long it waited for a core). */
static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

static result run_raw(job *j, const char *front, const char *back)
{
    double c0 = cpu_s();
    void *ctx = zmq_ctx_new();
    j->ctx = ctx;
    void *f = zmq_socket(ctx, ZMQ_PULL), *b = zmq_socket(ctx, ZMQ_PUSH);
    void *ctl = zmq_socket(ctx, ZMQ_PAIR), *ctl2 = zmq_socket(ctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt(f, ZMQ_LINGER, &linger, sizeof linger);
    zmq_bind(f, front);
    zmq_bind(b, back);
    zmq_bind(ctl, "inproc://bench_ctl");
    zmq_connect(ctl2, "inproc://bench_ctl");
    void *socks[3] = {f, b, ctl};
    pthread_t px, tx;
    pthread_create(&px, NULL, proxy_main, socks);
    pthread_create(&tx, NULL, sender, j);
    result r = receive(j, 0, 0);
    pthread_join(tx, NULL);
    zmq_send(ctl2, "TERMINATE", 9, 0);
    pthread_join(px, NULL);
    zmq_close(f);
    zmq_close(b);
    zmq_close(ctl);
    zmq_close(ctl2);
    zmq_ctx_term(ctx);
    r.cpu_ns = (cpu_s() - c0) * 1e9 / ((double)j->msgs * j->per_msg);
    return r;
}

static result run_node(job *j, const char *front, const char *back, int count_allocs)
{
    double c0 = cpu_s();
    ngt_error err;
    ngt_zmq_opts o = {0};
    o.stop_at_end = 1;
    char src[256], snk[256];
    snprintf(src, sizeof src, "@%s", front);
    snprintf(snk, sizeof snk, "@%s", back);
    ngt_zmq_node *n = ngt_zmq_node_new(j->menu, src, &o, &err);
    if (!n || ngt_zmq_node_sink(n, "all", snk, &err) != NGT_OK) {
        fprintf(stderr, "bench_zmq: %s\n", err.msg);
        exit(1);
    }
    ngt_run_opts ro = {0};
    ro.threads = 1;
    const char *cap = getenv("NGT_BENCH_CAP"); /* events per batch; else (or 0) 256 */
    ro.capacity = cap ? atoi(cap) : 256;
    ro.in_order = 1;
    ro.sink = ngt_zmq_node_sink_fn;
    ro.sink_user = n;
    ngt_runner *r = ngt_runner_new(j->menu, &ro, &err);
    if (!r || ngt_zmq_node_start(n, r, &err) != NGT_OK) {
        fprintf(stderr, "bench_zmq: %s\n", err.msg);
        exit(1);
    }
    j->ctx = zmq_ctx_new();
    j->node = n;
    pthread_t tx, sw;
    swapper *w = j->swap;
    int swapping = w && pthread_create(&sw, NULL, swap_main, w) == 0;
    pthread_create(&tx, NULL, sender, j);
    result res = receive(j, 1, count_allocs);
    pthread_join(tx, NULL);
    if (swapping) {
        atomic_store(&w->stop, 1);
        pthread_join(sw, NULL);
    }
    ngt_zmq_node_finish(n, &err);
    ngt_runner_free(r);
    ngt_zmq_node_free(n);
    zmq_ctx_term(j->ctx);
    res.cpu_ns = (cpu_s() - c0) * 1e9 / ((double)j->msgs * j->per_msg);
    res.ngt_allocs = atomic_load(&ngt_allocs);
    res.zmq_allocs = atomic_load(&zmq_allocs);
    atomic_store(&ngt_allocs, 0);
    atomic_store(&zmq_allocs, 0);
    return res;
}

/* Every event accepted; with_model: after model "fad" (ref backend) run on x. */
static ngt_menu *trivial_menu(ngt_schema **s, ngt_registry **reg, int with_model)
{
    ngt_error err = {0};
    *s = ngt_schema_new();
    ngt_schema_add(*s, "x", "f32[77]", &err);
    ngt_schema_add(*s, "e", "f32", &err);
    *reg = ngt_registry_new(&err);
    if (with_model && ngt_registry_load(*reg, "fad", "ref", "models/fad.onnx", NULL, &err) < 0) {
        fprintf(stderr, "bench_zmq: model (run from the source tree): %s\n", err.msg);
        exit(1);
    }
    ngt_menu *m = ngt_menu_new(*s, *reg, &err);
    int c = ngt_menu_chain(m, "All", &err);
    const char *chains[1] = {"All"}, *in[1] = {"x"}, *out[1] = {"y"};
    if ((with_model && ngt_menu_infer(m, c, "fad", 1, in, 1, out, &err) < 0) ||
        ngt_menu_cut(m, c, "e > -1", &err) < 0 || ngt_menu_stream(m, "all", 1, chains, &err) < 0 ||
        ngt_menu_build(m, &err) < 0) {
        fprintf(stderr, "bench_zmq: menu: %s\n", err.msg);
        exit(1);
    }
    return m;
}

static double median3(double a, double b, double c)
{
    return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

/* Latency through the node whose menu runs model fad (ref backend), ipc, 16 events/msg, at half
 * its maximum rate: steady, then with the model swapped every 100 ms, interleaved, 2 rounds each;
 * target p99 during swaps <= 2x steady. */
static void swap_latency(int quick, int pid, wire_layout *l)
{
    ngt_schema *s;
    ngt_registry *reg;
    ngt_menu *m = trivial_menu(&s, &reg, 1);
    char c[128], d[128];
    snprintf(c, sizeof c, "ipc:///tmp/ngt_bench_zmq_%d_sc", pid);
    snprintf(d, sizeof d, "ipc:///tmp/ngt_bench_zmq_%d_sd", pid);
    int msgs = quick ? 400 : 4000;
    uint64_t *ts = calloc((size_t)msgs * 40 + 1, sizeof *ts);
    job jm = {c, d, 16, msgs, 0, m, l, ts, NULL, NULL, NULL};
    double max_rate = run_node(&jm, c, d, 0).ev_s, rate = max_rate / 2;
    int paced = (int)(rate / 16 * (quick ? 0.5 : 2.0)); /* seconds of messages */
    if (paced > msgs * 40)
        paced = msgs * 40;
    double p50[2][2], p99[2][2];
    int swaps = 0, failed = 0;
    for (int round = 0; round < 2; round++)
        for (int with = 0; with < 2; with++) {
            swapper w = {reg, 0, 0, 0};
            job j = {c, d, 16, paced, rate, m, l, ts, NULL, NULL, with ? &w : NULL};
            result r = run_node(&j, c, d, 0);
            p50[with][round] = r.p50_us;
            p99[with][round] = r.p99_us;
            swaps += w.swaps;
            failed += w.failed;
        }
    double s99 = (p99[0][0] + p99[0][1]) / 2, w99 = (p99[1][0] + p99[1][1]) / 2;
    printf("\nlatency with model swaps: ipc, menu running fad (ref backend), 16 events/msg at %.0f "
           "ev/s (half of %.0f), swapped every 100 ms (%d swaps, %d failed); 2 rounds, means (us)\n"
           "%10s %10s %10s %10s %8s\n%10.1f %10.1f %10.1f %10.1f %7.2fx   (target <= 2x)\n",
           rate, max_rate, swaps, failed, "steady p50", "steady p99", "swap p50", "swap p99",
           "p99 x", (p50[0][0] + p50[0][1]) / 2, s99, (p50[1][0] + p50[1][1]) / 2, w99,
           s99 > 0 ? w99 / s99 : 0);
    free(ts);
    ngt_menu_free(m);
    ngt_registry_free(reg);
    ngt_schema_free(s);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    ngt_schema *s;
    ngt_registry *reg;
    ngt_menu *m = trivial_menu(&s, &reg, 0);
    wire_layout l;
    ngt_error err;
    wire_layout_init(&l, ngt_menu_schema(m), 0, &err);
    printf("ngt ZeroMQ node vs raw forwarder (PULL -> zmq_proxy -> PUSH) | cpu: %s | isa: %s | "
           "blas: %s (unused) | libzmq %d.%d.%d | 312 B/event, node batches of 256, 1 worker, "
           "medians of 3\n",
           ngt_cpu_model(), ngt_cpu_isa(), ngt_blas_kernel(), ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR,
           ZMQ_VERSION_PATCH);
    printf("%-5s %8s %10s %14s %14s %7s %10s %10s %9s %12s %12s\n", "tr", "ev/msg", "MB/msg",
           "raw ev/s", "node ev/s", "ratio", "raw cpu", "node cpu", "cpu ratio", "ngt allocs",
           "zmq allocs");
    int pid = (int)getpid();
    const char *trs[2] = {"tcp", "ipc"};
    const int sizes[2] = {16, 256};
    double node_rate[2] = {0};
    for (int t = 0; t < 2; t++) {
        for (int k = 0; k < 2; k++) {
            int per = sizes[k];
            int msgs = (per == 16 ? 40000 : 6000) / (quick ? 10 : 1);
            double raw[3], nod[3], rawc[3], nodc[3];
            long na = 0, za = 0;
            for (int rep = 0; rep < 3; rep++) {
                char a[128], b[128], c[128], d[128];
                if (t == 0) {
                    int base = 20000 + (pid * 7 + rep * 4 + k * 16) % 40000;
                    snprintf(a, sizeof a, "tcp://127.0.0.1:%d", base);
                    snprintf(b, sizeof b, "tcp://127.0.0.1:%d", base + 1);
                    snprintf(c, sizeof c, "tcp://127.0.0.1:%d", base + 2);
                    snprintf(d, sizeof d, "tcp://127.0.0.1:%d", base + 3);
                } else {
                    snprintf(a, sizeof a, "ipc:///tmp/ngt_bench_zmq_%d_a", pid);
                    snprintf(b, sizeof b, "ipc:///tmp/ngt_bench_zmq_%d_b", pid);
                    snprintf(c, sizeof c, "ipc:///tmp/ngt_bench_zmq_%d_c", pid);
                    snprintf(d, sizeof d, "ipc:///tmp/ngt_bench_zmq_%d_d", pid);
                }
                uint64_t *ts = calloc((size_t)msgs + 1, sizeof *ts);
                job j = {a, b, per, msgs, 0, m, &l, ts, NULL, NULL, NULL};
                result rr = run_raw(&j, a, b);
                raw[rep] = rr.ev_s;
                rawc[rep] = rr.cpu_ns;
                job jn = {c, d, per, msgs, 0, m, &l, ts, NULL, NULL, NULL};
                result rn = run_node(&jn, c, d, rep == 0);
                nod[rep] = rn.ev_s;
                nodc[rep] = rn.cpu_ns;
                if (rep == 0) {
                    na = rn.ngt_allocs;
                    za = rn.zmq_allocs;
                }
                free(ts);
            }
            double rr = median3(raw[0], raw[1], raw[2]), nn = median3(nod[0], nod[1], nod[2]);
            double rc = median3(rawc[0], rawc[1], rawc[2]), nc = median3(nodc[0], nodc[1], nodc[2]);
            if (k == 0)
                node_rate[t] = nn;
            printf("%-5s %8d %10.4f %14.0f %14.0f %6.0f%% %10.0f %10.0f %8.0f%% %12ld %12ld\n",
                   trs[t], per, per * 312.0 / 1e6, rr, nn, 100 * nn / rr, rc, nc, 100 * rc / nc, na,
                   za);
        }
    }
    printf("\nlatency, sender's clock to receiver, 16 events/msg at half the node's rate "
           "(us)\n%-5s %12s %10s %10s %10s %10s\n",
           "tr", "rate ev/s", "raw p50", "raw p99", "node p50", "node p99");
    for (int t = 0; t < 2; t++) {
        double rate = node_rate[t] / 2;
        int msgs = (int)(rate / 16 * (quick ? 0.3 : 1.5)); /* about 1.5 s */
        char a[128], b[128], c[128], d[128];
        int base = 20000 + (pid * 11 + 40 + t * 8) % 40000;
        if (t == 0) {
            snprintf(a, sizeof a, "tcp://127.0.0.1:%d", base);
            snprintf(b, sizeof b, "tcp://127.0.0.1:%d", base + 1);
            snprintf(c, sizeof c, "tcp://127.0.0.1:%d", base + 2);
            snprintf(d, sizeof d, "tcp://127.0.0.1:%d", base + 3);
        } else {
            snprintf(a, sizeof a, "ipc:///tmp/ngt_bench_zmq_%d_la", pid);
            snprintf(b, sizeof b, "ipc:///tmp/ngt_bench_zmq_%d_lb", pid);
            snprintf(c, sizeof c, "ipc:///tmp/ngt_bench_zmq_%d_lc", pid);
            snprintf(d, sizeof d, "ipc:///tmp/ngt_bench_zmq_%d_ld", pid);
        }
        uint64_t *ts = calloc((size_t)msgs + 1, sizeof *ts);
        job j = {a, b, 16, msgs, rate, m, &l, ts, NULL, NULL, NULL};
        result rr = run_raw(&j, a, b);
        job jn = {c, d, 16, msgs, rate, m, &l, ts, NULL, NULL, NULL};
        result rn = run_node(&jn, c, d, 0);
        printf("%-5s %12.0f %10.1f %10.1f %10.1f %10.1f\n", trs[t], rate, rr.p50_us, rr.p99_us,
               rn.p50_us, rn.p99_us);
        free(ts);
    }
    swap_latency(quick, pid, &l);
    wire_layout_free(&l);
    ngt_menu_free(m);
    ngt_registry_free(reg);
    ngt_schema_free(s);
    return 0;
}
