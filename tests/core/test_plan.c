/* test_plan.c: the planner at menu scale. Counts the planner's work (not its time) on menus of
 * 250 and 1,000 chains sharing producers (some of which depend on others), and checks it grows
 * like (nodes + edges) log nodes, not like nodes^2 or ^3; a step reading 150 produced columns
 * gets every one of its producers (the old planner stopped collecting at 96, silently), and
 * decisions over a batch use every produced value. */
#include "testutil.h"

#include "menu_int.h"

#include <math.h>

enum { NPROD = 40, WIDE = 150 };

/* Producer k writes q<k> = x + k (reading q<k-1> too when k is odd: producers on producers). */
static int produce(void *u, ngt_step_io *io)
{
    int k = (int)(intptr_t)u;
    char name[32];
    snprintf(name, sizeof name, "q%d", k);
    const float *x = ngt_batch_column_by_name(io->batch, "x");
    float *q = ngt_batch_column_by_name(io->batch, name);
    for (int i = 0; i < io->n; i++)
        q[io->sel[i]] = x[io->sel[i]] + (float)k;
    return NGT_OK;
}

static ngt_menu *scaled_menu(int n_chains)
{
    ngt_schema *s = ngt_schema_new();
    TU_OK(ngt_schema_add(s, "x", "f32", NULL));
    ngt_registry *r = ngt_registry_new(NULL);
    ngt_menu *m = ngt_menu_new(s, r, NULL);
    assert_non_null(m);
    ngt_schema_free(s);
    char names[NPROD][16];
    for (int k = 0; k < NPROD; k++)
        snprintf(names[k], sizeof names[k], "q%d", k);
    for (int c = 0; c < n_chains; c++) {
        char chain[32], expr[96];
        snprintf(chain, sizeof chain, "C%d", c);
        int ci = ngt_menu_chain(m, chain, NULL);
        assert_true(ci >= 0);
        snprintf(expr, sizeof expr, "x > %g", (double)(c % 97) / 100.0);
        TU_OK(ngt_menu_cut(m, ci, expr, NULL));
        int k = c % NPROD;
        const char *reads[2] = {"x", k % 2 ? names[k - 1] : "x"};
        const char *writes[1] = {names[k]};
        const char *types[1] = {"f32"};
        ngt_step_def d = {.name = names[k],
                          .fn = produce,
                          .user = (void *)(intptr_t)k,
                          .n_reads = 2,
                          .reads = reads,
                          .n_writes = 1,
                          .writes = writes,
                          .write_types = types};
        TU_OK(ngt_menu_step(m, ci, &d, NULL));
        snprintf(expr, sizeof expr, "%s < %d.5", names[k], k);
        TU_OK(ngt_menu_cut(m, ci, expr, NULL));
    }
    return m;
}

static void free_menu(ngt_menu *m)
{
    ngt_registry *r = m->reg;
    ngt_menu_free(m);
    ngt_registry_free(r);
}

static double bound(const ngt_menu *m)
{
    double v = m->n_nodes + m->plan_edges;
    return v * log2((double)m->n_nodes + 2);
}

static void test_scaling(void **state)
{
    (void)state;
    ngt_error e = {0};
    ngt_menu *small = scaled_menu(250), *big = scaled_menu(1000);
    assert_int_equal(ngt_menu_build(small, &e), NGT_OK);
    assert_int_equal(ngt_menu_build(big, &e), NGT_OK);
    printf("planner: 250 chains: %d nodes, %d edges, %llu operations; 1000 chains: %d nodes, %d "
           "edges, %llu operations (plan %.2f ms)\n",
           small->n_nodes, small->plan_edges, (unsigned long long)small->plan_work, big->n_nodes,
           big->plan_edges, (unsigned long long)big->plan_work, (double)big->plan_ns / 1e6);
    /* (nodes + edges) log nodes, with a constant for the propagation over producers x chains */
    assert_true((double)big->plan_work < 8 * bound(big) + 4.0 * NPROD * 1000 * 4);
    /* 4x the chains: about 4x the work (a quadratic planner would do 16x) */
    assert_true((double)big->plan_work < 6.0 * (double)small->plan_work);
    /* every producer runs once, and only for chains that read it */
    int producers = 0;
    for (int i = 0; i < big->n_steps; i++)
        if (big->user_start[i + 1] > big->user_start[i]) {
            producers++;
            assert_true(big->user_start[i + 1] - big->user_start[i] >= 1000 / NPROD);
        }
    assert_int_equal(producers, NPROD);
    free_menu(small);
    free_menu(big);
}

/* One filter reads 150 produced columns: all 150 producers are its dependencies. */
static int sum_pass(void *u, ngt_step_io *io)
{
    (void)u;
    float sum[512] = {0};
    for (int k = 0; k < WIDE; k++) {
        char name[16];
        snprintf(name, sizeof name, "w%d", k);
        const float *w = ngt_batch_column_by_name(io->batch, name);
        for (int i = 0; i < io->n; i++)
            sum[i] += w[io->sel[i]];
    }
    const float *x = ngt_batch_column_by_name(io->batch, "x");
    for (int i = 0; i < io->n; i++) /* w_k = x + k: the sum is WIDE x + WIDE (WIDE - 1) / 2 */
        io->pass[i] = sum[i] == (float)WIDE * x[io->sel[i]] + (float)(WIDE * (WIDE - 1) / 2);
    return NGT_OK;
}

static int produce_w(void *u, ngt_step_io *io)
{
    int k = (int)(intptr_t)u;
    char name[16];
    snprintf(name, sizeof name, "w%d", k);
    const float *x = ngt_batch_column_by_name(io->batch, "x");
    float *w = ngt_batch_column_by_name(io->batch, name);
    for (int i = 0; i < io->n; i++)
        w[io->sel[i]] = x[io->sel[i]] + (float)k;
    return NGT_OK;
}

static void test_wide_step(void **state)
{
    (void)state;
    ngt_schema *s = ngt_schema_new();
    TU_OK(ngt_schema_add(s, "x", "f32", NULL));
    ngt_registry *r = ngt_registry_new(NULL);
    ngt_menu *m = ngt_menu_new(s, r, NULL);
    int ci = ngt_menu_chain(m, "Wide", NULL);
    static char names[WIDE][16];
    const char *reads[WIDE + 1];
    const char *types[1] = {"f32"};
    for (int k = 0; k < WIDE; k++) {
        snprintf(names[k], sizeof names[k], "w%d", k);
        reads[k] = names[k];
        const char *x[1] = {"x"}, *w[1] = {names[k]};
        ngt_step_def d = {.name = names[k],
                          .fn = produce_w,
                          .user = (void *)(intptr_t)k,
                          .n_reads = 1,
                          .reads = x,
                          .n_writes = 1,
                          .writes = w,
                          .write_types = types};
        /* declared on chains of their own behind a cut that rejects everything, so a producer
         * computes Wide's events only if the planner made Wide one of its users */
        int other = ngt_menu_chain(m, names[k], NULL);
        TU_OK(ngt_menu_cut(m, other, "x < 0", NULL));
        TU_OK(ngt_menu_step(m, other, &d, NULL));
    }
    reads[WIDE] = "x";
    ngt_step_def f = {.name = "sum", .fn = sum_pass, .n_reads = WIDE + 1, .reads = reads};
    TU_OK(ngt_menu_step(m, ci, &f, NULL));
    ngt_error e = {0};
    assert_int_equal(ngt_menu_build(m, &e), NGT_OK);
    int sum = -1;
    for (int i = 0; i < m->n_steps; i++)
        if (strstr(m->steps[i].name, "sum"))
            sum = i;
    assert_true(sum >= 0);
    assert_int_equal(m->steps[sum].n_deps, WIDE);
    ngt_ctx *c = ngt_ctx_new(m, 64, &e);
    ngt_batch *b = ngt_batch_new(ngt_menu_schema(m), 64, &e);
    ngt_batch_set_count(b, 64, &e);
    float *x = ngt_batch_column_by_name(b, "x");
    for (int i = 0; i < 64; i++)
        x[i] = (float)i;
    assert_int_equal(ngt_menu_process(m, c, b, &e), NGT_OK);
    const uint8_t *st = ngt_batch_column_by_name(b, "ngt.status");
    for (int i = 0; i < 64; i++)
        assert_int_equal(st[i], NGT_EVENT_ACCEPTED); /* every w_k was computed for Wide */
    ngt_batch_free(b);
    ngt_ctx_free(c);
    ngt_menu_free(m);
    ngt_registry_free(r);
    ngt_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_scaling),
                                       cmocka_unit_test(test_wide_step)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
