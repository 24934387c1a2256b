/* npy.c: reads and writes NumPy .npy files (format versions 1.0, 2.0, 3.0; little-endian; C order).
 * The header dict is parsed strictly; a bad file is an error naming the file and the problem. */
#include "internal.h"
#include "ngt_npy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum {
    NPY_PREAMBLE = 8,         /* magic (6) + version (2) */
    NPY_MAX_HEADER = 1 << 20, /* numpy itself refuses headers over 10000 bytes by default */
    NPY_MAX_RANK = NGT_MAX_RANK + 1,
    NPY_ALIGN = 64,        /* numpy pads the header so the data starts 64-byte aligned */
    NPY_GROWTH_DIGITS = 21 /* numpy's spare room for the first dimension to grow */
};

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* The descr numpy writes for each ngt dtype, indexed by ngt_dtype. */
static const struct {
    const char *descr;
    size_t size;
} npy_types[NGT_DTYPE_COUNT] = {
    [NGT_F32] = {"<f4", 4}, [NGT_F64] = {"<f8", 8}, [NGT_I8] = {"|i1", 1},   [NGT_I16] = {"<i2", 2},
    [NGT_I32] = {"<i4", 4}, [NGT_I64] = {"<i8", 8}, [NGT_U8] = {"|u1", 1},   [NGT_U16] = {"<u2", 2},
    [NGT_U32] = {"<u4", 4}, [NGT_U64] = {"<u8", 8}, [NGT_BOOL] = {"|b1", 1},
};

/* ---- Header parsing --------------------------------------------------------------------------
 * The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * with keys in any order, each exactly once, and nothing but whitespace after the closing brace. */
typedef struct cursor {
    const char *p, *end;
    ngt_error *err;
} cursor;

static int bad(cursor *c, const char *what)
{
    return seterr(c->err, NGT_EFORMAT, "bad .npy header: %s", what);
}

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* Skips whitespace, then consumes ch if it comes next; returns 1 when it did. */
static int accept(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string ('...' or "...", no escapes) into buf. */
static int parse_string(cursor *c, char *buf, size_t size, const char *what)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return bad(c, what);
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p == '\0' || n + 1 >= size)
            return bad(c, what);
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return bad(c, "unterminated string");
    c->p++;
    buf[n] = 0;
    return NGT_OK;
}

static int parse_word(cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

static int parse_bool(cursor *c, int *v)
{
    skip_ws(c);
    if (parse_word(c, "True"))
        *v = 1;
    else if (parse_word(c, "False"))
        *v = 0;
    else
        return bad(c, "'fortran_order' is not True or False");
    return NGT_OK;
}

static int parse_dim(cursor *c, int64_t *v)
{
    skip_ws(c);
    int64_t x = 0;
    const char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (x > (INT64_MAX - 9) / 10)
            return bad(c, "a dimension in 'shape' is too large");
        x = x * 10 + (*c->p++ - '0');
    }
    if (c->p == start)
        return bad(c, "'shape' is not a tuple of non-negative integers");
    if (c->p < c->end && *c->p == 'L') /* Python 2 long */
        c->p++;
    *v = x;
    return NGT_OK;
}

/* A tuple of integers: (), (5,), (3, 4), (3, 4,) */
static int parse_shape(cursor *c, int64_t *shape, int *rank)
{
    if (!accept(c, '('))
        return bad(c, "'shape' is not a tuple");
    *rank = 0;
    while (!accept(c, ')')) {
        if (*rank == NPY_MAX_RANK)
            return seterr(c->err, NGT_EUNSUPPORTED,
                          "rank over %d (events plus %d per-event dimensions)", NPY_MAX_RANK,
                          NGT_MAX_RANK);
        int rc = parse_dim(c, &shape[(*rank)++]);
        if (rc != NGT_OK)
            return rc;
        if (!accept(c, ',')) {
            if (!accept(c, ')'))
                return bad(c, "'shape' tuple is malformed");
            if (*rank == 1)
                return bad(c, "'shape' is a parenthesised integer, not a tuple");
            break;
        }
    }
    return NGT_OK;
}

static int parse_descr(cursor *c, ngt_dtype *t)
{
    char d[32];
    skip_ws(c);
    if (c->p < c->end && (*c->p == '[' || *c->p == '{'))
        return seterr(c->err, NGT_EUNSUPPORTED, "structured dtypes are not supported");
    if (parse_string(c, d, sizeof d, "'descr' is not a dtype string") != NGT_OK)
        return NGT_EFORMAT;
    /* '=' (native) and '|' (not applicable) both mean little-endian on the hosts ngt runs on. */
    if (d[0] == '=' || (d[0] == '|' && strlen(d) == 3 && d[2] == '1'))
        d[0] = '<';
    for (int i = 0; i < NGT_DTYPE_COUNT; i++) {
        const char *want = npy_types[i].descr;
        if (strcmp(d + 1, want + 1) == 0 && (d[0] == '<' || (d[0] == '>' && want[2] == '1'))) {
            *t = (ngt_dtype)i;
            return NGT_OK;
        }
    }
    if (d[0] == '>')
        return seterr(c->err, NGT_EUNSUPPORTED, "big-endian dtype '%s' is not supported", d);
    return seterr(c->err, NGT_EUNSUPPORTED, "dtype '%s' is not supported", d);
}

typedef struct npy_header {
    ngt_dtype dtype;
    int fortran;
    int rank;
    int64_t shape[NPY_MAX_RANK];
} npy_header;

static int parse_entry(cursor *c, npy_header *h, unsigned *seen)
{
    char key[32];
    if (parse_string(c, key, sizeof key, "expected a quoted key") != NGT_OK)
        return NGT_EFORMAT;
    if (!accept(c, ':'))
        return bad(c, "expected ':' after a key");
    unsigned bit = strcmp(key, "descr") == 0           ? 1u
                   : strcmp(key, "fortran_order") == 0 ? 2u
                   : strcmp(key, "shape") == 0         ? 4u
                                                       : 0u;
    if (bit == 0)
        return seterr(c->err, NGT_EFORMAT, "bad .npy header: unknown key '%s'", key);
    if (*seen & bit)
        return seterr(c->err, NGT_EFORMAT, "bad .npy header: key '%s' appears twice", key);
    *seen |= bit;
    if (bit == 1)
        return parse_descr(c, &h->dtype);
    if (bit == 2)
        return parse_bool(c, &h->fortran);
    return parse_shape(c, h->shape, &h->rank);
}

static int parse_header(const char *text, size_t n, npy_header *h, ngt_error *err)
{
    cursor c = {text, text + n, err};
    unsigned seen = 0;
    if (!accept(&c, '{'))
        return bad(&c, "does not start with '{'");
    while (!accept(&c, '}')) {
        int rc = parse_entry(&c, h, &seen);
        if (rc != NGT_OK)
            return rc;
        if (!accept(&c, ',')) {
            if (!accept(&c, '}'))
                return bad(&c, "expected ',' or '}' after a value");
            break;
        }
    }
    skip_ws(&c);
    if (c.p != c.end)
        return bad(&c, "text after the closing '}'");
    if (seen != 7)
        return bad(&c, !(seen & 1)   ? "missing 'descr'"
                       : !(seen & 2) ? "missing 'fortran_order'"
                                     : "missing 'shape'");
    if (h->fortran)
        return seterr(err, NGT_EUNSUPPORTED,
                      "Fortran order is not supported (save a C-ordered array: "
                      "numpy.ascontiguousarray)");
    return NGT_OK;
}

/* Bytes of data for shape and dtype; NGT_EFORMAT when the product overflows. */
static int data_bytes(const int64_t *shape, int rank, size_t elem, size_t *bytes, ngt_error *err)
{
    size_t n = elem;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0)
            return seterr(err, NGT_EINVAL, "dimension %d is negative (%" PRId64 ")", i, shape[i]);
        if (shape[i] != 0 && n > SIZE_MAX / (uint64_t)shape[i])
            return seterr(err, NGT_EFORMAT, "shape too large: the data would overflow");
        n *= (size_t)shape[i];
    }
    *bytes = n;
    return NGT_OK;
}

/* ---- Reading
 * -----------------------------------------------------------------------------------*/
static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads the preamble and header length; leaves f at the start of the header text. */
static int read_preamble(FILE *f, size_t *hlen, ngt_error *err)
{
    unsigned char b[NPY_PREAMBLE + 4];
    size_t got = fread(b, 1, NPY_PREAMBLE, f);
    if (got < NPY_PREAMBLE && ferror(f))
        return seterr(err, NGT_EIO, "cannot read: %s", strerror(errno));
    if (got >= sizeof npy_magic && memcmp(b, npy_magic, sizeof npy_magic) != 0)
        return seterr(err, NGT_EFORMAT, "not a .npy file (bad magic)");
    if (got < NPY_PREAMBLE)
        return seterr(err, NGT_EFORMAT, "truncated: %zu bytes, shorter than the preamble", got);
    int major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return seterr(err, NGT_EUNSUPPORTED, ".npy format version %d.%d is not supported", major,
                      minor);
    size_t lsize = major == 1 ? 2 : 4;
    if (fread(b + NPY_PREAMBLE, 1, lsize, f) != lsize)
        return seterr(err, NGT_EFORMAT, "truncated in the header length");
    const unsigned char *l = b + NPY_PREAMBLE;
    *hlen = lsize == 2 ? (size_t)(l[0] | l[1] << 8) : (size_t)le32(l);
    if (*hlen > NPY_MAX_HEADER)
        return seterr(err, NGT_EFORMAT, "header length %zu is over the %d-byte limit", *hlen,
                      NPY_MAX_HEADER);
    return NGT_OK;
}

static int read_header(FILE *f, npy_header *h, ngt_error *err)
{
    size_t hlen = 0;
    int rc = read_preamble(f, &hlen, err);
    if (rc != NGT_OK)
        return rc;
    char *text = malloc(hlen + 1);
    if (!text)
        return seterr(err, NGT_ENOMEM, "out of memory for a %zu-byte header", hlen);
    if (fread(text, 1, hlen, f) != hlen) {
        free(text);
        return seterr(err, NGT_EFORMAT, "truncated in the header (%zu bytes declared)", hlen);
    }
    text[hlen] = 0;
    rc = parse_header(text, hlen, h, err);
    free(text);
    return rc;
}

/* Checks the bytes left in f against what the header declares (regular files only). */
static int check_size(FILE *f, size_t bytes, ngt_error *err)
{
    struct stat st;
    long pos = ftell(f);
    if (pos < 0 || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        return NGT_OK; /* not seekable: read_data finds a short or long file instead */
    uint64_t left = (uint64_t)st.st_size - (uint64_t)pos;
    if (left < bytes)
        return seterr(err, NGT_EFORMAT,
                      "truncated: the shape needs %zu bytes of data, %" PRIu64 " are left", bytes,
                      left);
    if (left > bytes)
        return seterr(err, NGT_EFORMAT,
                      "size mismatch: the shape needs %zu bytes of data, %" PRIu64
                      " follow the header",
                      bytes, left);
    return NGT_OK;
}

static int check_bools(const unsigned char *p, size_t n, ngt_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] > 1)
            return seterr(err, NGT_EFORMAT, "bool element %zu holds %u, not 0 or 1", i,
                          (unsigned)p[i]);
    return NGT_OK;
}

static int read_data(FILE *f, const npy_header *h, ngt_npy *out, ngt_error *err)
{
    size_t bytes = 0;
    int rc = data_bytes(h->shape, h->rank, npy_types[h->dtype].size, &bytes, err);
    if (rc == NGT_OK)
        rc = check_size(f, bytes, err);
    if (rc != NGT_OK)
        return rc;
    unsigned char *data = malloc(bytes ? bytes : 1);
    if (!data)
        return seterr(err, NGT_ENOMEM, "out of memory for %zu bytes of data", bytes);
    if (fread(data, 1, bytes, f) != bytes)
        rc = seterr(err, NGT_EFORMAT, "truncated: the shape needs %zu bytes of data", bytes);
    else if (fgetc(f) != EOF)
        rc = seterr(err, NGT_EFORMAT, "size mismatch: data continues past the shape");
    else if (h->dtype == NGT_BOOL)
        rc = check_bools(data, bytes, err);
    if (rc != NGT_OK) {
        free(data);
        return rc;
    }
    out->dtype = h->dtype;
    out->rank = h->rank;
    memcpy(out->shape, h->shape, sizeof h->shape);
    out->data = data;
    out->bytes = bytes;
    return NGT_OK;
}

int ngt_npy_read(const char *path, ngt_npy *out, ngt_error *err)
{
    if (!out || !path)
        return seterr(err, NGT_EINVAL, "ngt_npy_read: path and out must not be NULL");
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return seterr(err, NGT_EIO, "cannot open '%s': %s", path, strerror(errno));
    npy_header h = {0};
    int rc = read_header(f, &h, err);
    if (rc == NGT_OK)
        rc = read_data(f, &h, out, err);
    if (rc == NGT_OK && ferror(f))
        rc = seterr(err, NGT_EIO, "read error");
    fclose(f);
    if (rc != NGT_OK) {
        ngt_npy_free(out);
        return preferr(err, rc, "'%s'", path);
    }
    return NGT_OK;
}

void ngt_npy_free(ngt_npy *a)
{
    if (!a)
        return;
    free(a->data);
    a->data = NULL;
    a->bytes = 0;
}

/* ---- Writing
 * -----------------------------------------------------------------------------------*/
/* Formats the header exactly as numpy's np.save does (version 1.0), so files compare equal. */
static size_t format_header(char *buf, size_t size, ngt_dtype t, int rank, const int64_t *shape)
{
    char dims[NPY_MAX_RANK * 24 + 4] = "(";
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n += (size_t)snprintf(dims + n, sizeof dims - n, i ? ", %" PRId64 : "%" PRId64, shape[i]);
    snprintf(dims + n, sizeof dims - n, rank == 1 ? ",)" : ")");
    size_t len = NPY_PREAMBLE + 2;
    len += (size_t)snprintf(buf + len, size - len,
                            "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                            npy_types[t].descr, dims);
    if (rank > 0) {
        char first[24];
        int digits = snprintf(first, sizeof first, "%" PRId64, shape[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; i++)
            buf[len++] = ' ';
    }
    while ((len + 1) % NPY_ALIGN != 0)
        buf[len++] = ' ';
    buf[len++] = '\n';
    memcpy(buf, npy_magic, sizeof npy_magic);
    buf[6] = 1;
    buf[7] = 0;
    size_t hlen = len - NPY_PREAMBLE - 2;
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    return len;
}

static int write_args(ngt_dtype t, int rank, const int64_t *shape, const void *data, size_t *bytes,
                      ngt_error *err)
{
    if ((int)t < 0 || t >= NGT_DTYPE_COUNT)
        return seterr(err, NGT_EINVAL, "unknown dtype %d", (int)t);
    if (rank < 0 || rank > NPY_MAX_RANK)
        return seterr(err, NGT_EINVAL, "rank %d is outside 0..%d", rank, NPY_MAX_RANK);
    if (rank > 0 && !shape)
        return seterr(err, NGT_EINVAL, "shape is NULL");
    int rc = data_bytes(shape, rank, npy_types[t].size, bytes, err);
    if (rc != NGT_OK)
        return rc == NGT_EFORMAT ? seterr(err, NGT_EINVAL, "shape too large") : rc;
    if (*bytes > 0 && !data)
        return seterr(err, NGT_EINVAL, "data is NULL for %zu bytes", *bytes);
    return NGT_OK;
}

int ngt_npy_write(const char *path, ngt_dtype t, int rank, const int64_t *shape, const void *data,
                  ngt_error *err)
{
    size_t bytes = 0;
    if (!path)
        return seterr(err, NGT_EINVAL, "ngt_npy_write: path is NULL");
    int rc = write_args(t, rank, shape, data, &bytes, err);
    if (rc != NGT_OK)
        return preferr(err, rc, "cannot write '%s'", path);
    char header[512];
    size_t hlen = format_header(header, sizeof header, t, rank, shape);
    FILE *f = fopen(path, "wb");
    if (!f)
        return seterr(err, NGT_EIO, "cannot create '%s': %s", path, strerror(errno));
    int ok =
        fwrite(header, 1, hlen, f) == hlen && (bytes == 0 || fwrite(data, 1, bytes, f) == bytes);
    int saved = errno;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        remove(path);
        return seterr(err, NGT_EIO, "cannot write '%s': %s", path, strerror(saved ? saved : EIO));
    }
    return NGT_OK;
}
