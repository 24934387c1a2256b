/* exec_result.c: the end of a batch: per event the decision bitset, the streams and the status
 * (accepted, rejected or errored, exactly one), and the counters that must add up. Chains are
 * walked one at a time over all the events (their rows are contiguous), counts kept in the job and
 * added to the statistics once per batch. */
#include "exec_int.h"
#include "internal.h"

#include <string.h>

/* Bytes that are 0 or 1, 8 of them in a word, summed. */
static inline uint64_t byte_sum(uint64_t w)
{
    return (w * 0x0101010101010101ULL) >> 56;
}

static inline uint64_t load8(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Decision bits of chains c0..c0+cn-1 (cn <= 8, c0 a multiple of 8) for every event, 8 events at
 * a time: the chains' live bytes are packed into one byte per event; also their passed counts, the
 * events' error flags and whether any chain accepted them (live and error bytes are 0 or 1, so
 * err and any stay 0 or 1). The first group writes any, and with one decision word the words
 * (no clearing before); the others OR into them. */
static void decide8(exec_job *j, ctx_stats *st, int c0, int cn, uint64_t *dec, int words,
                    uint8_t *err, uint8_t *any)
{
    if (!j->err_dirty)
        err = NULL; /* no chain has an error in this batch (refused input is already in err) */
    const uint8_t *live[8], *errc[8];
    uint64_t k[8] = {0};
    for (int q = 0; q < cn; q++) {
        live[q] = row(j->live, c0 + q, j->cap);
        errc[q] = row(j->errc, c0 + q, j->cap);
    }
    uint64_t *d = dec + c0 / 64;
    int shift = c0 % 64, n = j->n, e = 0, first = c0 == 0, assign = first && words == 1;
    for (; e + 8 <= n; e += 8) {
        uint64_t t = 0, x = 0, o = first ? 0 : load8(any + e);
        for (int q = 0; q < cn; q++) {
            uint64_t l = load8(live[q] + e);
            k[q] += byte_sum(l);
            t |= l << q;
            o |= l;
            x |= err ? load8(errc[q] + e) : 0;
        }
        memcpy(any + e, &o, 8);
        if (err) {
            uint64_t ex;
            memcpy(&ex, err + e, 8);
            ex |= x;
            memcpy(err + e, &ex, 8);
        }
        uint8_t tb[8];
        memcpy(tb, &t, 8);
        if (assign)
#pragma GCC unroll 8
            for (int b = 0; b < 8; b++)
                d[e + b] = tb[b];
        else if (words == 1) /* contiguous words */
#pragma GCC unroll 8
            for (int b = 0; b < 8; b++)
                d[e + b] |= (uint64_t)tb[b] << shift;
        else if (t)
            for (int b = 0; b < 8; b++)
                d[(size_t)(e + b) * (size_t)words] |= (uint64_t)tb[b] << shift;
    }
    for (; e < n; e++) {
        if (assign)
            d[e] = 0;
        if (first)
            any[e] = 0;
        for (int q = 0; q < cn; q++) {
            uint64_t l = live[q][e] != 0;
            k[q] += l;
            d[(size_t)e * (size_t)words] |= l << (shift + q);
            any[e] |= (uint8_t)l;
            if (err)
                err[e] |= errc[q][e];
        }
    }
    for (int q = 0; q < cn; q++)
        stat_add(&st->chain[(c0 + q) * CH_FIELDS + CH_PASSED], k[q]);
}

/* Statuses, streams and unique accepts per event, any number of chains. */
static void large_menu(exec_job *j, const uint64_t *dec, const uint8_t *err, uint8_t *status,
                       uint64_t *streams, uint64_t *acc_out, uint64_t *errd_out)
{
    ngt_menu *m = j->m;
    int n = j->n, words = m->words, ns = m->n_streams + 1;
    uint64_t acc = 0, errd = 0, *uniq = j->fin_unique, *scount = j->fin_stream;
    int run_chain = -1; /* unique accepts of one chain in a row are counted in a register */
    uint64_t run_count = 0;
    for (int e = 0; e < n; e++) {
        const uint64_t *d = dec + (size_t)e * (size_t)words;
        int n_acc = 0, last = -1;
        for (int w = 0; w < words && n_acc < 2; w++)
            if (d[w]) {
                n_acc += d[w] & (d[w] - 1) ? 2 : 1;
                last = w * 64 + __builtin_ctzll(d[w]);
            }
        if (n_acc == 1) {
            if (last != run_chain) {
                if (run_chain >= 0)
                    uniq[run_chain] += run_count;
                run_chain = last;
                run_count = 0;
            }
            run_count++;
        }
        int a_any = n_acc > 0, bad = !a_any && err[e];
        status[e] = (uint8_t)(a_any * NGT_EVENT_ACCEPTED + bad * NGT_EVENT_ERRORED);
        acc += (uint64_t)a_any;
        errd += (uint64_t)bad;
        uint64_t sm = (uint64_t)bad << m->n_streams;
        for (int s = 0; s < m->n_streams; s++)
            for (int k = 0; k < m->streams[s].n_chains; k++)
                if (d[m->streams[s].chains[k] / 64] >> (m->streams[s].chains[k] % 64) & 1) {
                    sm |= 1ULL << s;
                    break;
                }
        streams[e] = sm;
        for (uint64_t rest = sm; rest; rest &= rest - 1) { /* stream a and its overlaps a < b */
            int a = __builtin_ctzll(rest);
            scount[a * ns + a]++;
            for (uint64_t more = rest & (rest - 1); more; more &= more - 1)
                scount[a * ns + __builtin_ctzll(more)]++;
        }
    }
    if (run_chain >= 0)
        uniq[run_chain] += run_count;
    *acc_out = acc;
    *errd_out = errd;
}

/* The same for at most 64 chains (one decision word), in passes without branches on the
 * decisions: statuses and totals (vectorisable); unique accepts into four interleaved histograms
 * (no store waits for the one before; with one chain every accept is unique); streams as masks of
 * their chains, only over accepted events (an errored event is in the error stream alone). */
static void small_menu(exec_job *j, const uint64_t *dec, const uint8_t *err, const uint8_t *any,
                       uint8_t *status, uint64_t *streams, uint64_t *acc_out, uint64_t *errd_out)
{
    ngt_menu *m = j->m;
    int n = j->n, ns = m->n_streams + 1, n_s = m->n_streams, e = 0;
    uint64_t acc = 0, errd = 0, *scount = j->fin_stream, smask[64];
    for (; e + 8 <= n; e += 8) { /* 8 events a word: any and err bytes are 0 or 1 */
        uint64_t a = load8(any + e), bad = load8(err + e) & ~a;
        uint64_t st8 = a * NGT_EVENT_ACCEPTED + bad * NGT_EVENT_ERRORED; /* no byte carries */
        memcpy(status + e, &st8, 8);
        acc += byte_sum(a);
        errd += byte_sum(bad);
        uint8_t bb[8];
        memcpy(bb, &bad, 8);
#pragma GCC unroll 8
        for (int b = 0; b < 8; b++)
            streams[e + b] = (uint64_t)bb[b] << n_s;
    }
    for (; e < n; e++) {
        int a_any = any[e], bad = (a_any ^ 1) & err[e];
        status[e] = (uint8_t)(a_any * NGT_EVENT_ACCEPTED + bad * NGT_EVENT_ERRORED);
        streams[e] = (uint64_t)bad << n_s;
        acc += (uint64_t)a_any;
        errd += (uint64_t)bad;
    }
    scount[n_s * ns + n_s] += errd;
    *acc_out = acc;
    *errd_out = errd;
    if (m->n_chains == 1) {
        j->fin_unique[0] += acc;
    } else {
        uint32_t h[4][65];
        memset(h, 0, sizeof h);
        for (int e = 0; e < n; e++) {
            uint64_t d = dec[e];
            int one = d != 0 && (d & (d - 1)) == 0;
            h[e & 3][one ? __builtin_ctzll(d | (1ULL << 63)) : 64]++;
        }
        for (int c = 0; c < m->n_chains; c++)
            j->fin_unique[c] += (uint64_t)h[0][c] + h[1][c] + h[2][c] + h[3][c];
    }
    if (n_s == 0 || acc == 0)
        return;
    memset(smask, 0, sizeof smask);
    for (int s = 0; s < n_s; s++)
        for (int k = 0; k < m->streams[s].n_chains; k++)
            smask[s] |= 1ULL << m->streams[s].chains[k];
    for (int e = 0; e < n; e++) {
        uint64_t d = dec[e], sm = 0;
        if (!d)
            continue;
        for (int s = 0; s < n_s; s++)
            sm |= (uint64_t)((d & smask[s]) != 0) << s;
        streams[e] = sm;
        for (uint64_t rest = sm; rest; rest &= rest - 1) { /* stream a and its overlaps a < b */
            int a = __builtin_ctzll(rest);
            scount[a * ns + a]++;
            for (uint64_t more = rest & (rest - 1); more; more &= more - 1)
                scount[a * ns + __builtin_ctzll(more)]++;
        }
    }
}

void exec_finalize(exec_job *j, ngt_ctx *ctx)
{
    ngt_menu *m = j->m;
    ctx_stats *st = ctx->stats;
    uint64_t *dec = ngt_batch_column(j->b, m->col_decision);
    uint64_t *streams = ngt_batch_column(j->b, m->col_streams);
    uint8_t *status = ngt_batch_column(j->b, m->col_status);
    int ns = m->n_streams + 1, n = j->n, words = m->words;
    uint8_t *err = j->fin_err, *any = j->fin_any;
    if (words > 1 || m->n_chains == 0) /* else decide8 writes every word and any byte */
        memset(dec, 0, sizeof *dec * (size_t)words * (size_t)n);
    if (m->n_chains == 0)
        memset(any, 0, (size_t)n + 8);
    memset(err, 0, (size_t)n + 8);
    if (j->n_bad > 0) /* events the input check refused: errored (never live in any chain) */
        memcpy(err, j->bad, (size_t)n);
    stats_write_begin(st);
    for (int c0 = 0; c0 < m->n_chains; c0 += 8)
        decide8(j, st, c0, m->n_chains - c0 < 8 ? m->n_chains - c0 : 8, dec, words, err, any);
    uint64_t acc = 0, errd = 0, *uniq = j->fin_unique, *scount = j->fin_stream;
    memset(scount, 0, sizeof *scount * (size_t)ns * (size_t)ns);
    if (words == 1)
        small_menu(j, dec, err, any, status, streams, &acc, &errd);
    else
        large_menu(j, dec, err, status, streams, &acc, &errd);
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
    stat_add(&st->input_errors, (uint64_t)j->n_bad);
    stats_write_end(st);
}
