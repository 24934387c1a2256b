/* plan.c: ngt_menu_build. Resolves seeds, vetoes and the producers each step needs, then orders
 * every node (chain starts, filters, producer runs, producer uses, chain ends) so that a producer
 * runs once per batch, after the filters that precede its first use in every chain that needs it
 * (it then sees only events some chain still wants), and before any of those uses. */
#include "internal.h"
#include "menu_int.h"
#include "schema_int.h"

#include <stdio.h>
#include <string.h>

static int resolve_names(ngt_menu *m, int ci, char **names, int n, int **out, const char *what,
                         ngt_error *err)
{
    *out = malloc(sizeof **out * (size_t)(n + 1));
    if (!*out)
        return ngt_seterr(err, NGT_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        int k = -1;
        for (int j = 0; j < m->n_chains && k < 0; j++)
            if (strcmp(m->chains[j].name, names[i]) == 0)
                k = j;
        if (k < 0)
            return ngt_seterr(err, NGT_EINVAL, "chain '%s': unknown %s chain '%s'",
                              m->chains[ci].name, what, names[i]);
        if (k == ci)
            return ngt_seterr(err, NGT_EINVAL, "chain '%s' cannot %s itself", names[i],
                              strcmp(what, "seed") == 0 ? "seed" : "veto");
        (*out)[i] = k;
    }
    return NGT_OK;
}

static int producer_of(const ngt_menu *m, int col)
{
    for (int i = 0; i < m->n_steps; i++)
        if (m->steps[i].kind == STEP_INFER || m->steps[i].kind == STEP_PRODUCE)
            for (int k = 0; k < m->steps[i].n_out; k++)
                if (m->steps[i].out[k] == col)
                    return i;
    return -1;
}

static int is_producer(const step *s)
{
    return s->kind == STEP_INFER || s->kind == STEP_PRODUCE;
}

/* deps of each step: the producers of the columns it reads, each once. */
static int resolve_deps(ngt_menu *m, ngt_error *err)
{
    for (int i = 0; i < m->n_steps; i++) {
        step *s = &m->steps[i];
        int n = s->n_reads + s->n_in;
        s->deps = malloc(sizeof *s->deps * (size_t)(n + 1));
        if (!s->deps)
            return ngt_seterr(err, NGT_ENOMEM, "out of memory");
        s->n_deps = 0;
        for (int k = 0; k < n; k++) {
            int p = producer_of(m, k < s->n_reads ? s->reads[k] : s->in[k - s->n_reads]);
            if (p < 0 || p == i)
                continue;
            int dup = 0;
            for (int j = 0; j < s->n_deps; j++)
                dup |= s->deps[j] == p;
            if (!dup)
                s->deps[s->n_deps++] = p;
        }
    }
    return NGT_OK;
}

typedef struct planner {
    ngt_menu *m;
    int n_nodes, cap;
    node *nodes;
    int *chain_first;   /* node index of each chain's START */
    int *producer_node; /* per step: its PRODUCER node, or -1 */
    /* edges as a dense matrix: dep[a * n + b] = 1 when a must run after b */
    unsigned char *dep;
    int *earliest; /* per step x chain: node index of the predecessor of its first use, or -1 */
} planner;

static int add_node(planner *p, node_kind kind, int chain, int step)
{
    if (p->n_nodes == p->cap) {
        int cap = p->cap ? 2 * p->cap : 64;
        node *v = realloc(p->nodes, sizeof *v * (size_t)cap);
        if (!v)
            return -1;
        p->nodes = v;
        p->cap = cap;
    }
    p->nodes[p->n_nodes] = (node){kind, chain, step};
    return p->n_nodes++;
}

/* Lays out each chain: START, then its items with a USE before the first read of each producer's
 * column, then END; producers get one node each. Records the first-use predecessors. */
static int layout(planner *p, ngt_error *err)
{
    ngt_menu *m = p->m;
    for (int ci = 0; ci < m->n_chains; ci++) {
        chain *c = &m->chains[ci];
        int prev = add_node(p, NODE_START, ci, -1);
        if (prev < 0)
            return ngt_seterr(err, NGT_ENOMEM, "out of memory");
        p->chain_first[ci] = prev;
        for (int it = 0; it < c->n_items; it++) {
            const step *s = &m->steps[c->items[it]];
            int wanted[2 * NGT_MAX_MODEL_IO + 64], nw = 0;
            if (is_producer(s))
                wanted[nw++] = c->items[it];
            else
                for (int d = 0; d < s->n_deps && nw < (int)(sizeof wanted / sizeof *wanted); d++)
                    wanted[nw++] = s->deps[d];
            for (int w = 0; w < nw; w++) {
                int *e = &p->earliest[wanted[w] * m->n_chains + ci];
                if (*e >= 0)
                    continue; /* this chain already has the producer */
                *e = prev;
                prev = add_node(p, NODE_USE, ci, wanted[w]);
                if (prev < 0)
                    return ngt_seterr(err, NGT_ENOMEM, "out of memory");
            }
            if (!is_producer(s) && (prev = add_node(p, NODE_FILTER, ci, c->items[it])) < 0)
                return ngt_seterr(err, NGT_ENOMEM, "out of memory");
        }
        if (add_node(p, NODE_END, ci, -1) < 0)
            return ngt_seterr(err, NGT_ENOMEM, "out of memory");
    }
    for (int i = 0; i < m->n_steps; i++) {
        p->producer_node[i] = -1;
        if (is_producer(&m->steps[i]) &&
            (p->producer_node[i] = add_node(p, NODE_PRODUCER, -1, i)) < 0)
            return ngt_seterr(err, NGT_ENOMEM, "out of memory");
    }
    return NGT_OK;
}

/* A producer's users include its dependents' users (it must see every event they will see);
 * per chain, the earliest use wins. Iterates to a fixed point (dependency chains are short). */
static void propagate_users(planner *p)
{
    ngt_menu *m = p->m;
    int changed = 1;
    while (changed) {
        changed = 0;
        for (int i = 0; i < m->n_steps; i++)
            for (int d = 0; d < m->steps[i].n_deps; d++) {
                int q = m->steps[i].deps[d];
                for (int c = 0; c < m->n_chains; c++) {
                    int from = p->earliest[i * m->n_chains + c];
                    int *to = &p->earliest[q * m->n_chains + c];
                    if (from >= 0 && (*to < 0 || from < *to)) {
                        *to = from;
                        changed = 1;
                    }
                }
            }
    }
}

static void edges(planner *p)
{
    ngt_menu *m = p->m;
    int n = p->n_nodes;
    for (int a = 0; a < n; a++) {
        node *x = &p->nodes[a];
        if (x->kind != NODE_START && x->kind != NODE_PRODUCER)
            p->dep[a * n + a - 1] = 1; /* chain order */
        if (x->kind == NODE_USE)
            p->dep[a * n + p->producer_node[x->step]] = 1;
        if (x->kind == NODE_PRODUCER) {
            const step *s = &m->steps[x->step];
            for (int c = 0; c < m->n_chains; c++) {
                int pred = p->earliest[x->step * m->n_chains + c];
                if (pred >= 0)
                    p->dep[a * n + pred] = 1;
            }
            for (int d = 0; d < s->n_deps; d++)
                p->dep[a * n + p->producer_node[s->deps[d]]] = 1;
        }
    }
}

static int end_node(const planner *p, int chain)
{
    for (int a = p->chain_first[chain] + 1; a < p->n_nodes; a++)
        if (p->nodes[a].kind == NODE_END)
            return a;
    return -1;
}

static void seed_edges(planner *p)
{
    ngt_menu *m = p->m;
    int n = p->n_nodes;
    for (int ci = 0; ci < m->n_chains; ci++) {
        chain *c = &m->chains[ci];
        int a = p->chain_first[ci];
        for (int k = 0; k < c->n_seeds; k++)
            p->dep[a * n + end_node(p, c->seeds[k])] = 1;
        for (int k = 0; k < c->n_vetoes; k++)
            p->dep[a * n + end_node(p, c->vetoes[k])] = 1;
    }
}

static void node_label(const ngt_menu *m, const node *x, char *buf, size_t size)
{
    static const char *const kinds[] = {"start", "filter", "producer", "use", "end"};
    snprintf(buf, size, "%s %s%s%s", kinds[x->kind], x->chain >= 0 ? m->chains[x->chain].name : "",
             x->chain >= 0 && x->step >= 0 ? " " : "", x->step >= 0 ? m->steps[x->step].name : "");
}

/* Kahn's algorithm, always taking the lowest-numbered ready node: deterministic. */
static int order(planner *p, ngt_error *err)
{
    ngt_menu *m = p->m;
    int n = p->n_nodes;
    unsigned char *done = calloc((size_t)n + 1, 1);
    node *out = malloc(sizeof *out * ((size_t)n + 1));
    if (!done || !out) {
        free(done);
        free(out);
        return ngt_seterr(err, NGT_ENOMEM, "out of memory");
    }
    for (int k = 0; k < n; k++) {
        int pick = -1;
        for (int a = 0; a < n && pick < 0; a++) {
            if (done[a])
                continue;
            int ready = 1;
            for (int b = 0; b < n && ready; b++)
                ready = !p->dep[a * n + b] || done[b];
            if (ready)
                pick = a;
        }
        if (pick < 0) {
            char label[256] = "";
            for (int a = 0; a < n && !label[0]; a++)
                if (!done[a])
                    node_label(m, &p->nodes[a], label, sizeof label);
            free(done);
            free(out);
            return ngt_seterr(err, NGT_EINVAL,
                              "the menu has a cycle (seeds, vetoes or producers needed by each "
                              "other's filters), involving: %s",
                              label);
        }
        done[pick] = 1;
        out[k] = p->nodes[pick];
    }
    free(done);
    m->nodes = out;
    m->n_nodes = n;
    return NGT_OK;
}

static int result_columns(ngt_menu *m, ngt_error *err)
{
    int64_t w[1] = {m->words};
    m->col_decision =
        schema_append(m->schema, "ngt.decision", NGT_U64, NGT_COL_EVENT, 1, w, -1, 1, err);
    m->col_streams =
        schema_append(m->schema, "ngt.streams", NGT_U64, NGT_COL_EVENT, 0, NULL, -1, 1, err);
    m->col_status =
        schema_append(m->schema, "ngt.status", NGT_U8, NGT_COL_EVENT, 0, NULL, -1, 1, err);
    return m->col_decision < 0 || m->col_streams < 0 || m->col_status < 0 ? NGT_EINVAL : NGT_OK;
}

/* Step statistics follow execution order; also sizes the infer gather buffers. */
static int stats_order(ngt_menu *m, ngt_error *err)
{
    m->step_order = malloc(sizeof(int) * (size_t)(m->n_steps + 1));
    m->order_step = malloc(sizeof(int) * (size_t)(m->n_steps + 1));
    if (!m->step_order || !m->order_step)
        return ngt_seterr(err, NGT_ENOMEM, "out of memory");
    m->n_order = 0;
    for (int a = 0; a < m->n_nodes; a++) {
        const node *x = &m->nodes[a];
        if (x->kind == NODE_FILTER || x->kind == NODE_PRODUCER) {
            m->step_order[x->step] = m->n_order;
            m->order_step[m->n_order++] = x->step;
        }
    }
    for (int i = 0; i < m->n_steps; i++) {
        const step *s = &m->steps[i];
        size_t bytes = 0;
        for (int k = 0; k < s->n_in; k++)
            bytes += ngt_pad64(ngt_schema_column(m->schema, s->in[k])->row_bytes);
        for (int k = 0; k < s->n_out; k++)
            bytes += ngt_pad64(ngt_schema_column(m->schema, s->out[k])->row_bytes);
        if (s->kind == STEP_INFER && bytes > m->gather_bytes)
            m->gather_bytes = bytes;
    }
    return NGT_OK;
}

static void free_planner(planner *p)
{
    free(p->nodes);
    free(p->chain_first);
    free(p->producer_node);
    free(p->dep);
    free(p->earliest);
}

int plan_build(ngt_menu *m, ngt_error *err)
{
    int rc = NGT_OK;
    for (int ci = 0; ci < m->n_chains && rc == NGT_OK; ci++) {
        chain *c = &m->chains[ci];
        rc = resolve_names(m, ci, c->seed_names, c->n_seeds, &c->seeds, "seed", err);
        if (rc == NGT_OK)
            rc = resolve_names(m, ci, c->veto_names, c->n_vetoes, &c->vetoes, "veto", err);
    }
    if (rc == NGT_OK)
        rc = resolve_deps(m, err);
    if (rc != NGT_OK)
        return rc;
    planner p = {.m = m};
    size_t sc = (size_t)(m->n_steps + 1) * (size_t)(m->n_chains + 1);
    p.chain_first = malloc(sizeof(int) * (size_t)(m->n_chains + 1));
    p.producer_node = malloc(sizeof(int) * (size_t)(m->n_steps + 1));
    p.earliest = malloc(sizeof(int) * sc);
    if (!p.chain_first || !p.producer_node || !p.earliest) {
        free_planner(&p);
        return ngt_seterr(err, NGT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < sc; i++)
        p.earliest[i] = -1;
    rc = layout(&p, err);
    if (rc == NGT_OK) {
        propagate_users(&p);
        p.dep = calloc((size_t)p.n_nodes * (size_t)p.n_nodes + 1, 1);
        rc = p.dep ? NGT_OK : ngt_seterr(err, NGT_ENOMEM, "out of memory");
    }
    if (rc == NGT_OK) {
        edges(&p);
        seed_edges(&p);
        rc = order(&p, err);
    }
    if (rc == NGT_OK) {
        /* per producer x chain: 1 when the chain's live events are part of the producer's need */
        m->producer_users = calloc(sc, sizeof(int));
        if (!m->producer_users)
            rc = ngt_seterr(err, NGT_ENOMEM, "out of memory");
        for (size_t i = 0; rc == NGT_OK && i < sc; i++)
            m->producer_users[i] = p.earliest[i] >= 0;
    }
    free_planner(&p);
    m->words = (m->n_chains + 63) / 64;
    if (m->words == 0)
        m->words = 1;
    if (rc == NGT_OK)
        rc = result_columns(m, err);
    if (rc == NGT_OK)
        rc = stats_order(m, err);
    return rc;
}
