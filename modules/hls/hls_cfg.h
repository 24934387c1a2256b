/* hls_cfg.h: the precision configuration as a small tree, read from JSON text (what hls4ml's
 * config helpers write) or from a Lua table literal ("return { Model = {...}, LayerName = {...}
 * }"). */
#ifndef NGT_HLS_CFG_H
#define NGT_HLS_CFG_H

#include "ngt.h"

typedef enum hls_cfg_kind {
    HLS_C_NULL = 0,
    HLS_C_BOOL,
    HLS_C_NUM,
    HLS_C_STR,
    HLS_C_LIST,
    HLS_C_MAP
} hls_cfg_kind;

typedef struct hls_cfg {
    hls_cfg_kind kind;
    double num;
    char *str;             /* STR */
    int n;                 /* LIST, MAP: children */
    char **keys;           /* MAP: owned */
    struct hls_cfg *items; /* LIST, MAP: owned */
} hls_cfg;

/* Parses text (JSON, or a Lua table literal); NULL on error with err naming line and problem. */
hls_cfg *hls_cfg_parse(const char *text, ngt_error *err);
/* Reads options: JSON text ('{' first), or a path to a .json or .lua file. A top-level NgtBase
 * names a configuration file this one extends: its top-level keys replace the base's. */
hls_cfg *hls_cfg_load(const char *options, ngt_error *err);
void hls_cfg_free(hls_cfg *c);
/* Checks the keys as hls4ml reads them and rewrites LayerName and LayerType entries' keys to
 * hls4ml's snake_case ("TableSize" -> "table_size"; of two spellings the later wins); an unknown
 * key, or a setting ngt does not compute (Strategy Resource, ...), is an error naming it. */
int hls_cfg_check(hls_cfg *c, ngt_error *err);
/* Child of a map by key (NULL when absent or c is not a map). */
const hls_cfg *hls_cfg_get(const hls_cfg *c, const char *key);
/* String value or NULL. */
const char *hls_cfg_str(const hls_cfg *c);

#endif
