/* testutil.h: small helpers shared by the C tests: a cmocka include block, a seeded generator and
 * an event schema with per-event values, a collection and identity. */
#ifndef NGT_TESTUTIL_H
#define NGT_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// clang-format off
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngt.h"

static inline uint64_t tu_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
/* Uniform in [0, 1) from a 64-bit key. */
static inline double tu_unit(uint64_t key)
{
    return (double)(tu_mix(key) >> 11) / 9007199254740992.0;
}

#define TU_OK(expr)                                                                                \
    do {                                                                                           \
        ngt_error e_ = {0};                                                                        \
        (void)e_;                                                                                  \
        int rc_ = (expr);                                                                          \
        if (rc_ < 0)                                                                               \
            fail_msg("%s failed: %d", #expr, rc_);                                                 \
    } while (0)

/* Schema: x f32, y f32, v f32[8], jet{pt,eta,phi} max 6, evt u64 (event number), run u32 scalar. */
static inline ngt_schema *tu_schema(void)
{
    ngt_schema *s = ngt_schema_new();
    ngt_error err;
    const char *f[] = {"pt", "eta", "phi"};
    ngt_dtype t[] = {NGT_F32, NGT_F32, NGT_F32};
    if (ngt_schema_add(s, "x", "f32", &err) < 0 || ngt_schema_add(s, "y", "f32", &err) < 0 ||
        ngt_schema_add(s, "v", "f32[8]", &err) < 0 ||
        ngt_schema_add_collection(s, "jet", 6, 3, f, t, &err) < 0 ||
        ngt_schema_add(s, "evt", "u64", &err) < 0 ||
        ngt_schema_add_scalar(s, "run", NGT_U32, &err) < 0)
        fail_msg("schema: %s", err.msg);
    return s;
}

/* Fills events [first, first+n) of a deterministic stream into b (x, y uniform; v; jets). */
static inline void tu_fill(ngt_batch *b, uint64_t first, int n)
{
    float *x = ngt_batch_column_by_name(b, "x"), *y = ngt_batch_column_by_name(b, "y");
    float *v = ngt_batch_column_by_name(b, "v");
    int32_t *nj = ngt_batch_column_by_name(b, "jet.n");
    float *pt = ngt_batch_column_by_name(b, "jet.pt"),
          *eta = ngt_batch_column_by_name(b, "jet.eta");
    float *phi = ngt_batch_column_by_name(b, "jet.phi");
    uint64_t *evt = ngt_batch_column_by_name(b, "evt");
    uint32_t *run = ngt_batch_column_by_name(b, "run");
    *run = 1;
    for (int i = 0; i < n; i++) {
        uint64_t id = first + (uint64_t)i;
        ngt_batch_event_ids(b)[i] = id;
        evt[i] = id;
        x[i] = (float)tu_unit(id * 4 + 0);
        y[i] = (float)tu_unit(id * 4 + 1);
        for (int k = 0; k < 8; k++)
            v[i * 8 + k] = (float)tu_unit(id * 64 + (uint64_t)k + 7);
        nj[i] = (int32_t)(tu_mix(id * 4 + 2) % 7);
        for (int k = 0; k < 6; k++) {
            pt[i * 6 + k] = (float)(100.0 * tu_unit(id * 32 + (uint64_t)k));
            eta[i * 6 + k] = (float)(5.0 * tu_unit(id * 32 + 16 + (uint64_t)k) - 2.5);
            phi[i * 6 + k] = (float)(6.2831853 * tu_unit(id * 32 + 8 + (uint64_t)k) - 3.1415927);
        }
    }
    ngt_batch_set_count(b, n, NULL);
}

#endif
