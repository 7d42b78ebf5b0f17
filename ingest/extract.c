/* ingest_extract: format detection and dispatch to the readers. */
#define _GNU_SOURCE
#include "ingest/internal.h"

#include "common/error.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

void ingest_opts_default(ingest_opts *o) {
    memset(o, 0, sizeof *o);
    o->format = INGEST_AUTO;
    o->references = 1;
    o->tables = 1;
    o->dehyphenate = 1;
}

const char *ingest_formats(void) {
    return ""
#ifdef LONGJAM_HAVE_POPPLER
           "pdf "
#endif
#ifdef LONGJAM_HAVE_LIBXML2
           "xml(jats,tei,docbook,xhtml) html "
#endif
           "text(markdown)";
}

const char *ingest_format_name(ingest_format f) {
    switch (f) {
    case INGEST_PDF: return "pdf";
    case INGEST_XML: return "xml";
    case INGEST_HTML: return "html";
    case INGEST_TEXT: return "text";
    default: return "auto";
    }
}

void ingest_doc_free(lj_doc *d) {
    if (!d) return;
    free(d->path); free(d->text); free(d->paras); free(d->page_start);
    for (size_t i = 0; i < d->n_warnings; i++) free(d->warnings[i]);
    free(d->warnings);
    memset(d, 0, sizeof *d);
}

/* FNV-1a 64 of the path: stable across runs for the same path string. */
static void doc_id(const char *path, char id[20]) {
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) { h ^= *p; h *= 1099511628211ULL; }
    snprintf(id, 20, "d%016llx", (unsigned long long)h);
}

static const char *ext_of(const char *name) {
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');
    return dot ? dot + 1 : "";
}

/* Skips a UTF-8 BOM and whitespace; returns the first significant byte offset. */
static size_t skip_ws(const unsigned char *p, size_t n) {
    size_t i = 0;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    return i;
}

static bool starts_ci(const unsigned char *p, size_t n, const char *s) {
    size_t k = strlen(s);
    return n >= k && strncasecmp((const char *)p, s, k) == 0;
}

/* Looks at the first bytes for HTML markers (a doctype html or an <html> tag). */
static bool looks_html(const unsigned char *p, size_t n) {
    size_t lim = n < 4096 ? n : 4096;
    for (size_t i = 0; i + 5 <= lim; i++)
        if (p[i] == '<' && (starts_ci(p + i, lim - i, "<!doctype html") || starts_ci(p + i, lim - i, "<html")))
            return true;
    return false;
}

static ingest_format detect(const char *name, const unsigned char *p, size_t n) {
    const char *e = ext_of(name);
    size_t lim = n < 1024 ? n : 1024;
    if (n >= 5 && !memcmp(p, "%PDF-", 5)) return INGEST_PDF;
    if (!strcasecmp(e, "pdf")) return INGEST_PDF;
    if (!strcasecmp(e, "html") || !strcasecmp(e, "htm")) return INGEST_HTML;
    size_t s = skip_ws(p, n);
    if (!strcasecmp(e, "xhtml")) return INGEST_HTML;   /* the HTML parser knows HTML's entities */
    if (!strcasecmp(e, "xml") || !strcasecmp(e, "nxml") || !strcasecmp(e, "tei") || !strcasecmp(e, "dbk") ||
        !strcasecmp(e, "jats"))
        return INGEST_XML;
    if (!strcasecmp(e, "txt") || !strcasecmp(e, "md") || !strcasecmp(e, "markdown") || !strcasecmp(e, "text") ||
        !strcasecmp(e, "rst"))
        return INGEST_TEXT;
    for (size_t i = 0; i + 5 <= lim; i++)   /* %PDF- may follow junk bytes, as PDF readers accept */
        if (!memcmp(p + i, "%PDF-", 5)) return INGEST_PDF;
    if (starts_ci(p + s, n - s, "<?xml")) return looks_html(p, n) ? INGEST_HTML : INGEST_XML;
    if (looks_html(p + s, n - s)) return INGEST_HTML;
    if (n - s > 1 && p[s] == '<' && (isalpha(p[s + 1]) || p[s + 1] == '!')) return INGEST_XML;
    return INGEST_TEXT;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
void ingest_xml_init(void);
void ingest_pdf_init(void);
static void init_all(void) {
#ifdef LONGJAM_HAVE_LIBXML2
    ingest_xml_init();
#endif
#ifdef LONGJAM_HAVE_POPPLER
    ingest_pdf_init();
#endif
}
void ingest_init(void) { pthread_once(&init_once, init_all); }

static int dispatch(const char *name, const void *data, size_t len, const ingest_opts *o, ingest_format f,
                    ib *b, char *err, size_t errlen) {
    switch (f) {
    case INGEST_PDF:
#ifdef LONGJAM_HAVE_POPPLER
        return ingest_pdf(name, data, len, o, b, err, errlen);
#else
        return lj_errf(err, errlen, "PDF support not built (poppler-glib missing at build time)");
#endif
    case INGEST_XML:
#ifdef LONGJAM_HAVE_LIBXML2
        return ingest_xml(name, data, len, o, b, err, errlen);
#else
        return lj_errf(err, errlen, "XML support not built (libxml2 missing at build time)");
#endif
    case INGEST_HTML:
#ifdef LONGJAM_HAVE_LIBXML2
        return ingest_html(name, data, len, o, b, err, errlen);
#else
        return lj_errf(err, errlen, "HTML support not built (libxml2 missing at build time)");
#endif
    default:
        return ingest_text(name, data, len, o, b, err, errlen);
    }
}

static int finish(const char *name, ingest_format f, ib *b, lj_doc *out, char *err, size_t errlen) {
    if (b->sink_failed) { ib_free(b); return lj_errf(err, errlen, "%s: output failed", name); }
    if (b->over_limit) {
        size_t lim = b->limit;
        ib_free(b);
        return lj_errf(err, errlen, "%s: text exceeds %zu bytes (expansion limit)", name, lim);
    }
    if (ib_finish(b, out) != 0) { ib_free(b); return lj_errf(err, errlen, "%s: out of memory", name); }
    out->path = strdup(name);
    out->format = f;
    doc_id(name, out->id);
    if (!out->path) { ingest_doc_free(out); return lj_errf(err, errlen, "%s: out of memory", name); }
    return 0;
}

static int extract_mem(const char *name, const void *data, size_t len, const ingest_opts *o, ingest_para_fn fn,
                       void *ctx, lj_doc *out, char *err, size_t errlen) {
    ingest_format f = o->format != INGEST_AUTO ? o->format : detect(name, data, len);
    ib b;
    ib_init(&b, f == INGEST_TEXT ? IB_LINES : IB_COLLAPSE);
    b.sink = fn; b.sink_ctx = ctx;
    if (dispatch(name, data, len, o, f, &b, err, errlen) != 0) {
        ib_free(&b);
        return lj_err_prefix(err, errlen, "%s", name);
    }
    return finish(name, f, &b, out, err, errlen);
}

int ingest_extract_mem(const char *name, const void *data, size_t len, const ingest_opts *o, lj_doc *out,
                       char *err, size_t errlen) {
    ingest_opts def;
    if (!o) { ingest_opts_default(&def); o = &def; }
    memset(out, 0, sizeof *out);
    ingest_init();
    return extract_mem(name, data, len, o, NULL, NULL, out, err, errlen);
}

static int extract_path(const char *path, const ingest_opts *o, ingest_para_fn fn, void *ctx, lj_doc *out,
                        char *err, size_t errlen) {
    ingest_opts def;
    if (!o) { ingest_opts_default(&def); o = &def; }
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(path, &st) != 0) return lj_errf(err, errlen, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return lj_errf(err, errlen, "%s: is a directory", path);
    if (!S_ISREG(st.st_mode)) return lj_errf(err, errlen, "%s: not a regular file", path);
    if (o->max_bytes && (size_t)st.st_size > o->max_bytes)
        return lj_errf(err, errlen, "%s: %lld bytes exceeds the limit of %zu", path, (long long)st.st_size, o->max_bytes);
    ingest_init();
    /* PDF is opened by poppler from the file (it reads what it needs); large XML is streamed from
     * the file; everything else is read into memory. */
    if (o->format == INGEST_PDF || o->format == INGEST_XML || o->format == INGEST_AUTO) {
        FILE *fp = fopen(path, "rb");
        if (!fp) return lj_errf(err, errlen, "%s: %s", path, strerror(errno));
        unsigned char head[4096];
        size_t hn = fread(head, 1, sizeof head, fp);
        fclose(fp);
        ingest_format f = o->format != INGEST_AUTO ? o->format : detect(path, head, hn);
        if (f == INGEST_PDF) {
#ifdef LONGJAM_HAVE_POPPLER
            ib b;
            ib_init(&b, IB_COLLAPSE);
            b.sink = fn; b.sink_ctx = ctx;
            if (ingest_pdf_file(path, o, &b, err, errlen) != 0) {
                ib_free(&b);
                return lj_err_prefix(err, errlen, "%s", path);
            }
            return finish(path, f, &b, out, err, errlen);
#endif
        }
        if (f == INGEST_XML && st.st_size > (1 << 24)) {
#ifdef LONGJAM_HAVE_LIBXML2
            ib b;
            ib_init(&b, IB_COLLAPSE);
            b.sink = fn; b.sink_ctx = ctx;
            if (ingest_xml_file(path, o, &b, err, errlen) != 0) {
                ib_free(&b);
                return lj_err_prefix(err, errlen, "%s", path);
            }
            return finish(path, f, &b, out, err, errlen);
#endif
        }
    }
    size_t len;
    char *data = lj_read_file(path, &len, err, errlen);
    if (!data) return -1;
    int r = extract_mem(path, data, len, o, fn, ctx, out, err, errlen);
    free(data);
    return r;
}

int ingest_extract(const char *path, const ingest_opts *o, lj_doc *out, char *err, size_t errlen) {
    return extract_path(path, o, NULL, NULL, out, err, errlen);
}

int ingest_extract_stream(const char *path, const ingest_opts *o, ingest_para_fn fn, void *ctx, lj_doc *meta,
                          char *err, size_t errlen) {
    return extract_path(path, o, fn, ctx, meta, err, errlen);
}
