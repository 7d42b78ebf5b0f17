/* Token windows over a cleaned document.
 *
 * The text is cut into units: paragraphs; a paragraph longer than the window is cut into sentences;
 * a sentence longer than the window is cut at the last whitespace (else code point) before the
 * longest prefix that fits (binary search on the byte length). Each unit is tokenized once; the
 * document's token stream is the concatenation of the units' tokens (each with its trailing separator),
 * which gives token_range; a window's own `ntokens` is its text tokenized alone.
 * Windows take whole units greedily; the window's own text (from its first unit's start to its last
 * unit's end, separators included) is tokenized again and units are given back until it fits, so a
 * window never exceeds the limit even where tokens merge differently across unit boundaries.
 * Overlap: the next window starts at the earliest word of the previous window's tail that holds at
 * most `overlap` tokens (found by binary search), so consecutive windows share up to `overlap`
 * tokens of text; progress is always made. */
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

/* Units with their token counts. A unit's count includes the whitespace that separates it from
 * the next unit, so that the counts of consecutive units add up to the tokens of their joined text
 * (a paragraph separator "\n\n" is two tokens for some tokenizers). */
static int make_units(const lj_doc *d, ingest_count_fn count, void *ctx, size_t window, units *u, char *err,
                      size_t errlen) {
    const char *t = d->text;
    for (size_t p = 0; p < d->n_paras; p++) {
        size_t s = d->paras[p].start, e = d->paras[p].end, n;
        size_t es = p + 1 < d->n_paras ? d->paras[p + 1].start : e;   /* with the separator */
        if (count(ctx, t + s, es - s, &n, err, errlen) != 0) return -1;
        if (n <= window) {
            if (units_add(u, s, e, n, p) != 0) return lj_errf(err, errlen, "out of memory");
            continue;
        }
        /* sentences; a sentence longer than the window is cut further */
        size_t i = s;
        while (i < e) {
            while (i < e && is_ws(t[i])) i++;
            if (i >= e) break;
            size_t se = next_sentence_end(t, i, e), ns = se;
            while (ns < e && is_ws(t[ns])) ns++;
            if (ns >= e) ns = es;
            if (count(ctx, t + i, ns - i, &n, err, errlen) != 0) return -1;
            if (n > window) {
                if (cut_long(d, count, ctx, window, i, se, p, u, err, errlen) != 0) return -1;
            } else if (units_add(u, i, se, n, p) != 0) return lj_errf(err, errlen, "out of memory");
            i = se;
        }
    }
    return 0;
}

/* Start of the overlap for a window [ws, we): the earliest word start q in (ws, we) whose tail
 * [q, we) has at most `overlap` tokens; we when there is none. Binary search over a tail of at most
 * 16 bytes per token, so the cost is a few tokenizations of overlap-sized text. */
static int overlap_start(const lj_doc *d, ingest_count_fn count, void *ctx, size_t ws, size_t we, size_t overlap,
                         size_t *q, char *err, size_t errlen) {
    const char *t = d->text;
    size_t lo = we > ws + overlap * 16 ? we - overlap * 16 : ws + 1;   /* candidate range (lo, we) */
    size_t hi = we, n;
    lo = cp_floor(t, lo, ws);
    if (lo <= ws) lo = ws + 1;
    if (lo >= we) { *q = we; return 0; }
    if (count(ctx, t + lo, we - lo, &n, err, errlen) != 0) return -1;
    if (n <= overlap) hi = lo;
    else {
        /* invariant: count(lo..we) > overlap, count(hi..we) <= overlap */
        while (hi - lo > 1) {
            size_t mid = cp_floor(t, lo + (hi - lo) / 2, lo);
            if (mid <= lo) break;
            if (count(ctx, t + mid, we - mid, &n, err, errlen) != 0) return -1;
            if (n <= overlap) hi = mid; else lo = mid;
        }
    }
    /* forward to the next word start (never backwards: that could exceed the overlap) */
    size_t k = hi;
    if (k > ws && k < we && !is_ws(t[k - 1]))
        while (k < we && !is_ws(t[k])) k++;
    while (k < we && is_ws(t[k])) k++;
    *q = k;
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
    size_t k = 0, p = u.n ? u.v[0].start : 0;   /* the window starts in unit k at byte p */
    size_t prev_last = 0;
    int rc = 0;
    while (k < u.n) {
        /* head: the rest of unit k from p (a whole unit unless the previous overlap began inside it) */
        size_t head = u.v[k].ntok, n = 0;
        if (p > u.v[k].start) {
            size_t hend = k + 1 < u.n ? u.v[k + 1].start : u.v[k].end;
            if (count(ctx, d->text + p, hend - p, &head, err, errlen) != 0) { rc = -1; goto out; }
        }
        /* greedy by the units' counts, then verify the window's own text */
        size_t last = k, sum = head;
        while (last + 1 < u.n && sum + u.v[last + 1].ntok <= window) sum += u.v[++last].ntok;
        for (;;) {
            if (count(ctx, d->text + p, u.v[last].end - p, &n, err, errlen) != 0) { rc = -1; goto out; }
            if (n <= window || last == k) break;
            last--;
        }
        if (nw && u.v[last].end <= w[nw - 1].byte_end) {
            /* the overlap left no room for new text (the next unit is too big to join it): start
             * after the previous window without overlap instead of creeping forward */
            k = prev_last + 1;
            p = u.v[k].start;
            continue;
        }
        if (nw == capw) {
            size_t c = capw ? capw * 2 : 16;
            ingest_window *nv = realloc(w, c * sizeof *nv);
            if (!nv) { rc = lj_errf(err, errlen, "out of memory"); goto out; }
            w = nv; capw = c;
        }
        ingest_window *x = &w[nw];
        x->index = nw;
        x->byte_start = p;
        x->byte_end = u.v[last].end;
        x->char_start = cp_at(d->text, &sb, &sc, x->byte_start);
        x->char_end = cp_at(d->text, &eb, &ec, x->byte_end);
        x->tok_start = tok_before[k] + (u.v[k].ntok > head ? u.v[k].ntok - head : 0);
        x->tok_end = tok_before[last + 1];
        x->ntokens = n;
        x->page_first = d->paras[u.v[k].para].page_first;
        x->page_last = d->paras[u.v[last].para].page_last;
        nw++;
        prev_last = last;
        if (last + 1 >= u.n) break;
        size_t q = u.v[last].end;
        if (overlap && overlap_start(d, count, ctx, x->byte_start, x->byte_end, overlap, &q, err, errlen) != 0) { rc = -1; goto out; }
        if (q >= x->byte_end || q <= x->byte_start) { k = last + 1; p = u.v[k].start; continue; }
        /* the unit holding q (q may sit in a separator: then the next unit starts the window) */
        size_t j = k;
        while (j < last && u.v[j].end <= q) j++;
        if (q >= u.v[j].end) { j++; q = u.v[j].start; }
        if (q < u.v[j].start) q = u.v[j].start;
        k = j; p = q;
    }
out:
    free(u.v);
    free(tok_before);
    if (rc != 0) { free(w); return -1; }
    *out = w;
    *nout = nw;
    return 0;
}
