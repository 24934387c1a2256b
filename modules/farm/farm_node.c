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

enum {
    NODE_HEARTBEAT_NS = 1000000000,
    FARM_MAX_FETCH = 1024,
    FARM_CMD_MAX = 4096, /* a control message's text */
    FARM_REPLY_MAX = NGT_ERR_MSG_MAX + 1024
};

/* A model swap in progress on its own thread (the node keeps processing meanwhile). */
typedef struct farm_swap {
    pthread_t th;
    int joinable;             /* a thread was started and not joined yet */
    int running;              /* under the node's mu */
    char model[NGT_NAME_MAX]; /* the model, the backend ("" = the current version's) */
    char backend[NGT_NAME_MAX];
    char file[FARM_CMD_MAX]; /* the new version's file, as every node sees it */
    char to[256];            /* the reply subject ("" = none) */
} farm_swap;

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
    farm_swap swap;
    ngt_provenance empty_prov; /* an empty message's: the menu and its models as they are */
    ngt_farm_stats st; /* results, poisoned, retried, server_duplicates, swaps, first_error: mu */
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
    if (n->swap.joinable) /* a swap being loaded finishes (and replies) first */
        pthread_join(n->swap.th, NULL);
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
    pthread_mutex_lock(&n->mu);
    if (!n->st.first_error[0])
        str_copy(n->st.first_error, msg, sizeof n->st.first_error);
    pthread_mutex_unlock(&n->mu);
}

/* The swap thread: loads and validates the new version with ngt_registry_swap (the ZeroMQ node's
 * control does the same) while the node goes on processing; the version is published with one
 * store only when every check passed, else the current one stays. Replies "ok" or "failed". */
static void *swap_main(void *arg)
{
    ngt_farm_node *n = arg;
    farm_swap *w = &n->swap;
    ngt_registry *reg = ngt_menu_registry(n->m);
    ngt_error e = {0};
    int rc = ngt_registry_swap(reg, w->model, w->backend[0] ? w->backend : NULL, w->file, NULL,
                               NULL, &e);
    char reply[FARM_REPLY_MAX];
    if (rc >= 0)
        snprintf(reply, sizeof reply, "node %u: ok: model %s is %.300s (serial %d, hash %016llx)",
                 n->o.node_id, w->model, w->file, rc,
                 (unsigned long long)ngt_registry_model_hash(reg, w->model));
    else {
        uint64_t live = ngt_registry_model_serial(reg, w->model);
        snprintf(reply, sizeof reply, "node %u: failed: swap %s to %.300s: %s%s", n->o.node_id,
                 w->model, w->file, e.msg,
                 live && !strstr(e.msg, "kept the current version") ? " (kept the current version)"
                                                                    : "");
    }
    if (rc < 0)
        note_error(n, reply);
    pthread_mutex_lock(&n->mu);
    if (rc >= 0)
        n->st.swaps++;
    else
        n->st.swaps_failed++;
    str_copy(n->st.last_swap, reply, sizeof n->st.last_swap);
    w->running = 0;
    pthread_mutex_unlock(&n->mu);
    if (w->to[0])
        natsConnection_PublishString(n->nc, w->to, reply);
    return NULL;
}

/* "swap MODEL BACKEND FILE" (BACKEND "-": the current version's; FILE the rest of the line):
 * checks the words, starts the swap thread. Writes the immediate reply. */
static void swap_start(ngt_farm_node *n, const char *args, const char *to, char *reply, size_t size)
{
    farm_swap *w = &n->swap;
    char model[NGT_NAME_MAX + 1] = "", backend[NGT_NAME_MAX + 1] = "";
    int used = 0;
    if (sscanf(args, "%64s %64s %n", model, backend, &used) != 2 || !args[used] ||
        strlen(model) >= NGT_NAME_MAX || strlen(backend) >= NGT_NAME_MAX) {
        snprintf(reply, size,
                 "node %u: failed: swap needs MODEL BACKEND FILE (BACKEND '-': the current "
                 "version's), got 'swap %.200s'",
                 n->o.node_id, args);
        return;
    }
    pthread_mutex_lock(&n->mu);
    int busy = w->running;
    pthread_mutex_unlock(&n->mu);
    if (busy) {
        snprintf(reply, size, "node %u: failed: a swap of model %s is still loading", n->o.node_id,
                 w->model);
        return;
    }
    if (w->joinable)
        pthread_join(w->th, NULL);
    w->joinable = 0;
    str_copy(w->model, model, sizeof w->model);
    str_copy(w->backend, strcmp(backend, "-") == 0 ? "" : backend, sizeof w->backend);
    str_copy(w->file, args + used, sizeof w->file);
    str_copy(w->to, to ? to : "", sizeof w->to);
    w->running = 1;
    if (pthread_create(&w->th, NULL, swap_main, n) != 0) {
        w->running = 0;
        snprintf(reply, size, "node %u: failed: cannot start a thread for the swap", n->o.node_id);
        return;
    }
    w->joinable = 1;
    snprintf(reply, size, "node %u: started: swap %s to %.300s", n->o.node_id, model, w->file);
}

/* Control: "stop", "prescale COLUMN" (COLUMN "-": the chains' own factors), "swap MODEL BACKEND
 * FILE". Each command gets one reply when it is done ("node ID: ok: ..." or "node ID: failed:
 * ..."), a swap first "node ID: started: ..." (a request with a reply subject gets them). */
static int control(ngt_farm_node *n)
{
    int stop = 0;
    natsMsg *msg = NULL;
    while (natsSubscription_NextMsg(&msg, n->ctl, 0) == NATS_OK) {
        char cmd[FARM_CMD_MAX];
        int len = natsMsg_GetDataLength(msg);
        const char *data = natsMsg_GetData(msg);
        snprintf(cmd, sizeof cmd, "%.*s", len < FARM_CMD_MAX - 1 ? len : FARM_CMD_MAX - 1,
                 data ? data : "");
        const char *to = natsMsg_GetReply(msg);
        ngt_error e = {0};
        char reply[FARM_REPLY_MAX];
        if (len >= FARM_CMD_MAX || (int)strlen(cmd) != len) {
            snprintf(reply, sizeof reply,
                     "node %u: failed: a control message of %d bytes (text without NUL, at most "
                     "%d)",
                     n->o.node_id, len, FARM_CMD_MAX - 1);
        } else if (strcmp(cmd, "stop") == 0) {
            stop = 1;
            snprintf(reply, sizeof reply, "node %u: ok: stopping", n->o.node_id);
        } else if (strncmp(cmd, "prescale ", 9) == 0 && cmd[9]) {
            const char *col = cmd + 9;
            if (strcmp(col, "-") == 0)
                col = "";
            if (ngt_menu_select_column(n->m, col, &e) == NGT_OK)
                snprintf(reply, sizeof reply, "node %u: ok: prescale column '%.100s'", n->o.node_id,
                         col);
            else
                snprintf(reply, sizeof reply, "node %u: failed: %s", n->o.node_id, e.msg);
        } else if (strncmp(cmd, "swap ", 5) == 0 || strcmp(cmd, "swap") == 0) {
            swap_start(n, cmd + 4 + (cmd[4] != 0), to, reply, sizeof reply);
        } else {
            snprintf(reply, sizeof reply,
                     "node %u: failed: unknown command '%.200s' (stop, prescale COLUMN, swap MODEL "
                     "BACKEND FILE)",
                     n->o.node_id, cmd);
        }
        if (strstr(reply, ": failed: ")) /* a swap's own failure is noted by its thread */
            note_error(n, reply);
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
    char text[1024];
    int at = snprintf(text, sizeof text,
                      "node=%u pid=%d messages=%llu redelivered=%llu events=%llu naks=%llu "
                      "poisoned=%llu retried=%llu swaps=%llu swaps_failed=%llu column=%s",
                      n->o.node_id, (int)getpid(), (unsigned long long)st.messages,
                      (unsigned long long)st.redelivered, (unsigned long long)st.events,
                      (unsigned long long)st.naks, (unsigned long long)st.poisoned,
                      (unsigned long long)st.retried, (unsigned long long)st.swaps,
                      (unsigned long long)st.swaps_failed, ngt_menu_current_column(n->m));
    /* each model's live version: name:hash:serial */
    ngt_registry *reg = ngt_menu_registry(n->m);
    for (int k = 0; k < ngt_menu_nmodels(n->m) && at > 0 && at < (int)sizeof text - 100; k++) {
        const char *name = ngt_menu_model_name(n->m, k);
        at += snprintf(text + at, sizeof text - (size_t)at, "%s%s:%016llx:%llu",
                       k ? "," : " models=", name,
                       (unsigned long long)ngt_registry_model_hash(reg, name),
                       (unsigned long long)ngt_registry_model_serial(reg, name));
    }
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
    /* what decided the batch (an empty message: the menu and its models as they are now) */
    ngt_provenance *none = &n->empty_prov;
    const ngt_provenance *pv = w.count ? ngt_batch_provenance(n->b) : none;
    if (!w.count) {
        ngt_registry *reg = ngt_menu_registry(n->m);
        none->menu_hash = r.menu_hash;
        str_copy(none->prescale_column, ngt_menu_current_column(n->m),
                 sizeof none->prescale_column);
        none->n_models = ngt_menu_nmodels(n->m);
        for (int k = 0; k < none->n_models; k++) {
            const char *name = ngt_menu_model_name(n->m, k);
            str_copy(none->models[k].name, name, sizeof none->models[k].name);
            none->models[k].hash = ngt_registry_model_hash(reg, name);
            none->models[k].serial = ngt_registry_model_serial(reg, name);
        }
    }
    snprintf(r.column, sizeof r.column, "%s", pv->prescale_column);
    r.models = (uint32_t)pv->n_models;
    /* the events that went to a stream keep their input rows (ngt recv --farm --output) */
    size_t cnt = w.count, row_bytes = 0;
    const uint64_t *streams = cnt ? ngt_batch_column(n->b, n->col_streams) : NULL;
    for (size_t i = 0; i < cnt; i++)
        r.kept += streams[i] != 0;
    for (int k = 0; k < n->in.n_cols; k++)
        row_bytes += n->in.row[k];
    r.data_bytes = n->in.scalar_bytes + r.kept * row_bytes;
    if (!need_rec(n, farm_rec_size(&r))) {
        natsMsg_Nak(msg, NULL);
        return -1;
    }
    uint8_t *q = n->rec + FARM_REC_HEADER;
    if (cnt) {
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
    wire_put_prov(n->rec + farm_rec_prov_at(&r), pv, "");
    q = n->rec + farm_rec_data_at(&r);
    memcpy(q, (const uint8_t *)frames[0] + WIRE_HEADER,
           n->in.scalar_bytes); /* the batch scalars, as sent */
    q += n->in.scalar_bytes;
    for (int k = 0; k < n->in.n_cols && r.kept; k++) {
        const uint8_t *col = (const uint8_t *)frames[k + 1];
        size_t rb = n->in.row[k];
        for (size_t i = 0; i < cnt; i++) {
            if (streams[i]) {
                memcpy(q, col + i * rb, rb);
                q += rb;
            }
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
    if (control(n)) {
        if (n->swap.joinable) { /* a swap still loading ends first: its outcome is in the stats */
            pthread_join(n->swap.th, NULL);
            n->swap.joinable = 0;
        }
        return 1;
    }
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
