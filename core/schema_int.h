/* schema_int.h: schema internals shared inside core/ (derived columns, type parsing). */
#ifndef NGT_SCHEMA_INT_H
#define NGT_SCHEMA_INT_H

#include "ngt.h"

/* Private to core/: hosts see only the functions in ngt.h. */
struct ngt_schema {
    int n, cap;
    ngt_column_info *cols;
    int id_run, id_lumi, id_event;
    char *text;
    uint64_t id;
    /* This column list's token, unique in the process: renewed by every change (schema_refresh),
     * kept by ngt_schema_clone. Equal tokens mean equal columns, so a batch's schema is checked
     * against a menu's by one compare (schema_same_layout). */
    uint64_t layout;
};

int schema_valid_name(const char *name);
int schema_parse_type(const char *type, ngt_dtype *dt, int *rank, int64_t *shape, ngt_error *err);
/* Appends a column of any kind; returns its index or a negative code. */
int schema_append(ngt_schema *s, const char *name, ngt_dtype dt, ngt_column_kind kind, int rank,
                  const int64_t *shape, int collection, int derived, ngt_error *err);
/* Rebuilds the canonical text and id after a change (schema_text.c). */
int schema_refresh(ngt_schema *s);
/* 1 when a and b have the same columns (names, dtypes, shapes, kinds) in the same order: by
 * their layout tokens when equal, else column by column. */
int schema_same_layout(const ngt_schema *a, const ngt_schema *b);
/* Formats a column's type ("f32[77]") into buf. */
void schema_format_type(const ngt_column_info *c, char *buf, size_t size);

#endif
