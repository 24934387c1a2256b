/* schema.c: column lists (event columns, batch scalars, collections, derived columns), their
 * canonical text and the 64-bit schema id. The text format and hash are documented in
 * docs/schema.md. */
#include "internal.h"
#include "schema_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const dtype_names[NGT_DTYPE_COUNT] = {"f32", "f64", "i8",  "i16", "i32", "i64",
                                                         "u8",  "u16", "u32", "u64", "bool"};
static const size_t dtype_sizes[NGT_DTYPE_COUNT] = {4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1};

size_t ngt_dtype_size(ngt_dtype t)
{
    return (unsigned)t < NGT_DTYPE_COUNT ? dtype_sizes[t] : 0;
}
const char *ngt_dtype_name(ngt_dtype t)
{
    return (unsigned)t < NGT_DTYPE_COUNT ? dtype_names[t] : "?";
}

int ngt_dtype_parse(const char *name, ngt_dtype *out)
{
    for (int i = 0; i < NGT_DTYPE_COUNT; i++)
        if (name && strcmp(name, dtype_names[i]) == 0) {
            *out = (ngt_dtype)i;
            return NGT_OK;
        }
    return NGT_EINVAL;
}

ngt_schema *ngt_schema_new(void)
{
    ngt_schema *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->id_run = s->id_lumi = s->id_event = -1;
    if (schema_refresh(s) != NGT_OK) {
        free(s);
        return NULL;
    }
    return s;
}

void ngt_schema_free(ngt_schema *s)
{
    if (!s)
        return;
    free(s->cols);
    free(s->text);
    free(s);
}

ngt_schema *ngt_schema_clone(const ngt_schema *s)
{
    ngt_schema *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *s;
    c->cols = malloc(sizeof *c->cols * (size_t)(s->cap ? s->cap : 1));
    c->text = strdup(s->text);
    if (!c->cols || !c->text) {
        ngt_schema_free(c);
        return NULL;
    }
    if (s->n)
        memcpy(c->cols, s->cols, sizeof *c->cols * (size_t)s->n);
    return c;
}

int schema_valid_name(const char *name)
{
    if (!name || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return 0;
    size_t n = strlen(name);
    if (n >= NGT_NAME_MAX)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
            return 0;
    return 1;
}

/* Parses "f32", "f32[77]", "u8[4][4]" into dtype and shape. */
int schema_parse_type(const char *type, ngt_dtype *dt, int *rank, int64_t *shape, ngt_error *err)
{
    char base[8];
    size_t k = 0;
    while (type && type[k] && type[k] != '[' && k < sizeof base - 1) {
        base[k] = type[k];
        k++;
    }
    base[k] = 0;
    if (!type || ngt_dtype_parse(base, dt) != NGT_OK)
        return seterr(err, NGT_EINVAL,
                      "bad type '%s': expected a dtype (f32 f64 i8 i16 i32 i64 u8 u16 u32 "
                      "u64 bool) optionally followed by a shape like [77]",
                      type ? type : "(null)");
    const char *p = type + k;
    *rank = 0;
    while (*p == '[') {
        char *end;
        long long d = strtoll(p + 1, &end, 10);
        if (end == p + 1 || *end != ']' || d <= 0 || d > (1LL << 30))
            return seterr(err, NGT_EINVAL,
                          "bad shape in type '%s': dimensions are positive "
                          "integers in brackets",
                          type);
        if (*rank == NGT_MAX_RANK)
            return seterr(err, NGT_EINVAL, "type '%s' has more than %d dimensions", type,
                          NGT_MAX_RANK);
        shape[(*rank)++] = d;
        p = end + 1;
    }
    if (*p)
        return seterr(err, NGT_EINVAL, "bad type '%s': unexpected '%s'", type, p);
    return NGT_OK;
}

static int grow(ngt_schema *s)
{
    if (s->n < s->cap)
        return NGT_OK;
    int cap = s->cap ? s->cap * 2 : 16;
    ngt_column_info *c = realloc(s->cols, sizeof *c * (size_t)cap);
    if (!c)
        return NGT_ENOMEM;
    s->cols = c;
    s->cap = cap;
    return NGT_OK;
}

int schema_append(ngt_schema *s, const char *name, ngt_dtype dt, ngt_column_kind kind, int rank,
                  const int64_t *shape, int collection, int derived, ngt_error *err)
{
    if (ngt_schema_find(s, name) >= 0)
        return seterr(err, NGT_EINVAL, "column '%s' is declared twice", name);
    if (strlen(name) >= NGT_NAME_MAX)
        return seterr(err, NGT_EINVAL, "column name '%s' is longer than %d characters", name,
                      NGT_NAME_MAX - 1);
    if (grow(s) != NGT_OK)
        return seterr(err, NGT_ENOMEM, "out of memory adding column '%s'", name);
    ngt_column_info *c = &s->cols[s->n];
    memset(c, 0, sizeof *c);
    str_copy(c->name, name, sizeof c->name);
    c->dtype = dt;
    c->kind = kind;
    c->rank = rank;
    c->elems = 1;
    for (int i = 0; i < rank; i++) {
        c->shape[i] = shape[i];
        c->elems *= shape[i];
    }
    c->row_bytes = (size_t)c->elems * ngt_dtype_size(dt);
    c->collection = collection;
    c->derived = derived;
    s->n++;
    int rc = schema_refresh(s);
    if (rc != NGT_OK)
        return seterr(err, rc, "out of memory");
    return s->n - 1;
}

int ngt_schema_add(ngt_schema *s, const char *name, const char *type, ngt_error *err)
{
    ngt_dtype dt = NGT_F32;
    int rank = 0;
    int64_t shape[NGT_MAX_RANK];
    if (!schema_valid_name(name))
        return seterr(err, NGT_EINVAL,
                      "bad column name '%s': use letters, digits and _, starting with a letter",
                      name ? name : "(null)");
    int rc = schema_parse_type(type, &dt, &rank, shape, err);
    if (rc != NGT_OK)
        return preferr(err, rc, "column '%s'", name);
    return schema_append(s, name, dt, NGT_COL_EVENT, rank, shape, -1, 0, err);
}

int ngt_schema_add_scalar(ngt_schema *s, const char *name, ngt_dtype t, ngt_error *err)
{
    if (!schema_valid_name(name))
        return seterr(err, NGT_EINVAL, "bad scalar name '%s'", name ? name : "(null)");
    if ((unsigned)t >= NGT_DTYPE_COUNT)
        return seterr(err, NGT_EINVAL, "scalar '%s': bad dtype %d", name, (int)t);
    return schema_append(s, name, t, NGT_COL_SCALAR, 0, NULL, -1, 0, err);
}

int ngt_schema_add_collection(ngt_schema *s, const char *name, int max, int n_fields,
                              const char *const *field_names, const ngt_dtype *field_types,
                              ngt_error *err)
{
    char full[2 * NGT_NAME_MAX];
    if (!schema_valid_name(name))
        return seterr(err, NGT_EINVAL, "bad collection name '%s'", name ? name : "(null)");
    if (max <= 0 || max > 65536)
        return seterr(err, NGT_EINVAL, "collection '%s': max must be in 1..65536, not %d", name,
                      max);
    if (n_fields <= 0)
        return seterr(err, NGT_EINVAL, "collection '%s' has no fields", name);
    for (int i = 0; i < n_fields; i++) {
        if (!schema_valid_name(field_names[i]) || strcmp(field_names[i], "n") == 0)
            return seterr(err, NGT_EINVAL, "collection '%s': bad field name '%s'%s", name,
                          field_names[i] ? field_names[i] : "(null)",
                          field_names[i] && strcmp(field_names[i], "n") == 0 ? " ('n' is the count)"
                                                                             : "");
        if ((unsigned)field_types[i] >= NGT_DTYPE_COUNT)
            return seterr(err, NGT_EINVAL, "collection '%s': field '%s' has a bad dtype", name,
                          field_names[i]);
        for (int j = 0; j < i; j++)
            if (strcmp(field_names[i], field_names[j]) == 0)
                return seterr(err, NGT_EINVAL, "collection '%s': field '%s' declared twice", name,
                              field_names[i]);
    }
    snprintf(full, sizeof full, "%s.n", name);
    int count = schema_append(s, full, NGT_I32, NGT_COL_COUNT, 0, NULL, -1, 0, err);
    if (count < 0)
        return count;
    s->cols[count].collection = count;
    int64_t shape[1] = {max};
    for (int i = 0; i < n_fields; i++) {
        snprintf(full, sizeof full, "%s.%s", name, field_names[i]);
        int rc = schema_append(s, full, field_types[i], NGT_COL_FIELD, 1, shape, count, 0, err);
        if (rc < 0)
            return rc;
    }
    return count;
}

static int identity_index(ngt_schema *s, const char *name, const char *role, int *out,
                          ngt_error *err)
{
    *out = -1;
    if (!name)
        return NGT_OK;
    int i = ngt_schema_find(s, name);
    if (i < 0)
        return seterr(err, NGT_EINVAL, "identity %s: no column or scalar named '%s'", role, name);
    const ngt_column_info *c = &s->cols[i];
    int integer = c->dtype >= NGT_I8 && c->dtype <= NGT_U64;
    if (!integer || c->rank != 0 || (c->kind != NGT_COL_EVENT && c->kind != NGT_COL_SCALAR))
        return seterr(err, NGT_EINVAL,
                      "identity %s '%s' must be an integer per-event scalar or batch scalar", role,
                      name);
    *out = i;
    return NGT_OK;
}

int ngt_schema_set_identity(ngt_schema *s, const char *run, const char *lumi, const char *event,
                            ngt_error *err)
{
    int r, l, e, rc;
    if ((rc = identity_index(s, run, "run", &r, err)) != NGT_OK ||
        (rc = identity_index(s, lumi, "lumi", &l, err)) != NGT_OK ||
        (rc = identity_index(s, event, "event", &e, err)) != NGT_OK)
        return rc;
    s->id_run = r;
    s->id_lumi = l;
    s->id_event = e;
    return schema_refresh(s);
}

int ngt_schema_identity(const ngt_schema *s, int *run, int *lumi, int *event)
{
    if (run)
        *run = s->id_run;
    if (lumi)
        *lumi = s->id_lumi;
    if (event)
        *event = s->id_event;
    return NGT_OK;
}

const char *ngt_schema_text(const ngt_schema *s)
{
    return s->text;
}
uint64_t ngt_schema_id(const ngt_schema *s)
{
    return s->id;
}
int ngt_schema_ncolumns(const ngt_schema *s)
{
    return s->n;
}

int ngt_schema_find(const ngt_schema *s, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->cols[i].name, name) == 0)
            return i;
    return -1;
}

int schema_same_layout(const ngt_schema *a, const ngt_schema *b)
{
    if (a == b || a->layout == b->layout)
        return 1;
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++) {
        const ngt_column_info *x = &a->cols[i], *y = &b->cols[i];
        if (strcmp(x->name, y->name) != 0 || x->dtype != y->dtype || x->elems != y->elems ||
            x->kind != y->kind)
            return 0;
    }
    return 1;
}

const ngt_column_info *ngt_schema_column(const ngt_schema *s, int index)
{
    return index >= 0 && index < s->n ? &s->cols[index] : NULL;
}
