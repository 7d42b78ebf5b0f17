#include "pipelines/docs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"
#include "ingest/ingest.h"
#include "pipelines/keyset.h"

static const char *ext_of(const char *path) {
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot : "";
}

int pl_doc_is_windows(const char *path) { return !strcmp(ext_of(path), ".jsonl"); }

char *pl_doc_id(const char *path) {
    char *id = malloc(20);
    if (id) snprintf(id, 20, "d%016llx", (unsigned long long)pl_fnv1a64(path, strlen(path)));
    return id;
}

void pl_docs_init(void) { ingest_init(); }

int pl_doc_load(const char *path, char **text, size_t *len, int *pages, char *err, size_t errlen) {
    *text = NULL;
    ingest_opts o;
    ingest_opts_default(&o);
    lj_doc d;
    if (ingest_extract(path, &o, &d, err, errlen)) { ingest_doc_free(&d); return -1; }
    *text = d.text;
    *len = d.len;
    *pages = d.n_pages;
    d.text = NULL;
    ingest_doc_free(&d);
    return 0;
}

static int count_tokens(void *ctx, const char *text, size_t len, size_t *n, char *err, size_t errlen) {
    pl_backend *b = ctx;
    int32_t *ids = NULL;
    int rc = b->encode(b, text, len, 0, &ids, n, err, errlen);
    free(ids);
    return rc;
}

int pl_doc_windows(const char *path, pl_backend *b, size_t window, size_t overlap, char ***texts, size_t *n,
                   int *pages, char *err, size_t errlen) {
    *texts = NULL;
    *n = 0;
    ingest_opts o;
    ingest_opts_default(&o);
    lj_doc d;
    if (ingest_extract(path, &o, &d, err, errlen)) { ingest_doc_free(&d); return -1; }
    *pages = d.n_pages;
    ingest_window *w = NULL;
    size_t nw = 0;
    if (overlap >= window) overlap = window / 2;
    if (ingest_windows(&d, count_tokens, b, window, overlap, &w, &nw, err, errlen)) { ingest_doc_free(&d); return -1; }
    char **t = lj_calloc(nw ? nw : 1, sizeof *t);
    int rc = t ? 0 : lj_errf(err, errlen, "out of memory");
    for (size_t i = 0; !rc && i < nw; i++) {
        size_t l = w[i].byte_end - w[i].byte_start;
        if (!(t[i] = malloc(l + 1))) { rc = lj_errf(err, errlen, "out of memory"); break; }
        memcpy(t[i], d.text + w[i].byte_start, l);
        t[i][l] = 0;
    }
    free(w);
    ingest_doc_free(&d);
    if (rc) {
        for (size_t i = 0; t && i < nw; i++) free(t[i]);
        free(t);
        return -1;
    }
    *texts = t;
    *n = nw;
    return 0;
}
