/* Decoders of tokenizer.json: Replace, ByteFallback, Fuse, Strip, Metaspace, ByteLevel, Sequence.
 * Each maps a list of token strings to a list of strings (decode_chain); the result is their
 * concatenation. */
#include "engine/tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

typedef struct toklist { tk_buf data; size_t *off, *len; size_t n, cap; } toklist;

static int tl_push(toklist *l, const char *s, size_t n) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        size_t *o = realloc(l->off, cap * sizeof *o);
        if (!o) return -1;
        l->off = o;
        size_t *ln = realloc(l->len, cap * sizeof *ln);
        if (!ln) return -1;
        l->len = ln; l->cap = cap;
    }
    l->off[l->n] = l->data.len; l->len[l->n] = n; l->n++;
    return tk_buf_append(&l->data, s, n);
}

/* Extends the last token by s[0..n). */
static int tl_extend(toklist *l, const char *s, size_t n) {
    l->len[l->n - 1] += n;
    return tk_buf_append(&l->data, s, n);
}

static void tl_free(toklist *l) { free(l->data.p); free(l->off); free(l->len); memset(l, 0, sizeof *l); }
#define TL_S(l, i) ((l)->data.p + (l)->off[i])

static const char FFFD[] = "\xEF\xBF\xBD";

/* String::from_utf8_lossy: each maximal invalid subpart becomes one U+FFFD. */
static int append_lossy(tk_buf *out, const uint8_t *u, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = u[i];
        if (c < 0x80) { if (tk_buf_append(out, u + i, 1)) return -1; i++; continue; }
        size_t need = 0; uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c >= 0xE0 && c <= 0xEF) { need = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { need = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        if (!need) { if (tk_buf_append(out, FFFD, 3)) return -1; i++; continue; }
        size_t k = 1;
        while (k <= need && i + k < n) {
            uint8_t d = u[i + k];
            uint8_t l2 = k == 1 ? lo : 0x80, h2 = k == 1 ? hi : 0xBF;
            if (d < l2 || d > h2) break;
            k++;
        }
        if (k == need + 1) { if (tk_buf_append(out, u + i, k)) return -1; }
        else if (tk_buf_append(out, FFFD, 3)) return -1;
        i += k;
    }
    return 0;
}

struct rep_ctx { const char *s; size_t pos; const tk_decoder *d; toklist *out; };
static int rep_cb(size_t ms, size_t me, void *vctx) {
    struct rep_ctx *c = vctx;
    if (tl_extend(c->out, c->s + c->pos, ms - c->pos) || tl_extend(c->out, c->d->content, c->d->content_len)) return -1;
    c->pos = me;
    return 0;
}

static int byte_token(const char *s, size_t n, uint8_t *b) {
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return 0;
    /* u8::from_str_radix(&token[3..5], 16) */
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : (c | 32) >= 'a' && (c | 32) <= 'f' ? (c | 32) - 'a' + 10 : -1;
        if (i == 3 && c == '+') continue;
        if (d < 0) return 0;
        v = v * 16 + d;
    }
    *b = (uint8_t)v;
    return 1;
}

static int flush_bytes(toklist *out, tk_buf *bytes) {
    if (!bytes->len) return 0;
    int rc = 0;
    if (tk_utf8_invalid_at(bytes->p, bytes->len) == (size_t)-1) rc = tl_push(out, bytes->p, bytes->len);
    else
        for (size_t i = 0; i < bytes->len && !rc; i++) rc = tl_push(out, FFFD, 3);
    bytes->len = 0;
    return rc;
}

static int decode_step(const tk_decoder *d, const toklist *in, toklist *out, char *err, size_t errlen) {
    switch (d->type) {
    case DEC_SEQUENCE: {
        toklist a = {0}, b = {0};
        for (size_t i = 0; i < in->n; i++) if (tl_push(&a, TL_S(in, i), in->len[i])) goto oom;
        for (size_t k = 0; k < d->n_items; k++) {
            tl_free(&b);
            if (decode_step(&d->items[k], &a, &b, err, errlen)) { tl_free(&a); tl_free(&b); return -1; }
            toklist t = a; a = b; b = t;
        }
        for (size_t i = 0; i < a.n; i++) if (tl_push(out, TL_S(&a, i), a.len[i])) goto oom;
        tl_free(&a); tl_free(&b);
        return 0;
    oom:
        tl_free(&a); tl_free(&b);
        return lj_errf(err, errlen, "out of memory");
    }
    case DEC_REPLACE:
        for (size_t i = 0; i < in->n; i++) {
            if (tl_push(out, "", 0)) return lj_errf(err, errlen, "out of memory");
            struct rep_ctx c = {TL_S(in, i), 0, d, out};
            if (tk_pattern_each(&d->pattern, c.s, in->len[i], rep_cb, &c)) return lj_errf(err, errlen, "decoder Replace failed");
            if (tl_extend(out, c.s + c.pos, in->len[i] - c.pos)) return lj_errf(err, errlen, "out of memory");
        }
        return 0;
    case DEC_BYTEFALLBACK: {
        tk_buf bytes = {0};
        for (size_t i = 0; i < in->n; i++) {
            uint8_t b;
            if (byte_token(TL_S(in, i), in->len[i], &b)) { if (tk_buf_append(&bytes, &b, 1)) goto bf_oom; continue; }
            if (flush_bytes(out, &bytes) || tl_push(out, TL_S(in, i), in->len[i])) goto bf_oom;
        }
        if (flush_bytes(out, &bytes)) goto bf_oom;
        free(bytes.p);
        return 0;
    bf_oom:
        free(bytes.p);
        return lj_errf(err, errlen, "out of memory");
    }
    case DEC_FUSE:
        if (tl_push(out, "", 0)) return lj_errf(err, errlen, "out of memory");
        for (size_t i = 0; i < in->n; i++) if (tl_extend(out, TL_S(in, i), in->len[i])) return lj_errf(err, errlen, "out of memory");
        return 0;
    case DEC_STRIP:
        for (size_t i = 0; i < in->n; i++) {
            const char *s = TL_S(in, i); size_t n = in->len[i];
            /* character boundaries */
            size_t nch = 0;
            for (size_t k = 0; k < n; k++) if (((uint8_t)s[k] & 0xC0) != 0x80) nch++;
            size_t a = 0, b = n, cut = 0;
            while (cut < d->start && a < n) {
                size_t l; uint32_t c = tk_utf8_next(s + a, n - a, &l);
                if (c != d->strip_char) break;
                a += l; cut++;
            }
            size_t start_cut = cut;
            cut = 0;
            while (cut < d->stop && b > a && cut + start_cut < nch) {
                size_t st = b - 1;
                while (st > 0 && ((uint8_t)s[st] & 0xC0) == 0x80) st--;
                size_t l; uint32_t c = tk_utf8_next(s + st, b - st, &l);
                if (c != d->strip_char) break;
                b = st; cut++;
            }
            if (tl_push(out, s + a, b - a)) return lj_errf(err, errlen, "out of memory");
        }
        return 0;
    case DEC_METASPACE:
        for (size_t i = 0; i < in->n; i++) {
            const char *s = TL_S(in, i); size_t n = in->len[i];
            if (tl_push(out, "", 0)) return lj_errf(err, errlen, "out of memory");
            for (size_t k = 0; k < n;) {
                size_t l; uint32_t c = tk_utf8_next(s + k, n - k, &l);
                int rc;
                if (c == d->rep_char) rc = (i == 0 && d->prepend_scheme != PREPEND_NEVER) ? 0 : tl_extend(out, " ", 1);
                else rc = tl_extend(out, s + k, l);
                if (rc) return lj_errf(err, errlen, "out of memory");
                k += l;
            }
        }
        return 0;
    case DEC_BYTELEVEL: {
        tk_buf bytes = {0}, tmp = {0};
        int rc = 0;
        for (size_t i = 0; i < in->n && !rc; i++) {
            const char *s = TL_S(in, i); size_t n = in->len[i];
            tmp.len = 0;
            int all = 1;
            for (size_t k = 0; k < n;) {
                size_t l; uint32_t c = tk_utf8_next(s + k, n - k, &l);
                int b = tk_bytelevel_byte(c);
                if (b < 0) { all = 0; break; }
                uint8_t ub = (uint8_t)b;
                if (tk_buf_append(&tmp, &ub, 1)) { rc = -1; break; }
                k += l;
            }
            if (!rc) rc = all ? tk_buf_append(&bytes, tmp.p, tmp.len) : tk_buf_append(&bytes, s, n);
        }
        tk_buf text = {0};
        if (!rc) rc = append_lossy(&text, (const uint8_t *)bytes.p, bytes.len);
        if (!rc) rc = tl_push(out, text.p ? text.p : "", text.len);
        free(bytes.p); free(tmp.p); free(text.p);
        return rc ? lj_errf(err, errlen, "out of memory") : 0;
    }
    }
    return lj_errf(err, errlen, "decoder: bad type %d", d->type);
}

int tk_decode_tokens(const tk_decoder *d, char **toks, size_t *lens, size_t n, tk_buf *out,
                     char *err, size_t errlen) {
    toklist in = {0}, res = {0};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) rc = tl_push(&in, toks[i], lens[i]);
    if (rc) { tl_free(&in); return lj_errf(err, errlen, "out of memory"); }
    rc = decode_step(d, &in, &res, err, errlen);
    for (size_t i = 0; i < res.n && !rc; i++)
        if (tk_buf_append(out, TL_S(&res, i), res.len[i])) rc = lj_errf(err, errlen, "out of memory");
    tl_free(&in); tl_free(&res);
    return rc;
}
