/* Plain text and Markdown: UTF-8 (invalid bytes reported with their offsets and replaced by
 * U+FFFD) or Latin-1 (declared by the caller, or detected: invalid as UTF-8 and no valid multi-byte
 * UTF-8 sequence anywhere). Paragraphs are separated by blank lines; lines inside are kept. */
#include "ingest/internal.h"

#include "common/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Latin-1 → UTF-8 (every byte is a code point). Caller frees. */
static char *latin1_to_utf8(const unsigned char *p, size_t n, size_t *outlen) {
    char *o = malloc(n * 2 + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) o[k++] = (char)p[i];
        else { o[k++] = (char)(0xC0 | (p[i] >> 6)); o[k++] = (char)(0x80 | (p[i] & 0x3F)); }
    }
    o[k] = 0;
    *outlen = k;
    return o;
}

/* A "coding: latin-1" / "charset=iso-8859-1" declaration in the first 1 KiB. */
static bool declares_latin1(const char *p, size_t n) {
    size_t lim = n < 1024 ? n : 1024;
    static const char *const marks[] = {"latin-1", "latin1", "iso-8859-1", "iso8859-1"};
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        size_t k = strlen(marks[m]);
        for (size_t i = 0; i + k <= lim; i++)
            if (strncasecmp(p + i, marks[m], k) == 0) return true;
    }
    return false;
}

/* UTF-16 with a byte order mark → UTF-8 (unpaired surrogates become U+FFFD). Caller frees. */
static char *utf16_to_utf8(const unsigned char *p, size_t n, bool be, size_t *outlen, size_t *bad) {
    char *o = malloc(n / 2 * 3 + 4);
    if (!o) return NULL;
    size_t k = 0;
    *bad = 0;
    for (size_t i = 2; i + 1 < n; i += 2) {
        uint32_t u = be ? (uint32_t)(p[i] << 8 | p[i + 1]) : (uint32_t)(p[i + 1] << 8 | p[i]);
        if (u >= 0xD800 && u < 0xDC00 && i + 3 < n) {
            uint32_t v = be ? (uint32_t)(p[i + 2] << 8 | p[i + 3]) : (uint32_t)(p[i + 3] << 8 | p[i + 2]);
            if (v >= 0xDC00 && v < 0xE000) { u = 0x10000 + ((u - 0xD800) << 10) + (v - 0xDC00); i += 2; }
        }
        if (u >= 0xD800 && u < 0xE000) { u = 0xFFFD; (*bad)++; }
        if (u < 0x80) o[k++] = (char)u;
        else if (u < 0x800) { o[k++] = (char)(0xC0 | u >> 6); o[k++] = (char)(0x80 | (u & 0x3F)); }
        else if (u < 0x10000) { o[k++] = (char)(0xE0 | u >> 12); o[k++] = (char)(0x80 | (u >> 6 & 0x3F)); o[k++] = (char)(0x80 | (u & 0x3F)); }
        else { o[k++] = (char)(0xF0 | u >> 18); o[k++] = (char)(0x80 | (u >> 12 & 0x3F)); o[k++] = (char)(0x80 | (u >> 6 & 0x3F)); o[k++] = (char)(0x80 | (u & 0x3F)); }
    }
    o[k] = 0;
    *outlen = k;
    return o;
}

int ingest_text(const char *name, const void *data, size_t len, const ingest_opts *o, ib *b, char *err,
                size_t errlen) {
    const unsigned char *p = data;
    if (len >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) {
        size_t n, bad;
        char *u = utf16_to_utf8(p, len, p[0] == 0xFE, &n, &bad);
        if (!u) return lj_errf(err, errlen, "out of memory");
        ib_warn(b, "UTF-16%s text converted to UTF-8%s", p[0] == 0xFE ? "BE" : "LE", bad ? " (unpaired surrogates replaced)" : "");
        int rc = ingest_text(name, u, n, o, b, err, errlen);
        free(u);
        return rc;
    }
    size_t nul = 0, bad = 0, multi = 0, first_bad = 0;
    for (size_t i = 0; i < len;) {
        if (p[i] == 0) nul++;
        size_t k = ingest_utf8_len(p + i, len - i);
        if (!k) { if (!bad) first_bad = i; bad++; i++; continue; }
        if (k > 1) multi++;
        i += k;
    }
    /* control bytes other than tab, newline, carriage return and form feed do not occur in text */
    size_t ctrl = 0;
    for (size_t i = 0; i < len; i++)
        if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\f') || p[i] == 0x7F) ctrl++;
    if (len > 0 && ctrl * 100 > len)
        return lj_errf(err, errlen, "binary data (%zu control bytes, %zu NUL), not text", ctrl, nul);
    char *conv = NULL;
    const char *txt = data;
    size_t n = len;
    if (o->latin1 || (bad && (multi == 0 || declares_latin1(data, len)))) {
        conv = latin1_to_utf8(p, len, &n);
        if (!conv) return lj_errf(err, errlen, "out of memory");
        txt = conv;
        if (!o->latin1) ib_warn(b, "not UTF-8 (first invalid byte at offset %zu); decoded as Latin-1", first_bad);
    } else if (bad) {
        /* report each invalid offset (the first 10) */
        char list[256] = "";
        size_t shown = 0, at = 0;
        for (size_t i = 0; i < len && shown < 10;) {
            size_t k = ingest_utf8_len(p + i, len - i);
            if (!k) {
                at += (size_t)snprintf(list + at, sizeof list - at, "%s%zu", shown ? ", " : "", i);
                if (at >= sizeof list) at = sizeof list - 1;
                shown++; i++;
            } else i += k;
        }
        ib_warn(b, "invalid UTF-8: %zu byte(s) replaced by U+FFFD, at offset(s) %s%s", bad, list, bad > shown ? ", ..." : "");
    }
    /* paragraphs: split at blank lines (lines holding only spaces count as blank) */
    size_t i = 0;
    if (n >= 3 && !memcmp(txt, "\xEF\xBB\xBF", 3)) i = 3;
    while (i < n && !ib_failed(b)) {
        size_t e = i;
        while (e < n && txt[e] != '\n') e++;
        size_t le = e;
        if (le > i && txt[le - 1] == '\r') le--;
        bool blank = true;
        for (size_t j = i; j < le; j++)
            if (txt[j] != ' ' && txt[j] != '\t' && txt[j] != '\f') { blank = false; break; }
        if (blank) ib_break(b);
        else { ib_text(b, txt + i, le - i); ib_text(b, "\n", 1); }
        i = e + 1;
    }
    free(conv);
    return 0;
}
