/* embed.c: a C host embedding ngt. It builds a menu (collection cuts, HT, a pair mass, a prescale
 * and the fad anomaly model on the ref backend) and runs it on arrays it owns: first synchronously
 * on its own thread (ngt_menu_process over zero-copy views), then on ngt's threaded runner, and
 * checks that both give the same decisions.   Usage: embed [MODEL.onnx] [EVENTS] [THREADS] */
#include "ngt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAXJ = 12, BATCH = 256 };

/* The host's own event store: structure of arrays, 64-byte aligned. */
typedef struct store {
    int n;
    float *pt, *eta, *phi, *fad;
    int32_t *nj;
    uint64_t *evt;
} store;

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
static double unit(uint64_t k)
{
    return (double)(mix(k) >> 11) / 9007199254740992.0;
}

static void *zalloc(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "embed: out of memory\n");
        exit(1);
    }
    return memset(p, 0, (bytes + 63) / 64 * 64);
}

/* Jets with a falling pT spectrum and a few per event; fad inputs like calorimeter sums. */
static store make_store(int n)
{
    store s = {n,
               zalloc(sizeof(float) * MAXJ * (size_t)n),
               zalloc(sizeof(float) * MAXJ * (size_t)n),
               zalloc(sizeof(float) * MAXJ * (size_t)n),
               zalloc(sizeof(float) * 77 * (size_t)n),
               zalloc(sizeof(int32_t) * (size_t)n),
               zalloc(sizeof(uint64_t) * (size_t)n)};
    for (int e = 0; e < n; e++) {
        uint64_t k = (uint64_t)e * 1000;
        int nj = 0;
        double u = unit(k);
        while (nj < MAXJ && u > exp(-3.0) && nj < 1 + (int)(6 * unit(k + 1))) /* ~Poisson */
            u *= unit(k + 2 + (uint64_t)nj), nj++;
        s.nj[e] = nj;
        for (int j = 0; j < MAXJ; j++) {
            s.pt[e * MAXJ + j] = j < nj ? (float)(15.0 * pow(unit(k + 20 + (uint64_t)j), -0.6)) : 0;
            s.eta[e * MAXJ + j] = (float)(6.0 * unit(k + 40 + (uint64_t)j) - 3.0);
            s.phi[e * MAXJ + j] = (float)(6.283185307 * unit(k + 60 + (uint64_t)j) - 3.141592654);
        }
        for (int i = 0; i < 77; i++)
            s.fad[e * 77 + i] = (float)(-log(1.0 - unit(k + 100 + (uint64_t)i) * 0.999));
        s.evt[e] = (uint64_t)e;
    }
    return s;
}

static void die(const char *what, const ngt_error *err)
{
    fprintf(stderr, "embed: %s: %s\n", what, err->msg);
    exit(1);
}

static ngt_schema *make_schema(void)
{
    ngt_error err;
    ngt_schema *s = ngt_schema_new();
    const char *f[] = {"pt", "eta", "phi"};
    ngt_dtype t[] = {NGT_F32, NGT_F32, NGT_F32};
    if (ngt_schema_add_collection(s, "jet", MAXJ, 3, f, t, &err) < 0 ||
        ngt_schema_add(s, "fad_in", "f32[77]", &err) < 0 ||
        ngt_schema_add(s, "evt", "u64", &err) < 0 ||
        ngt_schema_add_scalar(s, "run", NGT_U32, &err) < 0 ||
        ngt_schema_add_scalar(s, "lumi", NGT_U32, &err) < 0 ||
        ngt_schema_set_identity(s, "run", "lumi", "evt", &err) != NGT_OK)
        die("schema", &err);
    return s;
}

static ngt_menu *make_menu(const ngt_schema *s, ngt_registry *r)
{
    ngt_error err;
    ngt_menu *m = ngt_menu_new(s, r, &err);
    const char *in[] = {"fad_in"}, *out[] = {"fad_out"};
    int c;
#define OK(x)                                                                                      \
    if ((x) < 0)                                                                                   \
    die(#x, &err)
    OK(c = ngt_menu_chain(m, "L1_DoubleJet40", &err));
    OK(ngt_menu_cut(m, c, "count(jet, pt > 40 and abs(eta) < 2.4) >= 2", &err));
    OK(c = ngt_menu_chain(m, "L1_HT250", &err));
    OK(ngt_menu_cut(m, c, "ht(jet, pt > 20 and abs(eta) < 2.4) > 250", &err));
    OK(c = ngt_menu_chain(m, "L1_DiJetMass500", &err));
    OK(ngt_menu_cut(m, c, "jet.n >= 2 and mass(jet, 0, 1) > 500", &err));
    OK(c = ngt_menu_chain(m, "L1_FAD", &err));
    OK(ngt_menu_cut(m, c, "count(jet, pt > 20) >= 1", &err));
    OK(ngt_menu_infer(m, c, "fad", 1, in, 1, out, &err));
    OK(ngt_menu_cut(m, c, "mean((fad_out - fad_in[0:76]) ** 2) > 3.2", &err));
    OK(c = ngt_menu_chain(m, "L1_ZeroBias", &err));
    OK(ngt_menu_prescale(m, c, 1000, &err));
    const char *phys[] = {"L1_DoubleJet40", "L1_HT250", "L1_DiJetMass500", "L1_FAD"};
    const char *calib[] = {"L1_ZeroBias"};
    OK(ngt_menu_stream(m, "physics", 4, phys, &err));
    OK(ngt_menu_stream(m, "calib", 1, calib, &err));
#undef OK
    if (ngt_menu_build(m, &err) != NGT_OK)
        die("menu", &err);
    return m;
}

/* Synchronous: the host's arrays are viewed in place (zero copy; they are 64-byte aligned). */
static void run_sync(ngt_menu *m, const store *st, uint64_t *dec)
{
    ngt_error err;
    const ngt_schema *s = ngt_menu_schema(m);
    ngt_ctx *ctx = ngt_ctx_new(m, BATCH, &err);
    ngt_batch *b = ngt_batch_new(s, BATCH, &err);
    if (!ctx || !b)
        die("context", &err);
    *(uint32_t *)ngt_batch_column_by_name(b, "run") = 1;
    *(uint32_t *)ngt_batch_column_by_name(b, "lumi") = 1;
    int cols[6] = {ngt_schema_find(s, "jet.n"),   ngt_schema_find(s, "jet.pt"),
                   ngt_schema_find(s, "jet.eta"), ngt_schema_find(s, "jet.phi"),
                   ngt_schema_find(s, "fad_in"),  ngt_schema_find(s, "evt")};
    int dc = ngt_schema_find(s, "ngt.decision");
    for (int at = 0; at < st->n; at += BATCH) {
        int n = st->n - at < BATCH ? st->n - at : BATCH;
        const void *src[6] = {st->nj + at,
                              st->pt + (size_t)at * MAXJ,
                              st->eta + (size_t)at * MAXJ,
                              st->phi + (size_t)at * MAXJ,
                              st->fad + (size_t)at * 77,
                              st->evt + at};
        for (int k = 0; k < 6; k++)
            if (ngt_batch_wrap(b, cols[k], src[k], n, &err) != NGT_OK)
                die("wrap", &err);
        memcpy(ngt_batch_event_ids(b), st->evt + at, sizeof(uint64_t) * (size_t)n);
        ngt_batch_set_count(b, n, &err);
        int rc = ngt_menu_process(m, ctx, b, &err);
        if (rc == NGT_ESTEP) /* the batch is complete; some events errored (status, error stream) */
            fprintf(stderr, "embed: %s\n", err.msg);
        else if (rc != NGT_OK)
            die("process", &err);
        memcpy(dec + at, ngt_batch_column(b, dc), sizeof(uint64_t) * (size_t)n);
    }
    printf("synchronous: %d events, %llu column copies (0 = all zero copy)\n", st->n,
           (unsigned long long)ngt_batch_copies(b));
    ngt_batch_free(b);
    ngt_ctx_free(ctx);
}

typedef struct sink_state {
    uint64_t *dec;
    int dc;
} sink_state;

static void sink(void *user, ngt_batch *b)
{
    sink_state *ss = user;
    const uint64_t *evt = ngt_batch_column_by_name(b, "evt");
    const uint64_t *d = ngt_batch_column(b, ss->dc);
    for (int i = 0; i < ngt_batch_count(b); i++)
        ss->dec[evt[i]] = d[i];
}

/* Threaded: the host fills the runner's pooled batches (acquire blocks when all are in flight). */
static void run_threaded(ngt_menu *m, const store *st, uint64_t *dec, int threads)
{
    ngt_error err;
    sink_state ss = {dec, ngt_schema_find(ngt_menu_schema(m), "ngt.decision")};
    ngt_run_opts o = {.threads = threads, .capacity = BATCH, .sink = sink, .sink_user = &ss};
    ngt_runner *r = ngt_runner_new(m, &o, &err);
    if (!r)
        die("runner", &err);
    for (int at = 0; at < st->n; at += BATCH) {
        int n = st->n - at < BATCH ? st->n - at : BATCH;
        ngt_batch *b = ngt_runner_acquire(r);
        *(uint32_t *)ngt_batch_column_by_name(b, "run") = 1;
        *(uint32_t *)ngt_batch_column_by_name(b, "lumi") = 1;
        memcpy(ngt_batch_column_by_name(b, "jet.n"), st->nj + at, sizeof(int32_t) * (size_t)n);
        memcpy(ngt_batch_column_by_name(b, "jet.pt"), st->pt + (size_t)at * MAXJ,
               sizeof(float) * MAXJ * (size_t)n);
        memcpy(ngt_batch_column_by_name(b, "jet.eta"), st->eta + (size_t)at * MAXJ,
               sizeof(float) * MAXJ * (size_t)n);
        memcpy(ngt_batch_column_by_name(b, "jet.phi"), st->phi + (size_t)at * MAXJ,
               sizeof(float) * MAXJ * (size_t)n);
        memcpy(ngt_batch_column_by_name(b, "fad_in"), st->fad + (size_t)at * 77,
               sizeof(float) * 77 * (size_t)n);
        memcpy(ngt_batch_column_by_name(b, "evt"), st->evt + at, sizeof(uint64_t) * (size_t)n);
        memcpy(ngt_batch_event_ids(b), st->evt + at, sizeof(uint64_t) * (size_t)n);
        ngt_batch_set_count(b, n, &err);
        if (ngt_runner_submit(r, b, &err) != NGT_OK)
            die("submit", &err);
    }
    ngt_runner_drain(r);
    ngt_runner_free(r);
    printf("threaded: %d events on %d threads\n", st->n, threads);
}

static void report(ngt_menu *m)
{
    ngt_stats *st = ngt_stats_new(m);
    ngt_stats_read(m, st);
    const ngt_totals *t = ngt_stats_totals(st);
    printf("\n%-18s %10s %10s %10s %10s %10s\n", "chain", "seen", "passed", "prescaled", "errored",
           "fraction");
    for (int c = 0; c < ngt_menu_nchains(m); c++) {
        const ngt_chain_stats *x = ngt_stats_chain(st, c);
        printf("%-18s %10llu %10llu %10llu %10llu %10.2e\n", ngt_menu_chain_name(m, c),
               (unsigned long long)x->seen, (unsigned long long)x->passed,
               (unsigned long long)x->prescaled, (unsigned long long)x->errored,
               x->seen ? (double)x->passed / (double)x->seen : 0.0);
    }
    for (int k = 0; k < ngt_menu_nstreams(m); k++)
        printf("stream %-11s %10llu\n", ngt_menu_stream_name(m, k),
               (unsigned long long)ngt_stats_stream(st, k)->accepted);
    printf("events in %llu = accepted %llu + rejected %llu + errored %llu (both runs)\n",
           (unsigned long long)t->in, (unsigned long long)t->accepted,
           (unsigned long long)t->rejected, (unsigned long long)t->errored);
    if (t->in != t->accepted + t->rejected + t->errored) {
        fprintf(stderr, "embed: the statistics do not add up\n");
        exit(1);
    }
    ngt_stats_free(st);
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf(
            "usage: embed [MODEL.onnx] [EVENTS] [THREADS]\n"
            "Builds a trigger menu in C and runs it on host arrays, synchronously and threaded.\n");
        return 0;
    }
    if (ngt_abi_version() != NGT_ABI_VERSION) {
        fprintf(stderr, "embed: built for ngt ABI %d, library has %d\n", NGT_ABI_VERSION,
                ngt_abi_version());
        return 1;
    }
    const char *model = argc > 1 ? argv[1] : "models/fad.onnx";
    int n = argc > 2 ? atoi(argv[2]) : 100000, threads = argc > 3 ? atoi(argv[3]) : 2;
    if (n <= 0 || threads <= 0) {
        fprintf(stderr, "embed: EVENTS and THREADS must be positive\n");
        return 2;
    }
    ngt_error err;
    ngt_registry *r = ngt_registry_new(&err);
    if (!r || ngt_registry_load(r, "fad", "ref", model, NULL, &err) != NGT_OK)
        die("model", &err);
    ngt_schema *s = make_schema();
    ngt_menu *m = make_menu(s, r);
    printf("ngt %s on %s (%s), menu %016llx, schema %016llx\n", ngt_version(), ngt_cpu_model(),
           ngt_cpu_isa(), (unsigned long long)ngt_menu_hash(m),
           (unsigned long long)ngt_schema_id(s));
    store st = make_store(n);
    uint64_t *d1 = zalloc(sizeof(uint64_t) * (size_t)n), *d2 = zalloc(sizeof(uint64_t) * (size_t)n);
    run_sync(m, &st, d1);
    run_threaded(m, &st, d2, threads);
    int same = memcmp(d1, d2, sizeof(uint64_t) * (size_t)n) == 0;
    printf("decisions synchronous vs threaded: %s\n", same ? "identical" : "DIFFERENT");
    report(m);
    free(d1);
    free(d2);
    free(st.pt), free(st.eta), free(st.phi), free(st.fad), free(st.nj), free(st.evt);
    ngt_menu_free(m);
    ngt_schema_free(s);
    ngt_registry_free(r);
    return same ? 0 : 1;
}
