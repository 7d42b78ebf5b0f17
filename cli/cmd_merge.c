/* longjam merge: join shard outputs (thin layer over pipelines/merge.c). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "pipelines/pipelines.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: longjam merge OUT SHARD.jsonl... [--input FILE] [--quiet]\n\n"
            "Joins the outputs of `--shard i/n` runs (run, qa or summarize) into OUT: one line per key\n"
            "(custom_id / question id / document path), duplicates dropped (a success beats an error).\n\n"
            "options:\n"
            "  --input FILE   the requests / questions file (or a list of document paths, one per\n"
            "                 line): print each key no shard has (\"missing: KEY\") and exit 3 if any\n"
            "  --quiet        no summary line\n");
}

int cmd_merge(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    const char *out = NULL, *input = NULL;
    char *shards[argc > 0 ? argc : 1];
    size_t n = 0;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--input")) {
            if (++i >= argc) { fprintf(stderr, "error: --input needs a file\n"); return CLI_USAGE; }
            input = argv[i];
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "error: unknown option %s\n\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        } else if (!out) {
            out = argv[i];
        } else {
            shards[n++] = argv[i];
        }
    }
    if (!out || n == 0) { usage(stderr); return CLI_USAGE; }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(shards[i], out)) { fprintf(stderr, "error: OUT %s is also a shard\n", out); return CLI_USAGE; }
    return pl_merge(out, shards, n, input, quiet);
}
