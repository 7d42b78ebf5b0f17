/* PDF through poppler-glib: each page's text with one glyph box per character
 * (poppler_page_get_text + poppler_page_get_text_layout), put into reading order by pdf_layout.c
 * (columns read one after the other); then furniture removal (pdf_furniture.c), paragraphs (here)
 * and de-hyphenation (pdf_hyphen.c) over the whole document.
 *
 * Paragraphs: a break between consecutive lines when the type size changes by more than 15%, when
 *   the vertical gap exceeds 0.6 line heights, when the next line is indented by more than 0.8 line
 *   heights after a finished sentence (first-line indent), or when the line ends a sentence (or the
 *   next starts like a heading) short of its column's right edge (by 1 line height in justified
 *   text, 3 in ragged text). A column or page change alone does not break a paragraph.
 * Errors: encrypted (a password is needed), damaged, no pages, no text on any page (image-only when
 *   pages carry images: OCR needed); pages without text are a warning. */
#ifdef LONGJAM_HAVE_POPPLER
#define _GNU_SOURCE   /* realpath */
#include "ingest/internal.h"
#include "ingest/pdf_lines.h"

#include "common/error.h"

#include <glib.h>
#include <math.h>
#include <poppler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static void quiet_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data) {}

void ingest_pdf_init(void) {
    /* poppler reports syntax errors of damaged files through glib logging; they become our
     * per-document errors and warnings instead of noise (or aborts under G_DEBUG=fatal-warnings) */
    g_log_set_handler("Poppler", (GLogLevelFlags)(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION),
                      quiet_log, NULL);
}

bool pdf_lines_add(lines *L, int page, const char *s, size_t n, double x0, double y0, double x1, double y1,
                   double size, bool mono, bool geom) {
    if (L->n == L->cap) {
        size_t c = L->cap ? L->cap * 2 : 256;
        line *v = realloc(L->v, c * sizeof *v);
        if (!v) return false;
        L->v = v; L->cap = c;
    }
    if (L->alen + n + 1 > L->acap) {
        size_t c = L->acap ? L->acap : 4096;
        while (c < L->alen + n + 1) c *= 2;
        char *a = realloc(L->arena, c);
        if (!a) return false;
        L->arena = a; L->acap = c;
    }
    memcpy(L->arena + L->alen, s, n);
    L->arena[L->alen + n] = 0;
    L->v[L->n++] = (line){page, L->alen, n, x0, y0, x1, y1, size, mono, false, geom};
    L->alen += n + 1;
    return true;
}

typedef struct emit_ctx { lines *L; int page; } emit_ctx;

static bool emit_line(void *ctx, const char *s, size_t n, double x0, double y0, double x1, double y1, double size,
                      double mono) {
    emit_ctx *e = ctx;
    /* a code line: (nearly) all of it in a monospaced font; inline code in prose is not */
    return pdf_lines_add(e->L, e->page, s, n, x0, y0, x1, y1, size, mono >= 0.8, true);
}

/* Monospaced font families by name (after a subset prefix "ABCDEF+"): TeX's typewriter fonts,
 * Courier and the usual code fonts. */
static bool font_is_mono(const char *name) {
    if (!name) return false;
    const char *plus = strchr(name, '+');
    if (plus) name = plus + 1;
    static const char *const marks[] = {"Mono", "mono", "Courier", "courier", "Typewriter", "Consol", "Inconsolata",
                                        "Menlo", "CMTT", "CMSLTT", "CMITT", "SFTT", "LMMono", "txtt", "pcrr", "Code"};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (strstr(name, marks[i])) return true;
    return false;
}

/* One flag per character of the page text: set in a monospaced font. NULL when none is. */
static unsigned char *mono_flags(PopplerPage *page, size_t nchars) {
    GList *attrs = poppler_page_get_text_attributes(page);
    unsigned char *m = NULL;
    for (GList *l = attrs; l; l = l->next) {
        const PopplerTextAttributes *a = l->data;
        if (!a || !font_is_mono(a->font_name) || a->start_index < 0) continue;
        if (!m && !(m = calloc(nchars + 1, 1))) break;
        for (size_t i = (size_t)a->start_index; i <= (size_t)a->end_index && i < nchars; i++) m[i] = 1;
    }
    poppler_page_free_text_attributes(attrs);
    return m;
}

_Static_assert(sizeof(PopplerRectangle) == sizeof(ingest_rect), "PopplerRectangle layout");

/* Splits one page's text into lines with boxes: our reading order from the glyph boxes when poppler
 * gives one box per character, else poppler's lines as they come. */
static bool page_lines(lines *L, int pageno, PopplerPage *page, const char *text, PopplerRectangle *r, guint nr) {
    size_t nchars = (size_t)g_utf8_strlen(text, -1);
    bool geom = r && nr == nchars;
    if (geom && nr < 200000) {
        emit_ctx e = {L, pageno};
        unsigned char *mono = mono_flags(page, nchars);
        bool ok = pdf_layout_page(text, (const ingest_rect *)r, nr, mono, emit_line, &e);
        free(mono);
        return ok;
    }
    geom = false;
    const char *p = text, *ls = text;
    size_t ci = 0;
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (;;) {
        gunichar c = g_utf8_get_char_validated(p, -1);
        if (c == (gunichar)-1 || c == (gunichar)-2) c = 0;   /* invalid: end the page defensively */
        if (c == 0 || c == '\n') {
            /* trim and store the line */
            size_t n = (size_t)(p - ls);
            while (n && (ls[n - 1] == ' ' || ls[n - 1] == '\r' || ls[n - 1] == '\t')) n--;
            size_t s = 0;
            while (s < n && (ls[s] == ' ' || ls[s] == '\t')) s++;
            if (n > s) {
                bool g = geom && isfinite(x0);
                if (!pdf_lines_add(L, pageno, ls + s, n - s, g ? x0 : 0, g ? y0 : 0, g ? x1 : 0, g ? y1 : 0,
                               g ? y1 - y0 : 0, false, g))
                    return false;
            }
            if (c == 0) break;
            p = g_utf8_next_char(p);
            ls = p;
            ci++;
            x0 = y0 = INFINITY; x1 = y1 = -INFINITY;
            continue;
        }
        if (geom && ci < nr && c != ' ' && c != '\t') {
            const PopplerRectangle *q = &r[ci];
            if (q->x1 > q->x2 || q->y1 > q->y2) {}   /* degenerate box: ignore */
            else {
                if (q->x1 < x0) x0 = q->x1;
                if (q->y1 < y0) y0 = q->y1;
                if (q->x2 > x1) x1 = q->x2;
                if (q->y2 > y1) y1 = q->y2;
            }
        }
        p = g_utf8_next_char(p);
        ci++;
    }
    return true;
}

/* ---- paragraphs ------------------------------------------------------------------------------ */

static bool ends_sentence(const char *s, size_t n) {
    while (n && (s[n - 1] == '"' || s[n - 1] == ')' || s[n - 1] == '\'')) n--;
    return n && strchr(".!?:", s[n - 1]);
}

/* Upper-case letter, digit or bullet: how a heading's next line or a new paragraph starts. */
static bool starts_block(const char *s, size_t n) {
    int32_t cp = 0;
    if (!n || utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &cp) <= 0) return false;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_ND || cp == 0x2022 || cp == '-' || cp == '*';
}

static int open_error(GError *gerr, char *err, size_t errlen) {
    int rc;
    if (gerr && gerr->domain == POPPLER_ERROR && gerr->code == POPPLER_ERROR_ENCRYPTED)
        rc = lj_errf(err, errlen, "encrypted PDF: a password is required");
    else
        rc = lj_errf(err, errlen, "damaged or unreadable PDF: %s", gerr && gerr->message ? gerr->message : "cannot open");
    if (gerr) g_error_free(gerr);
    return rc;
}

static int pdf_document(PopplerDocument *doc, const ingest_opts *o, ib *b, char *err, size_t errlen);

int ingest_pdf(const char *name, const void *data, size_t len, const ingest_opts *o, ib *b, char *err,
               size_t errlen) {
    GError *gerr = NULL;
    GBytes *bytes = g_bytes_new_static(data, len);
    PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
    int rc = doc ? pdf_document(doc, o, b, err, errlen) : open_error(gerr, err, errlen);
    if (doc) g_object_unref(doc);
    g_bytes_unref(bytes);
    return rc;
}

int ingest_pdf_file(const char *path, const ingest_opts *o, ib *b, char *err, size_t errlen) {
    GError *gerr = NULL;
    char *abs = realpath(path, NULL);
    char *uri = abs ? g_filename_to_uri(abs, NULL, &gerr) : NULL;
    free(abs);
    if (!uri) {
        if (gerr) g_error_free(gerr);
        return lj_errf(err, errlen, "cannot make a file URI of the path");
    }
    PopplerDocument *doc = poppler_document_new_from_file(uri, NULL, &gerr);
    g_free(uri);
    int rc = doc ? pdf_document(doc, o, b, err, errlen) : open_error(gerr, err, errlen);
    if (doc) g_object_unref(doc);
    return rc;
}

/* The text of an open document into the builder (the caller keeps and releases doc). */
static int pdf_document(PopplerDocument *doc, const ingest_opts *o, ib *b, char *err, size_t errlen) {
    int npages = poppler_document_get_n_pages(doc);
    if (npages <= 0) return lj_errf(err, errlen, "PDF has no pages");
    lines L = {0};
    double *page_h = calloc((size_t)npages, sizeof *page_h);
    int images = 0, empty_pages = 0, bad_pages = 0;
    bool oom = page_h == NULL;
    for (int i = 0; i < npages && !oom; i++) {
        PopplerPage *page = poppler_document_get_page(doc, i);
        if (!page) { bad_pages++; continue; }
        double w, h;
        poppler_page_get_size(page, &w, &h);
        page_h[i] = h;
        char *text = poppler_page_get_text(page);
        PopplerRectangle *rects = NULL;
        guint nr = 0;
        if (text && *text) poppler_page_get_text_layout(page, &rects, &nr);
        size_t before = L.n;
        if (text && !page_lines(&L, i + 1, page, text, rects, nr)) oom = true;
        if (L.n == before) {
            empty_pages++;
            GList *im = poppler_page_get_image_mapping(page);
            if (im) images++;
            poppler_page_free_image_mapping(im);
        }
        g_free(rects);
        g_free(text);
        g_object_unref(page);
    }
    if (oom) { free(L.v); free(L.arena); free(page_h); return lj_errf(err, errlen, "out of memory"); }
    if (L.n == 0) {
        free(L.v); free(L.arena); free(page_h);
        if (images) return lj_errf(err, errlen, "image-only PDF: no text layer on any of %d page(s) (%d with images; OCR needed)", npages, images);
        return lj_errf(err, errlen, "empty PDF: no text on any of %d page(s)", npages);
    }
    if (bad_pages) ib_warn(b, "%d page(s) could not be read", bad_pages);
    if (empty_pages) ib_warn(b, "%d of %d page(s) have no text%s", empty_pages, npages, images ? " (image-only pages; OCR needed)" : "");
    if (!o->keep_furniture) pdf_remove_furniture(&L, npages, page_h);

    /* words of the document, for the de-hyphenation evidence */
    pdf_words words = {0};
    for (size_t i = 0; i < L.n && !oom; i++) {
        const line *l = &L.v[i];
        bool prev_h = i > 0 && L.v[i - 1].len && ltext(&L, &L.v[i - 1])[L.v[i - 1].len - 1] == '-';
        if (!pdf_words_add_line(&words, ltext(&L, l), l->len, prev_h)) oom = true;
    }

    /* typical line height per page, for the paragraph rules */
    double *lh = calloc((size_t)npages, sizeof *lh);
    if (!lh) oom = true;
    for (size_t i = 0; i < L.n && !oom;) {
        size_t j = i;
        double hs[512];
        size_t nh = 0;
        while (j < L.n && L.v[j].page == L.v[i].page) {
            if (L.v[j].geom && nh < 512 && !L.v[j].removed) hs[nh++] = L.v[j].y1 - L.v[j].y0;
            j++;
        }
        /* median by partial selection sort (nh is small) */
        for (size_t a = 0; a <= nh / 2 && a < nh; a++)
            for (size_t c = a + 1; c < nh; c++)
                if (hs[c] < hs[a]) { double t = hs[a]; hs[a] = hs[c]; hs[c] = t; }
        lh[L.v[i].page - 1] = nh ? hs[nh / 2] : 12;
        i = j;
    }

    /* justified text: consecutive lines of a column share their right edge; then a line that ends
     * a line height short of the edge already ends its paragraph (ragged text needs 3) */
    size_t pairs = 0, flush = 0;
    for (size_t i = 0; i + 1 < L.n; i++) {
        const line *a = &L.v[i], *c = &L.v[i + 1];
        if (!a->geom || !c->geom || a->page != c->page || a->removed || c->removed) continue;
        double h = lh[a->page - 1] > 0 ? lh[a->page - 1] : 12;
        if (fabs(a->x0 - c->x0) > h || c->y0 < a->y0) continue;
        pairs++;
        flush += fabs(a->x1 - c->x1) < 0.3 * h;
    }
    double short_by = pairs >= 10 && flush * 2 >= pairs ? 1.0 : 3.0;

    int cur_page = 0;
    double code_x0 = 0;   /* left edge of the current code block */
    const line *prev = NULL;
    for (size_t i = 0; i < L.n && !oom; i++) {
        const line *l = &L.v[i];
        if (l->removed) continue;
        if (l->page != cur_page) {
            for (int p = cur_page + 1; p <= l->page; p++) ib_page(b, p);
            cur_page = l->page;
        }
        const char *s = ltext(&L, l);
        bool brk = false;
        if (prev) {
            const char *ps = ltext(&L, prev);
            double h = lh[l->page - 1] > 0 ? lh[l->page - 1] : 12;
            bool same_col = prev->page == l->page && prev->geom && l->geom && l->y0 > prev->y0 - 0.5 * h &&
                            fabs(l->x0 - prev->x0) < 0.3 * (prev->x1 - prev->x0 + h);
            /* a change of type size starts a new block (headings, captions, footnotes) */
            bool resized = prev->geom && l->geom && prev->size > 0 && l->size > 0 &&
                           fabs(prev->size - l->size) > 0.15 * fmax(prev->size, l->size);
            if (resized || prev->mono != l->mono) brk = true;   /* code blocks are blocks of their own */
            else if (same_col) {
                /* the gap is measured against these two lines' own type size, so that a page's
                 * small print (figure labels, footnotes) does not shrink the yardstick */
                double lhh = prev->size > 0 && l->size > 0 ? fmax(prev->size, l->size) : h;
                double gap = l->y0 - prev->y1;
                if (gap > 0.6 * lhh) brk = true;
                else if (l->x0 > prev->x0 + 0.8 * h && ends_sentence(ps, prev->len)) brk = true;
                else {
                    /* right edge of the column: the widest neighbour starting near the same x */
                    double right = prev->x1;
                    for (size_t k = i > 6 ? i - 6 : 0; k < i + 6 && k < L.n; k++) {
                        const line *m = &L.v[k];
                        if (m->page == l->page && m->geom && fabs(m->x0 - prev->x0) < 2 * h && m->x1 > right) right = m->x1;
                    }
                    /* a short line ends its paragraph when it finishes a sentence or the next
                     * line starts like a new one (headings have no final stop) */
                    if (prev->x1 < right - short_by * h && (ends_sentence(ps, prev->len) || starts_block(s, l->len))) brk = true;
                }
            } else if (ends_sentence(ps, prev->len)) {
                /* column or page change: break only after a short, finished line */
                double right = prev->x1;
                for (size_t k = i > 8 ? i - 8 : 0; k < i; k++) {
                    const line *m = &L.v[k];
                    if (m->page == prev->page && m->geom && fabs(m->x0 - prev->x0) < 2 * h && m->x1 > right) right = m->x1;
                }
                if (prev->x1 < right - short_by * h || !prev->geom) brk = true;
            }
            if (brk) ib_break(b);
            else if (l->mono) {
                /* code: keep the line break and the indentation (monospaced: x offset / glyph width) */
                ib_text(b, "\n", 1);
                size_t cps = 0;
                for (size_t k = 0; k < l->len; k++) cps += ((unsigned char)s[k] & 0xC0) != 0x80;
                double cw = cps ? (l->x1 - l->x0) / (double)cps : 0;
                if (cw > 0.5 && l->x0 > code_x0 + 0.5 * cw) {
                    int sp = (int)((l->x0 - code_x0) / cw + 0.5);
                    for (int k = 0; k < sp && k < 40; k++) ib_text(b, " ", 1);
                }
            } else {
                /* join with the previous line: de-hyphenate or add a space */
                bool joined = false;
                if (o->dehyphenate && prev->len && ps[prev->len - 1] == '-' && pdf_tail_word(ps, prev->len) != prev->len) {
                    bool lower;
                    if (pdf_head_word(s, l->len, &lower) && lower) {
                        /* the builder already holds the previous line with its hyphen; drop it or not */
                        if (pdf_drop_hyphen(ps, prev->len, s, l->len, &words)) {
                            if (b->curlen && b->cur[b->curlen - 1] == '-') b->curlen--;
                        }
                        joined = true;
                    }
                }
                if (!joined) ib_text(b, " ", 1);
            }
        }
        if (l->mono) {
            if (!prev || brk || !prev->mono) code_x0 = l->x0;   /* first line of a code block */
            ib_pre(b);
        }
        ib_text(b, s, l->len);
        prev = l;
    }
    ib_break(b);
    for (int p = cur_page + 1; p <= npages; p++) ib_page(b, p);
    pdf_words_free(&words);
    free(lh);
    free(L.v); free(L.arena); free(page_h);
    if (oom || b->oom) return lj_errf(err, errlen, "out of memory");
    return 0;
}
#endif
