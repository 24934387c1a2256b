/* test_equiv.c: decisions of a menu written in Lua (tests/lua/menus/equiv.lua, run by
 * `ngt run --output DIR --record`) equal, event by event, those of the same menu built here
 * through ngt.h and run with ngt_menu_process over the recorded input. Usage: lua_equiv_c DIR */
#include "ngt_npy.h"
#include "ngt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__, #x, err.msg);    \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static ngt_error err;

static ngt_npy load(const char *dir, const char *name)
{
    char path[1024];
    ngt_npy a;
    snprintf(path, sizeof path, "%s/all/%s.npy", dir, name);
    if (ngt_npy_read(path, &a, &err) != NGT_OK) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        exit(1);
    }
    return a;
}

static ngt_menu *build(ngt_schema **sp, ngt_registry **rp)
{
    ngt_schema *s = ngt_schema_new();
    const char *jf[] = {"eta", "m", "phi", "pt"};
    const ngt_dtype jt[] = {NGT_F32, NGT_F32, NGT_F32, NGT_F32};
    CHECK(ngt_schema_add(s, "event", "u64", &err) >= 0); /* sorted, as ngt.schema orders them */
    CHECK(ngt_schema_add(s, "fad_in", "f32[77]", &err) >= 0);
    CHECK(ngt_schema_add_collection(s, "jet", 12, 4, jf, jt, &err) >= 0);
    CHECK(ngt_schema_add_scalar(s, "lumi", NGT_U32, &err) >= 0);
    CHECK(ngt_schema_add(s, "met", "f32", &err) >= 0);
    CHECK(ngt_schema_add_scalar(s, "run", NGT_U32, &err) >= 0);
    CHECK(ngt_schema_set_identity(s, "run", "lumi", "event", &err) == NGT_OK);
    ngt_registry *r = ngt_registry_new(&err);
    CHECK(r);
    CHECK(ngt_registry_load(r, "fad", "ref", "models/fad.onnx", NULL, &err) == NGT_OK);
    ngt_menu *m = ngt_menu_new(s, r, &err);
    CHECK(m);
    int j = ngt_menu_chain(m, "J", &err), ht = ngt_menu_chain(m, "HT", &err);
    int mm = ngt_menu_chain(m, "M", &err), f = ngt_menu_chain(m, "F", &err);
    int sc = ngt_menu_chain(m, "S", &err), z = ngt_menu_chain(m, "Z", &err);
    CHECK(j >= 0 && ht >= 0 && mm >= 0 && f >= 0 && sc >= 0 && z >= 0);
    CHECK(ngt_menu_cut(m, j, "leading(jet, 0).pt > 60", &err) == NGT_OK);
    CHECK(ngt_menu_cut(m, ht, "ht(jet, pt > 30 and abs(eta) < 2.4) > 150", &err) == NGT_OK);
    CHECK(ngt_menu_prescale(m, ht, 3, &err) == NGT_OK);
    CHECK(ngt_menu_cut(m, mm, "count(jet) >= 2", &err) == NGT_OK);
    CHECK(ngt_menu_cut(m, mm, "mass(jet, 0, 1) > 200", &err) == NGT_OK);
    const char *in[] = {"fad_in"}, *out[] = {"fad_out"};
    CHECK(ngt_menu_infer(m, f, "fad", 1, in, 1, out, &err) == NGT_OK);
    CHECK(ngt_menu_cut(m, f, "mean((fad_out - fad_in[0:76])**2) > 0.1", &err) == NGT_OK);
    const char *seeds[] = {"J", "HT"}, *veto[] = {"M"};
    CHECK(ngt_menu_seed(m, sc, 2, seeds, &err) == NGT_OK);
    CHECK(ngt_menu_veto(m, sc, 1, veto, &err) == NGT_OK);
    CHECK(ngt_menu_cut(m, sc, "met > 20", &err) == NGT_OK);
    CHECK(ngt_menu_prescale(m, z, 7, &err) == NGT_OK);
    const char *a[] = {"J", "HT", "M"}, *b[] = {"F", "S", "Z"};
    CHECK(ngt_menu_stream(m, "a", 3, a, &err) >= 0);
    CHECK(ngt_menu_stream(m, "b", 3, b, &err) >= 0);
    CHECK(ngt_menu_build(m, &err) == NGT_OK);
    *sp = s;
    *rp = r;
    return m;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: lua_equiv_c DIR\n");
        return 2;
    }
    ngt_schema *s;
    ngt_registry *r;
    ngt_menu *m = build(&s, &r);
    const ngt_schema *ms = ngt_menu_schema(m);
    int ncol = ngt_schema_ncolumns(s);
    ngt_npy cols[16];
    CHECK(ncol <= 16);
    for (int c = 0; c < ncol; c++)
        cols[c] = load(argv[1], ngt_schema_column(s, c)->name);
    ngt_npy dec = load(argv[1], "ngt.decision");
    int64_t n = dec.shape[0];
    CHECK(n > 100 && dec.dtype == NGT_U64);
    enum { CAP = 64 };
    ngt_batch *b = ngt_batch_new(ms, CAP, &err);
    ngt_ctx *ctx = ngt_ctx_new(m, CAP, &err);
    CHECK(b && ctx);
    int dcol = ngt_schema_find(ms, "ngt.decision");
    size_t drow = ngt_schema_column(ms, dcol)->row_bytes;
    CHECK(drow == (size_t)dec.shape[1] * 8);
    int64_t mismatches = 0, accepted = 0;
    for (int64_t at = 0; at < n;) {
        int k = n - at < CAP ? (int)(n - at) : CAP;
        for (int c = 0; c < ncol; c++) { /* a batch ends where a batch scalar changes */
            const ngt_column_info *ci = ngt_schema_column(s, c);
            if (ci->kind != NGT_COL_SCALAR)
                continue;
            const char *d = cols[c].data;
            for (int i = 1; i < k; i++)
                if (memcmp(d + (at + i) * ci->row_bytes, d + at * ci->row_bytes, ci->row_bytes)) {
                    k = i;
                    break;
                }
        }
        for (int c = 0; c < ncol; c++) {
            const ngt_column_info *ci = ngt_schema_column(s, c);
            const char *src = (const char *)cols[c].data + at * (int64_t)ci->row_bytes;
            memcpy(ngt_batch_column(b, c), src,
                   ci->kind == NGT_COL_SCALAR ? ci->row_bytes : (size_t)k * ci->row_bytes);
        }
        CHECK(ngt_batch_set_count(b, k, &err) == NGT_OK);
        uint64_t *ids = ngt_batch_event_ids(b);
        for (int i = 0; i < k; i++)
            ids[i] = (uint64_t)(at + i) * 977; /* ignored: prescales hash the physics identity */
        CHECK(ngt_menu_process(m, ctx, b, &err) == NGT_OK);
        const char *mine = ngt_batch_column(b, dcol);
        for (int i = 0; i < k; i++) {
            const char *theirs = (const char *)dec.data + (at + i) * (int64_t)drow;
            if (memcmp(mine + (size_t)i * drow, theirs, drow) != 0) {
                if (mismatches < 5)
                    fprintf(stderr, "event %lld: C %#llx, Lua %#llx\n", (long long)(at + i),
                            (unsigned long long)*(const uint64_t *)(mine + (size_t)i * drow),
                            (unsigned long long)*(const uint64_t *)theirs);
                mismatches++;
            }
            accepted += *(const uint64_t *)(mine + (size_t)i * drow) != 0;
        }
        at += k;
    }
    printf("%lld events, %lld accepted, %lld decisions differ\n", (long long)n, (long long)accepted,
           (long long)mismatches);
    CHECK(mismatches == 0);
    CHECK(accepted > n / 20 && accepted < n); /* the menu decides something */
    for (int c = 0; c < ncol; c++)
        ngt_npy_free(&cols[c]);
    ngt_npy_free(&dec);
    ngt_ctx_free(ctx);
    ngt_batch_free(b);
    ngt_menu_free(m);
    ngt_registry_free(r);
    ngt_schema_free(s);
    return 0;
}
