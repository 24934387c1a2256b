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
        return seterr(err, NGT_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        int k = menu_find_chain(m, names[i]);
        if (k < 0)
            return seterr(err, NGT_EINVAL, "chain '%s': unknown %s chain '%s'", m->chains[ci].name,
                          what, names[i]);
        if (k == ci)
            return seterr(err, NGT_EINVAL, "chain '%s' cannot %s itself", names[i],
                          strcmp(what, "seed") == 0 ? "seed" : "veto");
        (*out)[i] = k;
    }
    return NGT_OK;
}

static int is_producer(const step *s)
{
    return s->kind == STEP_INFER || s->kind == STEP_PRODUCE;
}

/* deps of each step: the producers of the columns it reads, each once, every one of them (no cap).
 * A column -> producer map makes this linear in the columns read. */
static int resolve_deps(ngt_menu *m, uint64_t *work, ngt_error *err)
{
    int ncols = ngt_schema_ncolumns(m->schema);
    int *producer = malloc(sizeof *producer * (size_t)(ncols + 1));
    if (!producer)
        return seterr(err, NGT_ENOMEM, "out of memory");
    for (int c = 0; c < ncols; c++)
        producer[c] = -1;
    for (int i = 0; i < m->n_steps; i++)
        if (is_producer(&m->steps[i]))
            for (int k = 0; k < m->steps[i].n_out; k++)
                producer[m->steps[i].out[k]] = i;
    int rc = NGT_OK;
    for (int i = 0; i < m->n_steps && rc == NGT_OK; i++) {
        step *s = &m->steps[i];
        int n = s->n_reads + s->n_in;
        s->deps = malloc(sizeof *s->deps * (size_t)(n + 1));
        if (!s->deps) {
            rc = seterr(err, NGT_ENOMEM, "out of memory");
            break;
        }
        s->n_deps = 0;
        for (int k = 0; k < n; k++) {
            int p = producer[k < s->n_reads ? s->reads[k] : s->in[k - s->n_reads]];
            int dup = p < 0 || p == i;
            for (int j = 0; j < s->n_deps && !dup; j++)
                dup = s->deps[j] == p;
            *work += (uint64_t)s->n_deps + 1;
            if (!dup)
                s->deps[s->n_deps++] = p;
        }
    }
    free(producer);
    return rc;
}

typedef struct edge {
    int after, before; /* node `after` runs after node `before` */
} edge;

typedef struct planner {
    ngt_menu *m;
    int n_nodes, cap;
    node *nodes;
    int n_edges, cap_edges;
    edge *edges;
    int *chain_first;   /* node index of each chain's START */
    int *chain_end;     /* ... and of its END */
    int *producer_node; /* per step: its PRODUCER node, or -1 */
    int *pslot;         /* per step: its row in earliest (producers only), or -1 */
    int n_producers;
    int *earliest; /* per producer x chain: node index of the predecessor of its first use, or -1 */
    uint64_t work; /* elementary operations, for the planner's scaling test */
} planner;

static int grow(void **v, int *cap, int n, size_t size)
{
    if (n < *cap)
        return 0;
    int c = *cap ? 2 * *cap : 64;
    void *w = realloc(*v, size * (size_t)c);
    if (!w)
        return -1;
    *v = w;
    *cap = c;
    return 0;
}

static int add_node(planner *p, node_kind kind, int chain, int step)
{
    if (grow((void **)&p->nodes, &p->cap, p->n_nodes, sizeof *p->nodes))
        return -1;
    p->work++;
    p->nodes[p->n_nodes] = (node){kind, chain, step};
    return p->n_nodes++;
}

static int add_edge(planner *p, int after, int before)
{
    if (grow((void **)&p->edges, &p->cap_edges, p->n_edges, sizeof *p->edges))
        return -1;
    p->work++;
    p->edges[p->n_edges++] = (edge){after, before};
    return 0;
}

/* Notes a chain's first use of producer q (after node prev); returns the new USE node, prev when
 * the chain already uses q, or -1 when out of memory. */
static int use_producer(planner *p, int ci, int q, int prev)
{
    int *e = &p->earliest[p->pslot[q] * p->m->n_chains + ci];
    p->work++;
    if (*e >= 0)
        return prev;
    *e = prev;
    return add_node(p, NODE_USE, ci, q);
}

/* Lays out each chain: START, then its items with a USE before the first read of each producer's
 * column, then END; producers get one node each. Records the first-use predecessors. */
static int layout(planner *p, ngt_error *err)
{
    ngt_menu *m = p->m;
    for (int ci = 0; ci < m->n_chains; ci++) {
        chain *c = &m->chains[ci];
        int prev = add_node(p, NODE_START, ci, -1);
        p->chain_first[ci] = prev;
        for (int it = 0; it < c->n_items && prev >= 0; it++) {
            const step *s = &m->steps[c->items[it]];
            if (is_producer(s))
                prev = use_producer(p, ci, c->items[it], prev);
            else
                for (int d = 0; d < s->n_deps && prev >= 0; d++)
                    prev = use_producer(p, ci, s->deps[d], prev);
            if (prev >= 0 && !is_producer(s))
                prev = add_node(p, NODE_FILTER, ci, c->items[it]);
        }
        if (prev < 0 || (p->chain_end[ci] = add_node(p, NODE_END, ci, -1)) < 0)
            return seterr(err, NGT_ENOMEM, "out of memory");
    }
    for (int i = 0; i < m->n_steps; i++) {
        p->producer_node[i] = -1;
        if (is_producer(&m->steps[i]) &&
            (p->producer_node[i] = add_node(p, NODE_PRODUCER, -1, i)) < 0)
            return seterr(err, NGT_ENOMEM, "out of memory");
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
        for (int i = 0; i < m->n_steps; i++) {
            if (p->pslot[i] < 0)
                continue; /* only producers have users of their own */
            for (int d = 0; d < m->steps[i].n_deps; d++) {
                int q = m->steps[i].deps[d];
                const int *from = &p->earliest[p->pslot[i] * m->n_chains];
                int *to = &p->earliest[p->pslot[q] * m->n_chains];
                for (int c = 0; c < m->n_chains; c++)
                    if (from[c] >= 0 && (to[c] < 0 || from[c] < to[c])) {
                        to[c] = from[c];
                        changed = 1;
                    }
                p->work += (uint64_t)m->n_chains;
            }
        }
    }
}

static int edges(planner *p, ngt_error *err)
{
    ngt_menu *m = p->m;
    int bad = 0;
    for (int a = 0; a < p->n_nodes && !bad; a++) {
        node *x = &p->nodes[a];
        if (x->kind != NODE_START && x->kind != NODE_PRODUCER)
            bad |= add_edge(p, a, a - 1); /* chain order */
        if (x->kind == NODE_USE)
            bad |= add_edge(p, a, p->producer_node[x->step]);
        if (x->kind == NODE_PRODUCER) {
            const step *s = &m->steps[x->step];
            const int *pred = &p->earliest[p->pslot[x->step] * m->n_chains];
            for (int c = 0; c < m->n_chains && !bad; c++)
                if (pred[c] >= 0)
                    bad |= add_edge(p, a, pred[c]);
            for (int d = 0; d < s->n_deps && !bad; d++)
                bad |= add_edge(p, a, p->producer_node[s->deps[d]]);
        }
    }
    for (int ci = 0; ci < m->n_chains && !bad; ci++) { /* seeds and vetoes decide first */
        chain *c = &m->chains[ci];
        for (int k = 0; k < c->n_seeds && !bad; k++)
            bad |= add_edge(p, p->chain_first[ci], p->chain_end[c->seeds[k]]);
        for (int k = 0; k < c->n_vetoes && !bad; k++)
            bad |= add_edge(p, p->chain_first[ci], p->chain_end[c->vetoes[k]]);
    }
    return bad ? seterr(err, NGT_ENOMEM, "out of memory") : NGT_OK;
}

static void node_label(const ngt_menu *m, const node *x, char *buf, size_t size)
{
    static const char *const kinds[] = {"start", "filter", "producer", "use", "end"};
    snprintf(buf, size, "%s %s%s%s", kinds[x->kind], x->chain >= 0 ? m->chains[x->chain].name : "",
             x->chain >= 0 && x->step >= 0 ? " " : "", x->step >= 0 ? m->steps[x->step].name : "");
}

/* A binary min-heap of node indices: the ready node taken next is always the lowest-numbered. */
static void heap_push(int *h, int *n, int v, uint64_t *work)
{
    int i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
        ++*work;
    }
    h[i] = v;
}

static int heap_pop(int *h, int *n, uint64_t *work)
{
    int top = h[0], v = h[--*n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (v <= h[c])
            break;
        h[i] = h[c];
        i = c;
        ++*work;
    }
    if (*n)
        h[i] = v;
    return top;
}

/* Kahn's algorithm over adjacency lists, always taking the lowest-numbered ready node (the
 * deterministic order the menu's statistics and tests rely on): O((nodes + edges) log nodes). */
static int order(planner *p, ngt_error *err)
{
    ngt_menu *m = p->m;
    int n = p->n_nodes;
    int *indeg = calloc((size_t)n + 1, sizeof(int)), *start = calloc((size_t)n + 2, sizeof(int));
    int *succ = malloc(sizeof(int) * ((size_t)p->n_edges + 1));
    int *heap = malloc(sizeof(int) * ((size_t)n + 1));
    node *out = malloc(sizeof *out * ((size_t)n + 1));
    int rc = NGT_OK;
    if (!indeg || !start || !succ || !heap || !out) {
        rc = seterr(err, NGT_ENOMEM, "out of memory");
        goto done;
    }
    for (int e = 0; e < p->n_edges; e++) { /* successor lists, grouped by `before` (CSR) */
        indeg[p->edges[e].after]++;
        start[p->edges[e].before + 1]++;
    }
    for (int a = 0; a < n; a++)
        start[a + 1] += start[a];
    int *fill = heap; /* the heap is empty until the lists are filled: borrow it as cursors */
    memcpy(fill, start, sizeof(int) * (size_t)n);
    for (int e = 0; e < p->n_edges; e++)
        succ[fill[p->edges[e].before]++] = p->edges[e].after;
    p->work += 2 * (uint64_t)p->n_edges + (uint64_t)n;
    int nh = 0, k = 0;
    for (int a = 0; a < n; a++)
        if (!indeg[a])
            heap_push(heap, &nh, a, &p->work);
    while (nh) {
        int a = heap_pop(heap, &nh, &p->work);
        out[k++] = p->nodes[a];
        for (int e = start[a]; e < start[a + 1]; e++) {
            p->work++;
            if (--indeg[succ[e]] == 0)
                heap_push(heap, &nh, succ[e], &p->work);
        }
    }
    if (k < n) {
        char label[256] = "";
        for (int a = 0; a < n && !label[0]; a++)
            if (indeg[a])
                node_label(m, &p->nodes[a], label, sizeof label);
        rc = seterr(err, NGT_EINVAL,
                    "the menu has a cycle (seeds, vetoes or producers needed by each other's "
                    "filters), involving: %s",
                    label);
        goto done;
    }
    m->nodes = out;
    m->n_nodes = n;
    out = NULL;
done:
    free(indeg);
    free(start);
    free(succ);
    free(heap);
    free(out);
    return rc;
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
        return seterr(err, NGT_ENOMEM, "out of memory");
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
            bytes += pad64(ngt_schema_column(m->schema, s->in[k])->row_bytes);
        for (int k = 0; k < s->n_out; k++)
            bytes += pad64(ngt_schema_column(m->schema, s->out[k])->row_bytes);
        if (s->kind == STEP_INFER && bytes > m->gather_bytes)
            m->gather_bytes = bytes;
    }
    return NGT_OK;
}

static void free_planner(planner *p)
{
    free(p->nodes);
    free(p->edges);
    free(p->chain_first);
    free(p->chain_end);
    free(p->producer_node);
    free(p->pslot);
    free(p->earliest);
}

/* Per producer, the chains whose live events it computes (CSR: users[user_start[s] ..
 * user_start[s + 1]) for step s; empty for filters). */
static int producer_users(ngt_menu *m, const planner *p, ngt_error *err)
{
    int total = 0;
    m->user_start = calloc((size_t)m->n_steps + 1, sizeof(int));
    for (int i = 0; m->user_start && i < m->n_steps; i++) {
        m->user_start[i] = total;
        for (int c = 0; p->pslot[i] >= 0 && c < m->n_chains; c++)
            total += p->earliest[p->pslot[i] * m->n_chains + c] >= 0;
    }
    m->users = malloc(sizeof(int) * ((size_t)total + 1));
    if (!m->user_start || !m->users)
        return seterr(err, NGT_ENOMEM, "out of memory");
    m->user_start[m->n_steps] = total;
    for (int i = 0, k = 0; i < m->n_steps; i++)
        for (int c = 0; p->pslot[i] >= 0 && c < m->n_chains; c++)
            if (p->earliest[p->pslot[i] * m->n_chains + c] >= 0)
                m->users[k++] = c;
    return NGT_OK;
}

int plan_build(ngt_menu *m, ngt_error *err)
{
    int rc = NGT_OK;
    uint64_t t0 = now_ns();
    for (int ci = 0; ci < m->n_chains && rc == NGT_OK; ci++) {
        chain *c = &m->chains[ci];
        rc = resolve_names(m, ci, c->seed_names, c->n_seeds, &c->seeds, "seed", err);
        if (rc == NGT_OK)
            rc = resolve_names(m, ci, c->veto_names, c->n_vetoes, &c->vetoes, "veto", err);
    }
    planner p = {.m = m};
    if (rc == NGT_OK)
        rc = resolve_deps(m, &p.work, err);
    if (rc != NGT_OK)
        return rc;
    p.chain_first = malloc(sizeof(int) * (size_t)(m->n_chains + 1));
    p.chain_end = malloc(sizeof(int) * (size_t)(m->n_chains + 1));
    p.producer_node = malloc(sizeof(int) * (size_t)(m->n_steps + 1));
    p.pslot = malloc(sizeof(int) * (size_t)(m->n_steps + 1));
    if (!p.chain_first || !p.chain_end || !p.producer_node || !p.pslot) {
        free_planner(&p);
        return seterr(err, NGT_ENOMEM, "out of memory");
    }
    for (int i = 0; i < m->n_steps; i++)
        p.pslot[i] = is_producer(&m->steps[i]) ? p.n_producers++ : -1;
    size_t sc = (size_t)p.n_producers * (size_t)m->n_chains;
    p.earliest = malloc(sizeof(int) * (sc + 1));
    if (!p.earliest) {
        free_planner(&p);
        return seterr(err, NGT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < sc; i++)
        p.earliest[i] = -1;
    rc = layout(&p, err);
    if (rc == NGT_OK) {
        propagate_users(&p);
        rc = edges(&p, err);
    }
    if (rc == NGT_OK)
        rc = order(&p, err);
    if (rc == NGT_OK)
        rc = producer_users(m, &p, err);
    m->plan_work = p.work;
    m->plan_edges = p.n_edges;
    free_planner(&p);
    m->words = (m->n_chains + 63) / 64;
    if (m->words == 0)
        m->words = 1;
    if (rc == NGT_OK)
        rc = result_columns(m, err);
    if (rc == NGT_OK)
        rc = stats_order(m, err);
    m->plan_ns = now_ns() - t0;
    return rc;
}
