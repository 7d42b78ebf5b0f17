/* longjam tokenize: JSON lines in, JSON lines out, one output line per input line, in order.
 *   encode: {"text": "..."}  ->  {"ids": [...]}
 *   decode: {"ids": [...]}   ->  {"text": "..."}   (special tokens skipped)
 * A bad line gets {"error": "line N: ..."} and the rest goes on; the exit status says if any failed. */
#include "cli/commands.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "engine/tokenizer.h"

static void usage(FILE *f) {
    fprintf(f, "usage: longjam tokenize --tokenizer FILE [--decode] [--no-special] [--keep-special] [--threads N]\n\n"
               "Reads JSON lines from stdin and writes one JSON line per input line to stdout.\n"
               "  (encode)  {\"text\": \"...\"}  ->  {\"ids\": [...]}\n"
               "  --decode  {\"ids\": [...]}   ->  {\"text\": \"...\"}  (special tokens skipped)\n\n"
               "options:\n"
               "  --tokenizer FILE  a Hugging Face tokenizer.json\n"
               "  --no-special      encode without the post-processor's added tokens (e.g. BOS)\n"
               "  --keep-special    decode: keep special tokens\n"
               "  --threads N       encode each line with N threads (default 1)\n\n"
               "A bad input line gets {\"error\": \"line N: ...\"} and processing goes on; the exit\n"
               "status is 3 when some lines failed.\n");
}

static void print_error(size_t line, const char *msg) {
    char buf[LJ_ERRLEN + 64];
    snprintf(buf, sizeof buf, "line %zu: %s", line, msg);
    json_t *o = json_pack("{s:s}", "error", buf);
    char *s = o ? json_dumps(o, 0) : NULL;
    if (s) puts(s);
    else printf("{\"error\": \"line %zu: (unprintable message)\"}\n", line);
    free(s);
    json_decref(o);
}

int cmd_tokenize(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    const char *path = NULL;
    int decode = 0, add_special = 1, skip_special = 1, threads = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tokenizer") && i + 1 < argc) path = argv[++i];
        else if (!strcmp(argv[i], "--decode")) decode = 1;
        else if (!strcmp(argv[i], "--no-special")) add_special = 0;
        else if (!strcmp(argv[i], "--keep-special")) skip_special = 0;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else { fprintf(stderr, "longjam tokenize: unknown option '%s'\n", argv[i]); usage(stderr); return CLI_USAGE; }
    }
    if (!path) { fprintf(stderr, "longjam tokenize: --tokenizer FILE is required\n"); usage(stderr); return CLI_USAGE; }
    if (threads < 1) threads = 1;
    char err[LJ_ERRLEN];
    lj_tokenizer *t;
    if (tok_load(path, &t, err, sizeof err)) { fprintf(stderr, "longjam tokenize: %s\n", err); return CLI_FAILED; }
    char *line = NULL; size_t cap = 0; ssize_t got;
    size_t lineno = 0, failed = 0, ok = 0;
    char *obuf = NULL; size_t ocap = 0;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        json_error_t je;
        json_t *o = json_loadb(line, (size_t)got, JSON_ALLOW_NUL, &je);
        if (!o || !json_is_object(o)) {
            snprintf(err, sizeof err, "%s", o ? "expected a JSON object" : je.text);
            print_error(lineno, err); failed++; json_decref(o); continue;
        }
        if (!decode) {
            json_t *text = json_object_get(o, "text");
            if (!json_is_string(text)) { print_error(lineno, "expected {\"text\": string}"); failed++; json_decref(o); continue; }
            int32_t *ids; size_t n;
            if (tok_encode_parallel(t, json_string_value(text), json_string_length(text), add_special, threads,
                                    &ids, &n, err, sizeof err)) {
                print_error(lineno, err); failed++; json_decref(o); continue;
            }
            size_t need = 16 + n * 12;
            if (need > ocap) { free(obuf); ocap = need * 2; obuf = malloc(ocap); }
            if (!obuf) { print_error(lineno, "out of memory"); failed++; free(ids); json_decref(o); ocap = 0; continue; }
            size_t k = (size_t)sprintf(obuf, "{\"ids\": [");
            for (size_t i = 0; i < n; i++) k += (size_t)sprintf(obuf + k, i ? ", %d" : "%d", ids[i]);
            k += (size_t)sprintf(obuf + k, "]}\n");
            fwrite(obuf, 1, k, stdout);
            free(ids);
        } else {
            json_t *arr = json_object_get(o, "ids");
            if (!json_is_array(arr)) { print_error(lineno, "expected {\"ids\": [int, ...]}"); failed++; json_decref(o); continue; }
            size_t n = json_array_size(arr);
            int32_t *ids = malloc((n + 1) * sizeof *ids);
            int bad = !ids;
            for (size_t i = 0; i < n && !bad; i++) {
                json_t *v = json_array_get(arr, i);
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX) bad = 1;
                else ids[i] = (int32_t)json_integer_value(v);
            }
            char *text = NULL; size_t tlen = 0;
            if (bad) { print_error(lineno, "ids must be non-negative integers"); failed++; }
            else if (tok_decode_n(t, ids, n, skip_special, &text, &tlen, err, sizeof err)) { print_error(lineno, err); failed++; }
            else {
                json_t *r = json_object();
                json_t *s = json_stringn(text, tlen);
                if (!r || !s || json_object_set_new(r, "text", s)) { print_error(lineno, "decoded text is not valid UTF-8"); failed++; }
                else {
                    char *d = json_dumps(r, 0);
                    if (d) { puts(d); ok++; }
                    free(d);
                }
                json_decref(r);
            }
            free(text); free(ids);
            json_decref(o);
            continue;
        }
        ok++;
        json_decref(o);
    }
    free(obuf); free(line);
    tok_free(t);
    fflush(stdout);
    if (failed) fprintf(stderr, "longjam tokenize: %zu of %zu lines failed\n", failed, lineno);
    return failed ? (ok ? CLI_SOME_FAILED : CLI_FAILED) : CLI_OK;
}
