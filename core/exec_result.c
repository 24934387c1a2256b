/* exec_result.c: the end of a batch: per event the decision bitset, the streams and the status
 * (accepted, rejected or errored, exactly one), and the counters that must add up. */
#include "exec_int.h"
#include "internal.h"

#include <string.h>

void exec_finalize(exec_job *j, ngt_ctx *ctx)
{
    ngt_menu *m = j->m;
    ctx_stats *st = ctx->stats;
    uint64_t *dec = ngt_batch_column(j->b, m->col_decision);
    uint64_t *streams = ngt_batch_column(j->b, m->col_streams);
    uint8_t *status = ngt_batch_column(j->b, m->col_status);
    int ns = m->n_streams + 1;
    uint64_t acc = 0, errd = 0;
    stats_write_begin(st);
    for (int e = 0; e < j->n; e++) {
        uint64_t *d = dec + (size_t)e * (size_t)m->words;
        memset(d, 0, sizeof *d * (size_t)m->words);
        int n_acc = 0, last = -1, err = j->bad[e];
        for (int c = 0; c < m->n_chains; c++) {
            if (row(j->live, c, j->cap)[e]) {
                d[c / 64] |= 1ULL << (c % 64);
                n_acc++;
                last = c;
            }
            err |= row(j->errc, c, j->cap)[e];
        }
        if (n_acc == 1)
            stat_add(&st->chain[last * CH_FIELDS + CH_UNIQUE], 1);
        uint64_t sm = 0;
        for (int s = 0; s < m->n_streams; s++)
            for (int k = 0; k < m->streams[s].n_chains; k++)
                if (d[m->streams[s].chains[k] / 64] >> (m->streams[s].chains[k] % 64) & 1)
                    sm |= 1ULL << s;
        status[e] = n_acc ? NGT_EVENT_ACCEPTED : err ? NGT_EVENT_ERRORED : NGT_EVENT_REJECTED;
        if (!n_acc && err)
            sm |= 1ULL << m->n_streams;
        streams[e] = sm;
        acc += n_acc > 0;
        errd += !n_acc && err;
        for (int a = 0; a < ns; a++)
            if (sm >> a & 1) {
                stat_add(&st->stream[a], 1);
                for (int b = a + 1; b < ns; b++)
                    if (sm >> b & 1)
                        stat_add(&st->overlap[a * ns + b], 1);
            }
    }
    for (int c = 0; c < m->n_chains; c++) {
        uint64_t k = 0;
        const uint8_t *live = row(j->live, c, j->cap);
        for (int e = 0; e < j->n; e++)
            k += live[e];
        stat_add(&st->chain[c * CH_FIELDS + CH_PASSED], k);
    }
    stat_add(&st->batches, 1);
    stat_add(&st->in, (uint64_t)j->n);
    stat_add(&st->accepted, acc);
    stat_add(&st->errored, errd);
    stat_add(&st->input_errors, (uint64_t)j->n_bad);
    stat_add(&st->rejected, (uint64_t)j->n - acc - errd);
    stats_write_end(st);
}
