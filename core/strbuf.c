/* strbuf.c: printf into a growable or a fixed text buffer (strbuf.h). */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

strbuf sb_fixed(char *buf, size_t size)
{
    if (buf && size)
        buf[0] = 0;
    return (strbuf){.s = buf, .cap = buf ? size : 0, .fixed = 1};
}

static void vprint(strbuf *b, const char *fmt, va_list ap0)
{
    for (;;) {
        if (b->oom)
            return;
        size_t room = b->s && b->len < b->cap ? b->cap - b->len : 0;
        va_list ap;
        va_copy(ap, ap0);
        int n = vsnprintf(room ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if (b->fixed || (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

void sb_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(b, fmt, ap);
    va_end(ap);
}

void sb_puts(strbuf *b, const char *s)
{
    sb_printf(b, "%s", s);
}

void sb_free(strbuf *b)
{
    if (!b->fixed)
        free(b->s);
    *b = (strbuf){0};
}
