/* ngt_hls.h: the hls module's own public API (fed to LuaJIT's ffi.cdef: no macros in
 * declarations, constants as enums): the precision configuration reader, the one the hls backend
 * uses, for hosts and tools that need the configuration as data (ngt hls tune). */
#ifndef NGT_HLS_H
#define NGT_HLS_H

#include "ngt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A node of a read configuration: a null, boolean, number, string, list or map. */
typedef struct hls_cfg ngt_hls_cfg;

enum {
    NGT_HLS_CFG_NULL = 0,
    NGT_HLS_CFG_BOOL = 1,
    NGT_HLS_CFG_NUM = 2,
    NGT_HLS_CFG_STR = 3,
    NGT_HLS_CFG_LIST = 4,
    NGT_HLS_CFG_MAP = 5
};

/* Reads a precision configuration as the hls backend does (docs/hls.md): JSON text, a .json or
 * .lua file (a table literal, never executed), NgtBase resolved, keys checked and LayerName keys
 * in hls4ml's snake_case. NULL on error, with err naming the problem. */
ngt_hls_cfg *ngt_hls_cfg_load(const char *options, ngt_error *err);
void ngt_hls_cfg_free(ngt_hls_cfg *c);
int ngt_hls_cfg_kind(const ngt_hls_cfg *c);
double ngt_hls_cfg_num(const ngt_hls_cfg *c);         /* NUM, BOOL (0 or 1) */
const char *ngt_hls_cfg_string(const ngt_hls_cfg *c); /* STR, else NULL */
int ngt_hls_cfg_len(const ngt_hls_cfg *c);            /* LIST, MAP: children, else 0 */
/* Child i of a list or map, and its key (NULL in a list, and for a key overridden by a later
 * spelling of it, which readers skip). */
const ngt_hls_cfg *ngt_hls_cfg_item(const ngt_hls_cfg *c, int i);
const char *ngt_hls_cfg_key(const ngt_hls_cfg *c, int i);

#ifdef __cplusplus
}
#endif

#endif
