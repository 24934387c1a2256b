/* strbuf.h: the one printf-style text buffer of core and modules. Growable (the common case:
 * zero-initialise it, print, free s) or fixed over caller memory (snprintf semantics: the text is
 * truncated and NUL-terminated, len counts what the whole text needed). */
#ifndef NGT_STRBUF_H
#define NGT_STRBUF_H

#include <stddef.h>

typedef struct strbuf {
    char *s;    /* the text, NUL-terminated once anything was printed (NULL before) */
    size_t len; /* its length (fixed: the length it needed) */
    size_t cap; /* bytes at s */
    int fixed;  /* s is caller memory: never grown or freed */
    int oom;    /* a growth failed: the text is incomplete */
} strbuf;

/* A fixed buffer over buf[size] (buf may be NULL when size is 0: only counts). */
strbuf sb_fixed(char *buf, size_t size);
void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_puts(strbuf *b, const char *s);
void sb_free(strbuf *b); /* frees a growable buffer's text; a fixed one is left alone */

#endif
