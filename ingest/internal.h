/* ingest internals: the document builder shared by the format readers. */
#ifndef LJ_INGEST_INTERNAL_H
#define LJ_INGEST_INTERNAL_H

#include "ingest/ingest.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Normalisation applied to each paragraph when it is closed. */
typedef enum ib_mode {
    IB_COLLAPSE,   /* NFKC, whitespace runs (newlines too) become one space: PDF, XML, HTML */
    IB_LINES,      /* NFC, lines kept as they are (trailing spaces trimmed): text, Markdown */
} ib_mode;

/* Builds lj_doc.text paragraph by paragraph. Text goes into the open paragraph (`cur`); ib_break
 * normalises it and appends it to the document with a "\n\n" separator. Out-of-memory and the
 * output limit set `failed`; the readers check ib_failed() and stop. */
typedef struct ib {
    ib_mode mode;
    char *buf; size_t len, cap;           /* the document text */
    char *cur; size_t curlen, curcap;     /* the open paragraph, raw */
    ingest_para *paras; size_t np, capp;
    int page, cur_page_first;             /* current page (1-based, 0 = none) */
    size_t *page_start; int npages; size_t cappages;
    char **warn; size_t nw, capw;
    size_t limit;                         /* max document bytes (0 = none) */
    ingest_para_fn sink; void *sink_ctx;  /* streaming: paragraphs go here instead of buf */
    bool sink_failed;
    bool cur_pre;                         /* the open paragraph is preformatted: keep its lines */
    bool oom, over_limit;
} ib;

void ib_init(ib *b, ib_mode mode);
void ib_free(ib *b);
void ib_text(ib *b, const char *s, size_t n);    /* append raw UTF-8 to the open paragraph */
void ib_break(ib *b);                            /* close the open paragraph (no-op when empty) */
void ib_pre(ib *b);                              /* the open paragraph is preformatted (code, verse) */
bool ib_cur_has_text(const ib *b);               /* open paragraph has non-space text */
void ib_page(ib *b, int page);                   /* page `page` (1-based) starts here */
void ib_warn(ib *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool ib_failed(const ib *b);
/* Moves the result into d (d->path/id/format are set by the caller). Returns 0 / -1 (OOM). */
int ib_finish(ib *b, lj_doc *d);

/* Format readers: fill the builder; return 0 or -1 with err (without the path prefix). */
int ingest_pdf(const char *name, const void *data, size_t len, const ingest_opts *o, ib *b,
               char *err, size_t errlen);
int ingest_pdf_file(const char *path, const ingest_opts *o, ib *b, char *err, size_t errlen);
int ingest_xml(const char *name, const void *data, size_t len, const ingest_opts *o, ib *b,
               char *err, size_t errlen);
int ingest_xml_file(const char *path, const ingest_opts *o, ib *b, char *err, size_t errlen);
int ingest_html(const char *name, const void *data, size_t len, const ingest_opts *o, ib *b,
                char *err, size_t errlen);
int ingest_text(const char *name, const void *data, size_t len, const ingest_opts *o, ib *b,
                char *err, size_t errlen);

/* PDF reading order (pdf_layout.c). A glyph box, laid out as poppler's PopplerRectangle. */
typedef struct ingest_rect { double x1, y1, x2, y2; } ingest_rect;
/* Receives one line in reading order with its box and its typical glyph height (median over its
 * words: a proxy of the font size that superscripts do not move); returns false to stop (OOM). */
typedef bool (*pdf_line_fn)(void *ctx, const char *s, size_t n, double x0, double y0, double x1, double y1,
                            double size);
/* Orders a page's text (poppler_page_get_text) into lines from its glyph boxes (one per character,
 * nr of them). Returns false on out of memory. */
bool pdf_layout_page(const char *text, const ingest_rect *r, size_t nr, pdf_line_fn emit, void *ctx);

/* Normalises a UTF-8 string (NFKC when compat, else NFC); invalid bytes become U+FFFD first.
 * Returns a malloc'd string (caller frees) or NULL on OOM. */
char *ingest_normalize(const char *s, size_t n, bool compat, size_t *outlen);

/* Byte length of a valid UTF-8 sequence at s (1..4), or 0 when invalid / truncated. */
size_t ingest_utf8_len(const unsigned char *s, size_t n);

#endif
