/* longjam merge: joins shard outputs into one file. Lines are keyed like resume keys them (run:
 * custom_id, plus the occurrence for duplicate-id error lines; qa: id; summarize: path); a key seen
 * twice keeps one line, a success beating an error line. Given the input, lists the keys that no
 * shard has. Two passes over the shards; memory holds keys only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "pipelines/keyset.h"
#include "pipelines/pipelines.h"

/* Key of an output line of any batch command; *ok: it is a success. */
static char *line_key_of(json_t *j, int *ok) {
    char buf[700];
    json_t *cid = json_object_get(j, "custom_id");
    if (json_object_get(j, "response") || cid) {   // run
        json_t *resp = json_object_get(j, "response");
        json_t *st = json_object_get(resp, "status_code");
        json_t *berr = json_object_get(json_object_get(resp, "body"), "error");
        *ok = json_is_null(json_object_get(j, "error")) && json_is_integer(st) && json_integer_value(st) == 200;
        const char *code = json_string_value(json_object_get(berr, "code"));
        const char *msg = json_string_value(json_object_get(berr, "message"));
        if (json_is_string(cid)) {
            int occ;
            const char *p = msg ? strstr(msg, "(occurrence ") : NULL;
            if (code && !strcmp(code, "duplicate_custom_id") && p && sscanf(p, "(occurrence %d", &occ) == 1) {
                snprintf(buf, sizeof buf, "%.600s\x02%d", json_string_value(cid), occ);
                return strdup(buf);
            }
            return strdup(json_string_value(cid));
        }
        size_t n;
        if (msg && sscanf(msg, "line %zu:", &n) == 1) { snprintf(buf, sizeof buf, "\x01line %zu", n); return strdup(buf); }
        return NULL;
    }
    json_t *e = json_object_get(j, "error");
    *ok = !e || json_is_null(e);
    if (json_is_string(json_object_get(j, "question")) && json_is_string(json_object_get(j, "id")))
        return strdup(json_string_value(json_object_get(j, "id")));
    if (json_is_string(json_object_get(j, "path"))) return strdup(json_string_value(json_object_get(j, "path")));
    return NULL;
}

typedef int (*line_fn)(void *ctx, const char *line, size_t n, json_t *j, size_t line_no, const char *file);

static int each_line(const char *file, line_fn fn, void *ctx) {
    FILE *f = fopen(file, "rb");
    if (!f) { fprintf(stderr, "error: %s: %s\n", file, strerror(errno)); return -1; }
    char *line = NULL;
    size_t cap = 0, line_no = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        line_no++;
        if (strspn(line, " \t\r\n") == (size_t)n) continue;
        if (line[n - 1] != '\n') { fprintf(stderr, "warning: %s: line %zu is torn (no newline); dropped\n", file, line_no); break; }
        json_error_t je;
        json_t *j = json_loadb(line, (size_t)n, 0, &je);
        rc = fn(ctx, line, (size_t)n, j, line_no, file);
        json_decref(j);
        if (rc) break;
    }
    free(line);
    fclose(f);
    return rc;
}

typedef struct { pl_keyset *best, *written; FILE *out; size_t dups, kept, unkeyed; } merge_ctx;

static int pass1(void *ctx, const char *line, size_t n, json_t *j, size_t line_no, const char *file) {
    merge_ctx *m = ctx;
    int ok = 0;
    char *k = j ? line_key_of(j, &ok) : NULL;
    if (!k) return 0;
    int *v = pl_keyset_slot(m->best, k);
    free(k);
    if (!v) return -1;
    if (ok) *v = 1;
    return 0;
}

static int pass2(void *ctx, const char *line, size_t n, json_t *j, size_t line_no, const char *file) {
    merge_ctx *m = ctx;
    int ok = 0;
    char *k = j ? line_key_of(j, &ok) : NULL;
    if (!k) {
        fprintf(stderr, "warning: %s: line %zu has no key (%s); kept\n", file, line_no, j ? "no custom_id/id/path" : "not JSON");
        m->unkeyed++;
        return fwrite(line, 1, n, m->out) == n ? 0 : -1;
    }
    int best = pl_keyset_get(m->best, k);
    int *w = pl_keyset_slot(m->written, k);
    free(k);
    if (!w) return -1;
    if (*w || (best == 1 && !ok)) { m->dups++; return 0; }
    *w = 1;
    m->kept++;
    return fwrite(line, 1, n, m->out) == n ? 0 : -1;
}

typedef struct { pl_keyset *written; pl_keyset *seen; size_t missing, total; } missing_ctx;

/* Input keys: request lines (custom_id; duplicates by occurrence), question lines (id), or one
 * document path per line. */
static int check_input(void *ctx, const char *line, size_t n, json_t *j, size_t line_no, const char *file) {
    missing_ctx *m = ctx;
    char buf[700];
    const char *key = NULL;
    if (j && json_is_string(json_object_get(j, "custom_id")) && json_string_length(json_object_get(j, "custom_id"))) {
        const char *cid = json_string_value(json_object_get(j, "custom_id"));
        int *occ = pl_keyset_slot(m->seen, cid);
        if (!occ) return -1;
        if (++*occ > 1) { snprintf(buf, sizeof buf, "%.600s\x02%d", cid, *occ); key = buf; }
        else key = cid;
    } else if (j && json_is_string(json_object_get(j, "question"))) {
        json_t *id = json_object_get(j, "id");
        if (json_is_string(id)) key = json_string_value(id);
        else if (json_is_integer(id)) { snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(id)); key = buf; }
    } else if (!j && line[0] != '{') {
        snprintf(buf, sizeof buf, "%.*s", (int)(n > 600 ? 600 : n - 1), line);   // a document path
        key = buf;
    } else {
        snprintf(buf, sizeof buf, "\x01line %zu", line_no);
        key = buf;
    }
    if (!key) return 0;
    m->total++;
    if (pl_keyset_get(m->written, key) <= 0) {
        m->missing++;
        if (key[0] == 1) fprintf(stderr, "missing: %s line %zu\n", file, line_no);
        else fprintf(stderr, "missing: %s\n", key);
    }
    return 0;
}

int pl_merge(const char *out, char **shards, size_t n_shards, const char *input, int quiet) {
    merge_ctx m = {pl_keyset_new(), pl_keyset_new(), NULL, 0, 0, 0};
    int rc = 1;
    if (!m.best || !m.written) goto done;
    for (size_t i = 0; i < n_shards; i++)
        if (each_line(shards[i], pass1, &m)) goto done;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    if (!(m.out = fopen(tmp, "wb"))) { fprintf(stderr, "error: %s: %s\n", tmp, strerror(errno)); goto done; }
    for (size_t i = 0; i < n_shards; i++)
        if (each_line(shards[i], pass2, &m)) { fclose(m.out); remove(tmp); goto done; }
    if (fclose(m.out) || rename(tmp, out)) { fprintf(stderr, "error: %s: %s\n", out, strerror(errno)); goto done; }
    if (!quiet) fprintf(stderr, "merge: %zu lines from %zu shards into %s, %zu duplicates dropped\n", m.kept + m.unkeyed, n_shards, out, m.dups);
    rc = 0;
    if (input) {
        missing_ctx mc = {m.written, pl_keyset_new(), 0, 0};
        if (!mc.seen || each_line(input, check_input, &mc)) rc = 1;
        else {
            fprintf(stderr, "{\"input\": %zu, \"merged\": %zu, \"missing\": %zu}\n", mc.total, m.kept + m.unkeyed, mc.missing);
            if (mc.missing) rc = 3;
        }
        pl_keyset_free(mc.seen);
    }
done:
    pl_keyset_free(m.best);
    pl_keyset_free(m.written);
    return rc;
}
