/* longjam ingest PATHS... --tokenizer FILE -o windows.jsonl: documents into token windows.
 *
 * Workers take documents in input order and extract + window them; the main thread writes each
 * document's lines in input order as soon as they are ready, so the output is deterministic for any
 * --threads. Workers run at most 4 x threads documents ahead of the writer (bounded memory). */
#define _GNU_SOURCE
#include "cli/commands.h"
#include "common/error.h"
#include "common/util.h"
#include "ingest/ingest.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/tokenizer.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: longjam ingest PATHS... --tokenizer FILE [OPTIONS] -o windows.jsonl\n\n"
            "Extracts documents (files, or the files of folders) and cuts them into token windows.\n"
            "One JSON line per window: {\"doc\", \"path\", \"window\", \"text\", \"tokens\", \"token_range\",\n"
            "\"char_range\", \"pages\"} (char_range in code points of the document text, pages for PDFs);\n"
            "one line {\"path\", \"error\"} per document that fails. Output in input order.\n\n"
            "options:\n"
            "  --tokenizer FILE   tokenizer.json (required)\n"
            "  -o FILE            output JSONL (\"-\" = stdout; required)\n"
            "  --recursive, -r    descend into sub-folders (folders are read one level otherwise)\n"
            "  --window N         max tokens per window (default: --context minus --reserve)\n"
            "  --context N        model context (default %d)\n"
            "  --reserve N        tokens kept free for the prompt template and the answer (default %d)\n"
            "  --overlap N        tokens repeated between consecutive windows (default 0)\n"
            "  --threads N        parallel workers (default: CPU count)\n"
            "  --no-references    drop reference lists;  --no-tables  drop tables\n"
            "  --keep-furniture   PDF: keep running headers/footers and page numbers\n"
            "  --latin1           text files are Latin-1 (otherwise UTF-8, Latin-1 when detected)\n"
            "  --verbose          print per-document warnings (invalid UTF-8 offsets, empty pages) on stderr\n\n"
            "supported formats in this build: %s\n"
            "exit status: 0 all documents ok, 3 some failed (error lines written), 1 all failed or\n"
            "the output could not be written, 2 usage\n",
            INGEST_CONTEXT_DEFAULT, INGEST_RESERVE_DEFAULT, ingest_formats());
}

/* ---- inputs ------------------------------------------------------------------------------- */

typedef struct strv { char **v; size_t n, cap; } strv;

static int strv_add(strv *s, const char *x) {
    if (s->n == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 64;
        char **v = realloc(s->v, c * sizeof *v);
        if (!v) return -1;
        s->v = v; s->cap = c;
    }
    if (!(s->v[s->n] = strdup(x))) return -1;
    s->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds the regular files of dir (sorted by name, hidden entries skipped), descending when recursive. */
static void add_dir(strv *out, const char *dir, int recursive, int depth) {
    DIR *d = opendir(dir);
    if (!d) { strv_add(out, dir); return; }   /* reported as that path's error later */
    strv names = {0};
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') strv_add(&names, e->d_name);
    closedir(d);
    qsort(names.v, names.n, sizeof *names.v, cmp_str);
    for (size_t i = 0; i < names.n; i++) {
        char *p;
        if (asprintf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names.v[i]) < 0) continue;
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (recursive && depth < 64) add_dir(out, p, recursive, depth + 1);
        } else if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            strv_add(out, p);
        }
        free(p);
        free(names.v[i]);
    }
    free(names.v);
}

/* ---- work ---------------------------------------------------------------------------------- */

typedef struct result {
    char *out; size_t len;        /* the document's JSON lines */
    int failed, pages;
    size_t windows, tokens;
    int done;
} result;

typedef struct job {
    const strv *paths;
    const ingest_opts *o;
    void *tok;
    size_t window, overlap;
    int verbose;
    result *res;
    size_t next, written;         /* next document to take; documents written so far */
    size_t ahead;                 /* max documents taken beyond `written` */
    pthread_mutex_t mu;
    pthread_cond_t cv_done, cv_room;
} job;

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n + 1) c *= 2;
        char *b = realloc(*buf, c);
        if (!b) return;   /* OOM: the line is lost; the summary still counts the document */
        *buf = b; *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = 0;
}

static void dump_line(json_t *o, char **buf, size_t *len, size_t *cap) {
    char *s = json_dumps(o, JSON_COMPACT);
    if (s) { append(buf, len, cap, s, strlen(s)); append(buf, len, cap, "\n", 1); free(s); }
    json_decref(o);
}

static void process(job *j, size_t i) {
    const char *path = j->paths->v[i];
    result *r = &j->res[i];
    char err[LJ_ERRLEN];
    lj_doc d;
    size_t cap = 0;
    if (ingest_extract(path, j->o, &d, err, sizeof err) != 0) {
        r->failed = 1;
        dump_line(json_pack("{s:s, s:s}", "path", path, "error", err), &r->out, &r->len, &cap);
        return;
    }
    if (j->verbose)
        for (size_t k = 0; k < d.n_warnings; k++) fprintf(stderr, "longjam ingest: %s: warning: %s\n", path, d.warnings[k]);
    if (d.len == 0) {
        r->failed = 1;
        snprintf(err, sizeof err, "%s: no text", path);
        dump_line(json_pack("{s:s, s:s}", "path", path, "error", err), &r->out, &r->len, &cap);
        ingest_doc_free(&d);
        return;
    }
    ingest_window *w = NULL;
    size_t nw = 0;
    if (ingest_windows(&d, ingest_count_tok, j->tok, j->window, j->overlap, &w, &nw, err, sizeof err) != 0) {
        r->failed = 1;
        char msg[LJ_ERRLEN + 64];
        snprintf(msg, sizeof msg, "%s: windows: %s", path, err);
        dump_line(json_pack("{s:s, s:s}", "path", path, "error", msg), &r->out, &r->len, &cap);
        ingest_doc_free(&d);
        return;
    }
    r->pages = d.n_pages;
    for (size_t k = 0; k < nw; k++) {
        const ingest_window *x = &w[k];
        json_t *o = json_object();
        json_object_set_new(o, "doc", json_string(d.id));
        json_object_set_new(o, "path", json_string(path));
        json_object_set_new(o, "window", json_integer((json_int_t)x->index));
        json_object_set_new(o, "text", json_stringn(d.text + x->byte_start, x->byte_end - x->byte_start));
        json_object_set_new(o, "tokens", json_integer((json_int_t)x->ntokens));
        json_object_set_new(o, "token_range", json_pack("[I, I]", (json_int_t)x->tok_start, (json_int_t)x->tok_end));
        json_object_set_new(o, "char_range", json_pack("[I, I]", (json_int_t)x->char_start, (json_int_t)x->char_end));
        if (d.n_pages) json_object_set_new(o, "pages", json_pack("[i, i]", x->page_first, x->page_last));
        dump_line(o, &r->out, &r->len, &cap);
        r->tokens += x->ntokens;
    }
    r->windows = nw;
    free(w);
    ingest_doc_free(&d);
}

static void *worker(void *arg) {
    job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        while (j->next < j->paths->n && j->next >= j->written + j->ahead) pthread_cond_wait(&j->cv_room, &j->mu);
        if (j->next >= j->paths->n) { pthread_mutex_unlock(&j->mu); return NULL; }
        size_t i = j->next++;
        pthread_mutex_unlock(&j->mu);
        process(j, i);
        pthread_mutex_lock(&j->mu);
        j->res[i].done = 1;
        pthread_cond_broadcast(&j->cv_done);
        pthread_mutex_unlock(&j->mu);
    }
}

static int parse_size(const char *s, size_t *out) {
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || e == s || *e || s[0] == '-') return -1;
    *out = (size_t)v;
    return 0;
}

int cmd_ingest(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    ingest_opts o;
    ingest_opts_default(&o);
    strv inputs = {0}, paths = {0};
    const char *tokpath = NULL, *outpath = NULL;
    size_t window = 0, context = INGEST_CONTEXT_DEFAULT, reserve = INGEST_RESERVE_DEFAULT, overlap = 0, threads = 0;
    int recursive = 0, verbose = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NUM(opt, var) else if (!strcmp(a, opt)) { \
            if (!v || parse_size(v, &var)) { fprintf(stderr, "longjam ingest: %s needs a number\n", opt); return CLI_USAGE; } i++; }
        if (!strcmp(a, "--tokenizer") && v) { tokpath = v; i++; }
        else if (!strcmp(a, "-o") && v) { outpath = v; i++; }
        else if (!strcmp(a, "--recursive") || !strcmp(a, "-r")) recursive = 1;
        NUM("--window", window)
        NUM("--context", context)
        NUM("--reserve", reserve)
        NUM("--overlap", overlap)
        NUM("--threads", threads)
        else if (!strcmp(a, "--no-references")) o.references = 0;
        else if (!strcmp(a, "--no-tables")) o.tables = 0;
        else if (!strcmp(a, "--keep-furniture")) o.keep_furniture = 1;
        else if (!strcmp(a, "--latin1")) o.latin1 = 1;
        else if (!strcmp(a, "--verbose")) verbose = 1;
        else if (a[0] == '-' && a[1]) { fprintf(stderr, "longjam ingest: unknown or incomplete option '%s'\n", a); return CLI_USAGE; }
        else strv_add(&inputs, a);
#undef NUM
    }
    if (!inputs.n || !tokpath || !outpath) {
        fprintf(stderr, "longjam ingest: need PATHS, --tokenizer and -o\n\n");
        usage(stderr);
        return CLI_USAGE;
    }
    if (!window) {
        if (reserve >= context) { fprintf(stderr, "longjam ingest: --reserve must be below --context\n"); return CLI_USAGE; }
        window = context - reserve;
    }
    if (overlap >= window) { fprintf(stderr, "longjam ingest: --overlap must be below the window (%zu)\n", window); return CLI_USAGE; }
    if (!threads) threads = (size_t)lj_cpu_count();
    if (threads > 256) threads = 256;

    char err[LJ_ERRLEN];
    void *tok = NULL;
    lj_tokenizer *t = NULL;
    if (tok_load(tokpath, &t, err, sizeof err) != 0) { fprintf(stderr, "longjam ingest: %s\n", err); return CLI_FAILED; }
    tok = t;
    for (size_t i = 0; i < inputs.n; i++) {
        struct stat st;
        if (stat(inputs.v[i], &st) == 0 && S_ISDIR(st.st_mode)) add_dir(&paths, inputs.v[i], recursive, 0);
        else strv_add(&paths, inputs.v[i]);
    }
    FILE *out = strcmp(outpath, "-") ? fopen(outpath, "wb") : stdout;
    if (!out) { fprintf(stderr, "longjam ingest: %s: %s\n", outpath, strerror(errno)); return CLI_FAILED; }
    ingest_init();

    job j = {0};
    j.paths = &paths; j.o = &o; j.tok = tok; j.window = window; j.overlap = overlap; j.verbose = verbose;
    j.res = calloc(paths.n + 1, sizeof *j.res);
    j.ahead = 4 * threads;
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv_done, NULL);
    pthread_cond_init(&j.cv_room, NULL);
    pthread_t *th = calloc(threads, sizeof *th);
    size_t nth = 0;
    for (size_t i = 0; i < threads && j.res && th; i++)
        if (pthread_create(&th[nth], NULL, worker, &j) == 0) nth++;
    if (!nth) { fprintf(stderr, "longjam ingest: cannot start workers\n"); return CLI_FAILED; }

    int tty = isatty(2);
    double t0 = lj_now();
    size_t docs = 0, failed = 0, windows = 0, tokens = 0, pages = 0;
    int write_failed = 0;
    for (size_t i = 0; i < paths.n; i++) {
        pthread_mutex_lock(&j.mu);
        while (!j.res[i].done) pthread_cond_wait(&j.cv_done, &j.mu);
        pthread_mutex_unlock(&j.mu);
        result *r = &j.res[i];
        if (r->len && fwrite(r->out, 1, r->len, out) != r->len) write_failed = 1;
        free(r->out); r->out = NULL;
        docs++;
        failed += r->failed != 0;
        windows += r->windows; tokens += r->tokens; pages += (size_t)r->pages;
        pthread_mutex_lock(&j.mu);
        j.written = i + 1;
        pthread_cond_broadcast(&j.cv_room);
        pthread_mutex_unlock(&j.mu);
        if (tty) {
            int width = 30, fill = (int)((double)(i + 1) / (double)paths.n * width);
            fprintf(stderr, "\r[%.*s%*s] %zu/%zu docs, %zu windows, %zu errors", fill,
                    "##############################", width - fill, "", i + 1, paths.n, windows, failed);
        }
    }
    for (size_t i = 0; i < nth; i++) pthread_join(th[i], NULL);
    if (tty) fputc('\n', stderr);
    if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) write_failed = 1;
    double dt = lj_now() - t0;
    fprintf(stderr, "longjam ingest: %zu documents, %zu pages, %zu windows, %zu tokens, %zu errors in %.2f s\n", docs,
            pages, windows, tokens, failed, dt);
    free(th);
    free(j.res);
    for (size_t i = 0; i < paths.n; i++) free(paths.v[i]);
    for (size_t i = 0; i < inputs.n; i++) free(inputs.v[i]);
    free(paths.v); free(inputs.v);
    tok_free(t);
    if (write_failed) { fprintf(stderr, "longjam ingest: %s: write failed\n", outpath); return CLI_FAILED; }
    if (failed && failed == docs) return CLI_FAILED;
    return failed ? CLI_SOME_FAILED : CLI_OK;
}
