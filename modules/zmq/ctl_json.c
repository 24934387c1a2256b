/* ctl_json.c: the control protocol's text: requests (a flat JSON object) parsed and checked, the
 * node's statistics written as JSON (`stats`) and as Prometheus text (metrics). */
#include "ctl_int.h"
#include "internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void ctl_str(strbuf *s, const char *str)
{
    sb_printf(s, "\"");
    for (const unsigned char *p = (const unsigned char *)str; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_printf(s, "\\%c", *p);
        else if (*p < 0x20)
            sb_printf(s, "\\u%04x", *p);
        else
            sb_printf(s, "%c", *p);
    }
    sb_printf(s, "\"");
}

/* ---- requests -------------------------------------------------------------------------------- */

typedef struct cur {
    const char *p, *end;
} cur;

static void ws(cur *c)
{
    while (c->p < c->end && isspace((unsigned char)*c->p))
        c->p++;
}

static int string(cur *c, char *out, size_t size)
{
    if (c->p >= c->end || *c->p != '"')
        return -1;
    c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p++;
        if (ch == '\\') {
            if (c->p >= c->end)
                return -1;
            char e = *c->p++;
            ch = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
            if (e == 'u' || (e != '"' && e != '\\' && e != '/' && e != 'n' && e != 't' && e != 'r'))
                return -1; /* \uXXXX and others: not needed by the protocol */
        } else if ((unsigned char)ch < 0x20) {
            return -1;
        }
        if (n + 1 >= size)
            return -1;
        out[n++] = ch;
    }
    if (c->p >= c->end)
        return -1;
    c->p++;
    out[n] = 0;
    return 0;
}

int ctl_parse(const char *text, size_t len, ctl_req *r, char *why, size_t why_size)
{
    cur c = {text, text + len};
    r->n = 0;
    ws(&c);
    if (c.p >= c.end || *c.p++ != '{') {
        snprintf(why, why_size, "a request is a JSON object");
        return -1;
    }
    ws(&c);
    if (c.p < c.end && *c.p == '}') {
        c.p++;
    } else {
        for (;;) {
            if (r->n == CTL_KEYS) {
                snprintf(why, why_size, "more than %d members", CTL_KEYS);
                return -1;
            }
            ws(&c);
            if (string(&c, r->key[r->n], sizeof r->key[0]) != 0) {
                snprintf(why, why_size, "member %d: expected a short quoted name", r->n + 1);
                return -1;
            }
            ws(&c);
            if (c.p >= c.end || *c.p++ != ':') {
                snprintf(why, why_size, "'%s': expected ':'", r->key[r->n]);
                return -1;
            }
            ws(&c);
            if (c.p < c.end && *c.p == '"') {
                if (string(&c, r->val[r->n], sizeof r->val[0]) != 0) {
                    snprintf(why, why_size, "'%s': bad or too long string", r->key[r->n]);
                    return -1;
                }
                r->is_str[r->n] = 1;
            } else {
                size_t n = 0;
                while (c.p < c.end && (isalnum((unsigned char)*c.p) || strchr("+-.", *c.p)) &&
                       n + 1 < sizeof r->val[0])
                    r->val[r->n][n++] = *c.p++;
                r->val[r->n][n] = 0;
                r->is_str[r->n] = 0;
                if (n == 0) {
                    snprintf(why, why_size, "'%s': expected a string, number or boolean",
                             r->key[r->n]);
                    return -1;
                }
            }
            r->n++;
            ws(&c);
            if (c.p < c.end && *c.p == ',') {
                c.p++;
                continue;
            }
            if (c.p < c.end && *c.p == '}') {
                c.p++;
                break;
            }
            snprintf(why, why_size, "expected ',' or '}' after '%s'", r->key[r->n - 1]);
            return -1;
        }
    }
    ws(&c);
    if (c.p != c.end) {
        snprintf(why, why_size, "text after the object");
        return -1;
    }
    return 0;
}

const char *ctl_get(const ctl_req *r, const char *key)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->key[i], key) == 0)
            return r->val[i];
    return NULL;
}

/* ---- statistics ------------------------------------------------------------------------------ */

const char *ctl_state_name(int state)
{
    static const char *names[] = {"running", "paused", "draining", "stopping"};
    return state >= 0 && state < 4 ? names[state] : "unknown";
}

static void totals(strbuf *s, const ngt_totals *t)
{
    sb_printf(s,
              "{\"batches\":%" PRIu64 ",\"in\":%" PRIu64 ",\"accepted\":%" PRIu64
              ",\"rejected\":%" PRIu64 ",\"errored\":%" PRIu64 "}",
              t->batches, t->in, t->accepted, t->rejected, t->errored);
}

void ctl_stats_locked(ngt_ctl *c, strbuf *s)
{
    double up = (double)(now_ns() - c->t0) * 1e-9;
    sb_printf(s, "{\"ok\":true,\"state\":\"%s\",\"uptime_s\":%.3f,\"reloads\":%d",
              ctl_state_name(atomic_load(&c->state)), up, c->reloads);
    ngt_menu *m = c->menu;
    ngt_totals node = c->retired, cur = {0};
    if (m && c->stats && ngt_stats_read(m, c->stats) == NGT_OK)
        cur = *ngt_stats_totals(c->stats);
    node.batches += cur.batches;
    node.in += cur.in;
    node.accepted += cur.accepted;
    node.rejected += cur.rejected;
    node.errored += cur.errored;
    sb_printf(s, ",\"node\":");
    totals(s, &node);
    if (!m) {
        sb_printf(s, "}");
        return;
    }
    sb_printf(s, ",\"menu\":{\"path\":");
    ctl_str(s, c->path);
    sb_printf(s, ",\"hash\":\"%016" PRIx64 "\",\"schema_id\":\"%016" PRIx64 "\",\"column\":",
              ngt_menu_hash(m), ngt_schema_id(ngt_menu_schema(m)));
    ctl_str(s, ngt_menu_current_column(m));
    sb_printf(s, ",\"totals\":");
    totals(s, &cur);
    sb_printf(s, "},\"chains\":[");
    for (int i = 0; i < ngt_menu_nchains(m); i++) {
        const ngt_chain_stats *ch = ngt_stats_chain(c->stats, i);
        sb_printf(s, "%s{\"name\":", i ? "," : "");
        ctl_str(s, ngt_menu_chain_name(m, i));
        sb_printf(s,
                  ",\"seen\":%" PRIu64 ",\"passed\":%" PRIu64 ",\"prescaled\":%" PRIu64
                  ",\"errored\":%" PRIu64 ",\"prescale\":%u}",
                  ch->seen, ch->passed, ch->prescaled, ch->errored, ngt_menu_chain_prescale(m, i));
    }
    sb_printf(s, "],\"streams\":[");
    for (int i = 0; i < ngt_menu_nstreams(m); i++) {
        sb_printf(s, "%s{\"name\":", i ? "," : "");
        ctl_str(s, ngt_menu_stream_name(m, i));
        sb_printf(s, ",\"accepted\":%" PRIu64 "}", ngt_stats_stream(c->stats, i)->accepted);
    }
    sb_printf(s, "],\"steps\":[");
    for (int i = 0; i < ngt_menu_nsteps(m); i++) {
        const ngt_step_stats *st = ngt_stats_step(c->stats, i);
        sb_printf(s, "%s{\"name\":", i ? "," : "");
        ctl_str(s, ngt_menu_step_name(m, i));
        sb_printf(s,
                  ",\"calls\":%" PRIu64 ",\"events\":%" PRIu64 ",\"errors\":%" PRIu64
                  ",\"timeouts\":%" PRIu64 ",\"p50_us\":%.3f,\"p99_us\":%.3f",
                  st->calls, st->events_in, st->errors, st->timeouts, st->p50_us, st->p99_us);
        const char *first = ngt_stats_step_error(c->stats, i, NULL);
        if (first) {
            sb_printf(s, ",\"first_error\":");
            ctl_str(s, first);
        }
        sb_printf(s, "}");
    }
    sb_printf(s, "],\"models\":[");
    ngt_registry *reg = ngt_menu_registry(m);
    for (int i = 0; i < ngt_menu_nmodels(m); i++) {
        const char *name = ngt_menu_model_name(m, i);
        char file[CTL_PATH] = "";
        ngt_registry_model_file(reg, name, file, sizeof file);
        ngt_shadow_stats sh;
        ngt_registry_shadow_stats(reg, name, &sh);
        sb_printf(s, "%s{\"name\":", i ? "," : "");
        ctl_str(s, name);
        sb_printf(s, ",\"serial\":%" PRIu64 ",\"hash\":\"%016" PRIx64 "\",\"file\":",
                  ngt_registry_model_serial(reg, name), ngt_registry_model_hash(reg, name));
        ctl_str(s, file);
        if (sh.active)
            sb_printf(s,
                      ",\"shadow\":{\"hash\":\"%016" PRIx64 "\",\"events\":%" PRIu64
                      ",\"identical\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"max_abs_diff\":%.9g}",
                      sh.hash, sh.events, sh.identical, sh.errors, sh.max_abs_diff);
        sb_printf(s, "}");
    }
    sb_printf(s, "]}");
}

/* ---- Prometheus text format 0.0.4 ------------------------------------------------------------ */

static void label(strbuf *s, const char *v)
{
    for (const char *p = v; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_printf(s, "\\%c", *p);
        else if (*p == '\n')
            sb_printf(s, "\\n");
        else
            sb_printf(s, "%c", *p);
    }
}

void ctl_metrics_locked(ngt_ctl *c, strbuf *s)
{
    ngt_totals node = c->retired, cur = {0};
    ngt_menu *m = c->menu;
    if (m && c->stats && ngt_stats_read(m, c->stats) == NGT_OK)
        cur = *ngt_stats_totals(c->stats);
    node.batches += cur.batches;
    node.in += cur.in;
    node.accepted += cur.accepted;
    node.rejected += cur.rejected;
    node.errored += cur.errored;
    sb_printf(s, "# HELP ngt_events_total Events by outcome, across menu reloads.\n"
                 "# TYPE ngt_events_total counter\n");
    sb_printf(s, "ngt_events_total{outcome=\"in\"} %" PRIu64 "\n", node.in);
    sb_printf(s, "ngt_events_total{outcome=\"accepted\"} %" PRIu64 "\n", node.accepted);
    sb_printf(s, "ngt_events_total{outcome=\"rejected\"} %" PRIu64 "\n", node.rejected);
    sb_printf(s, "ngt_events_total{outcome=\"errored\"} %" PRIu64 "\n", node.errored);
    sb_printf(s,
              "# HELP ngt_batches_total Batches processed.\n# TYPE ngt_batches_total counter\n"
              "ngt_batches_total %" PRIu64 "\n",
              node.batches);
    sb_printf(s,
              "# HELP ngt_reloads_total Menu reloads.\n# TYPE ngt_reloads_total counter\n"
              "ngt_reloads_total %d\n",
              c->reloads);
    sb_printf(s,
              "# HELP ngt_paused 1 while the node is paused.\n# TYPE ngt_paused gauge\n"
              "ngt_paused %d\n",
              atomic_load(&c->state) == NGT_CTL_PAUSED);
    if (!m)
        return;
    sb_printf(s, "# HELP ngt_chain_events_total Events per chain (seen, passed, prescaled, "
                 "errored).\n# TYPE ngt_chain_events_total counter\n");
    for (int i = 0; i < ngt_menu_nchains(m); i++) {
        const ngt_chain_stats *ch = ngt_stats_chain(c->stats, i);
        const char *what[] = {"seen", "passed", "prescaled", "errored"};
        uint64_t v[] = {ch->seen, ch->passed, ch->prescaled, ch->errored};
        for (int k = 0; k < 4; k++) {
            sb_printf(s, "ngt_chain_events_total{chain=\"");
            label(s, ngt_menu_chain_name(m, i));
            sb_printf(s, "\",outcome=\"%s\"} %" PRIu64 "\n", what[k], v[k]);
        }
    }
    sb_printf(s, "# HELP ngt_chain_prescale The prescale each chain applies now (0: none).\n"
                 "# TYPE ngt_chain_prescale gauge\n");
    for (int i = 0; i < ngt_menu_nchains(m); i++) {
        sb_printf(s, "ngt_chain_prescale{chain=\"");
        label(s, ngt_menu_chain_name(m, i));
        sb_printf(s, "\"} %u\n", ngt_menu_chain_prescale(m, i));
    }
    sb_printf(s, "# HELP ngt_stream_events_total Events sent to each stream.\n"
                 "# TYPE ngt_stream_events_total counter\n");
    for (int i = 0; i < ngt_menu_nstreams(m); i++) {
        sb_printf(s, "ngt_stream_events_total{stream=\"");
        label(s, ngt_menu_stream_name(m, i));
        sb_printf(s, "\"} %" PRIu64 "\n", ngt_stats_stream(c->stats, i)->accepted);
    }
    sb_printf(s, "# HELP ngt_step_latency_seconds Per-call step latency quantiles.\n"
                 "# TYPE ngt_step_latency_seconds summary\n");
    for (int i = 0; i < ngt_menu_nsteps(m); i++) {
        const ngt_step_stats *st = ngt_stats_step(c->stats, i);
        for (int q = 0; q < 2; q++) {
            sb_printf(s, "ngt_step_latency_seconds{step=\"");
            label(s, ngt_menu_step_name(m, i));
            sb_printf(s, "\",quantile=\"%s\"} %.9g\n", q ? "0.99" : "0.5",
                      (q ? st->p99_us : st->p50_us) * 1e-6);
        }
        sb_printf(s, "ngt_step_latency_seconds_sum{step=\"");
        label(s, ngt_menu_step_name(m, i));
        sb_printf(s, "\"} %.9g\n", (double)st->time_ns * 1e-9);
        sb_printf(s, "ngt_step_latency_seconds_count{step=\"");
        label(s, ngt_menu_step_name(m, i));
        sb_printf(s, "\"} %" PRIu64 "\n", st->calls);
    }
    sb_printf(s, "# HELP ngt_step_errors_total Step calls that failed.\n"
                 "# TYPE ngt_step_errors_total counter\n");
    for (int i = 0; i < ngt_menu_nsteps(m); i++) {
        sb_printf(s, "ngt_step_errors_total{step=\"");
        label(s, ngt_menu_step_name(m, i));
        sb_printf(s, "\"} %" PRIu64 "\n", ngt_stats_step(c->stats, i)->errors);
    }
    sb_printf(s, "# HELP ngt_model_version Serial of each model's live version.\n"
                 "# TYPE ngt_model_version gauge\n");
    ngt_registry *reg = ngt_menu_registry(m);
    for (int i = 0; i < ngt_menu_nmodels(m); i++) {
        const char *name = ngt_menu_model_name(m, i);
        sb_printf(s, "ngt_model_version{model=\"");
        label(s, name);
        sb_printf(s, "\",hash=\"%016" PRIx64 "\"} %" PRIu64 "\n",
                  ngt_registry_model_hash(reg, name), ngt_registry_model_serial(reg, name));
    }
}
