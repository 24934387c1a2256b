/* farm_node.c: a farm node. Its thread fetches up to `fetch` input messages from the durable pull
 * consumer, runs each through the menu (ngt_menu_process on its own context) and publishes one
 * result record per message asynchronously with message id (source, epoch, first sequence). The
 * input waits in a table, keyed by that id, until the server's PubAck for its result comes back:
 * the PubAck callback (libnats' thread) then acknowledges it, or hands it back when the publish
 * failed. So the next fetch overlaps the storing of the previous results. Undecodable messages
 * are handed back (Nak) until their last delivery, then reported by a poison record and
 * terminated once that is stored. */
#define _DEFAULT_SOURCE /* usleep */
#include "farm_int.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { NODE_HEARTBEAT_NS = 1000000000, FARM_MAX_FETCH = 1024 };

typedef struct farm_pend {
    char id[96];
    natsMsg *in; /* NULL: a free slot */
    int kind;    /* 0: a result (ack the input), 2: a poison record (terminate it) */
} farm_pend;

struct ngt_farm_node {
    ngt_menu *m;
    ngt_farm_opts o;
    farm_names nm;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub, *ctl;
    wire_layout in;
    ngt_ctx *ctx;
    ngt_batch *b;
    int cap;
    uint8_t *bad;
    uint8_t *rec;
    size_t rec_cap;
    int words, streams;
    int col_decision, col_streams, col_status;
    /* inputs waiting for their result's PubAck (mu; the callback removes them) */
    pthread_mutex_t mu;
    pthread_cond_t room;
    farm_pend *pend;
    int pend_cap, n_pend;
    int stuck; /* results still unacknowledged at the end: the node is not freed */
    /* test hooks (environment, tests/farm): die by SIGKILL at this result's PubAck, before its
     * input is acknowledged; sleep this long per message */
    long kill_after, slow_us, acked;
    uint64_t next_beat;
    ngt_farm_stats st; /* results, poisoned, retried, server_duplicates: under mu */
};

/* libnats' thread: a result (or poison record) is stored, or its publish failed. */
static void on_pub_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    ngt_farm_node *n = closure;
    const char *id = NULL;
    natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    natsMsg *in = NULL;
    int kind = 0;
    pthread_mutex_lock(&n->mu);
    for (int i = 0; id && i < n->pend_cap; i++) {
        if (n->pend[i].in && strcmp(n->pend[i].id, id) == 0) {
            in = n->pend[i].in;
            kind = n->pend[i].kind;
            n->pend[i].in = NULL;
            n->n_pend--;
            break;
        }
    }
    if (in) {
        if (pae)
            n->st.retried++;
        else if (kind == 2)
            n->st.poisoned++;
        else
            n->st.results++;
        if (!pae && pa && pa->Duplicate)
            n->st.server_duplicates++;
        if (!pae && n->kill_after > 0 && ++n->acked >= n->kill_after)
            raise(SIGKILL); /* test hook: the result is stored, its input not acknowledged */
    }
    pthread_cond_broadcast(&n->room);
    pthread_mutex_unlock(&n->mu);
    if (in) {
        if (pae)
            natsMsg_Nak(in, NULL); /* redelivered; a result stored after all is deduplicated */
        else if (kind == 2)
            natsMsg_Term(in, NULL);
        else
            natsMsg_Ack(in, NULL);
        natsMsg_Destroy(in);
    }
    natsMsg_Destroy(msg);
}

void ngt_farm_node_free(ngt_farm_node *n)
{
    if (!n)
        return;
    if (n->js && n->pend) {
        /* every result out is waited for, so that its input is settled */
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = 5000;
        if (js_PublishAsyncComplete(n->js, &po) != NATS_OK)
            n->stuck = 1;
        pthread_mutex_lock(&n->mu);
        for (int i = 0; i < n->pend_cap; i++) {
            if (n->pend[i].in) {
                natsMsg_Nak(n->pend[i].in, NULL);
                natsMsg_Destroy(n->pend[i].in);
                n->pend[i].in = NULL;
            }
        }
        pthread_mutex_unlock(&n->mu);
    }
    if (n->stuck)
        return; /* a late PubAck could still call back into n: it is left allocated */
    if (n->sub)
        natsSubscription_Destroy(n->sub);
    if (n->ctl)
        natsSubscription_Destroy(n->ctl);
    if (n->js)
        jsCtx_Destroy(n->js);
    if (n->nc)
        natsConnection_Destroy(n->nc);
    wire_layout_free(&n->in);
    ngt_batch_free(n->b);
    ngt_ctx_free(n->ctx);
    free(n->bad);
    free(n->rec);
    free(n->pend);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->room);
    free(n);
}

static int grow(ngt_farm_node *n, int count, ngt_error *err)
{
    if (count <= n->cap && n->b)
        return NGT_OK;
    int cap = n->cap ? n->cap : 256;
    while (cap < count)
        cap *= 2;
    ngt_batch_free(n->b);
    ngt_ctx_free(n->ctx);
    free(n->bad);
    n->b = ngt_batch_new(ngt_menu_schema(n->m), cap, err);
    n->ctx = ngt_ctx_new(n->m, cap, err);
    n->bad = malloc((size_t)cap);
    n->cap = n->b && n->ctx && n->bad ? cap : 0;
    if (!n->cap)
        return seterr(err, NGT_ENOMEM, "farm node: no room for a batch of %d events", cap);
    return NGT_OK;
}

ngt_farm_node *ngt_farm_node_new(ngt_menu *m, const ngt_farm_opts *o, ngt_error *err)
{
    ngt_farm_node *n = calloc(1, sizeof *n);
    if (!n) {
        seterr(err, NGT_ENOMEM, "farm node: out of memory");
        return NULL;
    }
    n->m = m;
    n->o = *o;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->room, NULL);
    if (n->o.fetch <= 0)
        n->o.fetch = NGT_FARM_FETCH;
    if (n->o.fetch > FARM_MAX_FETCH)
        n->o.fetch = FARM_MAX_FETCH;
    if (n->o.max_events <= 0)
        n->o.max_events = WIRE_DEFAULT_MAX_EVENTS;
    n->pend_cap = 4 * n->o.fetch;
    n->pend = calloc((size_t)n->pend_cap, sizeof *n->pend);
    if (!n->pend) {
        seterr(err, NGT_ENOMEM, "farm node: out of memory");
        goto fail;
    }
    const ngt_schema *s = ngt_menu_schema(m);
    if (farm_names_init(&n->nm, o->stream, err) != NGT_OK ||
        wire_layout_init(&n->in, s, 0, err) != NGT_OK)
        goto fail;
    n->in.max_events = (uint32_t)n->o.max_events;
    n->col_decision = ngt_schema_find(s, "ngt.decision");
    n->col_streams = ngt_schema_find(s, "ngt.streams");
    n->col_status = ngt_schema_find(s, "ngt.status");
    n->words = (ngt_menu_nchains(m) + 63) / 64;
    n->streams = ngt_menu_nstreams(m);
    if (grow(n, 256, err) != NGT_OK)
        goto fail;
    const char *hook = getenv("NGT_FARM_TEST_KILL_AFTER");
    n->kill_after = hook ? strtol(hook, NULL, 10) : 0;
    hook = getenv("NGT_FARM_TEST_SLOW_US");
    n->slow_us = hook ? strtol(hook, NULL, 10) : 0;
    if (farm_connect(o->url, &n->nc, &n->js, err) != NGT_OK)
        goto fail;
    if (farm_setup(n->js, &n->nm, o, &n->st.ack_wait_ms, &n->st.max_deliver, err) != NGT_OK)
        goto fail;
    /* async publish errors are counted here; a batch with any is handed back */
    jsCtx_Destroy(n->js);
    n->js = NULL;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.AckHandler = on_pub_ack;
    jo.PublishAsync.AckHandlerClosure = n;
    jo.PublishAsync.MaxPending = n->pend_cap + n->o.fetch;
    natsStatus st = natsConnection_JetStream(&n->js, n->nc, &jo);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = n->nm.stream;
    so.Consumer = FARM_CONSUMER;
    jsErrCode jerr = 0;
    if (st == NATS_OK)
        st = js_PullSubscribe(&n->sub, n->js, n->nm.in, FARM_CONSUMER, NULL, &so, &jerr);
    if (st != NATS_OK) {
        farm_naterr(err, st, jerr, "farm node: pull subscription");
        goto fail;
    }
    st = natsConnection_SubscribeSync(&n->ctl, n->nc, n->nm.control);
    if (st != NATS_OK) {
        farm_naterr(err, st, 0, "farm node: control subscription");
        goto fail;
    }
    return n;
fail:
    ngt_farm_node_free(n);
    return NULL;
}

static void note_error(ngt_farm_node *n, const char *msg)
{
    if (!n->st.first_error[0])
        str_copy(n->st.first_error, msg, sizeof n->st.first_error);
}

/* Control: "stop", "prescale COLUMN" (COLUMN "" or "-": the chains' own factors). */
static int control(ngt_farm_node *n)
{
    int stop = 0;
    natsMsg *msg = NULL;
    while (natsSubscription_NextMsg(&msg, n->ctl, 0) == NATS_OK) {
        char cmd[256];
        int len = natsMsg_GetDataLength(msg);
        snprintf(cmd, sizeof cmd, "%.*s", len < 255 ? len : 255, natsMsg_GetData(msg));
        ngt_error e = {0};
        char reply[NGT_ERR_MSG_MAX + 320];
        if (strcmp(cmd, "stop") == 0) {
            stop = 1;
            snprintf(reply, sizeof reply, "node %u: stopping", n->o.node_id);
        } else if (strncmp(cmd, "prescale ", 9) == 0) {
            const char *col = cmd + 9;
            if (strcmp(col, "-") == 0)
                col = "";
            if (ngt_menu_select_column(n->m, col, &e) == NGT_OK)
                snprintf(reply, sizeof reply, "node %u: prescale column '%s'", n->o.node_id, col);
            else {
                note_error(n, e.msg);
                snprintf(reply, sizeof reply, "node %u: %s", n->o.node_id, e.msg);
            }
        } else {
            snprintf(reply, sizeof reply, "node %u: unknown command '%s' (stop, prescale COLUMN)",
                     n->o.node_id, cmd);
        }
        const char *to = natsMsg_GetReply(msg);
        if (to && to[0])
            natsConnection_PublishString(n->nc, to, reply);
        natsMsg_Destroy(msg);
        msg = NULL;
    }
    return stop;
}

static void heartbeat(ngt_farm_node *n)
{
    uint64_t now = now_ns();
    if (now < n->next_beat)
        return;
    n->next_beat = now + NODE_HEARTBEAT_NS;
    ngt_farm_stats st;
    ngt_farm_node_stats(n, &st);
    char text[512];
    snprintf(text, sizeof text,
             "node=%u pid=%d messages=%llu redelivered=%llu events=%llu naks=%llu poisoned=%llu "
             "retried=%llu column=%s",
             n->o.node_id, (int)getpid(), (unsigned long long)st.messages,
             (unsigned long long)st.redelivered, (unsigned long long)st.events,
             (unsigned long long)st.naks, (unsigned long long)st.poisoned,
             (unsigned long long)st.retried, ngt_menu_current_column(n->m));
    natsConnection_PublishString(n->nc, n->nm.nodes, text);
}

static int need_rec(ngt_farm_node *n, size_t size)
{
    if (size <= n->rec_cap)
        return 1;
    uint8_t *p = realloc(n->rec, size);
    if (!p)
        return 0;
    n->rec = p;
    n->rec_cap = size;
    return 1;
}

/* Puts input `in` in the table under id, then publishes the record in n->rec: the PubAck callback
 * settles the input from then on. Returns 0 (the input is the table's), or -1 when it could not be
 * published (the input was handed back; the caller still holds it). */
static int publish(ngt_farm_node *n, const farm_rec *r, const char *id, natsMsg *in, int kind)
{
    int slot = -1;
    pthread_mutex_lock(&n->mu);
    for (int i = 0; i < n->pend_cap && slot < 0; i++)
        if (!n->pend[i].in)
            slot = i;
    if (slot >= 0) {
        str_copy(n->pend[slot].id, id, sizeof n->pend[slot].id);
        n->pend[slot].in = in;
        n->pend[slot].kind = kind;
        n->n_pend++;
    }
    pthread_mutex_unlock(&n->mu);
    if (slot < 0) { /* not reached: the step waits for room before it fetches */
        natsMsg_Nak(in, NULL);
        return -1;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    /* a PubAck lost with a restarting server times out: the callback hands the input back */
    po.MaxWait = n->st.ack_wait_ms > 0 ? n->st.ack_wait_ms : 5000;
    natsStatus s = js_PublishAsync(n->js, n->nm.out, n->rec, (int)farm_rec_size(r), &po);
    if (s == NATS_OK)
        return 0;
    int mine = 0;
    pthread_mutex_lock(&n->mu);
    if (n->pend[slot].in == in) { /* the callback did not take it */
        n->pend[slot].in = NULL;
        n->n_pend--;
        n->st.retried++;
        mine = 1;
    }
    pthread_mutex_unlock(&n->mu);
    if (!mine)
        return 0; /* the callback settled it (a publish error it reported) */
    natsMsg_Nak(in, NULL);
    return -1;
}

/* An undecodable message: handed back until its last delivery, then reported and terminated.
 * Returns 1 when it was settled here (Nak), 0 when a poison record was published (the input is
 * the table's: terminated once the server has the record), -1 when nothing could be published
 * (Nak). */
static int poison(ngt_farm_node *n, natsMsg *msg, uint64_t seq, uint64_t delivered,
                  const ngt_error *why)
{
    note_error(n, why->msg);
    if ((int64_t)delivered < n->st.max_deliver) {
        natsMsg_Nak(msg, NULL);
        n->st.naks++;
        return 1;
    }
    farm_rec r = {0};
    r.kind = FARM_REC_POISON;
    r.node = n->o.node_id;
    r.stream_seq = seq;
    r.deliveries = (uint32_t)delivered;
    r.schema_id = n->in.schema_id;
    const uint8_t *p = (const uint8_t *)natsMsg_GetData(msg);
    int len = natsMsg_GetDataLength(msg);
    if (len >= WIRE_HEADER && memcmp(p, "NGT1", 4) == 0) {
        r.flags |= FARM_REC_IDS;
        r.source = wire_ld32(p + 12);
        r.epoch = wire_ld64(p + 24);
        r.first_seq = wire_ld64(p + 32);
        r.count = wire_ld32(p + 40);
        if (r.count > WIRE_MAX_EVENTS)
            r.count = 0;
    }
    if (!need_rec(n, farm_rec_size(&r))) {
        natsMsg_Nak(msg, NULL);
        return -1;
    }
    farm_put_rec(n->rec, &r);
    memset(n->rec + FARM_REC_HEADER, 0, FARM_REASON_MAX);
    memcpy(n->rec + FARM_REC_HEADER, why->msg, strnlen(why->msg, FARM_REASON_MAX - 1));
    char id[64];
    snprintf(id, sizeof id, "p.%llu", (unsigned long long)seq);
    return publish(n, &r, id, msg, 2);
}

/* Decodes and runs one message; publishes its result. 0 published (the input is the table's),
 * 1 settled here (nak'd), -1 failed (nak'd). */
static int process(ngt_farm_node *n, natsMsg *msg, uint64_t seq, uint64_t delivered)
{
    ngt_error e = {0};
    const void *frames[FARM_MAX_FRAMES];
    size_t sizes[FARM_MAX_FRAMES];
    int nf = 0;
    wire_msg w;
    const uint8_t *p = (const uint8_t *)natsMsg_GetData(msg);
    size_t len = (size_t)natsMsg_GetDataLength(msg);
    if (farm_split(&n->in, p, len, frames, sizes, &nf, &e) != NGT_OK ||
        wire_parse(&n->in, nf, frames, sizes, &w, &e) != NGT_OK)
        return poison(n, msg, seq, delivered, &e);
    if (w.flags & WIRE_F_OUTPUT) {
        seterr(&e, NGT_EFORMAT, "malformed: an output message in the input stream");
        return poison(n, msg, seq, delivered, &e);
    }
    if (grow(n, (int)w.count, &e) != NGT_OK) {
        note_error(n, e.msg);
        natsMsg_Nak(msg, NULL);
        return -1;
    }
    int nb = w.count ? wire_copy_in(&n->in, &w, 0, (int)w.count, n->b, 0, n->bad, &e) : 0;
    if (nb != 0)
        return poison(n, msg, seq, delivered, &e);
    farm_rec r = {0};
    r.kind = FARM_REC_RESULT;
    r.node = n->o.node_id;
    r.source = w.source;
    r.epoch = w.epoch;
    r.first_seq = w.first_seq;
    r.count = w.count;
    r.words = (uint32_t)n->words;
    r.streams = (uint32_t)n->streams;
    r.menu_hash = ngt_menu_hash(n->m);
    r.stream_seq = seq;
    r.deliveries = (uint32_t)delivered;
    r.flags = (w.flags & WIRE_F_END) ? FARM_REC_END : 0;
    r.schema_id = n->in.schema_id;
    if (w.count) {
        ngt_batch_set_count(n->b, (int)w.count, NULL);
        int rc = ngt_menu_process(n->m, n->ctx, n->b, &e);
        /* NGT_ESTEP: processed, some events errored (their status says so, the record counts them)
         */
        if (rc == NGT_ESTEP)
            note_error(n, e.msg);
        else if (rc < 0) {
            note_error(n, e.msg);
            natsMsg_Nak(msg, NULL);
            return -1;
        }
    }
    snprintf(r.column, sizeof r.column, "%s", ngt_menu_current_column(n->m));
    if (!need_rec(n, farm_rec_size(&r))) {
        natsMsg_Nak(msg, NULL);
        return -1;
    }
    uint8_t *q = n->rec + FARM_REC_HEADER;
    size_t cnt = w.count;
    if (cnt) {
        const uint64_t *streams = ngt_batch_column(n->b, n->col_streams);
        const uint64_t *dec = ngt_batch_column(n->b, n->col_decision);
        const uint8_t *status = ngt_batch_column(n->b, n->col_status);
        memcpy(q, streams, cnt * 8);
        memcpy(q + cnt * 8, dec, cnt * 8 * (size_t)n->words);
        memcpy(q + cnt * 8 * (1 + (size_t)n->words), status, cnt);
        for (size_t i = 0; i < cnt; i++) {
            if (status[i] == NGT_EVENT_ACCEPTED)
                r.accepted++;
            else if (status[i] == NGT_EVENT_ERRORED)
                r.errored++;
            else
                r.rejected++;
        }
    }
    farm_put_rec(n->rec, &r);
    char id[96];
    snprintf(id, sizeof id, "r.%u.%llu.%llu", w.source, (unsigned long long)w.epoch,
             (unsigned long long)w.first_seq);
    if (publish(n, &r, id, msg, 0) != 0)
        return -1;
    n->st.events += r.count;
    n->st.accepted += r.accepted;
    n->st.rejected += r.rejected;
    n->st.errored += r.errored;
    return 0;
}

int ngt_farm_node_step(ngt_farm_node *n, int timeout_ms, ngt_error *err)
{
    if (control(n))
        return 1;
    heartbeat(n);
    /* room in the table for a whole fetch (results waiting for PubAcks bound what is fetched) */
    pthread_mutex_lock(&n->mu);
    if (n->n_pend + n->o.fetch > n->pend_cap) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&n->room, &n->mu, &ts);
    }
    int room = n->n_pend + n->o.fetch <= n->pend_cap;
    pthread_mutex_unlock(&n->mu);
    if (!room)
        return 0;
    natsMsgList list = {0};
    natsStatus s = natsSubscription_Fetch(&list, n->sub, n->o.fetch, timeout_ms, NULL);
    if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) {
        natsMsgList_Destroy(&list);
        return 0;
    }
    if (s != NATS_OK) {
        natsMsgList_Destroy(&list);
        /* the server may be restarting: the connection reconnects by itself */
        if (natsConnection_Status(n->nc) == NATS_CONN_STATUS_CLOSED)
            return farm_naterr(err, s, 0, "farm node: connection closed");
        usleep(50000);
        return 0;
    }
    uint64_t t0 = now_ns();
    uint64_t prog_ns = (uint64_t)(n->st.ack_wait_ms > 0 ? n->st.ack_wait_ms : 1000) * 1000000 / 3;
    for (int i = 0; i < list.Count; i++) {
        natsMsg *msg = list.Msgs[i];
        list.Msgs[i] = NULL; /* settled here, or the table's */
        jsMsgMetaData *md = NULL;
        uint64_t seq = 0, delivered = 1;
        if (natsMsg_GetMetaData(&md, msg) == NATS_OK) {
            seq = md->Sequence.Stream;
            delivered = md->NumDelivered;
            jsMsgMetaData_Destroy(md);
        }
        n->st.messages++;
        if (delivered > 1)
            n->st.redelivered++;
        if (process(n, msg, seq, delivered) != 0)
            natsMsg_Destroy(msg); /* handed back already */
        if (n->slow_us > 0)
            usleep((useconds_t)n->slow_us);
        /* long fetches: the messages not processed yet are being worked on */
        if (now_ns() - t0 > prog_ns) {
            for (int k = i + 1; k < list.Count; k++)
                natsMsg_InProgress(list.Msgs[k], NULL);
            t0 = now_ns();
        }
    }
    natsMsgList_Destroy(&list);
    return 0;
}

void ngt_farm_node_stats(ngt_farm_node *n, ngt_farm_stats *s)
{
    pthread_mutex_lock(&n->mu);
    *s = n->st;
    pthread_mutex_unlock(&n->mu);
}
