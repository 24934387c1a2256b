/* test_models.c: the hls backend against hls4ml's predict() goldens (data/models/, made by
 * tools/hls_oracle.py): raw output bits per event (0 mismatches), at batch 1, 7 and 256. */
#include <math.h>

#include "hls/ngt_hls.h"
#include "ngt_npy.h"
#include "testutil.h"

#include "hls/hls_cfg.h"
#include "hls/hls_model.h"

/* One resolved type: hls4ml's types.json entry key of layer e against t (0 when equal or absent).
 */
static int type_differs(const char *model, const char *layer, const hls_cfg *e, const char *key,
                        const hls_type *t)
{
    const char *s = hls_cfg_str(hls_cfg_get(e, key));
    if (!s)
        return 0;
    hls_type want;
    ngt_error err = {0};
    assert_int_equal(hls_type_parse(s, &want, 128, &err), NGT_OK);
    if (hls_type_eq(&want, t))
        return 0;
    char buf[64];
    print_message("%s: layer %s %s: hls4ml %s, ngt %s\n", model, layer, key, s,
                  hls_type_str(t, buf, sizeof buf));
    return 1;
}

/* The backend's resolved ('auto' included) types against hls4ml's (types.json). */
static int check_types(const char *name, const char *dir, const hls_model *hm)
{
    char path[320];
    snprintf(path, sizeof path, "%s/types.json", dir);
    ngt_error err = {0};
    hls_cfg *types = hls_cfg_load(path, &err);
    assert_non_null(types);
    int bad = 0, seen = 0;
    for (int k = 0; k < hm->n_layers; k++) {
        const hls_layer *l = &hm->layers[k];
        const hls_cfg *e = hls_cfg_get(types, k == 0 ? "x" : l->name);
        if (!e) {
            print_message("%s: layer %s missing from types.json\n", name, l->name);
            bad++;
            continue;
        }
        seen++;
        bad += type_differs(name, l->name, e, "result_t", &l->res);
        switch (l->kind) {
        case HLS_L_DENSE:
        case HLS_L_CONV:
            bad += type_differs(name, l->name, e, "accum_t", &l->acc);
            bad += type_differs(name, l->name, e, "weight_t", &l->wt);
            bad += type_differs(name, l->name, e, "bias_t", &l->bt);
            break;
        case HLS_L_BATCHNORM:
            bad += type_differs(name, l->name, e, "scale_t", &l->wt);
            bad += type_differs(name, l->name, e, "bias_t", &l->bt);
            break;
        case HLS_L_SIGMOID:
        case HLS_L_TANH:
            bad += type_differs(name, l->name, e, "table_t", &l->tab);
            break;
        case HLS_L_SOFTMAX:
            bad += type_differs(name, l->name, e, "accum_t", &l->acc);
            bad += type_differs(name, l->name, e, "exp_table_t", &l->exp_t);
            bad += type_differs(name, l->name, e, "inv_table_t", &l->inv_t);
            bad += type_differs(name, l->name, e, "inv_inp_t", &l->inv_inp);
            break;
        default:
            break;
        }
    }
    hls_cfg_free(types);
    assert_true(seen >= 2);
    return bad;
}

static int check_one(const char *name)
{
    char dir[256], onnx[320], path[320];
    snprintf(dir, sizeof dir, "tests/hls/data/models/%s", name);
    if (strcmp(name, "fad") == 0 || strcmp(name, "mdt") == 0)
        snprintf(onnx, sizeof onnx, "models/%s.onnx", name);
    else
        snprintf(onnx, sizeof onnx, "%s/model.onnx", dir);
    snprintf(path, sizeof path, "%s/config.json", dir);
    const ngt_backend *be = hls_backend();
    ngt_error err = {0};
    void *m = NULL;
    if (be->load(onnx, path, &m, &err) < 0) {
        print_message("%s: skipped: %s\n", name, err.msg);
        return -1;
    }
    ngt_npy x, want;
    snprintf(path, sizeof path, "%s/input.npy", dir);
    assert_int_equal(ngt_npy_read(path, &x, &err), NGT_OK);
    snprintf(path, sizeof path, "%s/output.npy", dir);
    assert_int_equal(ngt_npy_read(path, &want, &err), NGT_OK);
    assert_int_equal(want.dtype, NGT_F64);
    const hls_model *hm = m;
    const hls_layer *o = &hm->layers[hm->out_layer];
    int n = (int)x.shape[0];
    size_t ni = (size_t)hm->layers[0].size, no = (size_t)o->size;
    void *ws = malloc(be->workspace_size(m, 256));
    float *one = malloc(no * sizeof(float)), *all = malloc((size_t)n * no * sizeof(float));
    int hw = o->w ? o->h * o->w : 1, c = o->w ? o->c : (int)o->size;
    long bad = 0;
    const float *xf = x.data;
    const double *wd = want.data;
    for (int e = 0; e < n; e++) {
        const void *in[1] = {xf + (size_t)e * ni};
        void *out[1] = {one};
        assert_int_equal(be->infer(m, ws, in, out, 1, &err), NGT_OK);
        const int64_t *raw = hls_output_raw(m, ws);
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++) {
                double g = wd[(size_t)e * no + (size_t)ch * hw + p];
                double r = ldexp(g, hls_frac(&o->res));
                if (r != (double)raw[(size_t)p * c + ch]) {
                    if (bad < 3)
                        print_message("%s: event %d value %d: hls4ml %.17g, ngt %.17g\n", name, e,
                                      ch * hw + p, g,
                                      hls_to_double(raw[(size_t)p * c + ch], &o->res));
                    bad++;
                }
            }
    }
    /* batch invariance: 1, 7 and 256 events per call give the same bits */
    int sizes[] = {1, 7, 256};
    float *ref = malloc((size_t)n * no * sizeof(float));
    for (int s = 0; s < 3; s++) {
        for (int e = 0; e < n; e += sizes[s]) {
            int k = n - e < sizes[s] ? n - e : sizes[s];
            const void *in[1] = {xf + (size_t)e * ni};
            void *out[1] = {all + (size_t)e * no};
            assert_int_equal(be->infer(m, ws, in, out, k, &err), NGT_OK);
        }
        if (s == 0)
            memcpy(ref, all, (size_t)n * no * sizeof(float));
        else
            assert_memory_equal(ref, all, (size_t)n * no * sizeof(float));
    }
    int tbad = check_types(name, dir, hm);
    print_message("%-16s %4d events x %4zu values: %ld mismatches, %d type differences (%s)\n",
                  name, n, no, bad, tbad, hls_tile_kernel(hm));
    if (strcmp(name, "fad") == 0 || strcmp(name, "mdt") == 0) {
        assert_true(hm->tiled); /* the canonical models take the tiled fast path */
        /* the kernel NGT_ISA asks for (the ctest runs at avx2 and generic), when the CPU has it */
        const char *isa = getenv("NGT_ISA");
        if (isa && !strcmp(isa, ngt_cpu_isa()))
            assert_int_equal(strncmp(hls_tile_kernel(hm), isa, strlen(isa)), 0);
    }
    bad += tbad;
    free(ref);
    free(ws);
    free(one);
    free(all);
    ngt_npy_free(&x);
    ngt_npy_free(&want);
    be->unload(m);
    return bad > 0;
}

static void test_canonical(void **state)
{
    (void)state;
    assert_int_equal(check_one("fad"), 0);
    assert_int_equal(check_one("mdt"), 0);
    assert_int_equal(check_one("wide_mlp"), 0);   /* 53-bit outputs (lossless 'auto' Dense) */
    assert_int_equal(check_one("wide_tiled"), 0); /* 49-bit outputs, on the tiled path */
}

static void test_random(void **state)
{
    (void)state;
    FILE *f = fopen("tests/hls/data/models/LIST", "r");
    assert_non_null(f);
    char name[128];
    int ok = 0, failed = 0, skipped = 0;
    while (fscanf(f, "%127s", name) == 1) {
        if (strncmp(name, "rand", 4) != 0 && strncmp(name, "gen_", 4) != 0)
            continue; /* gen_: configurations written by hls4ml's generator, CamelCase keys */
        int r = check_one(name);
        ok += r == 0;
        failed += r > 0;
        skipped += r < 0;
    }
    fclose(f);
    print_message("random models: %d bit-exact, %d with mismatches, %d unsupported\n", ok, failed,
                  skipped);
    assert_int_equal(failed, 0);
    assert_int_equal(skipped, 0);
    assert_true(ok >= 25);
}

/* The tiled path against the exact step-by-step path (hls_event with statistics) on inputs that
 * wrap and saturate: narrow results, RND/SAT, the input scaled up; any batch split. ovf_layer
 * (may be NULL): a layer whose values must have wrapped or saturated. */
static long tiled_vs_exact(const char *onnx, const char *cfg, const char *input, float gain,
                           int must_tile, const char *ovf_layer)
{
    const ngt_backend *be = hls_backend();
    ngt_error err = {0};
    void *m = NULL;
    assert_int_equal(be->load(onnx, cfg, &m, &err), NGT_OK);
    const hls_model *hm = m;
    if (!hm->tiled) {
        assert_false(must_tile);
        be->unload(m);
        return -1;
    }
    ngt_npy x;
    assert_int_equal(ngt_npy_read(input, &x, &err), NGT_OK);
    int n = (int)x.shape[0];
    size_t ni = (size_t)hm->layers[0].size, no = (size_t)hm->layers[hm->out_layer].size;
    float *xs = malloc((size_t)n * ni * sizeof(float));
    float *a = malloc((size_t)n * no * sizeof(float)), *b = malloc(no * sizeof(float));
    int64_t *st = malloc(sizeof *st * 8 * (size_t)hm->n_layers);
    void *ws = malloc(be->workspace_size(m, 256));
    for (size_t i = 0; i < (size_t)n * ni; i++)
        xs[i] = ((const float *)x.data)[i] * (i % 3 ? gain : 1.0f);
    for (int e = 0; e < n; e += 13) {
        int k = n - e < 13 ? n - e : 13;
        const void *in[1] = {xs + (size_t)e * ni};
        void *out[1] = {a + (size_t)e * no};
        assert_int_equal(be->infer(m, ws, in, out, k, &err), NGT_OK);
    }
    long bad = 0, changed = 0, layer_ovf = 0;
    for (int e = 0; e < n; e++) {
        for (int k = 0; k < 8 * hm->n_layers; k++)
            st[k] = k % 8 == 2 ? INT64_MAX : k % 8 == 3 ? INT64_MIN : 0;
        assert_int_equal(hls_event(hm, ws, xs + (size_t)e * ni, b, st), NGT_OK);
        bad += memcmp(b, a + (size_t)e * no, no * sizeof(float)) != 0;
        for (int k = 0; k < hm->n_layers; k++) {
            changed += st[8 * k];
            if (ovf_layer && !strcmp(hm->layers[k].name, ovf_layer))
                layer_ovf += st[8 * k];
        }
    }
    if (ovf_layer)
        assert_true(layer_ovf > 0);
    print_message("%s tiled vs exact, %s: %ld of %d events differ (%ld overflows)\n", onnx, cfg,
                  bad, n, changed);
    assert_int_equal(bad, 0);
    free(xs);
    free(a);
    free(b);
    free(st);
    free(ws);
    ngt_npy_free(&x);
    be->unload(m);
    return changed;
}

/* Dense/Conv accumulators and results lossless ('auto', as hls4ml's generators write them; a
 * type left out takes the model default, as in hls4ml). */
#define LOSSLESS "\"accum\": \"auto\", \"result\": \"auto\""

static void test_tiled(void **state)
{
    (void)state;
    /* overflows > 0: the wrap and saturation fallbacks were exercised */
    assert_true(
        tiled_vs_exact("models/fad.onnx",
                       "{\"Model\": {\"Precision\": {\"default\": \"fixed<10,3>\", " LOSSLESS
                       "}}, \"LayerName\": {"
                       "\"fc1\": {\"Precision\": {\"result\": \"fixed<12,2>\"}},"
                       "\"relu2\": {\"Precision\": {\"result\": \"fixed<8,2,RND,SAT>\"}}}}",
                       "tests/hls/data/models/fad/input.npy", 40.0f, 1, NULL) > 0);
    assert_true(tiled_vs_exact(
                    "models/mdt.onnx",
                    "{\"Model\": {\"Precision\": {\"default\": \"fixed<12,3,RND,SAT>\", " LOSSLESS
                    "}}}",
                    "tests/hls/data/models/mdt/input.npy", 30.0f, 1, NULL) > 0);
    assert_true(
        tiled_vs_exact(
            "models/mdt.onnx",
            "{\"Model\": {\"Precision\": {\"default\": \"fixed<14,2,RND,SAT_SYM>\", " LOSSLESS
            "}}}",
            "tests/hls/data/models/mdt/input.npy", 30.0f, 1, NULL) > 0);
    /* a Dense result cast in place that drops bits (d > 0) and wraps or saturates: the int64
     * cast reads the sums, not the values already cast (TRN/WRAP and RND/SAT) */
    assert_true(
        tiled_vs_exact("models/fad.onnx",
                       "{\"Model\": {\"Precision\": {\"default\": \"fixed<16,6>\", " LOSSLESS
                       "}}, \"LayerName\": {\"fc1\": {\"Precision\": {\"result\": "
                       "\"fixed<10,1>\"}}, \"fc2\": {\"Precision\": {\"result\": "
                       "\"fixed<10,1,RND,SAT>\"}}}}",
                       "tests/hls/data/models/fad/input.npy", 8.0f, 1, "fc1") > 0);
    assert_true(
        tiled_vs_exact("models/fad.onnx",
                       "{\"Model\": {\"Precision\": {\"default\": \"fixed<16,6>\", " LOSSLESS
                       "}}, \"LayerName\": {\"fc2\": {\"Precision\": {\"result\": "
                       "\"fixed<10,1,RND,SAT>\"}}}}",
                       "tests/hls/data/models/fad/input.npy", 8.0f, 1, "fc2") > 0);
    /* the random models that qualify: Conv2D (padded copies), Conv1D, sigmoid/tanh, MLPs */
    const char *cfgs[] = {
        "{\"Model\": {\"Precision\": {\"default\": \"fixed<16,6>\", " LOSSLESS "}}}",
        "{\"Model\": {\"Precision\": {\"default\": \"fixed<9,2,RND,SAT>\", " LOSSLESS "}}}"};
    FILE *f = fopen("tests/hls/data/models/LIST", "r");
    assert_non_null(f);
    char name[128], onnx[320], input[320];
    int tiled = 0;
    while (fscanf(f, "%127s", name) == 1) {
        if (strncmp(name, "rand", 4) != 0)
            continue;
        snprintf(onnx, sizeof onnx, "tests/hls/data/models/%s/model.onnx", name);
        snprintf(input, sizeof input, "tests/hls/data/models/%s/input.npy", name);
        for (int c = 0; c < 2; c++)
            tiled += tiled_vs_exact(onnx, cfgs[c], input, 8.0f, 0, NULL) >= 0;
    }
    fclose(f);
    print_message("tiled path checked on %d random model configurations\n", tiled);
    assert_true(tiled >= 12);
}

/* The hls tools' C side: per-layer counts on the exact path, the same outputs as the fast path. */
static void test_profile(void **state)
{
    (void)state;
    ngt_error err = {0};
    ngt_npy x;
    assert_int_equal(ngt_npy_read("tests/hls/data/models/fad/input.npy", &x, &err), NGT_OK);
    int n = (int)x.shape[0];
    ngt_hls_stats *st = calloc(1, sizeof *st);
    float *a = malloc((size_t)n * 76 * sizeof(float)), *b = malloc((size_t)n * 76 * sizeof(float));
    const char *narrow =
        "{\"Model\": {\"Precision\": {\"default\": \"fixed<6,3>\", " LOSSLESS "}}}";
    assert_int_equal(ngt_hls_profile("models/fad.onnx", narrow, x.data, n, a, st, &err), NGT_OK);
    assert_int_equal(st->n_layers, 8);
    assert_int_equal(st->in_size, 77);
    assert_int_equal(st->out_size, 76);
    assert_string_equal(st->layer[1].name, "fc1");
    assert_string_equal(st->layer[1].kind, "Dense");
    assert_true(st->layer[0].overflows > 0); /* inputs up to 10 in [-4, 4) */
    assert_true(st->layer[0].values == (int64_t)n * 77);
    assert_true(st->layer[2].rounded > 0);
    assert_true(st->layer[1].multipliers == 77 * 32 && st->layer[1].weight_width == 6);
    for (int k = 0; k < st->n_layers; k++)
        assert_true(st->layer[k].seen_min >= st->layer[k].type_min &&
                    st->layer[k].seen_max <= st->layer[k].type_max);
    assert_int_equal(ngt_hls_profile("models/fad.onnx", narrow, x.data, n, b, NULL, &err), NGT_OK);
    assert_memory_equal(a, b, (size_t)n * 76 * sizeof(float));
    assert_true(ngt_hls_profile("models/fad.onnx", "{\"Model\": 3", x.data, n, b, st, &err) < 0);
    free(a);
    free(b);
    free(st);
    ngt_npy_free(&x);
}

/* NgtOutput = "f64" over NgtBase = the model's config: float64 outputs equal to hls4ml's
 * predict() values bit for bit (float32 loses bits of the wide 'auto' Dense results), at 1, 7,
 * 13 and all events a call (the tiled path: partial tiles, several tiles and chunks); returns
 * the number of values that differ, how many of them float32 would have lost in *lossy, and
 * whether the model took the tiled path in *tiled. */
static long check_f64(const char *name, long *lossy, int *tiled)
{
    char dir[256], onnx[320], opts[400], path[320];
    snprintf(dir, sizeof dir, "tests/hls/data/models/%s", name);
    if (strcmp(name, "fad") == 0 || strcmp(name, "mdt") == 0)
        snprintf(onnx, sizeof onnx, "models/%s.onnx", name);
    else
        snprintf(onnx, sizeof onnx, "%s/model.onnx", dir);
    snprintf(opts, sizeof opts, "{\"NgtBase\": \"%s/config.json\", \"NgtOutput\": \"f64\"}", dir);
    const ngt_backend *be = hls_backend();
    ngt_error err = {0};
    void *m = NULL;
    if (be->load(onnx, opts, &m, &err) < 0)
        fail_msg("%s: %s", name, err.msg);
    ngt_model_desc d;
    be->describe(m, &d);
    assert_int_equal(d.outputs[0].dtype, NGT_F64);
    ngt_npy x, want;
    snprintf(path, sizeof path, "%s/input.npy", dir);
    assert_int_equal(ngt_npy_read(path, &x, &err), NGT_OK);
    snprintf(path, sizeof path, "%s/output.npy", dir);
    assert_int_equal(ngt_npy_read(path, &want, &err), NGT_OK);
    int n = (int)x.shape[0];
    size_t count = want.bytes / sizeof(double);
    double *got = calloc(count, sizeof(double));
    void *ws = malloc(be->workspace_size(m, n));
    long bad = 0;
    const double *wd = want.data;
    int sizes[] = {1, 7, 13, n};
    for (int s = 0; s < 4; s++) {
        memset(got, 0xff, count * sizeof(double)); /* NaN: a value not written differs */
        for (int e = 0; e < n; e += sizes[s]) {
            int k = n - e < sizes[s] ? n - e : sizes[s];
            size_t per = count / (size_t)n;
            const void *in[1] = {(const float *)x.data +
                                 (size_t)e * (x.bytes / sizeof(float) / (size_t)n)};
            void *out[1] = {got + (size_t)e * per};
            assert_int_equal(be->infer(m, ws, in, out, k, &err), NGT_OK);
        }
        for (size_t i = 0; i < count; i++)
            bad += memcmp(&got[i], &wd[i], sizeof(double)) != 0;
    }
    for (size_t i = 0; i < count; i++)
        *lossy += (double)(float)wd[i] != wd[i];
    *tiled = ((const hls_model *)m)->tiled;
    free(got);
    free(ws);
    ngt_npy_free(&x);
    ngt_npy_free(&want);
    be->unload(m);
    return bad;
}

static void test_f64_outputs(void **state)
{
    (void)state;
    FILE *f = fopen("tests/hls/data/models/LIST", "r");
    assert_non_null(f);
    char name[128];
    long bad = 0, lossy = 0, lossy_tiled = 0;
    int models = 0, tiled = 0;
    while (fscanf(f, "%127s", name) == 1) {
        long lz = 0;
        int t = 0;
        long b = check_f64(name, &lz, &t);
        if (b)
            print_message("%s: %ld float64 values differ from hls4ml's predict()\n", name, b);
        bad += b;
        lossy += lz;
        models++;
        tiled += t;
        lossy_tiled += t ? lz : 0;
        if (!strcmp(name, "fad") || !strcmp(name, "mdt") || !strcmp(name, "wide_tiled"))
            assert_true(t); /* float64 on the tiled path */
    }
    fclose(f);
    print_message("f64 outputs: %d models (%d tiled), %ld values differ; float32 would change %ld "
                  "values (%ld on the tiled path)\n",
                  models, tiled, bad, lossy, lossy_tiled);
    assert_true(models >= 25);
    assert_true(tiled >= 3);
    assert_true(lossy_tiled > 0); /* the tiled path has values float32 cannot hold */
    assert_true(lossy > 0);       /* the test has values float32 cannot hold */
    assert_int_equal(bad, 0);
    ngt_error err = {0};
    void *m = NULL;
    const ngt_backend *be = hls_backend();
    assert_true(be->load("models/fad.onnx", "{\"NgtOutput\": \"f16\"}", &m, &err) < 0);
    assert_non_null(strstr(err.msg, "NgtOutput"));
    assert_true(be->load("models/fad.onnx", "{\"NgtBase\": \"/nonexistent.json\"}", &m, &err) < 0);
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_true(be->load("models/fad.onnx", "{\"NgtBase\": 3}", &m, &err) < 0);
    assert_non_null(strstr(err.msg, "NgtBase"));
    /* without NgtOutput: float32, as before */
    assert_int_equal(be->load("models/fad.onnx", "configs/fad_hls.json", &m, &err), NGT_OK);
    ngt_model_desc d;
    be->describe(m, &d);
    assert_int_equal(d.outputs[0].dtype, NGT_F32);
    be->unload(m);
}

/* Loads fad with cfg; returns the model (NULL and err filled when refused). */
static hls_model *load_fad(const char *cfg, ngt_error *err)
{
    void *m = NULL;
    memset(err, 0, sizeof *err);
    return hls_backend()->load("models/fad.onnx", cfg, &m, err) < 0 ? NULL : m;
}

static void refused(const char *cfg, const char *needle)
{
    ngt_error err;
    hls_model *m = load_fad(cfg, &err);
    if (m) {
        hls_backend()->unload(m);
        fail_msg("accepted: %s", cfg);
    }
    if (!strstr(err.msg, needle))
        fail_msg("'%s': the error '%s' does not name '%s'", cfg, err.msg, needle);
}

/* Configuration keys as hls4ml reads them: CamelCase or snake_case layer keys (the later of two
 * spellings wins), types looked up as hls4ml's get_precision does, unknown keys refused by name,
 * keys that cannot change the C simulation accepted. */
static void test_config_keys(void **state)
{
    (void)state;
    ngt_error err;
    /* a type left out takes the model default (fc1's sums are not lossless then), as hls4ml */
    hls_model *m = load_fad("{\"Model\": {\"Precision\": {\"default\": \"fixed<16,6>\"}}}", &err);
    assert_non_null(m);
    assert_int_equal(m->layers[1].acc.w, 16);
    assert_int_equal(m->layers[1].res.w, 16);
    hls_backend()->unload(m);
    /* layer Precision: a map's default, or a type, beats the Model's per-type entry */
    m = load_fad("{\"Model\": {\"Precision\": {\"default\": \"fixed<16,6>\", \"weight\": "
                 "\"fixed<8,3>\"}}, \"LayerName\": {\"fc1\": {\"Precision\": {\"default\": "
                 "\"fixed<12,4>\"}}, \"fc2\": {\"Precision\": \"fixed<10,4>\"}}}",
                 &err);
    assert_non_null(m);
    assert_int_equal(m->layers[1].wt.w, 12);
    assert_int_equal(m->layers[1].acc.w, 12);
    assert_int_equal(m->layers[3].wt.w, 10);
    assert_int_equal(m->layers[3].bt.w, 10);
    assert_int_equal(m->layers[5].wt.w, 8); /* fc3: the Model's weight type */
    assert_int_equal(m->layers[5].bt.w, 16);
    hls_backend()->unload(m);
    /* accepted: hls4ml's generator keys without effect on values, both spellings of a key */
    m = load_fad("{\"Model\": {\"Precision\": {\"default\": \"fixed<16,6>\"}, \"ReuseFactor\": 1, "
                 "\"Strategy\": \"Latency\", \"BramFactor\": 1000000000, \"TraceOutput\": false, "
                 "\"ChannelsLastConversion\": \"full\", \"TransposeOutputs\": false}, "
                 "\"InputShape\": [77], \"LayerName\": {\"fc1\": {\"ReuseFactor\": 1, \"Trace\": "
                 "false, \"reuse_factor\": 2, \"Strategy\": \"latency\"}}}",
                 &err);
    if (!m)
        fail_msg("%s", err.msg);
    hls_backend()->unload(m);
    /* a layer-level AccumT replaces the Precision accumulator of a Dense ('auto': lossless) */
    m = load_fad("{\"LayerName\": {\"fc1\": {\"Precision\": {\"accum\": \"fixed<18,6>\"}, "
                 "\"AccumT\": \"fixed<20,8>\"}, \"fc2\": {\"Precision\": {\"accum\": "
                 "\"fixed<18,6>\"}, \"accum_t\": \"auto\"}}}",
                 &err);
    if (!m)
        fail_msg("%s", err.msg);
    assert_int_equal(m->layers[1].acc.w, 20);
    assert_true(m->layers[3].acc.w > 30);
    hls_backend()->unload(m);
    /* refused, naming the key */
    refused("{\"LayerName\": {\"fc1\": {\"TableSiz\": 512}}}", "TableSiz");
    refused("{\"LayerName\": {\"fc1\": {\"Precision\": {\"wieght\": \"fixed<8,3>\"}}}}", "wieght");
    refused("{\"LayerName\": {\"fc1\": {\"precision\": {\"weight\": \"fixed<8,3>\"}}}}",
            "precision");
    refused("{\"LayerName\": {\"fc9\": {\"Precision\": \"fixed<8,3>\"}}}", "fc9");
    refused("{\"LayerType\": {\"Dense\": {\"TableSiz\": 512}}}", "LayerType 'Dense'");
    refused("{\"LayerType\": {\"Dense\": {\"Strategy\": \"Resource\"}}}", "Strategy");
    refused("{\"LayerType\": [1]}", "LayerType");
    refused("{\"LayerType\": {\"MatMul\": {\"Precision\": \"fixed<8,3>\"}}}", "'Dense'");
    refused("{\"LayerType\": {\"Conv\": {}}}", "Conv1D");
    refused("{\"Model\": {\"Strategy\": \"Resource\"}}", "Strategy");
    refused("{\"Model\": {\"ChannelsLastConversion\": \"off\"}}", "ChannelsLastConversion");
    refused("{\"Model\": {\"Precison\": \"fixed<8,3>\"}}", "Precison");
    refused("{\"Model\": {\"Precision\": {\"default\": \"fixed<16,6>\", \"maximum\": "
            "\"fixed<20,8>\"}}}",
            "maximum");
    refused("{\"Modle\": {}}", "Modle");
    refused("{\"LayerName\": {\"relu1\": {\"Strategy\": \"Resource\"}}}", "Strategy");
    /* strings: JSON's escapes (\uXXXX as UTF-8, surrogate pairs) and Lua's (\ddd, \xhh); a key
     * given twice: the later, as JSON readers and Lua tables take it */
    hls_cfg *c =
        hls_cfg_parse("{\"a\": \"\\t\\\"q\\\\\\/\\u00e9\\ud83d\\ude00\\r\", b = 'x\\9\\x41', "
                      "\"a2\": 1, \"a2\": 2}",
                      &err);
    assert_non_null(c);
    assert_string_equal(hls_cfg_str(hls_cfg_get(c, "a")), "\t\"q\\/\xc3\xa9\xf0\x9f\x98\x80\r");
    assert_string_equal(hls_cfg_str(hls_cfg_get(c, "b")), "x\tA");
    assert_true(hls_cfg_get(c, "a2")->num == 2);
    hls_cfg_free(c);
    assert_null(hls_cfg_parse("{\"a\": \"\\u12\"}", &err));
}

/* hls4ml's spellings: TableSize and table_size read alike, the later of the two winning. */
static void test_config_spellings(void **state)
{
    (void)state;
    const char *onnx = "tests/hls/data/models/rand02_cat/model.onnx";
    const char *cfgs[] = {
        "{\"LayerName\": {\"sigmoid4\": {\"TableSize\": 256}, \"softmax7\": {\"Implementation\": "
        "\"latency\", \"TableSize\": 512, \"ExpTableT\": \"fixed<14,6>\"}}}",
        "{\"LayerName\": {\"sigmoid4\": {\"table_size\": 256}, \"softmax7\": {\"implementation\": "
        "\"latency\", \"table_size\": 512, \"exp_table_t\": \"fixed<14,6>\"}}}",
        "{\"LayerName\": {\"sigmoid4\": {\"table_size\": 64, \"TableSize\": 256}, \"softmax7\": "
        "{\"Implementation\": \"stable\", \"implementation\": \"latency\", \"TableSize\": 512, "
        "\"exp_table_t\": \"fixed<14,6>\"}}}"};
    for (int c = 0; c < 3; c++) {
        void *m = NULL;
        ngt_error err = {0};
        if (hls_backend()->load(onnx, cfgs[c], &m, &err) < 0)
            fail_msg("%s", err.msg);
        const hls_model *hm = m;
        int seen = 0;
        for (int k = 0; k < hm->n_layers; k++) {
            const hls_layer *l = &hm->layers[k];
            if (strcmp(l->name, "sigmoid4") == 0) {
                assert_int_equal(l->table_size, 256);
                seen++;
            } else if (strcmp(l->name, "softmax7") == 0) {
                assert_int_equal(l->impl, HLS_SOFTMAX_LATENCY);
                assert_int_equal(l->exp_t.w, 14);
                seen++;
            }
        }
        assert_int_equal(seen, 2);
        hls_backend()->unload(m);
    }
}

/* LayerType (hls4ml's granularity 'type'), read as hls4ml does: types per key from LayerName,
 * then LayerType[class] (the class name in any case), then Model; other settings from
 * LayerType[class] (the exact class name) unless LayerName sets them; a class no layer has is
 * ignored. The bit-exact check against hls4ml is gen_type_* (test_random). */
static void test_config_layertype(void **state)
{
    (void)state;
    ngt_error err;
    hls_model *m =
        load_fad("{\"Model\": {\"Precision\": {\"default\": \"fixed<16,6>\", \"bias\": "
                 "\"fixed<14,5>\"}}, \"LayerType\": {\"Dense\": {\"Precision\": {\"weight\": "
                 "\"fixed<8,3>\", \"result\": \"auto\"}}, \"Activation\": {\"Precision\": "
                 "\"fixed<12,4>\"}, \"InputLayer\": {\"Precision\": \"fixed<9,3>\"}, \"Conv2D\": "
                 "{\"Precision\": \"fixed<7,3>\"}, \"NoSuchClass\": {}}, \"LayerName\": {\"fc2\": "
                 "{\"Precision\": {\"weight\": \"fixed<10,4>\"}}, \"relu2\": {\"Precision\": "
                 "\"fixed<11,4>\"}}}",
                 &err);
    if (!m)
        fail_msg("%s", err.msg);
    assert_int_equal(m->layers[0].res.w, 16); /* InputLayer: never the input's class (Input) */
    assert_int_equal(m->layers[1].wt.w, 8);   /* fc1: LayerType Dense */
    assert_int_equal(m->layers[1].bt.w, 14);  /* the Model's bias type */
    assert_true(m->layers[1].res.w > 16);     /* 'auto': lossless */
    assert_int_equal(m->layers[2].res.w, 12); /* relu1: LayerType Activation's default */
    assert_int_equal(m->layers[3].wt.w, 10);  /* fc2: LayerName beats LayerType */
    assert_int_equal(m->layers[4].res.w, 11); /* relu2: LayerName's default beats LayerType */
    hls_backend()->unload(m);
    /* the real input class; types by the class name in any case, the later entry winning */
    m = load_fad("{\"LayerType\": {\"Input\": {\"Precision\": {\"result\": \"fixed<9,3>\"}}, "
                 "\"DENSE\": {\"Precision\": {\"weight\": \"fixed<8,3>\", \"bias\": "
                 "\"fixed<8,3>\"}}, \"dense\": {\"Precision\": {\"weight\": \"fixed<7,3>\"}}}}",
                 &err);
    if (!m)
        fail_msg("%s", err.msg);
    assert_int_equal(m->layers[0].res.w, 9);
    assert_int_equal(m->layers[1].wt.w, 7);
    assert_int_equal(m->layers[1].bt.w, 8);
    hls_backend()->unload(m);
    /* table settings: LayerType Activation / Softmax (exact class name), LayerName's winning */
    const char *onnx = "tests/hls/data/models/rand02_cat/model.onnx";
    const char *cfg =
        "{\"LayerType\": {\"Activation\": {\"TableSize\": 256, \"table_t\": \"fixed<14,4>\"}, "
        "\"activation\": {\"TableSize\": 64}, \"Softmax\": {\"Implementation\": \"latency\", "
        "\"ExpTableT\": \"fixed<14,6>\", \"TableSize\": 512}}, \"LayerName\": {\"softmax7\": "
        "{\"exp_table_t\": \"fixed<15,6>\"}}}";
    void *mv = NULL;
    if (hls_backend()->load(onnx, cfg, &mv, &err) < 0)
        fail_msg("%s", err.msg);
    const hls_model *hm = mv;
    int seen = 0;
    for (int k = 0; k < hm->n_layers; k++) {
        const hls_layer *l = &hm->layers[k];
        if (l->kind == HLS_L_SIGMOID) {
            assert_int_equal(l->table_size, 256);
            assert_int_equal(l->tab.w, 14);
            seen++;
        } else if (l->kind == HLS_L_SOFTMAX) {
            assert_int_equal(l->impl, HLS_SOFTMAX_LATENCY);
            assert_int_equal(l->exp_t.w, 15);
            assert_int_equal(l->inv_size, 512);
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    hls_backend()->unload(mv);
}

static void test_errors(void **state)
{
    (void)state;
    const ngt_backend *be = hls_backend();
    ngt_error err = {0};
    void *m = NULL;
    assert_true(
        be->load("models/fad.onnx", "{\"Model\": {\"Precision\": \"fixed<40,6>\"}}", &m, &err) < 0);
    assert_non_null(strstr(err.msg, "width 40"));
    assert_true(be->load("models/fad.onnx",
                         "{\"LayerName\": {\"fc1\": {\"Precision\": "
                         "{\"accum\": \"fixed<16,6,AP_BAD>\"}}}}",
                         &m, &err) < 0);
    assert_non_null(strstr(err.msg, "fc1"));
    assert_true(be->load("models/fad.onnx", "{\"Model\": ", &m, &err) < 0);
    assert_true(be->load("models/fad.onnx", "/nonexistent.json", &m, &err) < 0);
    assert_non_null(strstr(err.msg, "cannot open"));
}

int main(int argc, char **argv)
{
    if (argc > 1) { /* hls_models NAME...: those models only (for debugging) */
        int failed = 0;
        for (int k = 1; k < argc; k++)
            failed += check_one(argv[k]) != 0;
        return failed != 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_tiled),
        cmocka_unit_test(test_profile),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_f64_outputs),
        cmocka_unit_test(test_config_keys),
        cmocka_unit_test(test_config_spellings),
        cmocka_unit_test(test_config_layertype),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
