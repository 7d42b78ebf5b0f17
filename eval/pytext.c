/* Python str semantics over code points; see pytext.h. Character properties come from utf8proc
 * (its Unicode version may differ slightly from the Python that made the reference values). */
#include "eval/pytext.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

int py_decode(const char *s, size_t len, py_str *out) {
    out->c = malloc((len + 1) * sizeof *out->c);
    out->n = 0;
    if (!out->c) return -1;
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
        if (k <= 0) { cp = 0xFFFD; k = 1; }
        out->c[out->n++] = (uint32_t)cp;
        i += (size_t)k;
    }
    return 0;
}

char *py_encode(const uint32_t *c, size_t n) {
    char *o = malloc(n * 4 + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = c[i];
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        k += (size_t)utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)o + k);
    }
    o[k] = 0;
    return o;
}

void py_str_free(py_str *s) { free(s->c); s->c = NULL; s->n = 0; }

static int is_cased(uint32_t c) {
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    if (k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT) return 1;
    return utf8proc_tolower((utf8proc_int32_t)c) != (utf8proc_int32_t)c ||
           utf8proc_toupper((utf8proc_int32_t)c) != (utf8proc_int32_t)c;
}

/* Unicode Case_Ignorable: Mn, Me, Cf, Lm, Sk and the Word_Break MidLetter/MidNumLet/Single_Quote
 * characters. */
static int is_case_ignorable(uint32_t c) {
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_SK: return 1;
    default: break;
    }
    switch (c) {
    case '\'': case '.': case ':': case 0x00B7: case 0x0387: case 0x055F: case 0x05F4: case 0x2018:
    case 0x2019: case 0x2024: case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55: case 0xFF07:
    case 0xFF0E: case 0xFF1A: return 1;
    default: return 0;
    }
}

/* Python's handle_capital_sigma: final form when preceded by a cased letter (skipping
 * case-ignorables) and not followed by one. */
static uint32_t sigma_lower(const uint32_t *s, size_t n, size_t i) {
    size_t j = i;
    uint32_t c = 0;
    int found = 0;
    while (j > 0) {
        c = s[--j];
        if (!is_case_ignorable(c)) { found = 1; break; }
    }
    int final = found && is_cased(c);
    if (final && i + 1 < n) {
        size_t k = i + 1;
        for (; k < n; k++) {
            c = s[k];
            if (!is_case_ignorable(c)) break;
        }
        final = k == n || !is_cased(c);
    }
    return final ? 0x3C2 : 0x3C3;
}

int py_lower(const py_str *in, py_str *out) {
    out->c = malloc((2 * in->n + 1) * sizeof *out->c);
    out->n = 0;
    if (!out->c) return -1;
    for (size_t i = 0; i < in->n; i++) {
        uint32_t c = in->c[i];
        if (c == 0x130) { out->c[out->n++] = 'i'; out->c[out->n++] = 0x307; }
        else if (c == 0x3A3) out->c[out->n++] = sigma_lower(in->c, in->n, i);
        else if (c < 128) out->c[out->n++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
        else out->c[out->n++] = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
    }
    return 0;
}

char *py_lower_utf8(const char *s) {
    py_str a, b;
    if (py_decode(s, strlen(s), &a)) return NULL;
    if (py_lower(&a, &b)) { py_str_free(&a); return NULL; }
    char *o = py_encode(b.c, b.n);
    py_str_free(&a);
    py_str_free(&b);
    return o;
}

int py_isspace(uint32_t c) {
    if (c < 128) return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

int py_isword(uint32_t c) {
    if (c < 128) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO: return 1;
    default: return 0;
    }
}

int py_isdecimal(uint32_t c) {
    if (c < 128) return c >= '0' && c <= '9';
    return utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_ND;
}

int py_split_ws(const uint32_t *s, size_t n, size_t **starts, size_t **lens, size_t *count) {
    *starts = NULL; *lens = NULL; *count = 0;
    size_t cap = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && py_isspace(s[i])) i++;
        if (i == n) break;
        size_t b = i;
        while (i < n && !py_isspace(s[i])) i++;
        if (*count == cap) {
            cap = cap ? 2 * cap : 16;
            size_t *a = realloc(*starts, cap * sizeof *a), *l;
            if (!a) return -1;
            *starts = a;
            l = realloc(*lens, cap * sizeof *l);
            if (!l) return -1;
            *lens = l;
        }
        (*starts)[*count] = b;
        (*lens)[*count] = i - b;
        (*count)++;
    }
    return 0;
}

int py_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn) {
    size_t m = an < bn ? an : bn;
    for (size_t i = 0; i < m; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return an < bn ? -1 : an > bn;
}
