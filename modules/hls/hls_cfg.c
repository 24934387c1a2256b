/* hls_cfg.c: a small reader for the precision configuration: JSON, or a Lua table literal with
 * the same shape (key = value, ["key"] = value, { ... } lists, -- comments, a leading 'return'). */
#include "hls/hls_cfg.h"
#include "hls/ngt_hls.h"

#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rd {
    const char *s;
    int line;
    ngt_error *err;
    int failed;
} rd;

static void fail(rd *r, const char *what)
{
    if (!r->failed)
        seterr(r->err, NGT_EFORMAT, "precision configuration, line %d: %s", r->line, what);
    r->failed = 1;
}

static void skip(rd *r)
{
    for (;;) {
        while (isspace((unsigned char)*r->s)) {
            if (*r->s == '\n')
                r->line++;
            r->s++;
        }
        if (r->s[0] == '-' && r->s[1] == '-') {
            while (*r->s && *r->s != '\n')
                r->s++;
            continue;
        }
        if (r->s[0] == '/' && r->s[1] == '/') {
            while (*r->s && *r->s != '\n')
                r->s++;
            continue;
        }
        return;
    }
}

/* n hex digits at s (-1 if not). */
static long hex(const char *s, int n)
{
    long v = 0;
    for (int k = 0; k < n; k++) {
        if (!isxdigit((unsigned char)s[k]))
            return -1;
        v = v * 16 +
            (isdigit((unsigned char)s[k]) ? s[k] - '0' : tolower((unsigned char)s[k]) - 'a' + 10);
    }
    return v;
}

/* The escape after a backslash (JSON's, and Lua's \ddd, \xhh, \a, \v) into buf as UTF-8;
 * returns the bytes written, -1 for a malformed \u. */
static int unescape(rd *r, char *buf)
{
    static const char from[] = "ntrbfva", to[] = "\n\t\r\b\f\v\a";
    char c = *r->s++;
    const char *p = strchr(from, c);
    if (c && p) {
        buf[0] = to[p - from];
        return 1;
    }
    if (c == 'x' && hex(r->s, 2) >= 0) {
        buf[0] = (char)hex(r->s, 2);
        r->s += 2;
        return 1;
    }
    if (isdigit((unsigned char)c)) {
        int v = c - '0';
        for (int k = 0; k < 2 && isdigit((unsigned char)*r->s); k++)
            v = v * 10 + (*r->s++ - '0');
        buf[0] = (char)v;
        return 1;
    }
    if (c != 'u') {
        buf[0] = c; /* \" \\ \/ \' */
        return 1;
    }
    long u = hex(r->s, 4);
    if (u < 0)
        return -1;
    r->s += 4;
    if (u >= 0xD800 && u < 0xDC00 && r->s[0] == '\\' && r->s[1] == 'u') { /* a surrogate pair */
        long lo = hex(r->s + 2, 4);
        if (lo >= 0xDC00 && lo < 0xE000) {
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            r->s += 6;
        }
    }
    if (u < 0x80) {
        buf[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        buf[0] = (char)(0xC0 | (u >> 6));
        buf[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        buf[0] = (char)(0xE0 | (u >> 12));
        buf[1] = (char)(0x80 | ((u >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (u >> 18));
    buf[1] = (char)(0x80 | ((u >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((u >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}

static char *read_string(rd *r)
{
    char q = *r->s++;
    size_t cap = 32, n = 0;
    char *out = malloc(cap);
    if (!out) {
        fail(r, "out of memory");
        return NULL;
    }
    while (*r->s && *r->s != q) {
        char c = *r->s++, buf[4] = {c};
        int len = 1;
        if (c == '\\' && *r->s && (len = unescape(r, buf)) < 0) {
            free(out);
            fail(r, "bad \\u escape in a string");
            return NULL;
        }
        if (n + (size_t)len + 1 > cap) {
            char *p = realloc(out, cap *= 2);
            if (!p) {
                free(out);
                fail(r, "out of memory");
                return NULL;
            }
            out = p;
        }
        memcpy(out + n, buf, (size_t)len);
        n += (size_t)len;
    }
    out[n] = 0;
    if (*r->s != q) {
        free(out);
        fail(r, "unterminated string");
        return NULL;
    }
    r->s++;
    return out;
}

static int parse_value(rd *r, hls_cfg *v, int depth);

static int add_item(rd *r, hls_cfg *v, char *key, int *cap)
{
    if (v->n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        hls_cfg *it = realloc(v->items, sizeof *it * (size_t)nc);
        char **ks = realloc(v->keys, sizeof *ks * (size_t)nc);
        if (it)
            v->items = it;
        if (ks)
            v->keys = ks;
        if (!it || !ks) {
            free(key);
            fail(r, "out of memory");
            return -1;
        }
        *cap = nc;
    }
    v->keys[v->n] = key;
    memset(&v->items[v->n], 0, sizeof v->items[v->n]);
    v->n++;
    return 0;
}

/* { "k": v, ... } (JSON) or { k = v, ["k"] = v, v, ... } (Lua); Lua's positional values make a
 * list. */
static int parse_table(rd *r, hls_cfg *v, int depth, char close)
{
    int cap = 0, positional = 0, keyed = 0;
    r->s++;
    v->kind = HLS_C_MAP;
    for (;;) {
        skip(r);
        if (*r->s == close) {
            r->s++;
            break;
        }
        char *key = NULL;
        const char *save = r->s;
        int sline = r->line;
        if (*r->s == '"' || *r->s == '\'') {
            key = read_string(r);
            if (!key)
                return -1;
            skip(r);
            if (*r->s != ':' && *r->s != '=') { /* a positional string (Lua list) */
                free(key);
                key = NULL;
                r->s = save;
                r->line = sline;
            }
        } else if (*r->s == '[' && close == '}' && (r->s[1] == '"' || r->s[1] == '\'')) {
            r->s++;
            key = read_string(r);
            if (!key)
                return -1;
            skip(r);
            if (*r->s != ']') {
                free(key);
                fail(r, "expected ']'");
                return -1;
            }
            r->s++;
            skip(r);
        } else if (isalpha((unsigned char)*r->s) || *r->s == '_') {
            const char *b = r->s;
            while (isalnum((unsigned char)*r->s) || *r->s == '_')
                r->s++;
            const char *e = r->s;
            skip(r);
            if (*r->s == '=' || *r->s == ':') {
                key = strndup(b, (size_t)(e - b));
            } else {
                r->s = b;
                r->line = sline;
            }
        }
        if (key) {
            skip(r);
            if (*r->s != ':' && *r->s != '=') {
                free(key);
                fail(r, "expected ':' or '=' after a key");
                return -1;
            }
            r->s++;
            keyed = 1;
        } else {
            positional = 1;
        }
        if (add_item(r, v, key, &cap) < 0)
            return -1;
        if (parse_value(r, &v->items[v->n - 1], depth + 1) < 0)
            return -1;
        skip(r);
        if (*r->s == ',' || *r->s == ';') {
            r->s++;
            continue;
        }
        if (*r->s == close) {
            r->s++;
            break;
        }
        fail(r, "expected ',' or the end of the table");
        return -1;
    }
    if (positional && keyed) {
        fail(r, "a table mixes keys and positional values");
        return -1;
    }
    if (positional || close == ']')
        v->kind = HLS_C_LIST;
    return 0;
}

static int parse_value(rd *r, hls_cfg *v, int depth)
{
    skip(r);
    if (depth > 32) {
        fail(r, "nested too deeply");
        return -1;
    }
    char c = *r->s;
    if (c == '{')
        return parse_table(r, v, depth, '}');
    if (c == '[')
        return parse_table(r, v, depth, ']');
    if (c == '"' || c == '\'') {
        v->kind = HLS_C_STR;
        v->str = read_string(r);
        return v->str ? 0 : -1;
    }
    if (strncmp(r->s, "true", 4) == 0 || strncmp(r->s, "false", 5) == 0) {
        v->kind = HLS_C_BOOL;
        v->num = c == 't';
        r->s += c == 't' ? 4 : 5;
        return 0;
    }
    if (strncmp(r->s, "null", 4) == 0 || strncmp(r->s, "nil", 3) == 0) {
        v->kind = HLS_C_NULL;
        r->s += r->s[1] == 'u' ? 4 : 3;
        return 0;
    }
    char *end;
    double d = strtod(r->s, &end);
    if (end == r->s) {
        fail(r, "expected a value");
        return -1;
    }
    v->kind = HLS_C_NUM;
    v->num = d;
    r->s = end;
    return 0;
}

static void free_value(hls_cfg *c)
{
    free(c->str);
    for (int k = 0; k < c->n; k++) {
        if (c->keys)
            free(c->keys[k]);
        free_value(&c->items[k]);
    }
    free(c->keys);
    free(c->items);
}

void hls_cfg_free(hls_cfg *c)
{
    if (!c)
        return;
    free_value(c);
    free(c);
}

hls_cfg *hls_cfg_parse(const char *text, ngt_error *err)
{
    rd r = {text, 1, err, 0};
    hls_cfg *c = calloc(1, sizeof *c);
    if (!c) {
        seterr(err, NGT_ENOMEM, "precision configuration: out of memory");
        return NULL;
    }
    skip(&r);
    if (strncmp(r.s, "return", 6) == 0 && !isalnum((unsigned char)r.s[6]))
        r.s += 6;
    skip(&r);
    if (*r.s != '{')
        fail(&r, "expected a table ('{')");
    else if (parse_value(&r, c, 0) == 0) {
        skip(&r);
        if (*r.s)
            fail(&r, "text after the table");
    }
    if (r.failed) {
        hls_cfg_free(c);
        return NULL;
    }
    return c;
}

static hls_cfg *load_one(const char *options, ngt_error *err)
{
    const char *p = options;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '{' || strncmp(p, "return", 6) == 0)
        return hls_cfg_parse(p, err);
    char *buf = read_file(options, (size_t)1 << 26, NULL, err);
    if (!buf) {
        preferr(err, err ? err->code : NGT_EIO, "precision configuration");
        return NULL;
    }
    hls_cfg *c = hls_cfg_parse(buf, err);
    free(buf);
    if (!c)
        preferr(err, NGT_EFORMAT, "%s", options);
    return c;
}

/* Moves the top-level keys of over (but NgtBase) into base, replacing base's; frees over. */
static int overlay(hls_cfg *base, hls_cfg *over, ngt_error *err)
{
    for (int k = 0; k < over->n; k++) {
        if (!over->keys[k] || strcmp(over->keys[k], "NgtBase") == 0)
            continue;
        hls_cfg *dst = (hls_cfg *)hls_cfg_get(base, over->keys[k]);
        if (dst) {
            free_value(dst);
        } else {
            hls_cfg *it = realloc(base->items, sizeof *it * (size_t)(base->n + 1));
            if (it)
                base->items = it;
            char **ks = it ? realloc(base->keys, sizeof *ks * (size_t)(base->n + 1)) : NULL;
            if (!ks) {
                hls_cfg_free(over);
                return seterr(err, NGT_ENOMEM, "out of memory");
            }
            base->keys = ks;
            ks[base->n] = over->keys[k];
            over->keys[k] = NULL;
            dst = &base->items[base->n++];
        }
        *dst = over->items[k];
        memset(&over->items[k], 0, sizeof over->items[k]);
    }
    hls_cfg_free(over);
    return NGT_OK;
}

hls_cfg *hls_cfg_load(const char *options, ngt_error *err)
{
    hls_cfg *c = load_one(options, err);
    for (int depth = 0; c; depth++) {
        const hls_cfg *b = hls_cfg_get(c, "NgtBase");
        if (!b)
            return c;
        const char *path = hls_cfg_str(b);
        if (!path || depth == 8) {
            seterr(err, NGT_EFORMAT, "precision configuration: NgtBase %s",
                   path ? "nests more than 8 deep" : "must be a file name (a string)");
            hls_cfg_free(c);
            return NULL;
        }
        hls_cfg *base = load_one(path, err);
        if (base && base->kind != HLS_C_MAP) {
            seterr(err, NGT_EFORMAT, "precision configuration '%s': not a table", path);
            hls_cfg_free(base);
            base = NULL;
        }
        if (!base || overlay(base, c, err) < 0) {
            if (!base)
                hls_cfg_free(c);
            hls_cfg_free(base);
            return NULL;
        }
        c = base;
    }
    return NULL;
}

const hls_cfg *hls_cfg_get(const hls_cfg *c, const char *key)
{
    if (!c || c->kind != HLS_C_MAP)
        return NULL;
    for (int k = c->n - 1; k >= 0; k--) /* a key given twice: the later, as JSON readers do */
        if (c->keys[k] && strcmp(c->keys[k], key) == 0)
            return &c->items[k];
    return NULL;
}

const char *hls_cfg_str(const hls_cfg *c)
{
    return c && c->kind == HLS_C_STR ? c->str : NULL;
}

/* ---- Checking the keys as hls4ml reads them ------------------------------------------------ */

/* hls4ml's convert_to_snake_case: '_' before every capital but the first, lower case, a run of
 * '_' made one ("TableSize" -> "table_size", "ExpTableT" -> "exp_table_t"). */
static void snake(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; in[i] && n + 2 < cap; i++) {
        char c = in[i];
        if (i > 0 && isupper((unsigned char)c) && (n == 0 || out[n - 1] != '_'))
            out[n++] = '_';
        if (c == '_' && n > 0 && out[n - 1] == '_')
            continue;
        out[n++] = (char)tolower((unsigned char)c);
    }
    out[n] = 0;
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* The type names of Precision maps (hls4ml's type attributes without '_t'). */
static const char *const PREC_VARS[] = {"default",   "result",  "accum", "weight",
                                        "bias",      "scale",   "table", "exp_table",
                                        "inv_table", "inv_inp", NULL};

static int check_precision(const hls_cfg *p, const char *where, ngt_error *err)
{
    if (p->kind == HLS_C_STR)
        return NGT_OK;
    if (p->kind != HLS_C_MAP)
        return seterr(err, NGT_EFORMAT,
                      "precision configuration: %s Precision must be a type "
                      "or a table of types",
                      where);
    for (int k = 0; k < p->n; k++) {
        if (strcmp(p->keys[k], "maximum") == 0)
            return seterr(err, NGT_EUNSUPPORTED,
                          "precision configuration: %s Precision 'maximum' (max_precision) is "
                          "not supported",
                          where);
        if (!in_list(p->keys[k], PREC_VARS))
            return seterr(err, NGT_EFORMAT,
                          "precision configuration: %s Precision: unknown key '%s'", where,
                          p->keys[k]);
        if (p->items[k].kind != HLS_C_STR)
            return seterr(err, NGT_EFORMAT,
                          "precision configuration: %s Precision '%s' must be a type (a string)",
                          where, p->keys[k]);
    }
    return NGT_OK;
}

/* A key hls4ml accepts that must hold one value here (the one ngt computes). */
static int must_be(const hls_cfg *v, const char *want, int is_bool, const char *where,
                   const char *key, ngt_error *err)
{
    int ok;
    if (is_bool) {
        ok = (v->kind == HLS_C_BOOL || v->kind == HLS_C_NUM) && v->num == 0;
    } else {
        char s[64];
        snake(v->kind == HLS_C_STR ? v->str : "", s, sizeof s);
        ok = strcmp(s, want) == 0;
    }
    if (ok)
        return NGT_OK;
    return seterr(err, NGT_EUNSUPPORTED,
                  "precision configuration: %s%s%s: only %s is supported (ngt computes hls4ml's "
                  "Vivado io_parallel Latency model, channels last)",
                  where, *where ? " " : "", key, want);
}

/* Keys of LayerName and LayerType entries, in hls4ml's snake_case: those that change the C
 * simulation's values (read by hls_build.c), and those that cannot (synthesis and tracing settings,
 * accepted). */
static const char *const LAYER_KEYS[] = {
    "table_size", "table_t",        "exp_table_t",    "inv_table_t",    "inv_inp_t",
    "accum_t",    "implementation", "exp_table_size", "inv_table_size", NULL};
static const char *const LAYER_NO_EFFECT[] = {"trace",
                                              "reuse_factor",
                                              "parallelization_factor",
                                              "conv_implementation",
                                              "compression",
                                              "target_cycles",
                                              NULL};

/* A LayerName or LayerType entry; where names it in messages ("layer 'fc1'"). */
static int check_layer(hls_cfg *l, const char *where, ngt_error *err)
{
    if (l->kind != HLS_C_MAP)
        return seterr(err, NGT_EFORMAT, "precision configuration: %s must be a table", where);
    for (int k = 0; k < l->n; k++) {
        const char *key = l->keys[k];
        if (strcmp(key, "Precision") == 0) {
            int rc = check_precision(&l->items[k], where, err);
            if (rc < 0)
                return rc;
            continue;
        }
        char s[64];
        snake(key, s, sizeof s);
        int rc = NGT_OK;
        if (strcmp(s, "skip") == 0)
            rc = must_be(&l->items[k], "false", 1, where, key, err);
        else if (strcmp(s, "strategy") == 0)
            rc = must_be(&l->items[k], "latency", 0, where, key, err);
        else if (strcmp(s, "precision") == 0)
            rc = seterr(err, NGT_EFORMAT,
                        "precision configuration: %s: '%s' (hls4ml reads types from "
                        "'Precision' only)",
                        where, key);
        else if (!in_list(s, LAYER_KEYS) && !in_list(s, LAYER_NO_EFFECT))
            rc = seterr(err, NGT_EFORMAT, "precision configuration: %s: unknown key '%s'", where,
                        key);
        if (rc < 0)
            return rc;
        if (strcmp(s, key) == 0)
            continue;
        char *ns = strdup(s); /* the spelling hls_build reads; hls4ml also converts */
        if (!ns)
            return seterr(err, NGT_ENOMEM, "out of memory");
        free(l->keys[k]);
        l->keys[k] = ns;
    }
    /* Two spellings of one key: the later wins, as in hls4ml (attributes set in order). */
    for (int k = 0; k < l->n; k++)
        for (int j = k + 1; j < l->n; j++)
            if (l->keys[k] && l->keys[j] && strcmp(l->keys[k], l->keys[j]) == 0) {
                free(l->keys[k]);
                l->keys[k] = NULL; /* hls_cfg_get skips it */
                break;
            }
    return NGT_OK;
}

static const char *const MODEL_NO_EFFECT[] = {
    "ReuseFactor",   "BramFactor",       "TraceOutput",
    "PipelineStyle", "PipelineInterval", "ConvImplementation",
    "Compression",   "TargetCycles",     NULL};

int hls_cfg_check(hls_cfg *c, ngt_error *err)
{
    if (c->kind != HLS_C_MAP)
        return seterr(err, NGT_EFORMAT, "precision configuration: not a table");
    for (int k = 0; k < c->n; k++) {
        const char *key = c->keys[k];
        hls_cfg *v = &c->items[k];
        int rc = NGT_OK;
        if (!key || strcmp(key, "NgtOutput") == 0 || strcmp(key, "NgtTune") == 0 ||
            strcmp(key, "InputShape") == 0)
            continue;
        if (strcmp(key, "Model") == 0) {
            if (v->kind != HLS_C_MAP)
                return seterr(err, NGT_EFORMAT,
                              "precision configuration: Model must be a "
                              "table");
            for (int j = 0; j < v->n && rc == NGT_OK; j++) {
                const char *mk = v->keys[j];
                if (strcmp(mk, "Precision") == 0)
                    rc = check_precision(&v->items[j], "Model", err);
                else if (strcmp(mk, "Strategy") == 0)
                    rc = must_be(&v->items[j], "latency", 0, "Model", mk, err);
                else if (strcmp(mk, "ChannelsLastConversion") == 0)
                    rc = must_be(&v->items[j], "full", 0, "Model", mk, err);
                else if (strcmp(mk, "TransposeOutputs") == 0)
                    rc = must_be(&v->items[j], "false", 1, "Model", mk, err);
                else if (!in_list(mk, MODEL_NO_EFFECT))
                    rc = seterr(err, NGT_EFORMAT,
                                "precision configuration: Model: unknown key '%s'", mk);
            }
        } else if (strcmp(key, "LayerName") == 0) {
            if (v->kind != HLS_C_MAP)
                return seterr(err, NGT_EFORMAT,
                              "precision configuration: LayerName must be "
                              "a table of layers");
            for (int j = 0; j < v->n && rc == NGT_OK; j++) {
                char where[200];
                snprintf(where, sizeof where, "layer '%s'", v->keys[j]);
                rc = check_layer(&v->items[j], where, err);
            }
        } else if (strcmp(key, "LayerType") == 0) {
            /* keyed by hls4ml's layer classes (Dense, Activation, ...); a class no layer has is
             * ignored, as hls4ml does (hls_build.c) */
            if (v->kind != HLS_C_MAP)
                return seterr(err, NGT_EFORMAT,
                              "precision configuration: LayerType must be "
                              "a table of layer classes");
            for (int j = 0; j < v->n && rc == NGT_OK; j++) {
                char where[160];
                snprintf(where, sizeof where, "LayerType '%s'", v->keys[j]);
                /* hls4ml's ONNX front end parses Conv and MatMul into layers of these classes
                 * and moves their settings to the Conv1D/Conv2D/Dense it makes of them, as
                 * LayerName entries of new names: no layer of the model ngt computes (the
                 * PyTorch front end's) has them, and ignoring them would differ from hls4ml */
                if (strcmp(v->keys[j], "Conv") == 0 || strcmp(v->keys[j], "MatMul") == 0)
                    rc = seterr(err, NGT_EUNSUPPORTED,
                                "precision configuration: LayerType '%s' is a class of hls4ml's "
                                "ONNX front end before its conversion passes "
                                "(config_from_onnx_model writes it): write the entry as '%s'",
                                v->keys[j], v->keys[j][0] == 'C' ? "Conv1D' or 'Conv2D" : "Dense");
                else
                    rc = check_layer(&v->items[j], where, err);
            }
        } else {
            rc = seterr(err, NGT_EFORMAT,
                        "precision configuration: unknown key '%s' (expected hls4ml's "
                        "Model, LayerName, LayerType)",
                        key);
        }
        if (rc < 0)
            return rc;
    }
    return NGT_OK;
}

/* ---- The public reader (ngt_hls.h) --------------------------------------------------------- */

ngt_hls_cfg *ngt_hls_cfg_load(const char *options, ngt_error *err)
{
    if (!options)
        options = "{}";
    hls_cfg *c = hls_cfg_load(options, err);
    if (c && hls_cfg_check(c, err) < 0) {
        hls_cfg_free(c);
        return NULL;
    }
    return c;
}

void ngt_hls_cfg_free(ngt_hls_cfg *c)
{
    hls_cfg_free(c);
}

int ngt_hls_cfg_kind(const ngt_hls_cfg *c)
{
    return c ? (int)c->kind : NGT_HLS_CFG_NULL;
}

double ngt_hls_cfg_num(const ngt_hls_cfg *c)
{
    return c ? c->num : 0;
}

const char *ngt_hls_cfg_string(const ngt_hls_cfg *c)
{
    return hls_cfg_str(c);
}

int ngt_hls_cfg_len(const ngt_hls_cfg *c)
{
    return c && (c->kind == HLS_C_LIST || c->kind == HLS_C_MAP) ? c->n : 0;
}

const ngt_hls_cfg *ngt_hls_cfg_item(const ngt_hls_cfg *c, int i)
{
    return i >= 0 && i < ngt_hls_cfg_len(c) ? &c->items[i] : NULL;
}

const char *ngt_hls_cfg_key(const ngt_hls_cfg *c, int i)
{
    return c && c->kind == HLS_C_MAP && i >= 0 && i < c->n ? c->keys[i] : NULL;
}
