/* The document builder: paragraphs in, normalised text with paragraph and page offsets out. */
#include "ingest/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/util.h"

void ib_init(ib *b, ib_mode mode) {
    memset(b, 0, sizeof *b);
    b->mode = mode;
}

void ib_free(ib *b) {
    free(b->buf); free(b->cur); free(b->paras); free(b->page_start);
    for (size_t i = 0; i < b->nw; i++) free(b->warn[i]);
    free(b->warn);
    memset(b, 0, sizeof *b);
}

bool ib_failed(const ib *b) { return b->oom || b->over_limit; }

/* Grows *p (element size sz) so that it holds at least need elements. */
static bool grow(void **p, size_t *cap, size_t need, size_t sz) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > ((size_t)-1) / 4) return false;
        c *= 2;
    }
    size_t bytes;
    if (!lj_mul_ok(c, sz, &bytes)) return false;
    void *q = realloc(*p, bytes);
    if (!q) return false;
    *p = q; *cap = c;
    return true;
}

void ib_text(ib *b, const char *s, size_t n) {
    if (ib_failed(b) || n == 0) return;
    if (b->curlen == 0 && !ib_cur_has_text(b)) b->cur_page_first = b->page;
    if (b->limit && b->len + b->curlen + n > b->limit) { b->over_limit = true; return; }
    if (!grow((void **)&b->cur, &b->curcap, b->curlen + n + 1, 1)) { b->oom = true; return; }
    memcpy(b->cur + b->curlen, s, n);
    b->curlen += n;
    b->cur[b->curlen] = 0;
}

void ib_pre(ib *b) { b->cur_pre = true; }

bool ib_cur_has_text(const ib *b) {
    for (size_t i = 0; i < b->curlen; i++) {
        unsigned char c = (unsigned char)b->cur[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') return true;
    }
    return false;
}

/* Appends one code point's bytes to dst (capacity checked by the caller). */
static size_t put_cp(char *dst, int32_t cp) {
    return (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)dst);
}

/* Characters a reader never sees: soft hyphen, zero-width space/joiners, BOM, word joiner. */
static bool invisible(int32_t cp) {
    return cp == 0xAD || cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0x2060 || cp == 0xFEFF;
}

static bool is_space_cp(int32_t cp) {
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v') return true;
    if (cp < 0x20 || cp == 0x7F) return true;              /* other controls read as space */
    if (cp >= 0x80 && cp < 0xA0) return true;              /* C1 controls */
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

/* Normalises, then collapses (IB_COLLAPSE) or trims (IB_LINES) whitespace into dst (malloc'd). */
static char *clean_para(const ib *b, const char *s, size_t n, size_t *outlen) {
    size_t nl;
    char *norm = ingest_normalize(s, n, b->mode == IB_COLLAPSE, &nl);
    bool collapse = b->mode == IB_COLLAPSE && !b->cur_pre;
    if (!norm) return NULL;
    char *out = malloc(nl + 1);
    if (!out) { free(norm); return NULL; }
    size_t o = 0, i = 0;
    bool pending_space = false;
    while (i < nl) {
        int32_t cp;
        unsigned char c0 = (unsigned char)norm[i];
        if (c0 > 0x20 && c0 < 0x7F) {   /* printable ASCII: the common case */
            if (pending_space) { out[o++] = ' '; pending_space = false; }
            out[o++] = (char)c0;
            i++;
            continue;
        }
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)norm + i, (utf8proc_ssize_t)(nl - i), &cp);
        if (k <= 0) { i++; continue; }   /* cannot happen after normalisation; skip defensively */
        i += (size_t)k;
        if (invisible(cp)) continue;
        if (collapse) {
            if (is_space_cp(cp)) { pending_space = o > 0; continue; }
            if (pending_space) { out[o++] = ' '; pending_space = false; }
            o += put_cp(out + o, cp);
        } else {
            if (cp == '\n') {
                while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t')) o--;   /* trailing spaces */
                if (o > 0) out[o++] = '\n';   /* leading blank lines dropped */
                continue;
            }
            if (cp == '\r') continue;
            if (cp == '\t') { out[o++] = '\t'; continue; }
            if (is_space_cp(cp)) { out[o++] = ' '; continue; }   /* indentation matters here */
            o += put_cp(out + o, cp);
        }
    }
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\n' || out[o - 1] == '\t')) o--;
    out[o] = 0;
    free(norm);
    *outlen = o;
    return out;
}

void ib_break(ib *b) {
    if (ib_failed(b)) return;
    if (!ib_cur_has_text(b)) { b->curlen = 0; b->cur_pre = false; return; }
    size_t n;
    char *p = clean_para(b, b->cur, b->curlen, &n);
    b->curlen = 0;
    b->cur_pre = false;
    if (!p) { b->oom = true; return; }
    if (n == 0) { free(p); return; }
    size_t sep = b->len ? 2 : 0;
    if (b->sink) {
        /* streaming: hand the paragraph over and keep only the offsets */
        int pf = b->cur_page_first ? b->cur_page_first : b->page;
        if (b->sink(b->sink_ctx, p, n, pf, b->page) != 0) { b->sink_failed = true; b->over_limit = true; }
        b->len += sep + n;
        free(p);
        for (int i = 0; i < b->npages; i++)
            if (b->page_start[i] == (size_t)-1) b->page_start[i] = b->len - n;
        return;
    }
    if (!grow((void **)&b->buf, &b->cap, b->len + sep + n + 1, 1) ||
        !grow((void **)&b->paras, &b->capp, b->np + 1, sizeof *b->paras)) {
        free(p); b->oom = true; return;
    }
    if (sep) { memcpy(b->buf + b->len, "\n\n", 2); b->len += 2; }
    ingest_para *pa = &b->paras[b->np++];
    pa->start = b->len;
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->buf[b->len] = 0;
    pa->end = b->len;
    pa->page_first = b->cur_page_first ? b->cur_page_first : b->page;
    pa->page_last = b->page;
    free(p);
    /* pages that began while this paragraph was open start at the paragraph (paragraph granularity) */
    for (int i = 0; i < b->npages; i++)
        if (b->page_start[i] == (size_t)-1) b->page_start[i] = pa->start;
}

void ib_page(ib *b, int page) {
    if (ib_failed(b)) return;
    if (!grow((void **)&b->page_start, &b->cappages, (size_t)page, sizeof(size_t))) { b->oom = true; return; }
    while (b->npages < page) b->page_start[b->npages++] = (size_t)-1;   /* filled at the next paragraph */
    b->page = page;
    if (!ib_cur_has_text(b)) b->cur_page_first = page;
}

void ib_warn(ib *b, const char *fmt, ...) {
    if (b->nw >= 20) return;   /* enough to diagnose; the count says the rest */
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!grow((void **)&b->warn, &b->capw, b->nw + 1, sizeof *b->warn)) { b->oom = true; return; }
    char *s = strdup(msg);
    if (!s) { b->oom = true; return; }
    b->warn[b->nw++] = s;
}

int ib_finish(ib *b, lj_doc *d) {
    ib_break(b);
    if (b->oom) return -1;
    /* pages with no paragraph after them start at the end of the text */
    for (int i = 0; i < b->npages; i++)
        if (b->page_start[i] == (size_t)-1) b->page_start[i] = b->len;
    if (!b->buf) {
        b->buf = calloc(1, 1);
        if (!b->buf) return -1;
    }
    d->text = b->buf; d->len = b->len;
    d->paras = b->paras; d->n_paras = b->np;
    d->page_start = b->page_start; d->n_pages = b->npages;
    d->warnings = b->warn; d->n_warnings = b->nw;
    b->buf = NULL; b->paras = NULL; b->page_start = NULL; b->warn = NULL;
    b->nw = 0; b->np = 0; b->npages = 0;
    ib_free(b);
    return 0;
}

size_t ingest_utf8_len(const unsigned char *s, size_t n) {
    if (n == 0) return 0;
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t k;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { k = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { k = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 4; cp = c & 0x07; }
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return k;
}

char *ingest_normalize(const char *s, size_t n, bool compat, size_t *outlen) {
    /* ASCII is invariant under NFC and NFKC: copy it (most paragraphs of most documents) */
    size_t a = 0;
    while (a < n && (unsigned char)s[a] < 0x80) a++;
    if (a == n) {
        char *c = malloc(n + 1);
        if (!c) return NULL;
        memcpy(c, s, n);
        c[n] = 0;
        *outlen = n;
        return c;
    }
    /* replace invalid bytes by U+FFFD so that utf8proc never fails on input */
    size_t bad = 0;
    for (size_t i = 0; i < n;) {
        size_t k = ingest_utf8_len((const unsigned char *)s + i, n - i);
        if (!k) { bad++; i++; } else i += k;
    }
    char *tmp = NULL;
    const char *src = s;
    size_t srclen = n;
    if (bad) {
        tmp = malloc(n + bad * 2 + 1);
        if (!tmp) return NULL;
        size_t o = 0;
        for (size_t i = 0; i < n;) {
            size_t k = ingest_utf8_len((const unsigned char *)s + i, n - i);
            if (!k) { memcpy(tmp + o, "\xEF\xBF\xBD", 3); o += 3; i++; }
            else { memcpy(tmp + o, s + i, k); o += k; i += k; }
        }
        src = tmp; srclen = o;
    }
    utf8proc_uint8_t *dst = NULL;
    int opt = UTF8PROC_STABLE | UTF8PROC_COMPOSE | (compat ? UTF8PROC_COMPAT : 0);
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)src, (utf8proc_ssize_t)srclen, &dst, opt);
    free(tmp);
    if (r < 0) return NULL;
    *outlen = (size_t)r;
    return (char *)dst;
}
