/* schema_text.c: the canonical text form of a schema, its parser, and the schema id (FNV-1a 64
 * of that text). Derived columns are not part of it: the id names what travels on the wire. */
#include "internal.h"
#include "schema_int.h"
#include "strbuf.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

void schema_format_type(const ngt_column_info *c, char *buf, size_t size)
{
    int k = snprintf(buf, size, "%s", ngt_dtype_name(c->dtype));
    int first = c->kind == NGT_COL_FIELD; /* a field's [max] is the collection's, not its own */
    for (int i = first; i < c->rank && k > 0 && (size_t)k < size; i++)
        k += snprintf(buf + k, size - (size_t)k, "[%lld]", (long long)c->shape[i]);
}

static const char *name_or_dash(const ngt_schema *s, int i)
{
    return i >= 0 ? s->cols[i].name : "-";
}

static _Atomic uint64_t next_layout; /* the last layout token handed out (0: none) */

int schema_refresh(ngt_schema *s)
{
    /* first, so that even a refresh that fails leaves no stale token on changed columns */
    s->layout = atomic_fetch_add_explicit(&next_layout, 1, memory_order_relaxed) + 1;
    strbuf b = {0};
    char type[64];
    sb_printf(&b, "ngt-schema 1\n");
    for (int i = 0; i < s->n; i++) {
        const ngt_column_info *c = &s->cols[i];
        if (c->derived || c->kind == NGT_COL_FIELD)
            continue;
        if (c->kind == NGT_COL_EVENT) {
            schema_format_type(c, type, sizeof type);
            sb_printf(&b, "column %s %s\n", c->name, type);
        } else if (c->kind == NGT_COL_SCALAR) {
            sb_printf(&b, "scalar %s %s\n", c->name, ngt_dtype_name(c->dtype));
        } else { /* collection: its count column, then its fields in order */
            int len = (int)(strlen(c->name) - 2); /* strip ".n" */
            int max = 0;
            for (int j = i + 1; j < s->n && s->cols[j].collection == i; j++)
                max = (int)s->cols[j].shape[0];
            sb_printf(&b, "collection %.*s %d", len, c->name, max);
            for (int j = i + 1; j < s->n && s->cols[j].collection == i; j++)
                sb_printf(&b, " %s:%s", s->cols[j].name + len + 1,
                          ngt_dtype_name(s->cols[j].dtype));
            sb_printf(&b, "\n");
        }
    }
    if (s->id_run >= 0 || s->id_lumi >= 0 || s->id_event >= 0)
        sb_printf(&b, "identity %s %s %s\n", name_or_dash(s, s->id_run),
                  name_or_dash(s, s->id_lumi), name_or_dash(s, s->id_event));
    if (b.oom) {
        sb_free(&b);
        return NGT_ENOMEM;
    }
    free(s->text);
    s->text = b.s;
    s->id = fnv1a(b.s, b.len, fnv1a_basis());
    return NGT_OK;
}

static int parse_collection(ngt_schema *s, char *rest, int line, ngt_error *err)
{
    char *save = NULL;
    char *name = strtok_r(rest, " ", &save);
    char *maxs = strtok_r(NULL, " ", &save);
    const char *fields[256];
    ngt_dtype types[256];
    int nf = 0;
    char *tok;
    if (!name || !maxs)
        return seterr(err, NGT_EINVAL, "schema line %d: collection needs a name and a max", line);
    while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
        char *colon = strchr(tok, ':');
        if (!colon || nf == 256 || ngt_dtype_parse(colon + 1, &types[nf]) != NGT_OK)
            return seterr(err, NGT_EINVAL, "schema line %d: bad field '%s'", line, tok);
        *colon = 0;
        fields[nf++] = tok;
    }
    int rc = ngt_schema_add_collection(s, name, atoi(maxs), nf, fields, types, err);
    return rc < 0 ? rc : NGT_OK;
}

static int parse_line(ngt_schema *s, char *ln, int line, ngt_error *err)
{
    char a[NGT_NAME_MAX * 2], b[NGT_NAME_MAX * 2], c[NGT_NAME_MAX * 2];
    int rc;
    if (strncmp(ln, "column ", 7) == 0 && sscanf(ln + 7, "%127s %127s", a, b) == 2) {
        rc = ngt_schema_add(s, a, b, err);
    } else if (strncmp(ln, "scalar ", 7) == 0 && sscanf(ln + 7, "%127s %127s", a, b) == 2) {
        ngt_dtype t;
        if (ngt_dtype_parse(b, &t) != NGT_OK)
            return seterr(err, NGT_EINVAL, "schema line %d: bad dtype '%s'", line, b);
        rc = ngt_schema_add_scalar(s, a, t, err);
    } else if (strncmp(ln, "collection ", 11) == 0) {
        rc = parse_collection(s, ln + 11, line, err);
    } else if (strncmp(ln, "identity ", 9) == 0 &&
               sscanf(ln + 9, "%127s %127s %127s", a, b, c) == 3) {
        rc = ngt_schema_set_identity(s, strcmp(a, "-") ? a : NULL, strcmp(b, "-") ? b : NULL,
                                     strcmp(c, "-") ? c : NULL, err);
    } else {
        return seterr(err, NGT_EINVAL, "schema line %d: cannot read '%s'", line, ln);
    }
    return rc < 0 ? preferr(err, rc, "schema line %d", line) : NGT_OK;
}

ngt_schema *ngt_schema_parse(const char *text, ngt_error *err)
{
    if (!text || strncmp(text, "ngt-schema 1\n", 13) != 0) {
        seterr(err, NGT_EINVAL, "not a schema: the text must start with 'ngt-schema 1'");
        return NULL;
    }
    ngt_schema *s = ngt_schema_new();
    char *copy = strdup(text + 13);
    if (!s || !copy) {
        ngt_schema_free(s);
        free(copy);
        seterr(err, NGT_ENOMEM, "out of memory");
        return NULL;
    }
    char *save = NULL;
    int line = 1;
    for (char *ln = strtok_r(copy, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        if (parse_line(s, ln, ++line, err) != NGT_OK) {
            free(copy);
            ngt_schema_free(s);
            return NULL;
        }
    }
    free(copy);
    return s;
}
