/* batch.c: SoA event batches. One aligned block per batch holds every column ([event][elem] rows,
 * each column 64-byte aligned and padded), the event ids and the batch scalars. */
#include "internal.h"
#include "schema_int.h"

#include <string.h>

struct ngt_batch {
    ngt_schema *schema; /* the batch's own copy */
    int capacity, n;
    void *block; /* owned storage */
    size_t block_bytes;
    void **own;  /* each column's own storage inside block */
    void **cols; /* current pointers (own, or a wrapped host array) */
    uint64_t *ids;
    uint64_t copies;
    ngt_provenance prov; /* set by exec_job_start */
};

static size_t column_bytes(const ngt_column_info *c, int capacity)
{
    if (c->kind == NGT_COL_SCALAR)
        return pad64(c->row_bytes);
    return pad64(c->row_bytes * (size_t)capacity);
}

ngt_batch *ngt_batch_new(const ngt_schema *s, int capacity, ngt_error *err)
{
    if (!s || capacity <= 0 || capacity > (1 << 24)) {
        seterr(err, NGT_EINVAL, "batch capacity must be in 1..%d, not %d", 1 << 24, capacity);
        return NULL;
    }
    int nc = ngt_schema_ncolumns(s);
    ngt_batch *b = calloc(1, sizeof *b);
    if (!b)
        goto oom;
    b->capacity = capacity;
    b->schema = ngt_schema_clone(s);
    b->own = calloc((size_t)nc + 1, sizeof *b->own);
    b->cols = calloc((size_t)nc + 1, sizeof *b->cols);
    if (!b->schema || !b->own || !b->cols)
        goto oom;
    size_t total = pad64(sizeof(uint64_t) * (size_t)capacity);
    for (int i = 0; i < nc; i++)
        total += column_bytes(ngt_schema_column(s, i), capacity);
    b->block = aalloc(total);
    if (!b->block)
        goto oom;
    b->block_bytes = pad64(total);
    memset(b->block, 0, pad64(total));
    char *p = b->block;
    b->ids = (uint64_t *)p;
    p += pad64(sizeof(uint64_t) * (size_t)capacity);
    for (int i = 0; i < nc; i++) {
        b->own[i] = b->cols[i] = p;
        p += column_bytes(ngt_schema_column(s, i), capacity);
    }
    return b;
oom:
    ngt_batch_free(b);
    seterr(err, NGT_ENOMEM, "out of memory allocating a batch of %d events", capacity);
    return NULL;
}

void ngt_batch_free(ngt_batch *b)
{
    if (!b)
        return;
    afree(b->block);
    free(b->own);
    free(b->cols);
    ngt_schema_free(b->schema);
    free(b);
}

const ngt_schema *ngt_batch_schema(const ngt_batch *b)
{
    return b->schema;
}
int ngt_batch_capacity(const ngt_batch *b)
{
    return b->capacity;
}
int ngt_batch_count(const ngt_batch *b)
{
    return b->n;
}

int ngt_batch_set_count(ngt_batch *b, int n, ngt_error *err)
{
    if (n < 0 || n > b->capacity)
        return seterr(err, NGT_EINVAL, "event count %d outside 0..%d (the batch capacity)", n,
                      b->capacity);
    b->n = n;
    return NGT_OK;
}

void *ngt_batch_column(ngt_batch *b, int column)
{
    return column >= 0 && column < ngt_schema_ncolumns(b->schema) ? b->cols[column] : NULL;
}

void *ngt_batch_column_by_name(ngt_batch *b, const char *name)
{
    return ngt_batch_column(b, ngt_schema_find(b->schema, name));
}

uint64_t *ngt_batch_event_ids(ngt_batch *b)
{
    return b->ids;
}

int ngt_batch_wrap(ngt_batch *b, int column, const void *data, int n, ngt_error *err)
{
    const ngt_column_info *c = ngt_schema_column(b->schema, column);
    if (!c)
        return seterr(err, NGT_EINVAL, "wrap: no column %d", column);
    if (!data || n < 0 || n > b->capacity || (c->kind == NGT_COL_SCALAR && n != 1))
        return seterr(err, NGT_EINVAL, "wrap '%s': %d rows do not fit (capacity %d%s)", c->name, n,
                      b->capacity, c->kind == NGT_COL_SCALAR ? ", scalar: 1" : "");
    if (c->derived)
        return seterr(err, NGT_EINVAL, "wrap '%s': a derived column is written by the menu",
                      c->name);
    if (((uintptr_t)data % NGT_ALIGN) == 0) {
        /* Wrapped host arrays are only read: a derived column (the only kind steps write) cannot be
         * wrapped, so dropping const here is safe. */
        b->cols[column] = (void *)data;
        return NGT_OK;
    }
    memcpy(b->own[column], data, c->row_bytes * (size_t)n);
    b->cols[column] = b->own[column];
    b->copies++;
    return NGT_OK;
}

void ngt_batch_unwrap(ngt_batch *b)
{
    int nc = ngt_schema_ncolumns(b->schema);
    for (int i = 0; i < nc; i++)
        b->cols[i] = b->own[i];
}

uint64_t ngt_batch_copies(const ngt_batch *b)
{
    return b->copies;
}

const ngt_provenance *ngt_batch_provenance(const ngt_batch *b)
{
    return &b->prov;
}

ngt_provenance *batch_provenance(ngt_batch *b)
{
    return &b->prov;
}

/* The batch's own storage as one block (the runner's pool registers it, e.g. pinned). */
void *batch_memory(const ngt_batch *b, size_t *bytes)
{
    *bytes = b->block_bytes;
    return b->block;
}

/* The largest count a collection's count column may hold: its fields' shape. */
static int64_t count_max(const ngt_schema *s, int count_col)
{
    for (int i = count_col + 1; i < s->n; i++) { /* a collection's fields follow its count */
        const ngt_column_info *c = &s->cols[i];
        if (c->kind == NGT_COL_FIELD && c->collection == count_col)
            return c->shape[0];
    }
    return INT32_MAX;
}

enum { CHECK_GROUP = 32 }; /* count columns checked together */

/* 1 when every count of events [first, first+n) is within 0..max: as unsigned, a negative count
 * is above any max, so one compare per value, ORed (blocks of 16: the inner loop vectorises at
 * -O2). */
static int counts_in_range(const ngt_batch *b, int first, int n)
{
    const ngt_schema *s = b->schema;
    for (int i = 0; i < s->n; i++) {
        if (s->cols[i].kind != NGT_COL_COUNT)
            continue;
        uint32_t max = (uint32_t)count_max(s, i), over = 0; /* max <= INT32_MAX */
        const int32_t *v = (const int32_t *)b->cols[i] + first;
        int e = 0;
        for (; e + 16 <= n; e += 16)
            for (int k = 0; k < 16; k++)
                over |= (uint32_t)v[e + k] > max;
        for (; e < n; e++)
            over |= (uint32_t)v[e] > max;
        if (over)
            return 0;
    }
    return 1;
}

int ngt_batch_check_counts(const ngt_batch *b, int first, int n, uint8_t *bad, ngt_error *err)
{
    if (!b || first < 0 || n < 0 || first > b->n || n > b->n - first)
        return seterr(err, NGT_EINVAL, "check counts: events [%d, %d+%d) outside the batch's %d",
                      first, first, n, b ? b->n : 0);
    if (counts_in_range(b, first, n)) { /* the common case: one branch-free pass per column */
        if (bad)
            memset(bad, 0, (size_t)n);
        return 0;
    }
    int n_bad = 0, nc = ngt_schema_ncolumns(b->schema), at = 0, n_counts = 0;
    for (int i = 0; i < nc; i++)
        n_counts += ngt_schema_column(b->schema, i)->kind == NGT_COL_COUNT;
    if (!bad && n_counts > CHECK_GROUP) { /* several groups: count each event once */
        uint8_t *tmp = malloc((size_t)n + 1);
        if (!tmp)
            return seterr(err, NGT_ENOMEM, "check counts: out of memory");
        int r = ngt_batch_check_counts(b, first, n, tmp, err);
        free(tmp);
        return r;
    }
    if (bad)
        memset(bad, 0, (size_t)n);
    int64_t first_bad = -1;
    while (at < nc) {
        int idx[CHECK_GROUP], k = 0;
        int64_t max[CHECK_GROUP];
        for (; at < nc && k < CHECK_GROUP; at++)
            if (ngt_schema_column(b->schema, at)->kind == NGT_COL_COUNT) {
                idx[k] = at;
                max[k++] = count_max(b->schema, at);
            }
        for (int e = 0; e < n && k > 0; e++) {
            int j = 0;
            int32_t v = 0;
            for (; j < k; j++) {
                v = ((const int32_t *)b->cols[idx[j]])[first + e];
                if (v < 0 || v > max[j])
                    break;
            }
            if (j == k)
                continue;
            if (first_bad < 0 || first + e < first_bad) { /* the first event, over all groups */
                first_bad = first + e;
                seterr(err, NGT_EINVAL, "column '%s', event %d (id %llu): count %d outside 0..%lld",
                       ngt_schema_column(b->schema, idx[j])->name, first + e,
                       (unsigned long long)b->ids[first + e], (int)v, (long long)max[j]);
            }
            if (bad) {
                n_bad += !bad[e];
                bad[e] = 1;
            } else {
                n_bad++; /* one group only: each event counted once */
            }
        }
    }
    return n_bad;
}
