/* Reading order of one PDF page from glyph boxes (recursive XY-cut).
 *
 * poppler's own flow order merges lines of adjacent columns when their baselines align, so the
 * order is rebuilt here: glyphs → words (split at spaces and at jumps between glyph boxes) → rows
 * (words whose vertical centres agree) → fragments (runs of a row without a gap wider than 0.8 line
 * height) → XY-cut: a region is split at its widest empty vertical strip (a column gutter) when
 * both sides hold at least two fragments and a tenth of the width, preferred unless a horizontal
 * gap is more than twice as wide; else at its widest empty horizontal strip; a region that cannot
 * be split is one line (its fragments joined left to right). Leaves come out top-down, left-right. */
#include "ingest/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct box { double x0, y0, x1, y1; } box;
typedef struct word { box b; size_t off, len; } word;
typedef struct frag { box b; size_t w0, nw; } frag;    /* words w0..w0+nw-1 of the sorted word list */

typedef struct lay {
    const char *text;
    word *w; size_t nw;
    frag *f; size_t nf;
    double h;                       /* median word height */
    pdf_line_fn emit; void *ctx;
    bool fail;
} lay;

static int cmp_yc(const void *a, const void *b) {
    const word *x = a, *y = b;
    double cx = (x->b.y0 + x->b.y1) / 2, cy = (y->b.y0 + y->b.y1) / 2;
    return cx < cy ? -1 : cx > cy;
}
static int cmp_x(const void *a, const void *b) {
    const word *x = a, *y = b;
    return x->b.x0 < y->b.x0 ? -1 : x->b.x0 > y->b.x0;
}
static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The line text of fragments idx[0..n): sorted by row then x, words joined by one space. */
static void emit_leaf(lay *L, size_t *idx, size_t n) {
    /* order fragments by top then left (a leaf is usually one row) */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0; j--) {
            const frag *a = &L->f[idx[j - 1]], *b = &L->f[idx[j]];
            bool same_row = fabs((a->b.y0 + a->b.y1) - (b->b.y0 + b->b.y1)) < L->h;
            bool swap = same_row ? b->b.x0 < a->b.x0 : b->b.y0 < a->b.y0;
            if (!swap) break;
            size_t t = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = t;
        }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const frag *f = &L->f[idx[i]];
        for (size_t k = 0; k < f->nw; k++) total += L->w[f->w0 + k].len + 1;
    }
    char *s = malloc(total + 1);
    if (!s) { L->fail = true; return; }
    size_t o = 0;
    box b = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        const frag *f = &L->f[idx[i]];
        for (size_t k = 0; k < f->nw; k++) {
            const word *w = &L->w[f->w0 + k];
            if (o) s[o++] = ' ';
            memcpy(s + o, L->text + w->off, w->len);
            o += w->len;
        }
        b.x0 = fmin(b.x0, f->b.x0); b.y0 = fmin(b.y0, f->b.y0);
        b.x1 = fmax(b.x1, f->b.x1); b.y1 = fmax(b.y1, f->b.y1);
    }
    s[o] = 0;
    /* median word height of the line (insertion sort: lines hold few words) */
    double hs[64];
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        const frag *f = &L->f[idx[i]];
        for (size_t k = 0; k < f->nw && nh < 64; k++) {
            double h = L->w[f->w0 + k].b.y1 - L->w[f->w0 + k].b.y0;
            size_t j = nh++;
            while (j > 0 && hs[j - 1] > h) { hs[j] = hs[j - 1]; j--; }
            hs[j] = h;
        }
    }
    double size = nh ? hs[nh / 2] : b.y1 - b.y0;
    if (o && !L->emit(L->ctx, s, o, b.x0, b.y0, b.x1, b.y1, size)) L->fail = true;
    free(s);
}

typedef struct span { double s, e; } span;

static int cmp_span(const void *a, const void *b) {
    double x = ((const span *)a)->s, y = ((const span *)b)->s;
    return x < y ? -1 : x > y;
}

/* Widest gap in the projection of fragments idx[0..n) on x (vertical = true) or y. Returns the
 * gap width and its middle (the cut coordinate) in *at; 0 when there is none. */
static double widest_gap(lay *L, size_t *idx, size_t n, bool vertical, double *at, span *spans) {
    for (size_t i = 0; i < n; i++) {
        const box *b = &L->f[idx[i]].b;
        spans[i] = vertical ? (span){b->x0, b->x1} : (span){b->y0, b->y1};
    }
    qsort(spans, n, sizeof *spans, cmp_span);
    double best = 0, reach = spans[0].e;
    for (size_t i = 1; i < n; i++) {
        if (spans[i].s > reach && spans[i].s - reach > best) { best = spans[i].s - reach; *at = (reach + spans[i].s) / 2; }
        if (spans[i].e > reach) reach = spans[i].e;
    }
    return best;
}

static void xycut(lay *L, size_t *idx, size_t n, span *spans, int depth) {
    if (L->fail || n == 0) return;
    if (n == 1 || depth > 200) { emit_leaf(L, idx, n); return; }
    double vat = 0, hat = 0;
    double vg = widest_gap(L, idx, n, true, &vat, spans);
    double hg = widest_gap(L, idx, n, false, &hat, spans);
    bool vok = false;
    if (vg >= 0.8 * L->h) {
        /* a gutter separates two columns: each side spans several rows and a tenth of the width
         * (wide justified spaces inside one row are not gutters) */
        double minx = INFINITY, maxx = -INFINITY, lmin = INFINITY, lmax = -INFINITY, rmin = INFINITY, rmax = -INFINITY;
        double ltop = INFINITY, lbot = -INFINITY, rtop = INFINITY, rbot = -INFINITY;
        size_t nl = 0, nr = 0;
        for (size_t i = 0; i < n; i++) {
            const box *b = &L->f[idx[i]].b;
            minx = fmin(minx, b->x0); maxx = fmax(maxx, b->x1);
            if (b->x1 <= vat) { nl++; lmin = fmin(lmin, b->x0); lmax = fmax(lmax, b->x1); ltop = fmin(ltop, b->y0); lbot = fmax(lbot, b->y1); }
            else { nr++; rmin = fmin(rmin, b->x0); rmax = fmax(rmax, b->x1); rtop = fmin(rtop, b->y0); rbot = fmax(rbot, b->y1); }
        }
        double wdt = maxx - minx;
        vok = nl >= 2 && nr >= 2 && lmax - lmin >= 0.1 * wdt && rmax - rmin >= 0.1 * wdt &&
              lbot - ltop > 1.8 * L->h && rbot - rtop > 1.8 * L->h;
    }
    bool vertical;
    if (vok && (hg <= 0 || vg * 2 >= hg)) vertical = true;
    else if (hg > 0) vertical = false;
    else if (vok) vertical = true;
    else { emit_leaf(L, idx, n); return; }
    double at = vertical ? vat : hat;
    /* partition in place: before the cut first */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const box *b = &L->f[idx[i]].b;
        if ((vertical ? b->x1 : b->y1) <= at) { size_t t = idx[i]; idx[i] = idx[k]; idx[k] = t; k++; }
    }
    if (k == 0 || k == n) { emit_leaf(L, idx, n); return; }
    xycut(L, idx, k, spans, depth + 1);
    xycut(L, idx + k, n - k, spans, depth + 1);
}

bool pdf_layout_page(const char *text, const ingest_rect *r, size_t nr, pdf_line_fn emit, void *ctx) {
    lay L = {0};
    L.text = text; L.emit = emit; L.ctx = ctx;
    size_t len = strlen(text);
    L.w = malloc((len / 2 + 2) * sizeof *L.w);
    if (!L.w) return false;
    /* words: runs of non-space glyphs whose boxes follow each other */
    size_t ci = 0, i = 0;
    bool in = false;
    word cur = {0};
    while (i < len && ci < nr) {
        unsigned char c = (unsigned char)text[i];
        size_t k = 1;
        while (i + k < len && ((unsigned char)text[i + k] & 0xC0) == 0x80) k++;
        bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        const ingest_rect *q = &r[ci];
        bool degenerate = !(q->x2 >= q->x1 && q->y2 >= q->y1) || !isfinite(q->x1) || !isfinite(q->y1);
        if (space || degenerate) {
            if (in && cur.len) L.w[L.nw++] = cur;
            in = false;
            if (degenerate && !space) { /* glyph without a box: attach to the current word if any */ }
        } else {
            double h = q->y2 - q->y1;
            bool jump = in && (q->x1 < cur.b.x1 - h * 1.5 || q->x1 > cur.b.x1 + h * 0.6 ||
                               fabs((q->y1 + q->y2) - (cur.b.y0 + cur.b.y1)) > h);
            if (in && jump) { L.w[L.nw++] = cur; in = false; }
            if (!in) { cur.off = i; cur.len = 0; cur.b = (box){q->x1, q->y1, q->x2, q->y2}; in = true; }
            cur.len = i + k - cur.off;
            cur.b.x0 = fmin(cur.b.x0, q->x1); cur.b.y0 = fmin(cur.b.y0, q->y1);
            cur.b.x1 = fmax(cur.b.x1, q->x2); cur.b.y1 = fmax(cur.b.y1, q->y2);
        }
        i += k;
        ci++;
    }
    if (in && cur.len) L.w[L.nw++] = cur;
    if (L.nw == 0) { free(L.w); return true; }
    /* median word height */
    double *hs = malloc(L.nw * sizeof *hs);
    if (!hs) { free(L.w); return false; }
    for (size_t j = 0; j < L.nw; j++) hs[j] = L.w[j].b.y1 - L.w[j].b.y0;
    qsort(hs, L.nw, sizeof *hs, cmp_dbl);
    L.h = hs[L.nw / 2] > 0.5 ? hs[L.nw / 2] : 10;
    free(hs);
    /* rows by vertical centre, then fragments within each row */
    qsort(L.w, L.nw, sizeof *L.w, cmp_yc);
    L.f = malloc(L.nw * sizeof *L.f);
    span *spans = malloc(L.nw * sizeof *spans);
    size_t *idx = malloc(L.nw * sizeof *idx);
    if (!L.f || !spans || !idx) { free(L.w); free(L.f); free(spans); free(idx); return false; }
    size_t a = 0;
    while (a < L.nw) {
        size_t b = a + 1;
        double c0 = (L.w[a].b.y0 + L.w[a].b.y1) / 2;
        while (b < L.nw && (L.w[b].b.y0 + L.w[b].b.y1) / 2 - c0 < 0.4 * L.h) b++;
        qsort(L.w + a, b - a, sizeof *L.w, cmp_x);
        size_t s = a;
        for (size_t j = a + 1; j <= b; j++) {
            if (j == b || L.w[j].b.x0 - L.w[j - 1].b.x1 > 0.8 * L.h) {
                frag f = {L.w[s].b, s, j - s};
                for (size_t m = s; m < j; m++) {
                    f.b.x0 = fmin(f.b.x0, L.w[m].b.x0); f.b.y0 = fmin(f.b.y0, L.w[m].b.y0);
                    f.b.x1 = fmax(f.b.x1, L.w[m].b.x1); f.b.y1 = fmax(f.b.y1, L.w[m].b.y1);
                }
                L.f[L.nf++] = f;
                s = j;
            }
        }
        a = b;
    }
    for (size_t j = 0; j < L.nf; j++) idx[j] = j;
    xycut(&L, idx, L.nf, spans, 0);
    free(L.w); free(L.f); free(spans); free(idx);
    return !L.fail;
}
