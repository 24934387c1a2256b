/* npy_test.c: tests of core/npy.c: round trips of every dtype, files written by numpy (read back
 * and rewritten byte for byte), and refusal of corrupt, truncated and unsupported files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ngt_npy.h"
#include "ngt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *data_dir = "tests/npy/data"; /* numpy's files; argv[1] overrides */
static char tmp_dir[256];

static const uint64_t K = 0x9E3779B97F4A7C15ULL; /* make_npy_fixtures.py uses the same formula */

/* ---- Helpers ---------------------------------------------------------------------------------*/
static const char *tmp_path(const char *name)
{
    static char buf[2][512];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s/%s", tmp_dir, name);
    return buf[which];
}

static const char *data_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s.npy", data_dir, name);
    return buf;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *p = malloc(1 << 20);
    assert_non_null(p);
    *n = fread(p, 1, 1 << 20, f);
    fclose(f);
    return p;
}

/* Reads path expecting failure with code and a message naming the file and containing what. */
static void expect_fail(const char *path, int code, const char *what)
{
    ngt_npy a;
    ngt_error err = {0};
    int rc = ngt_npy_read(path, &a, &err);
    if (rc != code || !strstr(err.msg, path) || !strstr(err.msg, what))
        fail_msg("%s: got %d '%s', wanted %d with '%s'", path, rc, err.msg, code, what);
    assert_int_equal(err.code, code);
    assert_null(a.data);
}

/* A .npy 1.0 file holding the given header text (padded) followed by nbytes of data. */
static void write_npy_raw(const char *path, const char *header, size_t nbytes)
{
    unsigned char buf[1024] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    size_t h = strlen(header);
    assert_true(10 + h + 1 + nbytes <= sizeof buf);
    buf[8] = (unsigned char)((h + 1) & 0xff);
    buf[9] = (unsigned char)((h + 1) >> 8);
    memcpy(buf + 10, header, h);
    buf[10 + h] = '\n';
    memset(buf + 11 + h, 0, nbytes);
    write_bytes(path, buf, 11 + h + nbytes);
}

/* Element i of the arrays make_npy_fixtures.py writes, as the dtype's bytes. */
static void expected_elem(ngt_dtype t, size_t i, void *out)
{
    uint64_t u = (uint64_t)i * K;
    float f = (float)(((double)i - 5.0) * 0.25);
    double d = ((double)i - 5.0) * 0.25;
    int8_t i1 = (int8_t)(uint8_t)u;
    int16_t i2 = (int16_t)(uint16_t)u;
    int32_t i4 = (int32_t)(uint32_t)u;
    int64_t i8 = (int64_t)u;
    uint8_t u1 = (uint8_t)u, b = i % 3 == 0;
    uint16_t u2 = (uint16_t)u;
    uint32_t u4 = (uint32_t)u;
    const void *src[NGT_DTYPE_COUNT] = {&f, &d, &i1, &i2, &i4, &i8, &u1, &u2, &u4, &u, &b};
    memcpy(out, src[t], ngt_dtype_size(t));
}

static void *expected_array(ngt_dtype t, size_t n)
{
    size_t es = ngt_dtype_size(t);
    unsigned char *p = malloc(n * es + 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        expected_elem(t, i, p + i * es);
    return p;
}

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp_dir, sizeof tmp_dir, "%s/ngt_npy_XXXXXX", base);
    return mkdtemp(tmp_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- Round trips ------------------------------------------------------------------------------*/
static void roundtrip(ngt_dtype t, int rank, const int64_t *shape)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)shape[i];
    void *data = expected_array(t, n);
    const char *path = tmp_path("rt.npy");
    ngt_error err = {0};
    assert_int_equal(ngt_npy_write(path, t, rank, shape, data, &err), NGT_OK);
    ngt_npy a;
    assert_int_equal(ngt_npy_read(path, &a, &err), NGT_OK);
    assert_int_equal(a.dtype, t);
    assert_int_equal(a.rank, rank);
    for (int i = 0; i < rank; i++)
        assert_int_equal(a.shape[i], shape[i]);
    assert_int_equal(a.bytes, n * ngt_dtype_size(t));
    if (a.bytes)
        assert_memory_equal(a.data, data, a.bytes);
    assert_non_null(a.data);
    ngt_npy_free(&a);
    assert_null(a.data);
    free(data);
}

static void test_roundtrip_every_dtype(void **state)
{
    (void)state;
    const int64_t shape[] = {5, 3, 2};
    for (int t = 0; t < NGT_DTYPE_COUNT; t++)
        roundtrip((ngt_dtype)t, 3, shape);
}

static void test_roundtrip_ranks(void **state)
{
    (void)state;
    const int64_t s5[] = {2, 1, 3, 1, 2}, s1[] = {1000}, s0[] = {0, 7}, big[] = {1024, 216};
    roundtrip(NGT_F64, 0, NULL);
    roundtrip(NGT_I16, 1, s1);
    roundtrip(NGT_U32, 5, s5);
    roundtrip(NGT_F32, 2, s0);
    roundtrip(NGT_F32, 2, big);
}

/* ---- numpy's files ----------------------------------------------------------------------------*/
typedef struct fixture {
    const char *name;
    ngt_dtype t;
    int rank;
    int64_t shape[5];
} fixture;

static const fixture fixtures[] = {
    {"f4", NGT_F32, 2, {4, 3}},
    {"f8", NGT_F64, 3, {2, 3, 2}},
    {"i1", NGT_I8, 1, {10}},
    {"i2", NGT_I16, 2, {3, 3}},
    {"i4", NGT_I32, 5, {2, 1, 2, 1, 3}},
    {"i8", NGT_I64, 2, {5, 2}},
    {"u1", NGT_U8, 1, {7}},
    {"u2", NGT_U16, 2, {2, 4}},
    {"u4", NGT_U32, 2, {3, 2}},
    {"u8", NGT_U64, 1, {4}},
    {"b1", NGT_BOOL, 2, {3, 3}},
    {"empty", NGT_F32, 2, {0, 3}},
    {"wide", NGT_F32, 2, {1025, 2}},
    {"v2", NGT_F32, 2, {4, 3}},
    {"v3", NGT_F32, 2, {4, 3}},
};

static void check_fixture(const fixture *fx, const ngt_npy *a)
{
    assert_int_equal(a->dtype, fx->t);
    assert_int_equal(a->rank, fx->rank);
    size_t n = 1;
    for (int i = 0; i < fx->rank; i++) {
        assert_int_equal(a->shape[i], fx->shape[i]);
        n *= (size_t)fx->shape[i];
    }
    assert_int_equal(a->bytes, n * ngt_dtype_size(fx->t));
    void *want = expected_array(fx->t, n);
    if (n)
        assert_memory_equal(a->data, want, a->bytes);
    free(want);
}

static void test_reads_numpy_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        ngt_npy a;
        ngt_error err = {0};
        int rc = ngt_npy_read(data_path(fixtures[i].name), &a, &err);
        if (rc != NGT_OK)
            fail_msg("%s: %s", fixtures[i].name, err.msg);
        check_fixture(&fixtures[i], &a);
        ngt_npy_free(&a);
    }
}

static void test_reads_numpy_scalar(void **state)
{
    (void)state;
    ngt_npy a;
    assert_int_equal(ngt_npy_read(data_path("scalar"), &a, NULL), NGT_OK);
    assert_int_equal(a.dtype, NGT_F32);
    assert_int_equal(a.rank, 0);
    assert_int_equal(a.bytes, 4);
    assert_true(*(float *)a.data == 2.5f);
    ngt_npy_free(&a);
}

/* What ngt writes is byte for byte what np.save wrote (format 1.0 fixtures only). */
static void test_writes_numpy_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
        if (fixtures[i].name[0] == 'v')
            continue;
        ngt_npy a;
        assert_int_equal(ngt_npy_read(data_path(fixtures[i].name), &a, NULL), NGT_OK);
        const char *out = tmp_path("copy.npy");
        assert_int_equal(ngt_npy_write(out, a.dtype, a.rank, a.shape, a.data, NULL), NGT_OK);
        size_t n1, n2;
        unsigned char *want = slurp(data_path(fixtures[i].name), &n1);
        unsigned char *got = slurp(out, &n2);
        if (n1 != n2 || memcmp(want, got, n1) != 0)
            fail_msg("%s: ngt's file differs from numpy's (%zu vs %zu bytes)", fixtures[i].name, n2,
                     n1);
        free(want);
        free(got);
        ngt_npy_free(&a);
    }
}

static void test_refuses_numpy_files_it_cannot_hold(void **state)
{
    (void)state;
    expect_fail(data_path("fortran"), NGT_EUNSUPPORTED, "Fortran order");
    expect_fail(data_path("bigendian"), NGT_EUNSUPPORTED, "big-endian dtype '>f4'");
    expect_fail(data_path("half"), NGT_EUNSUPPORTED, "dtype '<f2'");
    expect_fail(data_path("complex"), NGT_EUNSUPPORTED, "dtype '<c8'");
    expect_fail(data_path("structured"), NGT_EUNSUPPORTED, "structured");
    expect_fail(data_path("rank6"), NGT_EUNSUPPORTED, "rank over 5");
}

/* ---- Corrupt files ----------------------------------------------------------------------------*/
typedef struct bad_header {
    const char *header;
    size_t data;
    int code;
    const char *what;
} bad_header;

static const bad_header bad_headers[] = {
    {"{'descr': '<f4', 'fortran_order': False, }", 0, NGT_EFORMAT, "missing 'shape'"},
    {"{'fortran_order': False, 'shape': (1,), }", 4, NGT_EFORMAT, "missing 'descr'"},
    {"{'descr': '<f4', 'shape': (1,), }", 4, NGT_EFORMAT, "missing 'fortran_order'"},
    {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 4, NGT_EFORMAT,
     "'descr' appears twice"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4, NGT_EFORMAT,
     "unknown key 'x'"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", 8, NGT_EFORMAT, "not a tuple"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}", 24, NGT_EFORMAT, "malformed"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", 0, NGT_EFORMAT,
     "non-negative integers"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", 8, NGT_EFORMAT, "not a tuple"},
    {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", 8, NGT_EFORMAT, "True or False"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", 8, NGT_EFORMAT,
     "after the closing"},
    {"{'descr': '<f4', 'fortran_order': False 'shape': (2,)}", 8, NGT_EFORMAT, "expected ','"},
    {"{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}", 8, NGT_EFORMAT, "expected ':'"},
    {"{'descr: '<f4', 'fortran_order': False, 'shape': (2,)}", 8, NGT_EFORMAT, "expected ':'"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", 8, NGT_EFORMAT, "expected ','"},
    {"['descr', '<f4']", 8, NGT_EFORMAT, "does not start with '{'"},
    {"", 0, NGT_EFORMAT, "does not start with '{'"},
    {"{'descr': <f4, 'fortran_order': False, 'shape': (2,)}", 8, NGT_EFORMAT, "dtype string"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 0, NGT_EFORMAT,
     "too large"},
    {"{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4)}", 0, NGT_EFORMAT,
     "overflow"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", 11, NGT_EFORMAT, "truncated"},
    {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", 13, NGT_EFORMAT, "size mismatch"},
    {"{'descr': '>i8', 'fortran_order': False, 'shape': (3,)}", 24, NGT_EUNSUPPORTED, "big-endian"},
    {"{'descr': '<U4', 'fortran_order': False, 'shape': (3,)}", 48, NGT_EUNSUPPORTED, "'<U4'"},
    {"{'descr': '|O', 'fortran_order': False, 'shape': (3,)}", 24, NGT_EUNSUPPORTED, "'|O'"},
    {"{'descr': '<f4', 'fortran_order': True, 'shape': (3,)}", 12, NGT_EUNSUPPORTED, "Fortran"},
};

static void test_rejects_corrupt_headers(void **state)
{
    (void)state;
    const char *path = tmp_path("bad.npy");
    for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
        write_npy_raw(path, bad_headers[i].header, bad_headers[i].data);
        expect_fail(path, bad_headers[i].code, bad_headers[i].what);
    }
}

/* Lenient where numpy is: other key orders, double quotes, no trailing comma, '=' and '|'. */
static void test_accepts_header_variants(void **state)
{
    (void)state;
    const char *path = tmp_path("ok.npy");
    const char *headers[] = {
        "{'shape': (2, 1), 'fortran_order': False, 'descr': '<i4'}",
        "{\"descr\": \"=i4\", \"fortran_order\": False, \"shape\": (2, 1,)}",
        "{ 'descr' : '<i4' ,'fortran_order':False,'shape':(2L,1L), }",
    };
    for (size_t i = 0; i < 3; i++) {
        write_npy_raw(path, headers[i], 8);
        ngt_npy a;
        ngt_error err = {0};
        if (ngt_npy_read(path, &a, &err) != NGT_OK)
            fail_msg("header %zu: %s", i, err.msg);
        assert_int_equal(a.dtype, NGT_I32);
        assert_int_equal(a.rank, 2);
        assert_int_equal(a.shape[0], 2);
        assert_int_equal(a.shape[1], 1);
        ngt_npy_free(&a);
    }
    write_npy_raw(path, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}", 3);
    ngt_npy a;
    assert_int_equal(ngt_npy_read(path, &a, NULL), NGT_OK);
    assert_int_equal(a.dtype, NGT_BOOL);
    ngt_npy_free(&a);
}

static void test_rejects_bad_preamble(void **state)
{
    (void)state;
    const char *path = tmp_path("pre.npy");
    write_bytes(path, "", 0);
    expect_fail(path, NGT_EFORMAT, "truncated");
    static const char zip[] = "PK\003\004 this is a zip";
    write_bytes(path, zip, sizeof zip - 1);
    expect_fail(path, NGT_EFORMAT, "bad magic");
    write_bytes(path, "\x93NUMPY\x04\x00\x10\x00", 10);
    expect_fail(path, NGT_EUNSUPPORTED, "version 4.0");
    write_bytes(path, "\x93NUMPY\x01\x01\x10\x00", 10);
    expect_fail(path, NGT_EUNSUPPORTED, "version 1.1");
    write_bytes(path, "\x93NUMPY\x02\x00\x10\x00", 10);
    expect_fail(path, NGT_EFORMAT, "header length");
    write_bytes(path, "\x93NUMPY\x02\x00\xff\xff\xff\x7f{", 13);
    expect_fail(path, NGT_EFORMAT, "over the");
    write_bytes(path, "\x93NUMPY\x01\x00\x40\x00{'descr'", 18);
    expect_fail(path, NGT_EFORMAT, "truncated in the header");
    expect_fail(tmp_path("does-not-exist.npy"), NGT_EIO, "cannot open");
    expect_fail(tmp_dir, NGT_EIO, "cannot read");
}

/* Every prefix of a valid file is refused as truncated (or for its magic), never read. */
static void test_rejects_every_truncation(void **state)
{
    (void)state;
    size_t n;
    unsigned char *full = slurp(data_path("f4"), &n);
    const char *path = tmp_path("trunc.npy");
    for (size_t k = 0; k < n; k++) {
        write_bytes(path, full, k);
        expect_fail(path, NGT_EFORMAT, "truncated");
    }
    free(full);
}

static void test_rejects_bad_bool(void **state)
{
    (void)state;
    const char *path = tmp_path("bool.npy");
    unsigned char buf[256];
    const char *h = "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }          \n";
    size_t hl = strlen(h);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)hl;
    buf[9] = 0;
    memcpy(buf + 10, h, hl);
    memcpy(buf + 10 + hl, "\x01\x00\x02", 3);
    write_bytes(path, buf, 10 + hl + 3);
    expect_fail(path, NGT_EFORMAT, "bool element 2 holds 2");
}

/* Flipping any header byte to any of a few values gives a clean result or a clean error. */
static void test_byte_flips_never_crash(void **state)
{
    (void)state;
    size_t n;
    unsigned char *full = slurp(data_path("f4"), &n);
    const char *path = tmp_path("flip.npy");
    const unsigned char vals[] = {0, '\'', '(', ')', ',', '9', '{', '}', 0xff, ' '};
    int refused = 0;
    for (size_t pos = 0; pos < 128; pos++) {
        for (size_t v = 0; v < sizeof vals; v++) {
            unsigned char saved = full[pos];
            full[pos] = vals[v];
            write_bytes(path, full, n);
            full[pos] = saved;
            ngt_npy a;
            ngt_error err = {0};
            int rc = ngt_npy_read(path, &a, &err);
            if (rc == NGT_OK) {
                assert_non_null(a.data);
                ngt_npy_free(&a);
                continue;
            }
            refused++;
            assert_true(rc < 0);
            assert_non_null(strstr(err.msg, path));
        }
    }
    assert_true(refused > 500); /* most flips break the header */
    free(full);
}

/* The canonical models' reference files (tools/make_models.py) read with their documented shapes;
 * fad's inputs are non-negative and mdt's outputs are sigmoids. */
static void check_reference(const char *path, int rank, const int64_t *shape, float lo, float hi)
{
    ngt_npy a;
    ngt_error err = {0};
    if (ngt_npy_read(path, &a, &err) != NGT_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(a.dtype, NGT_F32);
    assert_int_equal(a.rank, rank);
    size_t n = 1;
    for (int i = 0; i < rank; i++) {
        assert_int_equal(a.shape[i], shape[i]);
        n *= (size_t)shape[i];
    }
    assert_int_equal(a.bytes, n * 4);
    const float *v = a.data;
    for (size_t i = 0; i < n; i++)
        if (!(v[i] >= lo && v[i] <= hi))
            fail_msg("%s: element %zu is %g, outside [%g, %g]", path, i, v[i], lo, hi);
    ngt_npy_free(&a);
}

static void test_reads_canonical_reference_files(void **state)
{
    (void)state;
    const int64_t fad_in[] = {1024, 77}, fad_out[] = {1024, 76}, mdt[] = {1024, 1, 216};
    check_reference("models/fad.input.npy", 2, fad_in, 0.0f, 10.0f);
    check_reference("models/fad.output.npy", 2, fad_out, -100.0f, 100.0f);
    check_reference("models/mdt.input.npy", 3, mdt, 0.0f, 1.0f);
    check_reference("models/mdt.output.npy", 3, mdt, 0.0f, 1.0f);
}

/* ---- Writing errors ---------------------------------------------------------------------------*/
static void test_write_rejects_bad_arguments(void **state)
{
    (void)state;
    const int64_t s6[] = {1, 1, 1, 1, 1, 1}, neg[] = {2, -1}, ok[] = {2};
    float d[2] = {1, 2};
    ngt_error err = {0};
    const char *path = tmp_path("w.npy");
    assert_int_equal(ngt_npy_write(path, NGT_F32, 6, s6, d, &err), NGT_EINVAL);
    assert_non_null(strstr(err.msg, "rank 6"));
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(ngt_npy_write(path, NGT_F32, 2, neg, d, &err), NGT_EINVAL);
    assert_non_null(strstr(err.msg, "negative"));
    assert_int_equal(ngt_npy_write(path, NGT_F32, 1, ok, NULL, &err), NGT_EINVAL);
    assert_non_null(strstr(err.msg, "data is NULL"));
    assert_int_equal(ngt_npy_write(path, NGT_DTYPE_COUNT, 1, ok, d, &err), NGT_EINVAL);
    assert_non_null(strstr(err.msg, "unknown dtype"));
    assert_int_equal(access(path, F_OK), -1); /* nothing was written */
    const char *nodir = tmp_path("no/such/dir.npy");
    assert_int_equal(ngt_npy_write(nodir, NGT_F32, 1, ok, d, &err), NGT_EIO);
    assert_non_null(strstr(err.msg, nodir));
}

int main(int argc, char **argv)
{
    if (argc > 1)
        data_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_dtype),
        cmocka_unit_test(test_roundtrip_ranks),
        cmocka_unit_test(test_reads_numpy_files),
        cmocka_unit_test(test_reads_numpy_scalar),
        cmocka_unit_test(test_writes_numpy_bytes),
        cmocka_unit_test(test_refuses_numpy_files_it_cannot_hold),
        cmocka_unit_test(test_rejects_corrupt_headers),
        cmocka_unit_test(test_accepts_header_variants),
        cmocka_unit_test(test_rejects_bad_preamble),
        cmocka_unit_test(test_rejects_every_truncation),
        cmocka_unit_test(test_rejects_bad_bool),
        cmocka_unit_test(test_byte_flips_never_crash),
        cmocka_unit_test(test_write_rejects_bad_arguments),
        cmocka_unit_test(test_reads_canonical_reference_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
