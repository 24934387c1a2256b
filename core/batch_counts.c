/* batch_counts.c: the one check of collection counts. Every way events enter (files, the C API,
 * the wire decoder) calls it before a step reads them: a count outside 0..max would send a cut or
 * a copy past the collection's [max] rows. */
#include "internal.h"

#include <string.h>

/* The collection's max for count column k (the shape of its first field), or -1. */
static int64_t count_max(const ngt_schema *s, int k)
{
    int nc = ngt_schema_ncolumns(s);
    for (int i = 0; i < nc; i++) {
        const ngt_column_info *c = ngt_schema_column(s, i);
        if (c->kind == NGT_COL_FIELD && c->collection == k)
            return c->shape[0];
    }
    return -1;
}

int ngt_batch_check_counts(const ngt_batch *b, int first, int n, uint8_t *bad, ngt_error *err)
{
    if (!b || first < 0 || n < 0 || first + n > ngt_batch_capacity(b))
        return seterr(err, NGT_EINVAL, "check_counts: events [%d, %d) outside the batch", first,
                          first + n);
    const ngt_schema *s = ngt_batch_schema(b);
    ngt_batch *mb = (ngt_batch *)b; /* read only: ngt_batch_column has no const twin */
    if (bad)
        memset(bad, 0, (size_t)n);
    int nbad = 0, nc = ngt_schema_ncolumns(s);
    for (int k = 0; k < nc; k++) {
        const ngt_column_info *c = ngt_schema_column(s, k);
        if (c->kind != NGT_COL_COUNT)
            continue;
        int64_t max = count_max(s, k);
        const int32_t *cnt = ngt_batch_column(mb, k);
        for (int i = first; i < first + n; i++) {
            if (cnt[i] >= 0 && cnt[i] <= max)
                continue;
            if (!bad || !bad[i - first]) {
                if (nbad == 0)
                    seterr(err, NGT_EFORMAT,
                               "event %d: collection count %s = %d outside 0..%lld", i, c->name,
                               (int)cnt[i], (long long)max);
                nbad++;
            }
            if (bad)
                bad[i - first] = 1;
        }
    }
    return nbad;
}
