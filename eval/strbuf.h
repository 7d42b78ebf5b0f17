/* A growable NUL-terminated byte buffer for building prompts and JSON-free text. */
#ifndef LJ_EVAL_STRBUF_H
#define LJ_EVAL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct sbuf {
    char *p;      /* NUL-terminated when non-NULL; owned (free with sb_free or take p) */
    size_t n, cap;
    int oom;      /* set when an allocation failed; later appends are ignored */
} sbuf;

void sb_add(sbuf *b, const char *s, size_t n);
void sb_str(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns the string (caller frees), or NULL after an allocation failure; resets b. */
char *sb_take(sbuf *b);
void sb_free(sbuf *b);

#endif
