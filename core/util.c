/* util.c: errors, aligned memory, FNV-1a hashing and the monotonic clock used across ngt. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The name in parentheses: not the analyzer-only macro of internal.h. */
int(seterr)(ngt_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int preferr(ngt_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    char prefix[NGT_ERR_MSG_MAX], old[NGT_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char both[2 * NGT_ERR_MSG_MAX + 2];
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = 0;
    snprintf(both, sizeof both, "%s: %s", prefix, old);
    str_copy(err->msg, both, sizeof err->msg);
    if (err->code == NGT_OK)
        err->code = code;
    return err->code;
}

void *aalloc(size_t size)
{
    void *p = NULL;
    size_t n = pad64(size ? size : 1);
    if (posix_memalign(&p, NGT_ALIGN, n) != 0)
        return NULL;
    return p;
}

void afree(void *p)
{
    free(p);
}

uint64_t fnv1a(const void *data, size_t n, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t file_hash(const char *path, ngt_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        seterr(err, NGT_EIO, "cannot open '%s': %s", path, strerror(errno));
        return 0;
    }
    uint64_t h = fnv1a_basis();
    unsigned char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        h = fnv1a(buf, k, h);
    fclose(f);
    return h;
}

void *read_file(const char *path, size_t max, size_t *size, ngt_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        seterr(err, NGT_EIO, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, k = 0;
    do {
        if (len + 1 >= cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = len < max ? realloc(buf, cap) : NULL;
            if (!nb) {
                free(buf);
                fclose(f);
                seterr(err, len < max ? NGT_ENOMEM : NGT_EINVAL,
                       len < max ? "'%s': out of memory" : "'%s': larger than %zu bytes", path,
                       max);
                return NULL;
            }
            buf = nb;
        }
        k = fread(buf + len, 1, cap - len - 1, f);
        len += k;
    } while (k > 0);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        seterr(err, NGT_EIO, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    buf[len] = 0;
    if (size)
        *size = len;
    return buf;
}

int64_t read_int(const void *p, ngt_dtype t)
{
    switch (t) {
    case NGT_I8:
        return *(const int8_t *)p;
    case NGT_I16:
        return *(const int16_t *)p;
    case NGT_I32:
        return *(const int32_t *)p;
    case NGT_U8:
        return *(const uint8_t *)p;
    case NGT_U16:
        return *(const uint16_t *)p;
    case NGT_U32:
        return *(const uint32_t *)p;
    case NGT_U64:
        return (int64_t) * (const uint64_t *)p;
    default:
        return *(const int64_t *)p;
    }
}

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int str_copy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size == 0)
        return -1;
    if (n >= size) {
        memcpy(dst, src, size - 1);
        dst[size - 1] = 0;
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}
