/* Token windows over a cleaned document.
 *
 * The text is cut into units: paragraphs; a paragraph longer than the window is cut into sentences;
 * a sentence longer than the window is cut at the last whitespace (else code point) before the
 * longest prefix that fits (binary search on the byte length). Each unit is tokenized once; the
 * document's token stream is the concatenation of the units' tokens, which gives token_range.
 * Windows take whole units greedily; the window's own text (from its first unit's start to its last
 * unit's end, separators included) is tokenized again and units are given back until it fits, so a
 * window never exceeds the limit even where tokens merge differently across unit boundaries.
 * Overlap: the next window starts with the trailing units of the previous one whose tokens sum to at
 * most `overlap` (whole units only, so the overlap may be smaller; it never blocks progress). */
#include "ingest/internal.h"

#include "common/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct unit { size_t start, end, ntok, para; } unit;

typedef struct units { unit *v; size_t n, cap; } units;

static int units_add(units *u, size_t s, size_t e, size_t ntok, size_t para) {
    if (u->n == u->cap) {
        size_t c = u->cap ? u->cap * 2 : 256;
        unit *v = realloc(u->v, c * sizeof *v);
        if (!v) return -1;
        u->v = v; u->cap = c;
    }
    u->v[u->n++] = (unit){s, e, ntok, para};
    return 0;
}

static bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

/* Start of the code point at or before i. */
static size_t cp_floor(const char *t, size_t i, size_t lo) {
    while (i > lo && ((unsigned char)t[i] & 0xC0) == 0x80) i--;
    return i;
}

/* Cuts [s, e) (too long for one window) into units at whitespace / code points. */
static int cut_long(const lj_doc *d, ingest_count_fn count, void *ctx, size_t window, size_t s, size_t e, size_t para,
                    units *u, char *err, size_t errlen) {
    const char *t = d->text;
    while (s < e) {
        while (s < e && is_ws(t[s])) s++;
        if (s >= e) break;
        size_t n;
        if (count(ctx, t + s, e - s, &n, err, errlen) != 0) return -1;
        if (n <= window) return units_add(u, s, e, n, para);
        /* largest c in (s, e] with count(s..c) <= window */
        size_t lo = s, hi = e;   /* invariant: count(s..lo) <= window (lo == s: empty), count(s..hi) > window */
        while (hi - lo > 1) {
            size_t mid = cp_floor(t, lo + (hi - lo) / 2, lo);
            if (mid <= lo) break;
            if (count(ctx, t + s, mid - s, &n, err, errlen) != 0) return -1;
            if (n <= window) lo = mid; else hi = mid;
        }
        size_t c = lo;
        if (c <= s) {   /* not even one code point fits: take one anyway so that progress is made */
            c = s + 1;
            while (c < e && ((unsigned char)t[c] & 0xC0) == 0x80) c++;
        } else {
            /* prefer the last whitespace in the second half of the piece */
            for (size_t k = c; k > s + (c - s) / 2; k--)
                if (is_ws(t[k - 1])) { c = k - 1; break; }
        }
        size_t ue = c;
        while (ue > s && is_ws(t[ue - 1])) ue--;
        if (ue <= s) ue = c;
        if (count(ctx, t + s, ue - s, &n, err, errlen) != 0) return -1;
        if (units_add(u, s, ue, n, para) != 0) return lj_errf(err, errlen, "out of memory");
        s = c;
    }
    return 0;
}

/* Sentence ends: . ! ? (then closing quotes/brackets) followed by whitespace. */
static size_t next_sentence_end(const char *t, size_t i, size_t e) {
    for (; i < e; i++) {
        if (t[i] == '.' || t[i] == '!' || t[i] == '?') {
            size_t j = i + 1;
            while (j < e && (t[j] == '"' || t[j] == '\'' || t[j] == ')' || t[j] == ']')) j++;
            if (j >= e) return e;
            if (is_ws(t[j])) return j;
        }
    }
    return e;
}

static int make_units(const lj_doc *d, ingest_count_fn count, void *ctx, size_t window, units *u, char *err,
                      size_t errlen) {
    for (size_t p = 0; p < d->n_paras; p++) {
        size_t s = d->paras[p].start, e = d->paras[p].end, n;
        if (count(ctx, d->text + s, e - s, &n, err, errlen) != 0) return -1;
        if (n <= window) {
            if (units_add(u, s, e, n, p) != 0) return lj_errf(err, errlen, "out of memory");
            continue;
        }
        /* sentences, packed greedily into units that fit */
        size_t i = s;
        while (i < e) {
            while (i < e && is_ws(d->text[i])) i++;
            if (i >= e) break;
            size_t se = next_sentence_end(d->text, i, e);
            if (count(ctx, d->text + i, se - i, &n, err, errlen) != 0) return -1;
            if (n > window) {
                if (cut_long(d, count, ctx, window, i, se, p, u, err, errlen) != 0) return -1;
            } else if (units_add(u, i, se, n, p) != 0) return lj_errf(err, errlen, "out of memory");
            i = se;
        }
    }
    return 0;
}

/* Code point offset of byte b, moving a cursor (bytes, cps) forwards or backwards. */
static size_t cp_at(const char *t, size_t *cb, size_t *cc, size_t b) {
    while (*cb < b) { if (((unsigned char)t[*cb] & 0xC0) != 0x80) (*cc)++; (*cb)++; }
    while (*cb > b) { (*cb)--; if (((unsigned char)t[*cb] & 0xC0) != 0x80) (*cc)--; }
    return *cc;
}

int ingest_windows(const lj_doc *d, ingest_count_fn count, void *ctx, size_t window, size_t overlap,
                   ingest_window **out, size_t *nout, char *err, size_t errlen) {
    *out = NULL; *nout = 0;
    if (window == 0) return lj_errf(err, errlen, "window must be at least 1 token");
    if (overlap >= window) return lj_errf(err, errlen, "overlap (%zu) must be smaller than the window (%zu)", overlap, window);
    units u = {0};
    if (make_units(d, count, ctx, window, &u, err, errlen) != 0) { free(u.v); return -1; }
    size_t *tok_before = malloc((u.n + 1) * sizeof *tok_before);
    if (!tok_before) { free(u.v); return lj_errf(err, errlen, "out of memory"); }
    tok_before[0] = 0;
    for (size_t i = 0; i < u.n; i++) tok_before[i + 1] = tok_before[i] + u.v[i].ntok;
    ingest_window *w = NULL;
    size_t nw = 0, capw = 0;
    size_t sb = 0, sc = 0, eb = 0, ec = 0;   /* code point cursors for starts and ends */
    size_t first = 0;
    int rc = 0;
    while (first < u.n) {
        /* greedy by the units' own counts, then verify the window text */
        size_t last = first, sum = u.v[first].ntok;
        while (last + 1 < u.n && sum + u.v[last + 1].ntok <= window) sum += u.v[++last].ntok;
        size_t n = 0;
        for (;;) {
            size_t bs = u.v[first].start, be = u.v[last].end;
            if (count(ctx, d->text + bs, be - bs, &n, err, errlen) != 0) { rc = -1; goto out; }
            if (n <= window || last == first) break;
            last--;
        }
        if (nw == capw) {
            size_t c = capw ? capw * 2 : 16;
            ingest_window *nv = realloc(w, c * sizeof *nv);
            if (!nv) { rc = lj_errf(err, errlen, "out of memory"); goto out; }
            w = nv; capw = c;
        }
        ingest_window *x = &w[nw];
        x->index = nw;
        x->byte_start = u.v[first].start;
        x->byte_end = u.v[last].end;
        x->char_start = cp_at(d->text, &sb, &sc, x->byte_start);
        x->char_end = cp_at(d->text, &eb, &ec, x->byte_end);
        x->tok_start = tok_before[first];
        x->tok_end = tok_before[last + 1];
        x->ntokens = n;
        x->page_first = d->paras[u.v[first].para].page_first;
        x->page_last = d->paras[u.v[last].para].page_last;
        nw++;
        if (last + 1 >= u.n) break;
        /* next window: trailing units of this one within the overlap, but always move forward */
        size_t next = last + 1, ov = 0;
        while (overlap && next - 1 > first && ov + u.v[next - 1].ntok <= overlap) ov += u.v[--next].ntok;
        first = next;
    }
out:
    free(u.v);
    free(tok_before);
    if (rc != 0) { free(w); return -1; }
    *out = w;
    *nout = nw;
    return 0;
}
