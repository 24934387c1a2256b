/* hls_cfg.c: a small reader for the precision configuration: JSON, or a Lua table literal with
 * the same shape (key = value, ["key"] = value, { ... } lists, -- comments, a leading 'return'). */
#include "hls/hls_cfg.h"

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
        char c = *r->s++;
        if (c == '\\' && *r->s) {
            c = *r->s++;
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
        }
        if (n + 2 > cap) {
            char *p = realloc(out, cap *= 2);
            if (!p) {
                free(out);
                fail(r, "out of memory");
                return NULL;
            }
            out = p;
        }
        out[n++] = c;
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

hls_cfg *hls_cfg_load(const char *options, ngt_error *err)
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

const hls_cfg *hls_cfg_get(const hls_cfg *c, const char *key)
{
    if (!c || c->kind != HLS_C_MAP)
        return NULL;
    for (int k = 0; k < c->n; k++)
        if (c->keys[k] && strcmp(c->keys[k], key) == 0)
            return &c->items[k];
    return NULL;
}

const char *hls_cfg_str(const hls_cfg *c)
{
    return c && c->kind == HLS_C_STR ? c->str : NULL;
}
