/* bench_cuts: what ngt's cuts cost against the same cuts written as plain C loops (-O3
 * -march=native, bench_cuts_plain.c) over the same columns: 12-slot jet and muon collections with
 * counts, batches of 256 events, one thread.
 *  1. Each cut kind alone, a one-chain menu through ngt_menu_process (ngt's per-batch costs
 *     included), cuts compiled and interpreted, vs the plain loop.
 *  2. A generated 1,000-chain menu (jet count, HT, muon count, MET, dijet mass, 200 chains each;
 *     pT thresholds from 300 values, HT/MET/mass thresholds over one quantity each; a quarter
 *     prescaled; no seeds) vs the same chains as plain loops one by one; per chain and event.
 *  3. The 1,000-chain menu's build time: planner alone (interpreted cuts), and with its cuts
 *     compiled (empty cache, then cached).
 * Each figure is the median of 5 runs, peers interleaved.
 * Usage: bench_cuts [seconds-per-figure [kinds|menu]] */
#include "bench_cuts.h"
#include "ngt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { CAP = 256, MAX_NB = 256, REPS = 5, N_MENU = 1000, KINDS = 5 };

/* Distinct batches cycled through: 128 (32,768 events: a trigger sees each event once) by default;
 * NGT_BENCH_BATCHES=N (1..256) sets another number. Branchy loops (the plain peers) learn the
 * outcomes of events they see again and again: with more distinct events than a branch predictor
 * holds they run at the speed they would on fresh events (bench/README.md). */
static int g_nb = 128;
static const double PI = 3.14159265358979323846;

static double g_secs = 0.02; /* per measurement */

/* CPU time of this thread: on a shared machine, the time the thread was not running is left out
 * (the build time figures use the wall clock: the compiler is another process). */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t g_rng = 12345;
static uint64_t rnd(void)
{
    uint64_t x = (g_rng += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
static double unit(void)
{
    return ((double)(rnd() >> 11) + 0.5) / 9007199254740992.0;
}

static void die(const char *what, const ngt_error *err)
{
    fprintf(stderr, "bench_cuts: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

static ngt_schema *make_schema(void)
{
    ngt_error err = {0};
    ngt_schema *s = ngt_schema_new();
    static const char *f[] = {"pt", "eta", "phi"};
    static const ngt_dtype t[] = {NGT_F32, NGT_F32, NGT_F32};
    if (ngt_schema_add(s, "met", "f32", &err) < 0 ||
        ngt_schema_add_collection(s, "jet", BC_MAX, 3, f, t, &err) < 0 ||
        ngt_schema_add_collection(s, "mu", BC_MAX, 3, f, t, &err) < 0)
        die("schema", &err);
    return s;
}

static float *col(ngt_batch *b, const char *name)
{
    float *p = ngt_batch_column_by_name(b, name);
    if (!p)
        die(name, NULL);
    return p;
}

/* Batch k's events, the same for every menu: jets 0..12 (pt 20 + exponential of mean 50, |eta|
 * < 4), muons 0..3 (pt 3 + exponential of mean 15), MET exponential of mean 40. */
static void fill(ngt_batch *b, int k)
{
    g_rng = 1000 + (uint64_t)k;
    ngt_error err = {0};
    if (ngt_batch_set_count(b, CAP, &err))
        die("batch", &err);
    float *met = col(b, "met"), *jpt = col(b, "jet.pt"), *jeta = col(b, "jet.eta");
    float *jphi = col(b, "jet.phi"), *mpt = col(b, "mu.pt"), *meta = col(b, "mu.eta");
    float *mphi = col(b, "mu.phi");
    int32_t *nj = ngt_batch_column_by_name(b, "jet.n"), *nm = ngt_batch_column_by_name(b, "mu.n");
    for (int e = 0; e < CAP; e++) {
        ngt_batch_event_ids(b)[e] = (uint64_t)k * CAP + (uint64_t)e;
        met[e] = (float)(-40 * log(unit()));
        nj[e] = (int32_t)(rnd() % 13);
        nm[e] = (int32_t)(rnd() % 4);
        for (int j = 0; j < BC_MAX; j++) {
            int o = e * BC_MAX + j;
            jpt[o] = (float)(20 - 50 * log(unit()));
            jeta[o] = (float)(8 * unit() - 4);
            jphi[o] = (float)(2 * PI * unit() - PI);
            mpt[o] = (float)(3 - 15 * log(unit()));
            meta[o] = (float)(5 * unit() - 2.5);
            mphi[o] = (float)(2 * PI * unit() - PI);
        }
    }
}

static bc_cols cols_of(ngt_batch *b)
{
    bc_cols c = {col(b, "met"),     ngt_batch_column_by_name(b, "jet.n"),
                 col(b, "jet.pt"),  col(b, "jet.eta"),
                 col(b, "jet.phi"), ngt_batch_column_by_name(b, "mu.n"),
                 col(b, "mu.pt"),   col(b, "mu.eta"),
                 col(b, "mu.phi")};
    return c;
}

/* ---- chains --------------------------------------------------------------------------------- */

typedef enum kind { K_JET, K_HT, K_MU, K_MET, K_MASS, K_JETETA } kind;
typedef struct chain_def {
    kind k;
    double x;
    int mult;
    uint32_t prescale; /* 0: none */
    char expr[96];
} chain_def;

static void set_expr(chain_def *c)
{
    switch (c->k) {
    case K_JET:
        snprintf(c->expr, sizeof c->expr, "count(jet, pt > %g) >= %d", c->x, c->mult);
        break;
    case K_JETETA:
        snprintf(c->expr, sizeof c->expr, "count(jet, pt > %g and abs(eta) < 2.4) >= %d", c->x,
                 c->mult);
        break;
    case K_MU:
        snprintf(c->expr, sizeof c->expr, "count(mu, pt > %g) >= %d", c->x, c->mult);
        break;
    case K_HT:
        snprintf(c->expr, sizeof c->expr, "ht(jet, pt > 30) > %g", c->x);
        break;
    case K_MET:
        snprintf(c->expr, sizeof c->expr, "met > %g", c->x);
        break;
    case K_MASS:
        snprintf(c->expr, sizeof c->expr, "mass(jet, 0, 1) > %g", c->x);
        break;
    }
}

static void plain_chain(const chain_def *c, const bc_cols *cols, const uint64_t *ids, int n,
                        uint8_t *pass)
{
    switch (c->k) {
    case K_JET:
        plain_jet_count(cols, n, c->x, c->mult, pass);
        break;
    case K_JETETA:
        plain_jet_count_eta(cols, n, c->x, c->mult, pass);
        break;
    case K_MU:
        plain_mu_count(cols, n, c->x, c->mult, pass);
        break;
    case K_HT:
        plain_ht(cols, n, c->x, pass);
        break;
    case K_MET:
        plain_met(cols, n, c->x, pass);
        break;
    case K_MASS:
        plain_mass(cols, n, c->x, pass);
        break;
    }
    if (c->prescale)
        plain_prescale(ids, n, c->prescale, pass);
}

/* The 1,000-chain menu: kinds in turn; thresholds drawn from 300 values each. */
static chain_def *menu_defs(void)
{
    chain_def *d = calloc(N_MENU, sizeof *d);
    g_rng = 42;
    for (int i = 0; i < N_MENU; i++) {
        chain_def *c = &d[i];
        c->k = (kind)(i % KINDS);
        int v = (int)(rnd() % 300);
        switch (c->k) {
        case K_JET:
            c->x = 20 + v, c->mult = 1 + (int)(rnd() % 4);
            break;
        case K_MU:
            c->x = 3 + 0.5 * v, c->mult = 1 + (int)(rnd() % 3);
            break;
        case K_HT:
            c->x = 100 + 5 * v;
            break;
        case K_MET:
            c->x = 20 + v;
            break;
        default:
            c->x = 50 + 5 * v;
            break;
        }
        if (i % 4 == 3)
            c->prescale = 2 + (uint32_t)(rnd() % 9);
        set_expr(c);
    }
    return d;
}

/* ---- ngt side ------------------------------------------------------------------------------- */

typedef struct bench_menu {
    ngt_menu *m;
    ngt_ctx *ctx;
    ngt_batch *b[MAX_NB];
} bench_menu;

static ngt_menu *new_menu(const ngt_schema *s, const chain_def *d, int n)
{
    ngt_error err = {0};
    ngt_menu *m = ngt_menu_new(s, NULL, &err);
    if (!m)
        die("menu", &err);
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%d", i);
        int ci = ngt_menu_chain(m, name, &err);
        if (ci < 0 || (d[i].prescale && ngt_menu_prescale(m, ci, d[i].prescale, &err)) ||
            ngt_menu_cut(m, ci, d[i].expr, &err))
            die(d[i].expr, &err);
    }
    return m;
}

static void open_menu(bench_menu *bm, ngt_menu *m, ngt_cuts_mode mode)
{
    ngt_error err = {0};
    bm->m = m;
    if (ngt_menu_set_cuts(m, mode, &err) || ngt_menu_build(m, &err))
        die("build", &err);
    if (!(bm->ctx = ngt_ctx_new(m, CAP, &err)))
        die("context", &err);
    for (int k = 0; k < g_nb; k++) {
        if (!(bm->b[k] = ngt_batch_new(ngt_menu_schema(m), CAP, &err)))
            die("batch", &err);
        fill(bm->b[k], k);
    }
}

static void close_menu(bench_menu *bm)
{
    for (int k = 0; k < g_nb; k++)
        ngt_batch_free(bm->b[k]);
    ngt_ctx_free(bm->ctx);
    ngt_menu_free(bm->m);
}

static void ngt_round(bench_menu *bm)
{
    ngt_error err = {0};
    for (int k = 0; k < g_nb; k++)
        if (ngt_menu_process(bm->m, bm->ctx, bm->b[k], &err))
            die("process", &err);
}

static uint8_t g_pass[N_MENU][CAP];

static void plain_round(bench_menu *bm, const chain_def *d, int n)
{
    for (int k = 0; k < g_nb; k++) {
        bc_cols c = cols_of(bm->b[k]);
        const uint64_t *ids = ngt_batch_event_ids(bm->b[k]);
        for (int i = 0; i < n; i++)
            plain_chain(&d[i], &c, ids, CAP, g_pass[i]);
    }
}

/* Seconds per round, rounds repeated for at least g_secs. which: 0 plain, 1 ngt. */
static double per_round(bench_menu *bm, const chain_def *d, int n, int which)
{
    int rounds = 0;
    double t0 = now_s(), t;
    do {
        if (which)
            ngt_round(bm);
        else
            plain_round(bm, d, n);
        rounds++;
    } while ((t = now_s() - t0) < g_secs);
    return t / rounds;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v)
{
    qsort(v, REPS, sizeof *v, cmp_double);
    return v[REPS / 2];
}

/* Events each non-prescaled chain passed: ngt's counts must equal the plain loops'. */
static int check_agree(bench_menu *bm, const chain_def *d, int n)
{
    ngt_round(bm);
    ngt_stats *st = ngt_stats_new(bm->m);
    ngt_stats_read(bm->m, st);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (d[i].prescale)
            continue;
        uint64_t want = 0;
        for (int k = 0; k < g_nb; k++) {
            bc_cols c = cols_of(bm->b[k]);
            plain_chain(&d[i], &c, ngt_batch_event_ids(bm->b[k]), CAP, g_pass[i]);
            for (int e = 0; e < CAP; e++)
                want += g_pass[i][e];
        }
        if (ngt_stats_chain(st, i)->passed != want) {
            fprintf(stderr, "bench_cuts: '%s': ngt passed %llu, plain C %llu\n", d[i].expr,
                    (unsigned long long)ngt_stats_chain(st, i)->passed, (unsigned long long)want);
            bad = 1;
        }
    }
    ngt_stats_free(st);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_secs = atof(argv[1]);
    const char *only = argc > 2 ? argv[2] : "";
    /* a fresh cache, so that the first compiled build compiles (unless NGT_CACHE is set) */
    char cache[] = "/tmp/ngt-bench-cuts-XXXXXX";
    const char *user_cache = getenv("NGT_CACHE");
    if (!user_cache || !*user_cache) {
        if (!mkdtemp(cache))
            die("mkdtemp", NULL);
        setenv("NGT_CACHE", cache, 1);
    }
    unsetenv("NGT_CUTS");
    const char *nb = getenv("NGT_BENCH_BATCHES");
    if (nb && *nb) {
        g_nb = atoi(nb);
        if (g_nb < 1 || g_nb > MAX_NB)
            die("NGT_BENCH_BATCHES: expected 1..256", NULL);
    }
    ngt_schema *s = make_schema();
    const double ev = (double)g_nb * CAP;
    int bad = 0;

    printf("ngt cuts benchmark (medians of %d runs) | cpu: %s | isa: %s | batches of %d events "
           "(%d distinct), 1 thread\n\n",
           REPS, ngt_cpu_model(), ngt_cpu_isa(), CAP, g_nb);
    printf(
        "| cut | ngt compiled ns/event | ngt interpreted ns/event | plain C -O3 -march=native "
        "ns/event | compiled / plain | target (2x plain or 1 ns) |\n|---|---|---|---|---|---|\n");
    chain_def kinds[] = {{K_MET, 40, 0, 0, ""},   {K_JETETA, 30, 2, 0, ""}, {K_HT, 300, 0, 0, ""},
                         {K_MASS, 200, 0, 0, ""}, {K_MU, 10, 1, 0, ""},     {K_JET, 50, 3, 0, ""}};
    for (size_t k = 0; strcmp(only, "menu") != 0 && k < sizeof kinds / sizeof kinds[0]; k++) {
        chain_def *d = &kinds[k];
        if (argc > 3 && atoi(argv[3]) != (int)k)
            continue;
        set_expr(d);
        bench_menu comp, interp;
        open_menu(&comp, new_menu(s, d, 1), NGT_CUTS_COMPILED);
        open_menu(&interp, new_menu(s, d, 1), NGT_CUTS_INTERP);
        bad |= check_agree(&comp, d, 1) | check_agree(&interp, d, 1);
        double tc[REPS], ti[REPS], tp[REPS];
        for (int r = 0; r < REPS; r++) {
            tp[r] = per_round(&comp, d, 1, 0) / ev * 1e9;
            tc[r] = per_round(&comp, d, 1, 1) / ev * 1e9;
            ti[r] = per_round(&interp, d, 1, 1) / ev * 1e9;
        }
        double c = median(tc), i = median(ti), p = median(tp);
        double target = 2 * p > 1 ? 2 * p : 1;
        printf("| `%s` | %.2f | %.2f | %.2f | %.2fx | %s (%.2f) |\n", d->expr, c, i, p, c / p,
               c <= target ? "met" : "MISSED", target);
        close_menu(&comp);
        close_menu(&interp);
    }

    /* the 1,000-chain menu and its build times */
    if (!strcmp(only, "kinds"))
        return bad;
    chain_def *d = menu_defs();
    double t0 = wall_s();
    ngt_menu *mi = new_menu(s, d, N_MENU);
    double t_add = wall_s() - t0;
    ngt_menu *mc = new_menu(s, d, N_MENU), *mw = new_menu(s, d, N_MENU);
    bench_menu comp, warm, interp;
    t0 = wall_s();
    open_menu(&interp, mi, NGT_CUTS_INTERP);
    double t_plan = wall_s() - t0;
    t0 = wall_s();
    open_menu(&comp, mc, NGT_CUTS_COMPILED);
    double t_cold = wall_s() - t0;
    t0 = wall_s();
    open_menu(&warm, mw, NGT_CUTS_COMPILED);
    double t_warm = wall_s() - t0;
    close_menu(&warm);
    bad |= check_agree(&comp, d, N_MENU) | check_agree(&interp, d, N_MENU);
    double tc[REPS], ti[REPS], tp[REPS];
    for (int r = 0; r < REPS; r++) {
        tp[r] = per_round(&comp, d, N_MENU, 0) / ev / N_MENU * 1e9;
        tc[r] = per_round(&comp, d, N_MENU, 1) / ev / N_MENU * 1e9;
        ti[r] = per_round(&interp, d, N_MENU, 1) / ev / N_MENU * 1e9;
    }
    double c = median(tc), i = median(ti), p = median(tp);
    printf("\n| 1,000-chain menu (5 kinds x 200, 1/4 prescaled) | ns per chain and event | per "
           "event |\n|---|---|---|\n");
    printf("| ngt, compiled cuts | %.3f | %.2f us |\n", c, c * N_MENU / 1e3);
    printf("| ngt, interpreted cuts | %.3f | %.2f us |\n", i, i * N_MENU / 1e3);
    printf("| plain C loops, chain by chain | %.3f | %.2f us |\n", p, p * N_MENU / 1e3);
    printf("| compiled / plain C (target <= 0.5x) | %.2fx %s | |\n", c / p,
           c <= 0.5 * p ? "met" : "MISSED");
    printf("| interpreted / plain C | %.2fx | |\n", i / p);
    printf("\n| 1,000-chain menu build | seconds |\n|---|---|\n");
    printf("| adding the chains (cuts parsed, checked, compiled to block programs) | %.3f |\n",
           t_add);
    printf("| ngt_menu_build, interpreted cuts (the planner alone) | %.3f |\n", t_plan);
    printf(
        "| ngt_menu_build, compiled cuts, empty cache (planner + C generated and compiled), wall "
        "| %.3f |\n",
        t_cold);
    printf("| ngt_menu_build, compiled cuts, cached | %.3f |\n", t_warm);
    printf("(compiled: %d cut steps in one function)\n", ngt_menu_compiled_cuts(comp.m));
    close_menu(&comp);
    close_menu(&interp);
    free(d);
    ngt_schema_free(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache);
    if ((!user_cache || !*user_cache) && system(cmd) != 0)
        fprintf(stderr, "bench_cuts: could not remove %s\n", cache);
    if (bad)
        fprintf(stderr, "bench_cuts: ngt and plain C disagree\n");
    return bad;
}
