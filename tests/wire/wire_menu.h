/* wire_menu.h: the small menu the wire codec's tests and fuzzer speak: an event column, a scalar
 * column, a collection (max 4) and a batch scalar; one cut chain and one stream. */
#ifndef NGT_WIRE_MENU_H
#define NGT_WIRE_MENU_H

#include "ngt.h"

#include <stdlib.h>

static inline ngt_menu *wm_menu(ngt_schema **schema, ngt_registry **reg)
{
    ngt_error err;
    ngt_schema *s = ngt_schema_new();
    const char *fields[2] = {"pt", "eta"};
    ngt_dtype types[2] = {NGT_F32, NGT_F32};
    if (ngt_schema_add(s, "x", "f32[3]", &err) < 0 || ngt_schema_add(s, "met", "f32", &err) < 0 ||
        ngt_schema_add_collection(s, "jet", 4, 2, fields, types, &err) < 0 ||
        ngt_schema_add_scalar(s, "run", NGT_U32, &err) < 0)
        abort();
    ngt_registry *r = ngt_registry_new(&err);
    ngt_menu *m = ngt_menu_new(s, r, &err);
    int c = m ? ngt_menu_chain(m, "HighMet", &err) : -1;
    const char *chains[1] = {"HighMet"};
    if (c < 0 || ngt_menu_cut(m, c, "met > 0.5", &err) < 0 ||
        ngt_menu_stream(m, "physics", 1, chains, &err) < 0 || ngt_menu_build(m, &err) < 0)
        abort();
    *schema = s;
    *reg = r;
    return m;
}

#endif
