/* PDF page furniture: running headers, footers and page numbers.
 *
 * A line among the two top-most or two bottom-most lines of its page is removed when
 *   - it is a page number ("12", "xii", "Page 3", "3 of 10", "- 4 -"), or
 *   - the same text (digits folded, case folded) sits at the same height (within 2% of the page)
 *     on at least 40% of the pages (at least 3; pages-1 for 3-4 page documents), or
 *   - it carries a number at its start or end and the same text sits at the same height on another
 *     page with the number moved by as many pages ("Chapter 1: Introduction 4", then "... 5"). */
#include "ingest/pdf_lines.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void pdf_remove_furniture(lines *L, int npages, const double *page_h) {
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

