/* exec_result.c: the end of a batch: per event the decision bitset, the streams and the status
 * (accepted, rejected or errored, exactly one), and the counters that must add up. Chains are
 * walked one at a time over all the events (their rows are contiguous), counts kept in the job and
 * added to the statistics once per batch. */
#include "exec_int.h"
#include "internal.h"

#include <string.h>

void exec_finalize(ngt_job *j, ngt_ctx *ctx)
{
    ngt_menu *m = j->m;
    ctx_stats *st = ctx->stats;
    uint64_t *dec = ngt_batch_column(j->b, m->col_decision);
    uint64_t *streams = ngt_batch_column(j->b, m->col_streams);
    uint8_t *status = ngt_batch_column(j->b, m->col_status);
    int ns = m->n_streams + 1, n = j->n, words = m->words;
    uint32_t *n_acc = j->fin_acc, *last = j->fin_last;
    uint8_t *err = j->fin_err;
    memset(dec, 0, sizeof *dec * (size_t)words * (size_t)n);
    memset(n_acc, 0, sizeof *n_acc * (size_t)n);
    memset(err, 0, (size_t)n);
    stats_write_begin(st);
    for (int c = 0; c < m->n_chains; c++) {
        const uint8_t *live = row(j->live, c, j->cap), *errc = row(j->errc, c, j->cap);
        uint64_t *d = dec + c / 64, bit = 1ULL << (c % 64), k = 0;
        for (int e = 0; e < n; e++) {
            uint32_t l = live[e] != 0;
            d[(size_t)e * (size_t)words] |= bit & (0 - (uint64_t)l);
            n_acc[e] += l;
            last[e] = l ? (uint32_t)c : last[e];
            err[e] |= errc[e];
            k += l;
        }
        stat_add(&st->chain[c * CH_FIELDS + CH_PASSED], k);
    }
    uint64_t acc = 0, errd = 0, *uniq = j->fin_unique, *scount = j->fin_stream;
    memset(scount, 0, sizeof *scount * (size_t)ns * (size_t)ns);
    for (int e = 0; e < n; e++) {
        const uint64_t *d = dec + (size_t)e * (size_t)words;
        if (n_acc[e] == 1)
            uniq[last[e]]++;
        uint64_t sm = 0;
        for (int s = 0; s < m->n_streams; s++)
            for (int k = 0; k < m->streams[s].n_chains; k++)
                if (d[m->streams[s].chains[k] / 64] >> (m->streams[s].chains[k] % 64) & 1) {
                    sm |= 1ULL << s;
                    break;
                }
        int a_any = n_acc[e] > 0, bad = !a_any && err[e];
        status[e] = a_any ? NGT_EVENT_ACCEPTED : bad ? NGT_EVENT_ERRORED : NGT_EVENT_REJECTED;
        if (bad)
            sm |= 1ULL << m->n_streams;
        streams[e] = sm;
        acc += (uint64_t)a_any;
        errd += (uint64_t)bad;
        for (uint64_t rest = sm; rest; rest &= rest - 1) { /* stream a and its overlaps a < b */
            int a = __builtin_ctzll(rest);
            scount[a * ns + a]++;
            for (uint64_t more = rest & (rest - 1); more; more &= more - 1)
                scount[a * ns + __builtin_ctzll(more)]++;
        }
    }
    for (int c = 0; c < m->n_chains; c++)
        if (uniq[c]) {
            stat_add(&st->chain[c * CH_FIELDS + CH_UNIQUE], uniq[c]);
            uniq[c] = 0;
        }
    for (int a = 0; a < ns; a++) {
        if (scount[a * ns + a])
            stat_add(&st->stream[a], scount[a * ns + a]);
        for (int b = a + 1; b < ns; b++)
            if (scount[a * ns + b])
                stat_add(&st->overlap[a * ns + b], scount[a * ns + b]);
    }
    stat_add(&st->batches, 1);
    stat_add(&st->in, (uint64_t)n);
    stat_add(&st->accepted, acc);
    stat_add(&st->errored, errd);
    stat_add(&st->rejected, (uint64_t)n - acc - errd);
    stats_write_end(st);
}
