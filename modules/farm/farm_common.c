/* farm_common.c: names, connection, stream and consumer setup (checked, or created with --create),
 * the input payload and the result record. */
#include "farm_int.h"

#include <stdio.h>
#include <string.h>

int farm_names_init(farm_names *nm, const char *stream, ngt_error *err)
{
    if (!stream || !stream[0])
        return seterr(err, NGT_EINVAL, "farm: no stream name (--stream NAME)");
    for (const char *c = stream; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-'))
            return seterr(err, NGT_EINVAL,
                          "farm: stream name '%s': only letters, digits, '_' and '-'", stream);
    if (strlen(stream) > 100)
        return seterr(err, NGT_EINVAL, "farm: stream name longer than 100 characters");
    snprintf(nm->stream, sizeof nm->stream, "%s", stream);
    snprintf(nm->results, sizeof nm->results, "%s_results", stream);
    snprintf(nm->in, sizeof nm->in, "%s.in", stream);
    snprintf(nm->out, sizeof nm->out, "%s.out", stream);
    snprintf(nm->control, sizeof nm->control, "%s.control", stream);
    snprintf(nm->nodes, sizeof nm->nodes, "%s.nodes", stream);
    return NGT_OK;
}

int farm_naterr(ngt_error *err, natsStatus s, jsErrCode jerr, const char *what)
{
    const char *last = nats_GetLastError(NULL);
    if (jerr)
        return seterr(err, NGT_EIO, "%s: %s (JetStream error %d)", what,
                      last && last[0] ? last : natsStatus_GetText(s), (int)jerr);
    return seterr(err, s == NATS_TIMEOUT ? NGT_ETIMEOUT : NGT_EIO, "%s: %s", what,
                  last && last[0] ? last : natsStatus_GetText(s));
}

int farm_connect(const char *url, natsConnection **nc, jsCtx **js, ngt_error *err)
{
    *nc = NULL;
    *js = NULL;
    if (!url || !url[0])
        return seterr(err, NGT_EINVAL, "farm: no server URL (--farm nats://HOST:PORT)");
    natsOptions *opts = NULL;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = natsOptions_SetServers(opts, (const char *[]){url}, 1);
    /* a restarted server is waited for (the farm survives restarts) */
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(opts, 100);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, 2000);
    if (s == NATS_OK)
        s = natsConnection_Connect(nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
        char what[300];
        snprintf(what, sizeof what, "farm: cannot connect to %s", url);
        return farm_naterr(err, s, 0, what);
    }
    s = natsConnection_JetStream(js, *nc, NULL);
    if (s != NATS_OK) {
        natsConnection_Destroy(*nc);
        *nc = NULL;
        return farm_naterr(err, s, 0, "farm: JetStream context");
    }
    return NGT_OK;
}

static int has_subject(const jsStreamConfig *c, const char *subj)
{
    for (int i = 0; i < c->SubjectsLen; i++)
        if (strcmp(c->Subjects[i], subj) == 0)
            return 1;
    return 0;
}

static int stream_check(jsCtx *js, const char *name, const char *subj, jsRetentionPolicy want,
                        const ngt_farm_opts *o, ngt_error *err)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, js, name, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
        if (!o->create)
            return seterr(err, NGT_EINVAL,
                          "farm: stream %s not found (create it with --create; docs/farm.md)",
                          name);
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        cfg.Name = name;
        cfg.Subjects = (const char *[]){subj};
        cfg.SubjectsLen = 1;
        cfg.Retention = want;
        cfg.Storage = js_FileStorage;
        /* the message-id window: 2 minutes unless asked */
        cfg.Duplicates = (int64_t)(o->dup_window_ms > 0 ? o->dup_window_ms : 120000) * 1000000;
        jerr = 0;
        s = js_AddStream(&si, js, &cfg, NULL, &jerr);
        if (s != NATS_OK) {
            char what[300];
            snprintf(what, sizeof what, "farm: cannot create stream %s", name);
            return farm_naterr(err, s, jerr, what);
        }
        jsStreamInfo_Destroy(si);
        return NGT_OK;
    }
    if (s != NATS_OK) {
        char what[300];
        snprintf(what, sizeof what, "farm: stream %s", name);
        return farm_naterr(err, s, jerr, what);
    }
    int rc = NGT_OK;
    if (si->Config->Retention != want)
        rc = seterr(err, NGT_EINVAL, "farm: stream %s has retention %d, the farm needs %s", name,
                    (int)si->Config->Retention,
                    want == js_WorkQueuePolicy ? "work-queue" : "limits");
    else if (!has_subject(si->Config, subj))
        rc = seterr(err, NGT_EINVAL, "farm: stream %s does not take subject %s", name, subj);
    else if (si->Config->Duplicates <= 0)
        rc = seterr(err, NGT_EINVAL, "farm: stream %s has no duplicate window", name);
    jsStreamInfo_Destroy(si);
    return rc;
}

int farm_setup(jsCtx *js, const farm_names *nm, const ngt_farm_opts *o, int64_t *ack_wait_ms,
               int64_t *max_deliver, ngt_error *err)
{
    int rc = stream_check(js, nm->stream, nm->in, js_WorkQueuePolicy, o, err);
    if (rc == NGT_OK)
        rc = stream_check(js, nm->results, nm->out, js_LimitsPolicy, o, err);
    if (rc != NGT_OK)
        return rc;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, js, nm->stream, FARM_CONSUMER, NULL, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSConsumerNotFoundErr) {
        if (!o->create)
            return seterr(err, NGT_EINVAL,
                          "farm: consumer %s of stream %s not found (create it with --create; "
                          "docs/farm.md)",
                          FARM_CONSUMER, nm->stream);
        jsConsumerConfig cc;
        jsConsumerConfig_Init(&cc);
        cc.Durable = FARM_CONSUMER;
        cc.AckPolicy = js_AckExplicit;
        cc.AckWait =
            (int64_t)(o->ack_wait_ms > 0 ? o->ack_wait_ms : NGT_FARM_ACK_WAIT_MS) * 1000000;
        cc.MaxDeliver = o->max_deliver > 0 ? o->max_deliver : NGT_FARM_MAX_DELIVER;
        cc.FilterSubject = nm->in;
        jerr = 0;
        s = js_AddConsumer(&ci, js, nm->stream, &cc, NULL, &jerr);
        if (s != NATS_OK)
            return farm_naterr(err, s, jerr, "farm: cannot create the consumer");
    } else if (s != NATS_OK) {
        return farm_naterr(err, s, jerr, "farm: consumer info");
    }
    const jsConsumerConfig *c = ci->Config;
    int64_t aw = c->AckWait / 1000000;
    if (c->AckPolicy != js_AckExplicit)
        rc = seterr(err, NGT_EINVAL, "farm: consumer %s does not ack explicitly", FARM_CONSUMER);
    else if (c->DeliverSubject && c->DeliverSubject[0])
        rc = seterr(err, NGT_EINVAL, "farm: consumer %s is a push consumer; the farm pulls",
                    FARM_CONSUMER);
    else if (c->MaxDeliver <= 0)
        rc = seterr(err, NGT_EINVAL,
                    "farm: consumer %s has no MaxDeliver: a poisoned message would come back "
                    "forever",
                    FARM_CONSUMER);
    else if (o->ack_wait_ms > 0 && aw != o->ack_wait_ms)
        rc = seterr(err, NGT_EINVAL,
                    "farm: consumer %s has AckWait %lld ms, %d ms asked for (the consumer "
                    "keeps the one it was created with)",
                    FARM_CONSUMER, (long long)aw, o->ack_wait_ms);
    else if (o->max_deliver > 0 && c->MaxDeliver != o->max_deliver)
        rc = seterr(err, NGT_EINVAL, "farm: consumer %s has MaxDeliver %lld, %d asked for",
                    FARM_CONSUMER, (long long)c->MaxDeliver, o->max_deliver);
    if (ack_wait_ms)
        *ack_wait_ms = aw;
    if (max_deliver)
        *max_deliver = c->MaxDeliver;
    jsConsumerInfo_Destroy(ci);
    return rc;
}

int ngt_farm_setup(const ngt_farm_opts *o, ngt_error *err)
{
    farm_names nm;
    natsConnection *nc;
    jsCtx *js;
    int rc = farm_names_init(&nm, o->stream, err);
    if (rc == NGT_OK)
        rc = farm_connect(o->url, &nc, &js, err);
    if (rc != NGT_OK)
        return rc;
    rc = farm_setup(js, &nm, o, NULL, NULL, err);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return rc;
}

int farm_split(const wire_layout *l, const uint8_t *p, size_t len, const void **frames,
               size_t *sizes, int *n_frames, ngt_error *err)
{
    if (len < WIRE_HEADER)
        return seterr(err, NGT_EFORMAT, "malformed: %zu bytes, shorter than a header", len);
    if (memcmp(p, "NGT1", 4) != 0)
        return seterr(err, NGT_EFORMAT, "malformed: no NGT1 magic");
    size_t h = farm_ld16(p + 6);
    uint32_t n = wire_ld32(p + 40);
    if (h < WIRE_HEADER || h > len)
        return seterr(err, NGT_EFORMAT, "malformed: header size %zu in a %zu-byte message", h, len);
    if (n > l->max_events)
        return seterr(err, NGT_EFORMAT, "oversize: %u events, this node takes at most %u", n,
                      l->max_events);
    if (l->n_frames > FARM_MAX_FRAMES)
        return seterr(err, NGT_EINVAL, "farm: %d frames", l->n_frames);
    frames[0] = p;
    sizes[0] = h;
    size_t at = h;
    for (int k = 0; k < l->n_cols; k++) {
        size_t sz = (size_t)n * l->row[k];
        if (sz > len - at)
            return seterr(err, NGT_EFORMAT,
                          "malformed: %zu bytes, the header's %u events need more", len, n);
        frames[k + 1] = p + at;
        sizes[k + 1] = sz;
        at += sz;
    }
    if (at != len)
        return seterr(err, NGT_EFORMAT, "malformed: %zu bytes, the header's %u events need %zu",
                      len, n, at);
    *n_frames = 1 + l->n_cols;
    return NGT_OK;
}

size_t farm_rec_prov_at(const farm_rec *r)
{
    return FARM_REC_HEADER + (size_t)r->count * (8 + 8 * (size_t)r->words + 1);
}

size_t farm_rec_data_at(const farm_rec *r)
{
    return farm_rec_prov_at(r) + wire_prov_size((int)r->models);
}

size_t farm_rec_size(const farm_rec *r)
{
    if (r->kind == FARM_REC_POISON)
        return FARM_REC_HEADER + FARM_REASON_MAX;
    return farm_rec_data_at(r) + r->data_bytes;
}

void farm_put_rec(uint8_t *d, const farm_rec *r)
{
    memset(d, 0, FARM_REC_HEADER);
    static const uint8_t magic[4] = {'N', 'G', 'T', 'R'};
    memcpy(d, magic, sizeof magic);
    d[4] = FARM_REC_VERSION;
    d[6] = (uint8_t)r->kind;
    wire_st32(d + 8, r->node);
    wire_st32(d + 12, r->source);
    wire_st64(d + 16, r->epoch);
    wire_st64(d + 24, r->first_seq);
    wire_st32(d + 32, r->count);
    wire_st32(d + 36, r->accepted);
    wire_st32(d + 40, r->rejected);
    wire_st32(d + 44, r->errored);
    wire_st32(d + 48, r->words);
    wire_st32(d + 52, r->streams);
    wire_st64(d + 56, r->menu_hash);
    wire_st64(d + 64, r->stream_seq);
    wire_st32(d + 72, r->deliveries);
    wire_st32(d + 76, r->flags);
    wire_st64(d + 80, r->schema_id);
    memcpy(d + 88, r->column, strnlen(r->column, 63));
    wire_st32(d + 152, r->kept);
    wire_st32(d + 156, r->models);
}

int farm_get_rec(const uint8_t *s, size_t len, farm_rec *r, ngt_error *err)
{
    memset(r, 0, sizeof *r);
    if (len < FARM_REC_HEADER || memcmp(s, "NGTR", 4) != 0)
        return seterr(err, NGT_EFORMAT, "result record: %zu bytes without the NGTR header", len);
    if (farm_ld16(s + 4) != FARM_REC_VERSION)
        return seterr(err, NGT_EFORMAT, "result record: version %u, this reader speaks %d",
                      farm_ld16(s + 4), FARM_REC_VERSION);
    r->kind = farm_ld16(s + 6);
    r->node = wire_ld32(s + 8);
    r->source = wire_ld32(s + 12);
    r->epoch = wire_ld64(s + 16);
    r->first_seq = wire_ld64(s + 24);
    r->count = wire_ld32(s + 32);
    r->accepted = wire_ld32(s + 36);
    r->rejected = wire_ld32(s + 40);
    r->errored = wire_ld32(s + 44);
    r->words = wire_ld32(s + 48);
    r->streams = wire_ld32(s + 52);
    r->menu_hash = wire_ld64(s + 56);
    r->stream_seq = wire_ld64(s + 64);
    r->deliveries = wire_ld32(s + 72);
    r->flags = wire_ld32(s + 76);
    r->schema_id = wire_ld64(s + 80);
    memcpy(r->column, s + 88, 63);
    r->kept = wire_ld32(s + 152);
    r->models = wire_ld32(s + 156);
    if (r->kind != FARM_REC_RESULT && r->kind != FARM_REC_POISON)
        return seterr(err, NGT_EFORMAT, "result record: kind %u", r->kind);
    if (r->count > WIRE_MAX_EVENTS || r->words > 64 || r->streams > 64)
        return seterr(err, NGT_EFORMAT, "result record: %u events, %u words, %u streams", r->count,
                      r->words, r->streams);
    if (r->kind == FARM_REC_RESULT) {
        if (r->kept > r->count || r->models > NGT_MAX_MENU_MODELS)
            return seterr(err, NGT_EFORMAT, "result record: %u kept of %u events, %u models",
                          r->kept, r->count, r->models);
        if (len < farm_rec_data_at(r))
            return seterr(err, NGT_EFORMAT, "result record: %zu bytes, its header needs %zu+", len,
                          farm_rec_data_at(r));
        r->data_bytes = len - farm_rec_data_at(r);
    }
    if (len != farm_rec_size(r))
        return seterr(err, NGT_EFORMAT, "result record: %zu bytes, its header needs %zu", len,
                      farm_rec_size(r));
    if (r->kind == FARM_REC_RESULT && (uint64_t)r->accepted + r->rejected + r->errored != r->count)
        return seterr(err, NGT_EFORMAT,
                      "result record: accepted %u + rejected %u + errored %u != %u events",
                      r->accepted, r->rejected, r->errored, r->count);
    return NGT_OK;
}
