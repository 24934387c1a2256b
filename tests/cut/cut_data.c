/* cut_data.c: the schema and seeded random batch shared by the cut tests, and a minimal .npy
 * writer (the columns and masks the NumPy oracle reads). */
#include "cut_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ngt_schema *cd_schema(void)
{
    static const struct {
        const char *name, *type;
    } cols[] = {{"pt", "f32"},         {"x", "f64"},           {"nhit", "i32"},    {"flag", "bool"},
                {"fad_in", "f32[77]"}, {"fad_out", "f32[76]"}, {"hits", "i16[8]"}, {"q", "u8[6]"},
                {"big", "i64"},        {"w16", "u16"},         {"w32", "u32"},     {"w64", "u64"},
                {"s8", "i8"},          {"v", "f64[8]"},        {"m2", "f32[2][3]"}};
    static const char *jet_f[] = {"pt", "eta", "phi", "btag", "charge"};
    static const ngt_dtype jet_t[] = {NGT_F32, NGT_F32, NGT_F32, NGT_BOOL, NGT_I8};
    static const char *mu_f[] = {"pt", "eta", "phi", "m"};
    static const ngt_dtype mu_t[] = {NGT_F32, NGT_F32, NGT_F32, NGT_F32};
    ngt_error err = {0};
    ngt_schema *s = ngt_schema_new();
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
        if (ngt_schema_add(s, cols[k].name, cols[k].type, &err) < 0)
            goto fail;
    if (ngt_schema_add_scalar(s, "run", NGT_U32, &err) < 0 ||
        ngt_schema_add_scalar(s, "calib", NGT_F64, &err) < 0 ||
        ngt_schema_add_collection(s, "jet", CD_JET_MAX, 5, jet_f, jet_t, &err) < 0 ||
        ngt_schema_add_collection(s, "mu", CD_MU_MAX, 4, mu_f, mu_t, &err) < 0)
        goto fail;
    return s;
fail:
    fprintf(stderr, "cd_schema: %s\n", err.msg);
    ngt_schema_free(s);
    return NULL;
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t x = (rng_state += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
static double unit(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}
static double uniform(double lo, double hi)
{
    return lo + (hi - lo) * unit();
}
static int choose(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

/* Mostly uniform in [lo, hi), sometimes exactly one of the edge values. */
static double value(double lo, double hi, const double *edges, int nedges)
{
    if (nedges && choose(8) == 0)
        return edges[choose(nedges)];
    return uniform(lo, hi);
}

static void fill_float(ngt_batch *b, const char *name, size_t per_event, int n, double lo,
                       double hi)
{
    static const double edges[] = {0.0, 30.0, 20.0, -1.0, 0.5, 50.0};
    float *p = ngt_batch_column_by_name(b, name);
    for (size_t i = 0; i < (size_t)n * per_event; i++) {
        double v = value(lo, hi, edges, 6);
        p[i] = (float)(v >= lo && v < hi ? v : uniform(lo, hi)); /* only edges in range */
    }
}

static void fill_events(ngt_batch *b, int n)
{
    fill_float(b, "pt", 1, n, 0, 100);
    fill_float(b, "fad_in", 77, n, -1, 2);
    fill_float(b, "fad_out", 76, n, -1, 2);
    fill_float(b, "m2", 6, n, -5, 5);
    double *x = ngt_batch_column_by_name(b, "x"), *v = ngt_batch_column_by_name(b, "v");
    int32_t *nhit = ngt_batch_column_by_name(b, "nhit");
    uint8_t *flag = ngt_batch_column_by_name(b, "flag"), *q = ngt_batch_column_by_name(b, "q");
    int16_t *hits = ngt_batch_column_by_name(b, "hits");
    int64_t *big = ngt_batch_column_by_name(b, "big");
    uint16_t *w16 = ngt_batch_column_by_name(b, "w16");
    uint32_t *w32 = ngt_batch_column_by_name(b, "w32");
    uint64_t *w64 = ngt_batch_column_by_name(b, "w64");
    int8_t *s8 = ngt_batch_column_by_name(b, "s8");
    static const double xe[] = {0.0, 30.0, 49.0, 25.0};
    for (int e = 0; e < n; e++) {
        x[e] = value(0, 100, xe, 4);
        nhit[e] = choose(100) - 20;
        flag[e] = (uint8_t)choose(2);
        for (int j = 0; j < 6; j++)
            q[e * 6 + j] = (uint8_t)(choose(8) == 0 ? 255 : choose(256));
        for (int j = 0; j < 8; j++) {
            hits[e * 8 + j] =
                (int16_t)(choose(8) == 0 ? (choose(2) ? 32767 : -32768) : choose(2001) - 1000);
            v[e * 8 + j] = uniform(-1, 1);
        }
        big[e] = choose(4) == 0 ? (int64_t)(rnd() >> 1) * (choose(2) ? 1 : -1)
                                : (int64_t)choose(10000) - 2000;
        w16[e] = (uint16_t)rnd();
        w32[e] = (uint32_t)rnd();
        w64[e] = choose(4) == 0 ? rnd() : (uint64_t)choose(200000);
        s8[e] = (int8_t)(choose(8) == 0 ? -128 : choose(256) - 128);
    }
}

static void fill_collection(ngt_batch *b, const char *name, int max, int n, int has_extra)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s.n", name);
    int32_t *cnt = ngt_batch_column_by_name(b, buf);
    snprintf(buf, sizeof buf, "%s.pt", name);
    float *pt = ngt_batch_column_by_name(b, buf);
    snprintf(buf, sizeof buf, "%s.eta", name);
    float *eta = ngt_batch_column_by_name(b, buf);
    snprintf(buf, sizeof buf, "%s.phi", name);
    float *phi = ngt_batch_column_by_name(b, buf);
    static const double pte[] = {30.0, 20.0, 50.0};
    for (int e = 0; e < n; e++) {
        cnt[e] = choose(max + 3) - 1; /* -1 .. max + 1: counts outside [0, max] are clamped */
        for (int j = 0; j < max; j++) {
            size_t i = (size_t)e * max + j;
            pt[i] = (float)value(0, 120, pte, 3);
            eta[i] = (float)(choose(10) == 0 ? 2.4 : uniform(-3, 3));
            phi[i] = (float)uniform(-3.14159, 3.14159);
        }
    }
    if (!has_extra)
        return;
    if (max == CD_JET_MAX) {
        uint8_t *btag = ngt_batch_column_by_name(b, "jet.btag");
        int8_t *charge = ngt_batch_column_by_name(b, "jet.charge");
        for (size_t i = 0; i < (size_t)n * max; i++) {
            btag[i] = (uint8_t)(choose(3) == 0);
            charge[i] = (int8_t)(choose(3) - 1);
        }
    } else {
        float *m = ngt_batch_column_by_name(b, "mu.m");
        for (size_t i = 0; i < (size_t)n * max; i++)
            m[i] = (float)(choose(4) == 0 ? 0.0 : uniform(0.1, 5));
    }
}

/* About one object in 40 gets a NaN, +inf or -inf in one kinematic field (drawn after every other
 * value, so the rest of the batch is what it was without them). */
static void spoil_collection(ngt_batch *b, const char *name, int max, int n, int nfields)
{
    static const char *fields[] = {"pt", "eta", "phi", "m"};
    const double bad[] = {NAN, INFINITY, -INFINITY};
    char buf[64];
    for (size_t i = 0; i < (size_t)n * max; i++) {
        if (choose(40))
            continue;
        snprintf(buf, sizeof buf, "%s.%s", name, fields[choose(nfields)]);
        ((float *)ngt_batch_column_by_name(b, buf))[i] = (float)bad[choose(3)];
    }
}

ngt_batch *cd_batch(const ngt_schema *s, int n, uint64_t seed)
{
    ngt_error err = {0};
    ngt_batch *b = ngt_batch_new(s, n, &err);
    if (!b || ngt_batch_set_count(b, n, &err) < 0) {
        fprintf(stderr, "cd_batch: %s\n", err.msg);
        ngt_batch_free(b);
        return NULL;
    }
    rng_state = seed;
    fill_events(b, n);
    fill_collection(b, "jet", CD_JET_MAX, n, 1);
    fill_collection(b, "mu", CD_MU_MAX, n, 1);
    spoil_collection(b, "jet", CD_JET_MAX, n, 3);
    spoil_collection(b, "mu", CD_MU_MAX, n, 4);
    *(uint32_t *)ngt_batch_column_by_name(b, "run") = 7;
    *(double *)ngt_batch_column_by_name(b, "calib") = 1.25;
    return b;
}

int cd_npy_write(const char *path, ngt_dtype t, int rank, const int64_t *shape, const void *data)
{
    static const char *descr[] = {"<f4", "<f8", "|i1", "<i2", "<i4", "<i8",
                                  "|u1", "<u2", "<u4", "<u8", "|b1"};
    char dims[128] = "", header[256];
    size_t count = 1;
    for (int k = 0; k < rank; k++) {
        size_t len = strlen(dims);
        snprintf(dims + len, sizeof dims - len, "%lld,%s", (long long)shape[k],
                 rank > 1 && k < rank - 1 ? " " : "");
        count *= (size_t)shape[k];
    }
    if (rank > 1)
        dims[strlen(dims) - 1] = 0; /* (a, b) rather than (a, b,) */
    int len = snprintf(header, sizeof header,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr[t], dims);
    int total = (10 + len + 1 + 63) / 64 * 64; /* magic + header + newline, padded */
    memset(header + len, ' ', (size_t)(total - 10 - len - 1));
    header[total - 10 - 1] = '\n';
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    pre[8] = (unsigned char)((total - 10) & 0xff);
    pre[9] = (unsigned char)((total - 10) >> 8);
    size_t ok = fwrite(pre, 1, 10, f) == 10 &&
                fwrite(header, 1, (size_t)(total - 10), f) == (size_t)(total - 10) &&
                fwrite(data, ngt_dtype_size(t), count, f) == count;
    return fclose(f) == 0 && ok ? 0 : -1;
}
