/* alloc_wrap.c: counting and failing wrappers of the malloc family (alloc_wrap.h). */
#include "alloc_wrap.h"

#include <stddef.h>

int aw_counting;
long aw_allocations;
static long fail_at = -1, seen;
static int failed;

void aw_arm(long fail_after)
{
    fail_at = fail_after;
    seen = 0;
    failed = 0;
}

void aw_disarm(void)
{
    fail_at = -1;
}

int aw_failed(void)
{
    return failed;
}

/* 1 when this allocation must fail. */
static int next(void)
{
    aw_allocations += aw_counting;
    if (fail_at < 0)
        return 0;
    if (seen++ >= fail_at) {
        failed = 1;
        return 1;
    }
    return 0;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);

void *__wrap_malloc(size_t n)
{
    return next() ? NULL : __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t k)
{
    return next() ? NULL : __real_calloc(n, k);
}
void *__wrap_realloc(void *p, size_t n)
{
    return next() ? NULL : __real_realloc(p, n);
}
int __wrap_posix_memalign(void **p, size_t a, size_t n)
{
    return next() ? 12 /* ENOMEM */ : __real_posix_memalign(p, a, n);
}
void *__wrap_aligned_alloc(size_t a, size_t n)
{
    return next() ? NULL : __real_aligned_alloc(a, n);
}
