/* Normalizers of tokenizer.json: Sequence, Prepend, Replace, NFC/NFKC/NFD/NFKD, Lowercase, Strip,
 * StripAccents, ByteLevel. Each maps a string to a string, as `tokenizers` does per piece. */
#include "engine/tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/error.h"

struct replace_ctx { const char *s; size_t pos; const tk_normalizer *nm; tk_buf *out; size_t base, z_in, z_out; int z_done; };

static int replace_cb(size_t ms, size_t me, void *vctx) {
    struct replace_ctx *c = vctx;
    /* z: output offset of input byte z_in; a match starting before it is all "at the start" */
    if (!c->z_done && ms >= c->z_in) { c->z_out = c->out->len - c->base + (c->z_in - c->pos); c->z_done = 1; }
    if (tk_buf_append(c->out, c->s + c->pos, ms - c->pos)) return -1;
    if (tk_buf_append(c->out, c->nm->content, c->nm->content_len)) return -1;
    c->pos = me;
    if (!c->z_done && me >= c->z_in) { c->z_out = c->out->len - c->base; c->z_done = 1; }
    return 0;
}

/* Output length of normalizing only the first z bytes (char-local normalizers). */
static size_t z_of_prefix(const tk_normalizer *nm, const char *s, size_t n, size_t z) {
    if (!z) return 0;
    if (z > n) z = n;
    /* a normal form composes the first character with the combining marks that follow it */
    if (nm->type >= NORM_NFC && nm->type <= NORM_NFKD)
        while (z < n) {
            size_t l; uint32_t c = tk_utf8_next(s + z, n - z, &l);
            const utf8proc_property_t *pr = utf8proc_get_property((utf8proc_int32_t)c);
            if (!pr->combining_class) break;
            z += l;
        }
    tk_buf b = {0};
    size_t zz = 0, r = 0;
    if (!tk_normalize(nm, s, z, &b, &zz, NULL, 0)) r = b.len;
    free(b.p);
    return r;
}

static int normalize_unicode(int type, const char *s, size_t n, tk_buf *out, char *err, size_t errlen) {
    int flags = UTF8PROC_STABLE;
    if (type == NORM_NFC || type == NORM_NFKC) flags |= UTF8PROC_COMPOSE;
    else flags |= UTF8PROC_DECOMPOSE;
    if (type == NORM_NFKC || type == NORM_NFKD) flags |= UTF8PROC_COMPAT;
    /* ASCII needs no change under any normal form */
    size_t i = 0;
    while (i < n && !((uint8_t)s[i] & 0x80)) i++;
    if (i == n) return tk_buf_append(out, s, n);
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst,
                                      (utf8proc_option_t)flags);
    if (r < 0) return lj_errf(err, errlen, "unicode normalization: %s", utf8proc_errmsg(r));
    int rc = tk_buf_append(out, dst, (size_t)r);
    free(dst);
    return rc;
}

int tk_normalize(const tk_normalizer *nm, const char *s, size_t n, tk_buf *out, size_t *z, char *err, size_t errlen) {
    char ebuf[256];
    if (!err) { err = ebuf; errlen = sizeof ebuf; }
    switch (nm->type) {
    case NORM_SEQUENCE: {
        if (nm->n_items == 0) return tk_buf_append(out, s, n);
        tk_buf a = {0}, b = {0};
        if (tk_buf_append(&a, s, n)) return lj_errf(err, errlen, "out of memory");
        for (size_t k = 0; k < nm->n_items; k++) {
            b.len = 0;
            if (tk_normalize(&nm->items[k], a.p, a.len, &b, z, err, errlen)) { free(a.p); free(b.p); return -1; }
            tk_buf t = a; a = b; b = t;
        }
        int rc = tk_buf_append(out, a.p, a.len);
        free(a.p); free(b.p);
        return rc ? lj_errf(err, errlen, "out of memory") : 0;
    }
    case NORM_PREPEND:
        if (n && tk_buf_append(out, nm->content, nm->content_len)) return lj_errf(err, errlen, "out of memory");
        if (n && *z) *z += nm->content_len;
        return tk_buf_append(out, s, n);
    case NORM_REPLACE: {
        struct replace_ctx c = {s, 0, nm, out, out->len, *z, 0, *z == 0};
        if (tk_pattern_each(&nm->pattern, s, n, replace_cb, &c)) return lj_errf(err, errlen, "Replace normalizer: match failed");
        if (!c.z_done) c.z_out = out->len - c.base + (c.z_in - c.pos);
        *z = c.z_out;
        return tk_buf_append(out, s + c.pos, n - c.pos);
    }
    case NORM_NFC: case NORM_NFKC: case NORM_NFD: case NORM_NFKD:
        *z = z_of_prefix(nm, s, n, *z);
        return normalize_unicode(nm->type, s, n, out, err, errlen);
    case NORM_LOWERCASE: {
        *z = z_of_prefix(nm, s, n, *z);
        if (tk_buf_reserve(out, n + 8)) return lj_errf(err, errlen, "out of memory");
        for (size_t i = 0; i < n;) {
            size_t l; uint32_t c = tk_utf8_next(s + i, n - i, &l);
            char u[8]; size_t k;
            if (c < 0x80) { u[0] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c); k = 1; }
            else if (c == 0x130) { k = tk_utf8_put('i', u); k += tk_utf8_put(0x307, u + k); }  /* İ -> i̇ */
            else k = tk_utf8_put((uint32_t)utf8proc_tolower((utf8proc_int32_t)c), u);
            if (tk_buf_append(out, u, k)) return -1;
            i += l;
        }
        return 0;
    }
    case NORM_STRIP: {
        size_t a = 0, b = n;
        if (nm->left)
            while (a < b) { size_t l; uint32_t c = tk_utf8_next(s + a, b - a, &l); if (!tk_is_whitespace(c)) break; a += l; }
        if (nm->right)
            while (b > a) {
                size_t st = b - 1;
                while (st > a && ((uint8_t)s[st] & 0xC0) == 0x80) st--;
                size_t l; uint32_t c = tk_utf8_next(s + st, b - st, &l);
                if (!tk_is_whitespace(c)) break;
                b = st;
            }
        *z = tk_zsub(*z, a);
        if (*z > b - a) *z = b - a;
        return tk_buf_append(out, s + a, b - a);
    }
    case NORM_STRIP_ACCENTS:
        *z = z_of_prefix(nm, s, n, *z);
        for (size_t i = 0; i < n;) {
            size_t l; uint32_t c = tk_utf8_next(s + i, n - i, &l);
            int cat = c < 0x80 ? 0 : utf8proc_category((utf8proc_int32_t)c);
            if (!(cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME) && tk_buf_append(out, s + i, l)) return -1;
            i += l;
        }
        return 0;
    case NORM_BYTELEVEL:
        *z = z_of_prefix(nm, s, n, *z);
        for (size_t i = 0; i < n; i++) {
            char u[2]; size_t k;
            tk_bytelevel_char((uint8_t)s[i], u, &k);
            if (tk_buf_append(out, u, k)) return -1;
        }
        return 0;
    }
    return lj_errf(err, errlen, "normalizer: bad type %d", nm->type);
}

void tk_normalizer_free(tk_normalizer *nm) {
    if (!nm) return;
    for (size_t i = 0; i < nm->n_items; i++) tk_normalizer_free(&nm->items[i]);
    free(nm->items);
    free(nm->content);
    tk_pattern_free(&nm->pattern);
}
