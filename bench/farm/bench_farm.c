/* bench_farm: farm throughput vs JetStream's own loop, in one run, on a nats-server -js this
 * program starts (loopback, file storage in a temporary directory, removed at the end).
 *   peer: one process publishes M messages of the farm's input size asynchronously into a
 *         work-queue stream; another fetches them (the farm's fetch size) and acks each.
 *   farm: `ngt send --farm` (the sender API) publishes the same M messages; 1 or 2 farm nodes
 *         (the node API, a trivial menu) fetch, run the menu, publish one result record each and
 *         ack after the PubAcks.
 * Both are timed from the first publish to the moment the input stream is empty (every message
 * acknowledged; for the farm also every result stored), polled every 2 ms in the same way.
 * Processes are this program re-executed with a role; medians of 3. */
#define _DEFAULT_SOURCE
#include "internal.h"
#include "ngt_farm.h"

#include <nats/nats.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { FETCH = 16, EVENT_BYTES = 312 };

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *what, natsStatus s)
{
    fprintf(stderr, "bench_farm: %s: %s\n", what, natsStatus_GetText(s));
    exit(1);
}

static ngt_menu *trivial_menu(void)
{
    ngt_error err;
    ngt_schema *s = ngt_schema_new();
    ngt_schema_add(s, "x", "f32[77]", &err);
    ngt_schema_add(s, "e", "f32", &err);
    ngt_registry *reg = ngt_registry_new(&err);
    ngt_menu *m = ngt_menu_new(s, reg, &err);
    int c = ngt_menu_chain(m, "All", &err);
    const char *chains[1] = {"All"};
    if (ngt_menu_cut(m, c, "e > -1", &err) < 0 || ngt_menu_stream(m, "all", 1, chains, &err) < 0 ||
        ngt_menu_build(m, &err) < 0) {
        fprintf(stderr, "bench_farm: menu: %s\n", err.msg);
        exit(1);
    }
    return m; /* lives until the process exits */
}

static natsConnection *connect_to(const char *url, jsCtx **js)
{
    natsConnection *nc = NULL;
    natsStatus s = natsConnection_ConnectTo(&nc, url);
    if (s == NATS_OK)
        s = natsConnection_JetStream(js, nc, NULL);
    if (s != NATS_OK)
        die("connect", s);
    return nc;
}

/* ---- roles (child processes) ---------------------------------------------------------------- */

static int peer_pub(const char *url, const char *stream, size_t size, int msgs)
{
    jsCtx *js;
    natsConnection *nc = connect_to(url, &js);
    char subj[128];
    snprintf(subj, sizeof subj, "%s.in", stream);
    unsigned char *buf = calloc(1, size);
    for (size_t i = 0; i < size; i++)
        buf[i] = (unsigned char)(i * 131);
    for (int i = 0; i < msgs; i++) {
        char id[32];
        snprintf(id, sizeof id, "p.%d", i);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = id; /* the farm's sender sets one too */
        natsStatus s = js_PublishAsync(js, subj, buf, (int)size, &po);
        if (s != NATS_OK)
            die("peer publish", s);
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 60000;
    natsStatus s = js_PublishAsyncComplete(js, &po);
    if (s != NATS_OK)
        die("peer publish complete", s);
    free(buf);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return 0;
}

static int peer_consume(const char *url, const char *stream, int msgs)
{
    jsCtx *js;
    natsConnection *nc = connect_to(url, &js);
    char subj[128];
    snprintf(subj, sizeof subj, "%s.in", stream);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Consumer = "ngt";
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_PullSubscribe(&sub, js, subj, "ngt", NULL, &so, &jerr);
    if (s != NATS_OK)
        die("peer subscribe", s);
    int done = 0;
    while (done < msgs) {
        natsMsgList list = {0};
        s = natsSubscription_Fetch(&list, sub, FETCH, 1000, NULL);
        if (s == NATS_TIMEOUT)
            continue;
        if (s != NATS_OK)
            die("peer fetch", s);
        for (int i = 0; i < list.Count; i++)
            natsMsg_Ack(list.Msgs[i], NULL);
        done += list.Count;
        natsMsgList_Destroy(&list);
    }
    natsConnection_Flush(nc);
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return 0;
}

static int farm_send(const char *url, const char *stream, int per, int msgs)
{
    ngt_menu *m = trivial_menu();
    ngt_error err;
    ngt_farm_opts o = {0};
    o.url = url;
    o.stream = stream;
    ngt_farm_sender *z = ngt_farm_sender_new(&o, ngt_menu_schema(m), 0, 1, &err);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), per, &err);
    if (!z || !b) {
        fprintf(stderr, "bench_farm: sender: %s\n", err.msg);
        return 1;
    }
    float *x = ngt_batch_column_by_name(b, "x");
    for (int i = 0; i < per * 77; i++)
        x[i] = (float)(i % 97);
    ngt_batch_set_count(b, per, &err);
    for (int i = 0; i < msgs; i++)
        if (ngt_farm_sender_send(z, b, 0, &err) < 0) {
            fprintf(stderr, "bench_farm: send: %s\n", err.msg);
            return 1;
        }
    if (ngt_farm_sender_finish(z, &err) < 0) {
        fprintf(stderr, "bench_farm: send: %s\n", err.msg);
        return 1;
    }
    ngt_farm_sender_free(z);
    ngt_batch_free(b);
    return 0;
}

static int farm_node(const char *url, const char *stream, int id)
{
    ngt_menu *m = trivial_menu();
    ngt_error err;
    ngt_farm_opts o = {0};
    o.url = url;
    o.stream = stream;
    o.fetch = FETCH;
    o.node_id = (uint32_t)id;
    ngt_farm_node *n = ngt_farm_node_new(m, &o, &err);
    if (!n) {
        fprintf(stderr, "bench_farm: node: %s\n", err.msg);
        return 1;
    }
    int rc;
    while ((rc = ngt_farm_node_step(n, 100, &err)) == 0)
        ;
    if (rc < 0)
        fprintf(stderr, "bench_farm: node: %s\n", err.msg);
    ngt_farm_node_free(n);
    return rc < 0;
}

/* ---- driver ---------------------------------------------------------------------------------- */

static char self[4096];

static pid_t spawn(char *const argv[])
{
    pid_t p = fork();
    if (p == 0) {
        execv(self, argv);
        _exit(127);
    }
    return p;
}

static void wait_ok(pid_t p, const char *what)
{
    int st = 0;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_farm: %s failed (status %d)\n", what, st);
        exit(1);
    }
}

/* Waits until the publisher is done and the input stream is empty; returns the time. */
static double wait_empty(jsCtx *js, const char *stream, pid_t pub)
{
    int pub_done = 0;
    for (;;) {
        if (!pub_done) {
            int st;
            if (waitpid(pub, &st, WNOHANG) == pub) {
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                    fprintf(stderr, "bench_farm: publisher failed\n");
                    exit(1);
                }
                pub_done = 1;
            }
        }
        jsStreamInfo *si = NULL;
        if (js_GetStreamInfo(&si, js, stream, NULL, NULL) == NATS_OK) {
            uint64_t left = si->State.Msgs, total = si->State.LastSeq;
            jsStreamInfo_Destroy(si);
            if (pub_done && left == 0 && total > 0)
                return now_s();
        }
        usleep(2000);
    }
}

static void setup_stream(const char *url, const char *name)
{
    ngt_farm_opts o = {0};
    ngt_error err;
    o.url = url;
    o.stream = name;
    o.create = 1;
    if (ngt_farm_setup(&o, &err) < 0) {
        fprintf(stderr, "bench_farm: setup: %s\n", err.msg);
        exit(1);
    }
}

static void drop(jsCtx *js, const char *name)
{
    char r[128];
    snprintf(r, sizeof r, "%s_results", name);
    js_DeleteStream(js, name, NULL, NULL);
    js_DeleteStream(js, r, NULL, NULL);
}

static double run_peer(const char *url, jsCtx *js, int trial, size_t size, int msgs)
{
    char name[64], sz[32], ms[32];
    snprintf(name, sizeof name, "P%d", trial);
    snprintf(sz, sizeof sz, "%zu", size);
    snprintf(ms, sizeof ms, "%d", msgs);
    setup_stream(url, name); /* the same work-queue stream and consumer as a farm's */
    char *ca[] = {self, "--peer-consume", (char *)url, name, ms, NULL};
    pid_t c = spawn(ca);
    usleep(200000);
    double t0 = now_s();
    char *pa[] = {self, "--peer-pub", (char *)url, name, sz, ms, NULL};
    pid_t p = spawn(pa);
    double t1 = wait_empty(js, name, p);
    wait_ok(c, "peer consumer");
    drop(js, name);
    return (double)msgs * (double)size / (t1 - t0);
}

static double run_farm(const char *url, jsCtx *js, natsConnection *nc, int trial, int per, int msgs,
                       int nodes)
{
    char name[64], pe[32], ms[32];
    snprintf(name, sizeof name, "F%d", trial);
    snprintf(pe, sizeof pe, "%d", per);
    snprintf(ms, sizeof ms, "%d", msgs);
    setup_stream(url, name);
    pid_t nd[2];
    for (int i = 0; i < nodes; i++) {
        char id[8];
        snprintf(id, sizeof id, "%d", i + 1);
        char *na[] = {self, "--farm-node", (char *)url, name, id, NULL};
        nd[i] = spawn(na);
    }
    usleep(300000);
    double t0 = now_s();
    char *sa[] = {self, "--farm-send", (char *)url, name, pe, ms, NULL};
    pid_t p = spawn(sa);
    double t1 = wait_empty(js, name, p);
    char ctl[128];
    snprintf(ctl, sizeof ctl, "%s.control", name);
    for (int k = 0; k < 3; k++) {
        natsConnection_PublishString(nc, ctl, "stop");
        natsConnection_Flush(nc);
        usleep(100000);
    }
    for (int i = 0; i < nodes; i++)
        wait_ok(nd[i], "farm node");
    drop(js, name);
    return (double)msgs * (double)(64 + (size_t)per * EVENT_BYTES) / (t1 - t0);
}

static double med3(const double *v)
{
    double a = v[0], b = v[1], c = v[2];
    return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--peer-pub") == 0 && argc == 6)
        return peer_pub(argv[2], argv[3], (size_t)atol(argv[4]), atoi(argv[5]));
    if (argc >= 2 && strcmp(argv[1], "--peer-consume") == 0 && argc == 5)
        return peer_consume(argv[2], argv[3], atoi(argv[4]));
    if (argc >= 2 && strcmp(argv[1], "--farm-send") == 0 && argc == 6)
        return farm_send(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]));
    if (argc >= 2 && strcmp(argv[1], "--farm-node") == 0 && argc == 5)
        return farm_node(argv[2], argv[3], atoi(argv[4]));
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    if (k <= 0) {
        fprintf(stderr, "bench_farm: cannot find itself\n");
        return 1;
    }
    self[k] = 0;
    const char *server = NULL;
    const char *cands[] = {"/usr/sbin/nats-server", "/usr/bin/nats-server",
                           "/usr/local/bin/nats-server"};
    for (int i = 0; i < 3; i++)
        if (access(cands[i], X_OK) == 0)
            server = cands[i];
    if (!server) {
        printf("bench_farm: nats-server not installed (scripts/bootstrap); skipped\n");
        return 0;
    }
    char dir[] = "/tmp/ngt_bench_farm_XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    int port = 30000 + (int)(getpid() % 20000);
    char ps[16], url[64];
    snprintf(ps, sizeof ps, "%d", port);
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
    pid_t srv = fork();
    if (srv == 0) {
        int fd = open("/dev/null", 1);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(server, server, "-js", "-a", "127.0.0.1", "-p", ps, "-sd", dir, (char *)NULL);
        _exit(127);
    }
    natsConnection *nc = NULL;
    for (int i = 0; i < 100 && natsConnection_ConnectTo(&nc, url) != NATS_OK; i++)
        usleep(50000);
    if (!nc) {
        fprintf(stderr, "bench_farm: the server did not start\n");
        kill(srv, SIGTERM);
        return 1;
    }
    jsCtx *js = NULL;
    natsConnection_JetStream(&js, nc, NULL);
    printf("ngt farm vs JetStream's own publish + fetch + ack loop | cpu: %s | isa: %s | "
           "nats-server (file storage, loopback) | libnats %s | %d B/event, fetch %d, async "
           "publish, medians of 3\n",
           ngt_cpu_model(), ngt_cpu_isa(), nats_GetVersion(), EVENT_BYTES, FETCH);
    printf("%8s %10s %8s %12s %12s %7s %12s %9s\n", "ev/msg", "KB/msg", "msgs", "peer MB/s",
           "farm MB/s", "ratio", "2 nodes MB/s", "2 vs 1");
    const int pers[2] = {16, 840}; /* 5 KB and 256 KB messages */
    int trial = 0;
    for (int s = 0; s < 2; s++) {
        int per = pers[s];
        size_t size = 64 + (size_t)per * EVENT_BYTES;
        int msgs = (per == 16 ? 20000 : 1500) / (quick ? 10 : 1);
        double peer[3], f1[3], f2[3];
        for (int rep = 0; rep < 3; rep++) {
            peer[rep] = run_peer(url, js, trial++, size, msgs);
            f1[rep] = run_farm(url, js, nc, trial++, per, msgs, 1);
            f2[rep] = run_farm(url, js, nc, trial++, per, msgs, 2);
        }
        double p = med3(peer), a = med3(f1), b = med3(f2);
        printf("%8d %10.1f %8d %12.1f %12.1f %6.0f%% %12.1f %8.2fx\n", per, (double)size / 1024,
               msgs, p / 1e6, a / 1e6, 100 * a / p, b / 1e6, b / a);
        fflush(stdout);
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    kill(srv, SIGTERM);
    waitpid(srv, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_farm: could not remove %s\n", dir);
    return 0;
}
