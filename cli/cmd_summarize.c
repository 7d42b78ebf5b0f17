/* longjam summarize: map-reduce summaries of documents (thin layer over pipelines/summarize.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/batch_opts.h"
#include "cli/commands.h"

#define DEFAULT_INSTRUCTION "Summarize the following text."

static void usage(FILE *f) {
    fprintf(f,
            "usage: longjam summarize PATHS... --model DIR [-o OUT.jsonl] [OPTIONS]\n\n"
            "Summarizes each document: one window when it fits, otherwise each window, then the window\n"
            "summaries combined (in groups, level by level, until one is left). PATHS are documents or\n"
            "windows.jsonl files written by `longjam ingest`. One line per document:\n"
            "{\"doc\", \"path\", \"summary\", \"windows\", \"pages\", \"tokens_in\", \"tokens_out\", \"seconds\"}.\n\n"
            "options:\n"
            "  --window-tokens N       document tokens per prompt (default: what fits the context)\n"
            "  --overlap-tokens N      overlap between windows cut here (default 0)\n"
            "  --max-summary-tokens N  tokens per summary (default 256)\n"
            "  --instruction TEXT      default \"" DEFAULT_INSTRUCTION "\"\n"
            "%s\nExit status: 0 ok, 3 some documents failed, 4 interrupted, 1 failure.\n", batch_opts_help);
}

int cmd_summarize(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    pl_common_opts o;
    batch_opts_defaults(&o);
    pl_summarize_opts so = {0, 0, 256, DEFAULT_INSTRUCTION};
    char **paths = calloc((size_t)argc + 1, sizeof *paths);
    size_t n = 0;
    if (!paths) return CLI_FAILED;
    for (int i = 1; i < argc; i++) {
        int r = batch_opts_parse(&o, argc, argv, &i);
        if (r < 0) { free(paths); return CLI_USAGE; }
        if (r > 0) continue;
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t *target = !strcmp(a, "--window-tokens") ? &so.window_tokens : !strcmp(a, "--overlap-tokens") ? &so.overlap_tokens
                       : !strcmp(a, "--max-summary-tokens") ? &so.max_summary_tokens : NULL;
        if (target) {
            char *end;
            if (!v || !*v || v[0] == '-' || (*target = strtoull(v, &end, 10), *end)) { fprintf(stderr, "error: %s wants a number\n", a); free(paths); return CLI_USAGE; }
            i++;
        } else if (!strcmp(a, "--instruction")) {
            if (!v) { fprintf(stderr, "error: --instruction needs text\n"); free(paths); return CLI_USAGE; }
            so.instruction = v;
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "error: unknown option %s\n\n", a);
            usage(stderr);
            free(paths);
            return CLI_USAGE;
        } else {
            paths[n++] = argv[i];
        }
    }
    if (!n) { fprintf(stderr, "error: no documents\n\n"); usage(stderr); free(paths); return CLI_USAGE; }
    if (so.max_summary_tokens == 0) { fprintf(stderr, "error: --max-summary-tokens must be at least 1\n"); free(paths); return CLI_USAGE; }
    if (batch_opts_check(&o)) { free(paths); return CLI_USAGE; }
    int rc = pl_summarize(&o, &so, paths, n);
    free(paths);
    return rc;
}
