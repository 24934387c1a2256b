/* zmq_source.c: the node's PULL thread. Decodes each message into the runner's pooled batches
 * (blocking for a free one: back-pressure, nothing dropped): a message larger than the room left
 * is split across batches, small ones of the same source and batch scalars are packed together,
 * and a partial batch is submitted after the flush timeout. Refused messages are counted by reason;
 * sequence gaps per (source, epoch) count as lost upstream. */
#include "zmq_int.h"

#include <string.h>
#include <zmq.h>

enum { SRC_MAX_FRAMES = 1024 };

typedef struct src_state {
    ngt_zmq_node *n;
    ngt_batch *cur; /* the batch being filled, or NULL */
    int cur_n;
    uint32_t cur_source;
    uint64_t cur_t0;
    zmq_msg_t parts[SRC_MAX_FRAMES];
    const void *frames[SRC_MAX_FRAMES];
    size_t sizes[SRC_MAX_FRAMES];
} src_state;

static void submit(src_state *st)
{
    if (!st->cur)
        return;
    ngt_zmq_node *n = st->n;
    if (st->cur_n == 0) {
        ngt_runner_release(n->runner, st->cur);
    } else {
        ngt_batch_set_count(st->cur, st->cur_n, NULL);
        ngt_runner_submit(n->runner, st->cur, NULL);
        pthread_mutex_lock(&n->st_mu);
        n->st.batches++;
        pthread_mutex_unlock(&n->st_mu);
    }
    st->cur = NULL;
    st->cur_n = 0;
}

static void refuse(ngt_zmq_node *n, int reason, uint64_t events, const ngt_error *err)
{
    pthread_mutex_lock(&n->st_mu);
    n->st.refused_messages++;
    n->st.refused_events += events;
    n->st.refused_by[reason]++;
    if (n->st.first_error[0] == 0)
        str_copy(n->st.first_error, err->msg, sizeof n->st.first_error);
    pthread_mutex_unlock(&n->st_mu);
}

/* The (source, epoch) entry for m. A restarted sender's old epoch may still have messages queued
 * beside its new one, so each pair keeps its own count; when the table is full the least recently
 * used pair gives way. */
static zmq_seq *seq_entry(ngt_zmq_node *n, const wire_msg *m, int *fresh)
{
    zmq_seq *victim = &n->seqs[0];
    *fresh = 0;
    n->seq_clock++;
    for (int i = 0; i < ZMQ_MAX_SOURCES; i++) {
        zmq_seq *q = &n->seqs[i];
        if (q->used && q->source == m->source && q->epoch == m->epoch) {
            q->last = n->seq_clock;
            return q;
        }
        if (!q->used ? victim->used : (victim->used && q->last < victim->last))
            victim = q;
    }
    victim->used = 1;
    victim->source = m->source;
    victim->epoch = m->epoch;
    victim->last = n->seq_clock;
    *fresh = 1;
    return victim;
}

/* Checks sequence numbers; returns 0 when the message repeats events already seen. */
static int check_sequence(ngt_zmq_node *n, const wire_msg *m, ngt_error *err)
{
    int fresh;
    zmq_seq *q = seq_entry(n, m, &fresh);
    uint64_t lost = 0;
    if (fresh) {
        pthread_mutex_lock(&n->st_mu);
        n->st.epochs++;
        pthread_mutex_unlock(&n->st_mu);
    } else if (m->first_seq < q->next) {
        seterr(err, NGT_EFORMAT,
               "sequence: source %u epoch %llu sent events from %llu again (next is %llu)",
               m->source, (unsigned long long)m->epoch, (unsigned long long)m->first_seq,
               (unsigned long long)q->next);
        return 0;
    } else {
        lost = m->first_seq - q->next;
    }
    q->next = m->first_seq + m->count;
    if (lost) {
        pthread_mutex_lock(&n->st_mu);
        n->st.lost_upstream += lost;
        pthread_mutex_unlock(&n->st_mu);
    }
    return 1;
}

/* Copies the message's events into batches; 0 when its collection counts refuse it. */
static int take(src_state *st, const wire_msg *m, ngt_error *err)
{
    ngt_zmq_node *n = st->n;
    int cap = n->capacity;
    int fits = st->cur && st->cur_source == m->source && wire_scalars_equal(&n->in, m, st->cur) &&
               (int)m->count <= cap - st->cur_n;
    if (!fits && m->count > 0) {
        /* it will span batches: refuse it before any part is submitted */
        for (uint32_t from = 0; from < m->count; from += (uint32_t)cap) {
            int k = (int)(m->count - from < (uint32_t)cap ? m->count - from : (uint32_t)cap);
            if (wire_check_counts(&n->in, m, (int)from, k, n->scratch, n->bad, err) != 0)
                return 0;
        }
    }
    uint32_t from = 0;
    while (from < m->count) {
        if (st->cur && (st->cur_source != m->source || st->cur_n == cap ||
                        (st->cur_n > 0 && !wire_scalars_equal(&n->in, m, st->cur))))
            submit(st);
        if (!st->cur) {
            st->cur = ngt_runner_acquire(n->runner); /* blocks while the pool is empty */
            if (!st->cur)
                return 1;
            st->cur_n = 0;
            st->cur_source = m->source;
            st->cur_t0 = now_ns();
        }
        int room = cap - st->cur_n;
        int k = (int)(m->count - from < (uint32_t)room ? m->count - from : (uint32_t)room);
        if (wire_copy_in(&n->in, m, (int)from, k, st->cur, st->cur_n, n->bad, err) != 0)
            return 0; /* only when it fitted: nothing of it was counted */
        st->cur_n += k;
        from += (uint32_t)k;
    }
    if (st->cur && st->cur_n == cap)
        submit(st);
    return 1;
}

static void handle(src_state *st, int nparts)
{
    ngt_zmq_node *n = st->n;
    ngt_error err = {0};
    wire_msg m;
    pthread_mutex_lock(&n->st_mu);
    n->st.messages++;
    pthread_mutex_unlock(&n->st_mu);
    if (wire_parse(&n->in, nparts, st->frames, st->sizes, &m, &err) != NGT_OK) {
        refuse(n, (int)m.reason, 0, &err);
        return;
    }
    if (!check_sequence(n, &m, &err)) {
        refuse(n, NGT_ZMQ_SEQUENCE, m.count, &err);
        return;
    }
    if (!take(st, &m, &err)) {
        refuse(n, NGT_ZMQ_COUNTS, m.count, &err);
        return;
    }
    pthread_mutex_lock(&n->st_mu);
    n->st.events += m.count;
    if (m.flags & WIRE_F_END)
        n->st.ends++;
    pthread_mutex_unlock(&n->st_mu);
    if ((m.flags & WIRE_F_END) && n->o.stop_at_end)
        zmq_node_request_stop(n);
}

/* Receives one multipart message into st->parts; returns its frame count (frames past the
 * limit are dropped and make it count as malformed), 0 when nothing came. */
static int receive(src_state *st, void *sock)
{
    int nparts = 0, more = 1;
    while (more) {
        zmq_msg_t *p = &st->parts[nparts < SRC_MAX_FRAMES ? nparts : SRC_MAX_FRAMES - 1];
        if (nparts >= SRC_MAX_FRAMES)
            zmq_msg_close(p);
        zmq_msg_init(p);
        if (zmq_msg_recv(p, sock, nparts == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(p);
            return nparts;
        }
        more = zmq_msg_more(p);
        if (nparts < SRC_MAX_FRAMES) {
            st->frames[nparts] = zmq_msg_data(p);
            st->sizes[nparts] = zmq_msg_size(p);
        }
        nparts++;
    }
    return nparts;
}

/* A pause (for a reload): the partial batch goes to the current runner, then the thread waits
 * until resumed; the node may have a new menu, runner and layouts by then. */
static void hold(src_state *st)
{
    ngt_zmq_node *n = st->n;
    submit(st);
    pthread_mutex_lock(&n->done_mu);
    n->paused = 1;
    pthread_cond_broadcast(&n->done_cv);
    while (atomic_load(&n->pause_req) && !atomic_load(&n->stop))
        pthread_cond_wait(&n->pause_cv, &n->done_mu);
    n->paused = 0;
    pthread_mutex_unlock(&n->done_mu);
}

void *zmq_source_main(void *arg)
{
    ngt_zmq_node *n = arg;
    src_state *st = calloc(1, sizeof *st);
    if (st) {
        st->n = n;
        uint64_t flush_ns = (uint64_t)(n->o.flush_ms * 1e6);
        zmq_pollitem_t item = {n->src_sock, 0, ZMQ_POLLIN, 0};
        while (!atomic_load(&n->stop)) {
            if (atomic_load(&n->pause_req)) {
                hold(st);
                continue;
            }
            long wait_ms = 20; /* how often stop is looked at when idle */
            if (st->cur && st->cur_n > 0) {
                uint64_t now = now_ns(), due = st->cur_t0 + flush_ns;
                wait_ms = now >= due ? 0 : (long)((due - now + 999999) / 1000000);
            }
            int rc = zmq_poll(&item, 1, wait_ms);
            if (rc > 0) {
                for (int burst = 0; burst < 64 && !atomic_load(&n->stop); burst++) {
                    int np = receive(st, n->src_sock);
                    if (np == 0)
                        break;
                    handle(st, np < SRC_MAX_FRAMES ? np : SRC_MAX_FRAMES);
                    for (int i = 0; i < (np < SRC_MAX_FRAMES ? np : SRC_MAX_FRAMES); i++)
                        zmq_msg_close(&st->parts[i]);
                }
            }
            if (st->cur && st->cur_n > 0 && now_ns() - st->cur_t0 >= flush_ns)
                submit(st);
        }
        submit(st);
        free(st);
    }
    pthread_mutex_lock(&n->done_mu);
    n->src_done = 1;
    pthread_cond_broadcast(&n->done_cv);
    pthread_mutex_unlock(&n->done_mu);
    return NULL;
}
