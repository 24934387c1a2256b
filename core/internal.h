/* internal.h: helpers shared by core/ and modules/ (never included by hosts).
 * Errors, aligned memory, hashing and clocks. */
#ifndef NGT_INTERNAL_H
#define NGT_INTERNAL_H

#include "ngt.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

/* Fills err (if not NULL) with code and a printf-style message; returns code. */
int seterr(ngt_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#ifdef __clang_analyzer__
/* The static analyzer does not look into variadic functions, so it would take
 * `rc = seterr(err, NGT_ENOMEM, ...)` for a possible NGT_OK and follow error paths on as if
 * they had succeeded. Tell it the result is code (code arguments are constants or plain
 * variables: evaluating them twice here is harmless). Compiled code is unaffected. */
#define seterr(err, code, ...) (seterr((err), (code), __VA_ARGS__), (code))
#endif
/* Prefixes err's message with "prefix: " (keeps the code); returns err->code (or code if err NULL).
 */
int preferr(ngt_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* 64-byte aligned allocation; size rounded up to a multiple of 64. Free with afree. */
void *aalloc(size_t size);
void afree(void *p);
static inline size_t pad64(size_t n)
{
    return (n + (size_t)NGT_ALIGN - 1) & ~((size_t)NGT_ALIGN - 1);
}

/* FNV-1a 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3). */
uint64_t fnv1a(const void *data, size_t n, uint64_t h);
static inline uint64_t fnv1a_basis(void)
{
    return 0xcbf29ce484222325ULL;
}
/* FNV-1a 64 of a whole file; 0 on error (err filled). */
uint64_t file_hash(const char *path, ngt_error *err);

/* A whole file in a malloc'd buffer with a NUL after its size bytes (the caller frees it);
 * refused (NULL, err naming the file) when it cannot be read or holds more than max bytes. */
void *read_file(const char *path, size_t max, size_t *size, ngt_error *err);

/* The integer at p, of integer dtype t (identity columns, lumi sections), widened to 64 bits. */
int64_t read_int(const void *p, ngt_dtype t);

/* Monotonic clock in nanoseconds. */
uint64_t now_ns(void);

/* Bounded string copy that always terminates; returns 0 if it fit, -1 if truncated. */
int str_copy(char *dst, const char *src, size_t size);

#endif
