/* PDF through poppler-glib: lines in poppler's reading order (its text flows read a multi-column
 * page column by column) with each line's box from the glyph boxes of poppler_page_get_text_layout;
 * then page furniture removal, paragraph detection and de-hyphenation over the whole document.
 *
 * Furniture: a line among the two top-most or two bottom-most lines of its page is removed when
 *   - it is a page number ("12", "xii", "Page 3", "3 of 10", "- 4 -"), or
 *   - the same text (digits folded, case folded) sits at the same height (within 2% of the page)
 *     on at least 40% of the pages (at least 3; pages-1 for 3-4 page documents).
 * Paragraphs: a break between consecutive lines when the type size changes by more than 15%, when
 *   the vertical gap exceeds 0.6 line heights,
 *   when the next line is indented by more than 0.8 line heights (first-line indent), or when the
 *   line ends a sentence short of its column's right edge (by 1 line height in justified text,
 *   3 in ragged text). A column or page change alone does not break a paragraph.
 * De-hyphenation: a line ending in letter + '-' followed by a line starting with a lower-case letter
 *   is joined. The hyphen is dropped when the joined word occurs elsewhere in the document; kept when
 *   the hyphenated form occurs elsewhere, or when both halves occur elsewhere as words (a compound such
 *   as "well-known"); otherwise dropped (typesetters' hyphenation of a word, as "hyphen-ated"). */
#ifdef LONGJAM_HAVE_POPPLER
#define _GNU_SOURCE   /* realpath */
#include "ingest/internal.h"

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

typedef struct line {
    int page;
    size_t off, len;          /* bytes in the shared text arena */
    double x0, y0, x1, y1;    /* box in page points, y downwards */
    double size;              /* typical glyph height (font size proxy) */
    bool removed, geom;
} line;

typedef struct lines {
    line *v; size_t n, cap;
    char *arena; size_t alen, acap;
} lines;

static bool lines_add(lines *L, int page, const char *s, size_t n, double x0, double y0, double x1, double y1,
                      double size, bool geom) {
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
    L->v[L->n++] = (line){page, L->alen, n, x0, y0, x1, y1, size, false, geom};
    L->alen += n + 1;
    return true;
}

static const char *ltext(const lines *L, const line *l) { return L->arena + l->off; }

typedef struct emit_ctx { lines *L; int page; } emit_ctx;

static bool emit_line(void *ctx, const char *s, size_t n, double x0, double y0, double x1, double y1, double size) {
    emit_ctx *e = ctx;
    return lines_add(e->L, e->page, s, n, x0, y0, x1, y1, size, true);
}

_Static_assert(sizeof(PopplerRectangle) == sizeof(ingest_rect), "PopplerRectangle layout");

/* Splits one page's text into lines with boxes: our reading order from the glyph boxes when poppler
 * gives one box per character, else poppler's lines as they come. */
static bool page_lines(lines *L, int pageno, const char *text, PopplerRectangle *r, guint nr) {
    size_t nchars = (size_t)g_utf8_strlen(text, -1);
    bool geom = r && nr == nchars;
    if (geom && nr < 200000) {
        emit_ctx e = {L, pageno};
        return pdf_layout_page(text, (const ingest_rect *)r, nr, emit_line, &e);
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
                if (!lines_add(L, pageno, ls + s, n - s, g ? x0 : 0, g ? y0 : 0, g ? x1 : 0, g ? y1 : 0,
                               g ? y1 - y0 : 0, g))
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

/* ---- furniture ------------------------------------------------------------------------------ */

/* Folded key: lower case, digits → '#', spaces collapsed. */
static void fold_key(const char *s, size_t n, char *out, size_t cap) {
    size_t o = 0;
    bool sp = false;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t') { sp = o > 0; continue; }
        if (sp) { out[o++] = ' '; sp = false; }
        out[o++] = (c >= '0' && c <= '9') ? '#' : (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
    }
    out[o] = 0;
}

static bool is_roman(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!strchr("ivxlcdm", *s)) return false;
    return true;
}

/* "12", "xii", "page 3", "3 of 10", "3/10", "- 4 -", "[5]" (key already folded). */
static bool is_page_number(const char *key) {
    char buf[128];
    size_t o = 0;
    for (const char *p = key; *p && o + 1 < sizeof buf; p++)
        if (!strchr("-–—[]().|", *p)) buf[o++] = *p;
    buf[o] = 0;
    char *s = buf;
    while (*s == ' ') s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ') s[--n] = 0;
    if (!strncmp(s, "page ", 5)) s += 5;
    if (!*s) return false;
    char w1[64] = "", w2[16] = "", w3[64] = "";
    int k = sscanf(s, "%63s %15s %63s", w1, w2, w3);
    bool num1 = w1[0] && strspn(w1, "#") == strlen(w1);
    if (k == 1) {
        if (num1) return true;
        char *slash = strchr(w1, '/');
        if (slash) { *slash = 0; return strspn(w1, "#") == strlen(w1) && w1[0] && strspn(slash + 1, "#") == strlen(slash + 1); }
        return is_roman(w1) && strlen(w1) <= 6;
    }
    if (k == 3 && num1 && (!strcmp(w2, "of") || !strcmp(w2, "/")) && strspn(w3, "#") == strlen(w3)) return true;
    return false;
}

/* The number at the start or the end of a line ("4 Chapter...", "...Introduction 4"). */
static bool page_number_in(const char *s, size_t n, long *num) {
    size_t e = n;
    while (e && (s[e - 1] == ' ')) e--;
    size_t b = e;
    while (b && s[b - 1] >= '0' && s[b - 1] <= '9') b--;
    if (b < e && e - b <= 5 && (b == 0 || s[b - 1] == ' ')) { *num = strtol(s + b, NULL, 10); return true; }
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i > 0 && i <= 5 && i < n && s[i] == ' ') { *num = strtol(s, NULL, 10); return true; }
    return false;
}

typedef struct cref { const char *key; size_t c; } cref;

static int cmp_cref(const void *a, const void *b) {
    const cref *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    return r ? r : (x->c > y->c) - (x->c < y->c);
}

static void remove_furniture(lines *L, int npages, const double *page_h) {
    if (npages < 2) return;
    /* the candidates: per page, the two top-most and two bottom-most lines by position */
    size_t ncand = 0;
    size_t *cand = malloc(sizeof *cand * (size_t)npages * 4 + 1);
    char (*keys)[96] = malloc(sizeof *keys * (size_t)npages * 4 + 1);
    if (!cand || !keys) { free(cand); free(keys); return; }
    size_t i = 0;
    while (i < L->n) {
        size_t j = i;
        while (j < L->n && L->v[j].page == L->v[i].page) j++;
        /* pick 2 smallest y0 and 2 largest y1 among lines [i, j) with geometry */
        size_t top[2] = {(size_t)-1, (size_t)-1}, bot[2] = {(size_t)-1, (size_t)-1};
        for (size_t k = i; k < j; k++) {
            if (!L->v[k].geom) continue;
            if (top[0] == (size_t)-1 || L->v[k].y0 < L->v[top[0]].y0) { top[1] = top[0]; top[0] = k; }
            else if (top[1] == (size_t)-1 || L->v[k].y0 < L->v[top[1]].y0) top[1] = k;
            if (bot[0] == (size_t)-1 || L->v[k].y1 > L->v[bot[0]].y1) { bot[1] = bot[0]; bot[0] = k; }
            else if (bot[1] == (size_t)-1 || L->v[k].y1 > L->v[bot[1]].y1) bot[1] = k;
        }
        size_t pick[4] = {top[0], top[1], bot[0], bot[1]};
        for (int q = 0; q < 4; q++) {
            if (pick[q] == (size_t)-1) continue;
            bool dup = false;
            for (int r = 0; r < q; r++) dup |= pick[r] == pick[q];
            if (!dup) cand[ncand++] = pick[q];
        }
        i = j;
    }
    for (size_t c = 0; c < ncand; c++) {
        const line *l = &L->v[cand[c]];
        fold_key(ltext(L, l), l->len, keys[c], sizeof keys[c]);
    }
    int need = npages <= 4 ? (npages - 1 > 2 ? npages - 1 : 2) : (int)ceil(0.4 * npages);
    if (need < 2) need = 2;
    if (npages > 4 && need < 3) need = 3;
    /* group the candidates by key, so that each is compared only with its look-alikes */
    cref *ord = malloc(sizeof *ord * (ncand + 1));
    if (!ord) { free(cand); free(keys); return; }
    for (size_t c = 0; c < ncand; c++) ord[c] = (cref){keys[c], c};
    qsort(ord, ncand, sizeof *ord, cmp_cref);
    for (size_t gs = 0; gs < ncand;) {
        size_t ge = gs + 1;
        while (ge < ncand && !strcmp(ord[ge].key, ord[gs].key)) ge++;
        for (size_t a = gs; a < ge; a++) {
            size_t c = ord[a].c;
            line *l = &L->v[cand[c]];
            if (is_page_number(keys[c])) { l->removed = true; continue; }
            double h = page_h[l->page - 1] > 0 ? page_h[l->page - 1] : 792;
            int pages = 0, lastpage = -1;
            for (size_t b2 = gs; b2 < ge; b2++) {   /* sorted by candidate index, so by page */
                const line *m = &L->v[cand[ord[b2].c]];
                if (m->page == lastpage) continue;
                if (fabs(m->y0 - l->y0) <= 0.02 * h) { pages++; lastpage = m->page; }
            }
            if (pages >= need) { l->removed = true; continue; }
            /* a running head that carries the page number ("Chapter 1: Introduction 4"): the same
             * text at the same height on another page, with its number moving with the page */
            long num;
            if (!page_number_in(ltext(L, l), l->len, &num)) continue;
            for (size_t b2 = gs; b2 < ge; b2++) {
                const line *m = &L->v[cand[ord[b2].c]];
                long mn;
                if (m->page == l->page || fabs(m->y0 - l->y0) > 0.02 * h) continue;
                if (page_number_in(ltext(L, m), m->len, &mn) && mn - m->page == num - l->page) { l->removed = true; break; }
            }
        }
        gs = ge;
    }
    free(ord);
    free(cand);
    free(keys);
}

/* ---- word set for de-hyphenation ------------------------------------------------------------ */

typedef struct wset { char **k; size_t cap, n; } wset;

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ULL; }
    return h;
}

static bool wset_has(const wset *w, const char *s, size_t n) {
    if (!w->cap) return false;
    for (size_t i = hash_bytes(s, n) & (w->cap - 1);; i = (i + 1) & (w->cap - 1)) {
        if (!w->k[i]) return false;
        if (strlen(w->k[i]) == n && !memcmp(w->k[i], s, n)) return true;
    }
}

static bool wset_add(wset *w, const char *s, size_t n) {
    if ((w->n + 1) * 2 > w->cap) {
        size_t c = w->cap ? w->cap * 2 : 4096;
        char **k = calloc(c, sizeof *k);
        if (!k) return false;
        for (size_t i = 0; i < w->cap; i++) {
            if (!w->k[i]) continue;
            size_t j = hash_bytes(w->k[i], strlen(w->k[i])) & (c - 1);
            while (k[j]) j = (j + 1) & (c - 1);
            k[j] = w->k[i];
        }
        free(w->k);
        w->k = k; w->cap = c;
    }
    size_t i = hash_bytes(s, n) & (w->cap - 1);
    for (; w->k[i]; i = (i + 1) & (w->cap - 1))
        if (strlen(w->k[i]) == n && !memcmp(w->k[i], s, n)) return true;
    w->k[i] = strndup(s, n);
    if (!w->k[i]) return false;
    w->n++;
    return true;
}

static void wset_free(wset *w) {
    for (size_t i = 0; i < w->cap; i++) free(w->k[i]);
    free(w->k);
}

/* Lower-cases a word (ASCII and Latin letters via utf8proc) into out; returns its length. */
static size_t fold_word(const char *s, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0) { i++; continue; }
        i += (size_t)k;
        cp = utf8proc_tolower(cp);
        if (o + 4 >= cap) break;
        o += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out + o);
    }
    out[o] = 0;
    return o;
}

static bool is_letter_at(const char *s, size_t n, size_t i, size_t *k) {
    int32_t cp;
    utf8proc_ssize_t r = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
    if (r <= 0) { *k = 1; return false; }
    *k = (size_t)r;
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

/* Adds every word (letter run) of a line to `words`, and letter-hyphen-letter forms to `hyph`;
 * the last word of a line that ends in '-' and the first word of the line after it are left out
 * (they are the fragments under judgement). */
static bool collect_words(const char *s, size_t n, bool skip_first, bool skip_last, wset *words, wset *hyph) {
    char buf[256];
    size_t i = 0, first = 1;
    while (i < n) {
        size_t k;
        if (!is_letter_at(s, n, i, &k)) { i += k; continue; }
        size_t st = i;
        while (i < n && is_letter_at(s, n, i, &k)) i += k;
        bool last = i >= n - 1 && n && s[n - 1] == '-';
        if (!(first && skip_first) && !(last && skip_last)) {
            size_t fl = fold_word(s + st, i - st, buf, sizeof buf);
            if (!wset_add(words, buf, fl)) return false;
            /* word-word compounds */
            if (i + 1 < n && s[i] == '-' && is_letter_at(s, n, i + 1, &k)) {
                size_t e = i + 1;
                while (e < n && is_letter_at(s, n, e, &k)) e += k;
                if (!(e >= n - 1 && s[n - 1] == '-')) {
                    size_t hl = fold_word(s + st, e - st, buf, sizeof buf);
                    if (!wset_add(hyph, buf, hl)) return false;
                }
            }
        }
        first = 0;
    }
    return true;
}

/* ---- paragraphs ------------------------------------------------------------------------------ */

/* Trailing word before a final '-' (letters only): start offset, or n when there is none. */
static size_t tail_word(const char *s, size_t n) {
    if (n < 3 || s[n - 1] != '-') return n;
    size_t e = n - 1, st = e;
    while (st > 0) {
        size_t b = st - 1;
        while (b > 0 && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
        size_t k;
        if (!is_letter_at(s, n, b, &k)) break;
        st = b;
    }
    return st < e ? st : n;
}

static size_t head_word(const char *s, size_t n, bool *lower) {
    size_t i = 0, k;
    int32_t cp = 0;
    if (n) utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &cp);
    *lower = utf8proc_category(cp) == UTF8PROC_CATEGORY_LL;
    while (i < n && is_letter_at(s, n, i, &k)) i += k;
    return i;
}

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

/* Decides whether the hyphen at the end of `a` is dropped when joining with `b`. */
static bool drop_hyphen(const char *a, size_t an, const char *b, size_t bn, const wset *words, const wset *hyph) {
    char w1[128], w2[128], j[256];
    size_t st = tail_word(a, an);
    if (st == an) return false;
    bool lower;
    size_t hn = head_word(b, bn, &lower);
    if (!hn || !lower) return false;
    size_t l1 = fold_word(a + st, an - 1 - st, w1, sizeof w1);
    size_t l2 = fold_word(b, hn, w2, sizeof w2);
    if (l1 + l2 + 2 > sizeof j) return false;
    memcpy(j, w1, l1); memcpy(j + l1, w2, l2);
    if (wset_has(words, j, l1 + l2)) return true;
    j[l1] = '-'; memcpy(j + l1 + 1, w2, l2);
    if (wset_has(hyph, j, l1 + l2 + 1)) return false;
    if (wset_has(words, w1, l1) && wset_has(words, w2, l2)) return false;
    return true;
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
        if (text && !page_lines(&L, i + 1, text, rects, nr)) oom = true;
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
    if (!o->keep_furniture) remove_furniture(&L, npages, page_h);

    /* words of the document, for the de-hyphenation evidence */
    wset words = {0}, hyph = {0};
    for (size_t i = 0; i < L.n && !oom; i++) {
        const line *l = &L.v[i];
        bool prev_h = i > 0 && L.v[i - 1].len && ltext(&L, &L.v[i - 1])[L.v[i - 1].len - 1] == '-';
        if (!collect_words(ltext(&L, l), l->len, prev_h, true, &words, &hyph)) oom = true;
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
            if (resized) brk = true;
            else if (same_col) {
                double gap = l->y0 - prev->y1;
                if (gap > 0.6 * h) brk = true;
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
            else {
                /* join with the previous line: de-hyphenate or add a space */
                bool joined = false;
                if (o->dehyphenate && prev->len && ps[prev->len - 1] == '-' && tail_word(ps, prev->len) != prev->len) {
                    bool lower;
                    if (head_word(s, l->len, &lower) && lower) {
                        /* the builder already holds the previous line with its hyphen; drop it or not */
                        if (drop_hyphen(ps, prev->len, s, l->len, &words, &hyph)) {
                            if (b->curlen && b->cur[b->curlen - 1] == '-') b->curlen--;
                        }
                        joined = true;
                    }
                }
                if (!joined) ib_text(b, " ", 1);
            }
        }
        ib_text(b, s, l->len);
        prev = l;
    }
    ib_break(b);
    for (int p = cur_page + 1; p <= npages; p++) ib_page(b, p);
    wset_free(&words);
    wset_free(&hyph);
    free(lh);
    free(L.v); free(L.arena); free(page_h);
    if (oom || b->oom) return lj_errf(err, errlen, "out of memory");
    return 0;
}
#endif
