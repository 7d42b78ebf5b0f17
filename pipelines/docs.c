#include "pipelines/docs.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

static const char *ext_of(const char *path) {
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot : "";
}

int pl_doc_is_windows(const char *path) { return !strcmp(ext_of(path), ".jsonl"); }

char *pl_doc_id(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot > base ? (size_t)(dot - base) : strlen(base);
    char *id = malloc(n + 1);
    if (id) { memcpy(id, base, n); id[n] = 0; }
    return id;
}

int pl_doc_load(const char *path, char **text, size_t *len, int *pages, char *err, size_t errlen) {
    *text = NULL;
    const char *e = ext_of(path);
    static const char *plain[] = {"", ".txt", ".md", ".markdown", ".text", ".rst"};
    int ok = 0;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (!strcasecmp(e, plain[i])) ok = 1;
    if (!ok) return lj_errf(err, errlen, "%s: '%s' documents need the ingest module (not in this build yet); "
                            "run `longjam ingest` and pass its windows.jsonl, or give text", path, e);
    *text = lj_read_file(path, len, err, errlen);
    if (!*text) return -1;
    *pages = 1;
    return 0;
}
