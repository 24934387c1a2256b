/* recorder.c: the sink behind `ngt run --output`: copies each processed batch's events into
 * growing per-stream buffers (batch scalars repeated per event), under a mutex. */
#include "recorder.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

struct ngt_recorder {
    const ngt_schema *s;
    int ncols, nsets, record_input, failed, mu_init;
    int *cols;     /* menu schema indices */
    size_t *rowb;  /* bytes per event of each recorded column */
    int *is_input; /* an input column (not kept for "all" unless record_input) */
    int streams_col;
    uint64_t *events; /* per set */
    buf *bufs;        /* [set][col] */
    int n_models;
    buf models; /* every event: the hash of each model version that decided it (provenance) */
    pthread_mutex_t mu;
};

static int is_decision(const char *name)
{
    return !strcmp(name, "ngt.decision") || !strcmp(name, "ngt.streams") ||
           !strcmp(name, "ngt.status");
}

/* 1 when name is in the comma-separated list. */
static int listed(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t k = end ? (size_t)(end - p) : strlen(p);
        if (k == len && strncmp(p, name, len) == 0)
            return 1;
        p = end ? end + 1 : p + k;
    }
    return 0;
}

/* Every name of the list must be a derived column of s other than the decisions. */
static int check_derived(const ngt_schema *s, const char *list, ngt_error *err)
{
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t k = end ? (size_t)(end - p) : strlen(p);
        char name[NGT_NAME_MAX];
        snprintf(name, sizeof name, "%.*s", (int)(k < sizeof name ? k : sizeof name - 1), p);
        int col = ngt_schema_find(s, name);
        const ngt_column_info *c = col >= 0 ? ngt_schema_column(s, col) : NULL;
        if (!c || !c->derived || is_decision(name)) {
            if (err) {
                err->code = NGT_EINVAL;
                snprintf(err->msg, sizeof err->msg, "'%s' is not a derived column of the menu (%s)",
                         name,
                         !c ? "no such column"
                         : !c->derived
                             ? "an input column: every stream has it, --record adds it to all/"
                             : "the decisions are always written");
            }
            return NGT_EINVAL;
        }
        p = end ? end + 1 : p + k;
    }
    return NGT_OK;
}

ngt_recorder *ngt_recorder_new(const ngt_menu *m, int record_input, const char *derived,
                               ngt_error *err)
{
    if (check_derived(ngt_menu_schema(m), derived, err) != NGT_OK)
        return NULL;
    ngt_recorder *r = calloc(1, sizeof *r);
    const ngt_schema *s = ngt_menu_schema(m);
    int n = ngt_schema_ncolumns(s);
    if (!r)
        goto oom;
    r->s = s;
    r->record_input = record_input;
    r->nsets = ngt_menu_nstreams(m) + 1;
    r->cols = calloc((size_t)n, sizeof *r->cols);
    r->rowb = calloc((size_t)n, sizeof *r->rowb);
    r->is_input = calloc((size_t)n, sizeof *r->is_input);
    r->events = calloc((size_t)r->nsets, sizeof *r->events);
    r->bufs = calloc((size_t)r->nsets * (size_t)n, sizeof *r->bufs);
    if (!r->cols || !r->rowb || !r->is_input || !r->events || !r->bufs)
        goto oom;
    for (int i = 0; i < n; i++) {
        const ngt_column_info *c = ngt_schema_column(s, i);
        if (c->derived && !is_decision(c->name) && !listed(derived, c->name))
            continue;
        r->cols[r->ncols] = i;
        r->rowb[r->ncols] = c->row_bytes;
        r->is_input[r->ncols] = !c->derived;
        r->ncols++;
    }
    r->streams_col = ngt_schema_find(s, "ngt.streams");
    r->n_models = ngt_menu_nmodels(m);
    pthread_mutex_init(&r->mu, NULL);
    r->mu_init = 1;
    return r;
oom:
    if (err) {
        err->code = NGT_ENOMEM;
        strcpy(err->msg, "recorder: out of memory");
    }
    ngt_recorder_free(r);
    return NULL;
}

static void append(ngt_recorder *r, buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            r->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
}

static void keep(ngt_recorder *r, ngt_batch *b, int set, int ev)
{
    for (int k = 0; k < r->ncols; k++) {
        if (set == r->nsets - 1 && r->is_input[k] && !r->record_input)
            continue;
        const ngt_column_info *c = ngt_schema_column(r->s, r->cols[k]);
        const char *col = ngt_batch_column(b, r->cols[k]);
        const char *row = c->kind == NGT_COL_SCALAR ? col : col + (size_t)ev * r->rowb[k];
        append(r, &r->bufs[(size_t)set * (size_t)ngt_schema_ncolumns(r->s) + (size_t)k], row,
               r->rowb[k]);
    }
    r->events[set]++;
}

void ngt_recorder_sink(void *user, ngt_batch *b)
{
    ngt_recorder *r = user;
    const uint64_t *streams = ngt_batch_column(b, r->streams_col);
    int n = ngt_batch_count(b);
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < n; i++) {
        for (int s = 0; s < r->nsets - 1; s++)
            if (streams[i] >> s & 1)
                keep(r, b, s, i);
        keep(r, b, r->nsets - 1, i);
        const ngt_provenance *pv = ngt_batch_provenance(b);
        for (int k = 0; k < r->n_models; k++)
            append(r, &r->models, &pv->models[k].hash, sizeof pv->models[k].hash);
    }
    pthread_mutex_unlock(&r->mu);
}

int ngt_recorder_ncolumns(const ngt_recorder *r)
{
    return r->ncols;
}

int ngt_recorder_column(const ngt_recorder *r, int k)
{
    return k >= 0 && k < r->ncols ? r->cols[k] : -1;
}

uint64_t ngt_recorder_events(const ngt_recorder *r, int s)
{
    return s >= 0 && s < r->nsets ? r->events[s] : 0;
}

const void *ngt_recorder_data(const ngt_recorder *r, int s, int k)
{
    if (s < 0 || s >= r->nsets || k < 0 || k >= r->ncols)
        return NULL;
    const buf *b = &r->bufs[(size_t)s * (size_t)ngt_schema_ncolumns(r->s) + (size_t)k];
    return b->data;
}

const uint64_t *ngt_recorder_models(const ngt_recorder *r, int *n_models)
{
    *n_models = r->n_models;
    return (const uint64_t *)r->models.data;
}

int ngt_recorder_failed(const ngt_recorder *r)
{
    return r->failed;
}

void ngt_recorder_free(ngt_recorder *r)
{
    if (!r)
        return;
    free(r->models.data);
    if (r->bufs) {
        size_t n = (size_t)r->nsets * (size_t)ngt_schema_ncolumns(r->s);
        for (size_t i = 0; i < n; i++)
            free(r->bufs[i].data);
    }
    if (r->mu_init)
        pthread_mutex_destroy(&r->mu);
    free(r->cols);
    free(r->rowb);
    free(r->is_input);
    free(r->events);
    free(r->bufs);
    free(r);
}
