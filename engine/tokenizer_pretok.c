/* Pre-tokenizers of tokenizer.json: Metaspace, Split, Digits, ByteLevel, Whitespace,
 * WhitespaceSplit, Punctuation, CharDelimiterSplit, Sequence.
 * Splitting follows `NormalizedString::split` of `tokenizers`: a pattern yields (range, is_match)
 * segments covering the piece; the behaviour decides which are kept and how they are merged. */
#define _GNU_SOURCE
#include "engine/tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/error.h"

typedef struct seg { size_t a, b; int match; } seg;
typedef struct segs { seg *v; size_t n, cap; } segs;

static int segs_push(segs *s, size_t a, size_t b, int match) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        seg *v = realloc(s->v, cap * sizeof *v);
        if (!v) return -1;
        s->v = v; s->cap = cap;
    }
    s->v[s->n++] = (seg){a, b, match};
    return 0;
}

/* Applies a split behaviour to segments of piece p and pushes the kept, non-empty parts. */
static int emit_split(const tk_piece *p, segs *sg, int behavior, tk_pieces *out) {
    seg *v = sg->v; size_t n = sg->n, m = 0;
    switch (behavior) {
    case SPLIT_REMOVED:
        for (size_t i = 0; i < n; i++) if (!v[i].match) v[m++] = v[i];
        break;
    case SPLIT_ISOLATED:
        m = n;
        break;
    case SPLIT_MERGED_PREV: {
        int prev = 0;
        for (size_t i = 0; i < n; i++) {
            int is = v[i].match;
            if (is && !prev && m) v[m - 1].b = v[i].b;
            else v[m++] = v[i];
            prev = is;
        }
        break;
    }
    case SPLIT_MERGED_NEXT: {
        /* fold from the right, then the kept parts are in reverse order */
        int prev = 0; size_t w = n;       /* write from the end */
        for (size_t i = n; i-- > 0;) {
            int is = v[i].match;
            if (is && !prev && w < n) v[w].a = v[i].a;
            else v[--w] = v[i];
            prev = is;
        }
        memmove(v, v + w, (n - w) * sizeof *v);
        m = n - w;
        break;
    }
    case SPLIT_CONTIGUOUS: {
        int prev = 0;
        for (size_t i = 0; i < n; i++) {
            int is = v[i].match;
            if (is == prev && m) v[m - 1].b = v[i].b;
            else v[m++] = v[i];
            prev = is;
        }
        break;
    }
    }
    for (size_t i = 0; i < m; i++)
        if (v[i].b > v[i].a && tk_pieces_push(out, p->off + v[i].a, v[i].b - v[i].a, -1, tk_zsub(p->z, v[i].a)))
            return -1;
    return 0;
}

/* Segments for a per-character predicate: each matching character is its own match. */
typedef int (*char_pred)(uint32_t c, const tk_pretok *pt);
static int segs_by_char(const char *s, size_t n, char_pred pred, const tk_pretok *pt, segs *sg) {
    sg->n = 0;
    size_t last = 0;
    for (size_t i = 0; i < n;) {
        size_t l; uint32_t c = tk_utf8_next(s + i, n - i, &l);
        if (pred(c, pt)) {
            if (last < i && segs_push(sg, last, i, 0)) return -1;
            if (segs_push(sg, i, i + l, 1)) return -1;
            last = i + l;
        }
        i += l;
    }
    if (last < n && segs_push(sg, last, n, 0)) return -1;
    return 0;
}

struct pat_ctx { segs *sg; size_t prev; int invert; };
static int pat_cb(size_t ms, size_t me, void *vctx) {
    struct pat_ctx *c = vctx;
    if (c->prev != ms && segs_push(c->sg, c->prev, ms, c->invert)) return -1;
    if (segs_push(c->sg, ms, me, !c->invert)) return -1;
    c->prev = me;
    return 0;
}

static int segs_by_pattern(const tk_pattern *pat, int invert, const char *s, size_t n, segs *sg, int threads) {
    sg->n = 0;
    struct pat_ctx c = {sg, 0, invert};
    if (tk_pattern_each_par(pat, s, n, threads, pat_cb, &c)) return -1;
    if (c.prev != n && segs_push(sg, c.prev, n, invert)) return -1;
    return 0;
}

/* Rust char::is_numeric: general categories Nd, Nl, No (not only ASCII digits) */
static int pred_digit(uint32_t c, const tk_pretok *pt) {
    (void)pt;
    if (c < 0x80) return c >= '0' && c <= '9';
    int cat = utf8proc_category((utf8proc_int32_t)c);
    return cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO;
}
static int pred_space(uint32_t c, const tk_pretok *pt) { (void)pt; return tk_is_whitespace(c); }
static int pred_punct(uint32_t c, const tk_pretok *pt) { (void)pt; return tk_is_punctuation(c); }
static int pred_delim(uint32_t c, const tk_pretok *pt) { return c == pt->rep_char; }

static pcre2_code *gpt2_re;
static pthread_once_t gpt2_once = PTHREAD_ONCE_INIT;
static void gpt2_init(void) {
    int ec; PCRE2_SIZE eo;
    gpt2_re = pcre2_compile((PCRE2_SPTR)"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
                            PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &ec, &eo, NULL);
    if (gpt2_re) pcre2_jit_compile(gpt2_re, PCRE2_JIT_COMPLETE);
}
const pcre2_code *tk_bytelevel_regex(void) { pthread_once(&gpt2_once, gpt2_init); return gpt2_re; }

/* Whitespace: \w+|[^\w\s]+ kept, whitespace dropped. */
static int split_whitespace(const tk_piece *p, const char *s, tk_pieces *out) {
    size_t n = p->len, i = 0;
    while (i < n) {
        size_t l; uint32_t c = tk_utf8_next(s + i, n - i, &l);
        int cls = tk_is_word(c) ? 1 : tk_is_whitespace(c) ? 0 : 2;
        size_t j = i + l;
        while (j < n) {
            size_t l2; uint32_t c2 = tk_utf8_next(s + j, n - j, &l2);
            int cls2 = tk_is_word(c2) ? 1 : tk_is_whitespace(c2) ? 0 : 2;
            if (cls2 != cls) break;
            j += l2;
        }
        if (cls && tk_pieces_push(out, p->off + i, j - i, -1, tk_zsub(p->z, i))) return -1;
        i = j;
    }
    return 0;
}

/* One pre-tokenizer (not a Sequence) over one piece. */
static int pretok_piece(const tk_pretok *pt, tk_buf *arena, const tk_piece *p, tk_pieces *out,
                        segs *sg, tk_buf *tmp, int threads, char *err, size_t errlen) {
    const char *s = arena->p + p->off;
    switch (pt->type) {
    case PT_METASPACE: {
        tmp->len = 0;
        int starts = p->len >= pt->rep_len && !memcmp(s, pt->rep, pt->rep_len);
        int has_space_start = p->len && s[0] == ' ';
        int prepend = !starts && !has_space_start &&
                      (pt->prepend_scheme == PREPEND_ALWAYS || (pt->prepend_scheme == PREPEND_FIRST && p->z > 0));
        /* after replacing ' ', a leading space counts as the replacement */
        if (pt->prepend_scheme != PREPEND_NEVER && !starts && has_space_start) prepend = 0;
        if (prepend && tk_buf_append(tmp, pt->rep, pt->rep_len)) return -1;
        size_t last = 0, z = 0, zdone = p->z == 0;
        for (;;) {
            const char *sp = memchr(s + last, ' ', p->len - last);
            if (!sp) break;
            size_t k = (size_t)(sp - s);
            if (!zdone && k >= p->z) { z = tmp->len + (p->z - last); zdone = 1; }
            if (tk_buf_append(tmp, s + last, k - last) || tk_buf_append(tmp, pt->rep, pt->rep_len)) return -1;
            last = k + 1;
        }
        if (!zdone) z = tmp->len + (p->z > last ? p->z - last : 0);
        if (tk_buf_append(tmp, s + last, p->len - last)) return -1;
        size_t off = arena->len;
        if (tk_buf_append(arena, tmp->p, tmp->len)) return -1;
        tk_piece np = {off, tmp->len, -1, z};
        if (!pt->split) return tmp->len ? tk_pieces_push(out, off, tmp->len, -1, z) : 0;
        tk_pretok d = *pt;
        d.rep_char = pt->rep_char;
        if (segs_by_char(arena->p + off, tmp->len, pred_delim, &d, sg)) return -1;
        return emit_split(&np, sg, SPLIT_MERGED_NEXT, out);
    }
    case PT_SPLIT:
        if (segs_by_pattern(&pt->pattern, pt->invert, s, p->len, sg, threads))
            return lj_errf(err, errlen, "Split pre-tokenizer: regex match failed");
        return emit_split(p, sg, pt->behavior, out);
    case PT_DIGITS:
        if (segs_by_char(s, p->len, pred_digit, pt, sg)) return -1;
        return emit_split(p, sg, pt->individual_digits ? SPLIT_ISOLATED : SPLIT_CONTIGUOUS, out);
    case PT_PUNCTUATION:
        if (segs_by_char(s, p->len, pred_punct, pt, sg)) return -1;
        return emit_split(p, sg, pt->behavior, out);
    case PT_WHITESPACE_SPLIT:
        if (segs_by_char(s, p->len, pred_space, pt, sg)) return -1;
        return emit_split(p, sg, SPLIT_REMOVED, out);
    case PT_CHAR_DELIMITER:
        if (segs_by_char(s, p->len, pred_delim, pt, sg)) return -1;
        return emit_split(p, sg, SPLIT_REMOVED, out);
    case PT_WHITESPACE:
        return split_whitespace(p, s, out);
    case PT_BYTELEVEL: {
        /* prefix space, regex split, then every byte becomes its GPT-2 character */
        tmp->len = 0;
        size_t z = p->z;
        if (pt->add_prefix_space && !(p->len && s[0] == ' ')) {
            if (tk_buf_append(tmp, " ", 1)) return -1;
            if (z) z++;
        }
        if (tk_buf_append(tmp, s, p->len)) return -1;
        const char *t = tmp->p; size_t tn = tmp->len;
        sg->n = 0;
        if (pt->use_regex) {
            tk_pattern re = {1, NULL, 0, (pcre2_code *)tk_bytelevel_regex()};
            if (!re.re) return lj_errf(err, errlen, "ByteLevel: regex failed to compile");
            if (segs_by_pattern(&re, 0, t, tn, sg, threads)) return lj_errf(err, errlen, "ByteLevel: regex match failed");
        } else if (tn && segs_push(sg, 0, tn, 0)) return -1;
        /* map all of tmp into the arena once; sub-pieces point into the mapped text */
        size_t base = arena->len;
        if (tk_buf_reserve(arena, tn * 2 + 1)) return -1;
        if (!pt->use_regex) {               /* one piece: no offset map needed */
            char *o = arena->p + arena->len;
            for (size_t i = 0; i < tn; i++) {
                uint8_t b = (uint8_t)t[i];
                o[0] = (char)tk_bl_utf8[b][0]; o[1] = (char)tk_bl_utf8[b][1];
                o += tk_bl_len[b];
            }
            size_t mapped_z = 0;
            for (size_t i = 0; i < z && i < tn; i++) mapped_z += tk_bl_len[(uint8_t)t[i]];
            size_t n = (size_t)(o - (arena->p + base));
            arena->len += n;
            arena->p[arena->len] = 0;
            return n ? tk_pieces_push(out, base, n, -1, mapped_z) : 0;
        }
        size_t *map = malloc((tn + 1) * sizeof *map);   /* byte offset in tmp -> offset in mapped */
        if (!map) return -1;
        for (size_t i = 0; i < tn; i++) {
            map[i] = arena->len - base;
            uint8_t b = (uint8_t)t[i];
            memcpy(arena->p + arena->len, tk_bl_utf8[b], 2);
            arena->len += tk_bl_len[b];
        }
        map[tn] = arena->len - base;
        arena->p[arena->len] = 0;
        for (size_t i = 0; i < sg->n; i++) {
            size_t a = map[sg->v[i].a], b = map[sg->v[i].b];
            if (b > a && tk_pieces_push(out, base + a, b - a, -1, tk_zsub(map[z < tn ? z : tn], a))) { free(map); return -1; }
        }
        free(map);
        return 0;
    }
    }
    return lj_errf(err, errlen, "pre-tokenizer: bad type %d", pt->type);
}

int tk_pretokenize(const tk_pretok *pt, tk_buf *arena, const tk_pieces *in, tk_pieces *out,
                   int threads, char *err, size_t errlen) {
    if (pt->type == PT_SEQUENCE) {
        tk_pieces a = {0}, b = {0};
        for (size_t i = 0; i < in->n; i++)
            if (tk_pieces_push(&a, in->v[i].off, in->v[i].len, in->v[i].id, in->v[i].z)) goto oom;
        for (size_t k = 0; k < pt->n_items; k++) {
            b.n = 0;
            if (tk_pretokenize(&pt->items[k], arena, &a, &b, threads, err, errlen)) { free(a.v); free(b.v); return -1; }
            tk_pieces t = a; a = b; b = t;
        }
        for (size_t i = 0; i < a.n; i++)
            if (tk_pieces_push(out, a.v[i].off, a.v[i].len, a.v[i].id, a.v[i].z)) goto oom;
        free(a.v); free(b.v);
        return 0;
    oom:
        free(a.v); free(b.v);
        return lj_errf(err, errlen, "out of memory");
    }
    segs sg = {0};
    tk_buf tmp = {0};
    int rc = 0;
    for (size_t i = 0; i < in->n && !rc; i++) {
        tk_piece p = in->v[i];
        if (p.id >= 0) { rc = tk_pieces_push(out, p.off, p.len, p.id, p.z); continue; }
        err[0] = 0;
        rc = pretok_piece(pt, arena, &p, out, &sg, &tmp, threads, err, errlen);
        if (rc && !err[0]) lj_errf(err, errlen, "out of memory");
    }
    free(sg.v); free(tmp.p);
    return rc ? -1 : 0;
}

void tk_pretok_free(tk_pretok *pt) {
    if (!pt) return;
    for (size_t i = 0; i < pt->n_items; i++) tk_pretok_free(&pt->items[i]);
    free(pt->items);
    tk_pattern_free(&pt->pattern);
}
