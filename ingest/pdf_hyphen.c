/* De-hyphenation of PDF text.
 *
 * A line ending in letter + '-' followed by a line starting with a lower-case letter is joined.
 * The hyphen is dropped when the joined word occurs elsewhere in the document; kept when the
 * hyphenated form occurs elsewhere, or when both halves occur elsewhere as words (a compound such as
 * "well-known"); otherwise dropped (typesetters' hyphenation of a word, as "hyphen-ated"). Words are
 * compared case-folded; the fragments under judgement are not counted as evidence. */
#include "ingest/pdf_lines.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

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

/* Trailing word before a final '-' (letters only): start offset, or n when there is none. */
size_t pdf_tail_word(const char *s, size_t n) {
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

size_t pdf_head_word(const char *s, size_t n, bool *lower) {
    size_t i = 0, k;
    int32_t cp = 0;
    if (n) utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &cp);
    *lower = utf8proc_category(cp) == UTF8PROC_CATEGORY_LL;
    while (i < n && is_letter_at(s, n, i, &k)) i += k;
    return i;
}

/* Decides whether the hyphen at the end of `a` is dropped when joining with `b`. */
bool pdf_drop_hyphen(const char *a, size_t an, const char *b, size_t bn, const pdf_words *w) {
    const wset *words = &w->words, *hyph = &w->hyph;
    char w1[128], w2[128], j[256];
    size_t st = pdf_tail_word(a, an);
    if (st == an) return false;
    bool lower;
    size_t hn = pdf_head_word(b, bn, &lower);
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


bool pdf_words_add_line(pdf_words *w, const char *s, size_t n, bool prev_hyphenated) {
    return collect_words(s, n, prev_hyphenated, true, &w->words, &w->hyph);
}

void pdf_words_free(pdf_words *w) {
    wset_free(&w->words);
    wset_free(&w->hyph);
}
