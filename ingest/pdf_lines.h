/* PDF internals shared by pdf.c (poppler, paragraphs), pdf_furniture.c and pdf_hyphen.c: the
 * lines of a document in reading order, with their boxes. */
#ifndef LJ_INGEST_PDF_LINES_H
#define LJ_INGEST_PDF_LINES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct line {
    int page;
    size_t off, len;          /* bytes in the shared text arena */
    double x0, y0, x1, y1;    /* box in page points, y downwards */
    double size;              /* typical glyph height (font size proxy) */
    bool mono;                /* set in a monospaced font (code): its line breaks are kept */
    bool removed, geom;
} line;

typedef struct lines {
    line *v; size_t n, cap;
    char *arena; size_t alen, acap;
} lines;

bool pdf_lines_add(lines *L, int page, const char *s, size_t n, double x0, double y0, double x1, double y1,
                   double size, bool mono, bool geom);
static inline const char *ltext(const lines *L, const line *l) { return L->arena + l->off; }

/* Marks running headers/footers and page numbers as removed (rules in pdf_furniture.c).
 * page_h: the height of each page in points. */
void pdf_remove_furniture(lines *L, int npages, const double *page_h);

/* The evidence for de-hyphenation: the words of the document (case-folded) and its
 * letter-hyphen-letter compounds, leaving out the fragments at hyphenated line ends. */
typedef struct wset { char **k; size_t cap, n; } wset;
typedef struct pdf_words { wset words, hyph; } pdf_words;
bool pdf_words_add_line(pdf_words *w, const char *s, size_t n, bool prev_hyphenated);
void pdf_words_free(pdf_words *w);
/* Start of the letters before a final '-' (n when the line does not end so). */
size_t pdf_tail_word(const char *s, size_t n);
/* Length of the leading letters; *lower: the first is lower-case. */
size_t pdf_head_word(const char *s, size_t n, bool *lower);
/* Whether the hyphen ending line a is dropped when b continues it (rule in pdf_hyphen.c). */
bool pdf_drop_hyphen(const char *a, size_t an, const char *b, size_t bn, const pdf_words *w);

#endif
