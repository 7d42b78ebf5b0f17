/* longjam bench tokenizer: encode one text file (as one text) and print MB/s and tokens/s. */
#include "cli/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"
#include "engine/tokenizer.h"

static void usage(FILE *f) {
    fprintf(f, "usage: longjam bench tokenizer --tokenizer FILE --text FILE [--threads N] [--runs R] [--hash]\n\n"
               "Encodes the whole text file as one text (add_special_tokens) R times (default 3) with N\n"
               "threads (default 1; tok_encode_parallel, same ids as one thread) and prints the best run:\n"
               "MB/s and tokens/s. --hash also prints a hash of the ids (bench/hf_tokenizer_bench.py\n"
               "compares it with Hugging Face's).\n");
}

int bench_tokenizer_main(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    const char *tpath = NULL, *xpath = NULL;
    int threads = 1, runs = 3, hash = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tokenizer") && i + 1 < argc) tpath = argv[++i];
        else if (!strcmp(argv[i], "--text") && i + 1 < argc) xpath = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hash")) hash = 1;
        else { fprintf(stderr, "longjam bench tokenizer: unknown option '%s'\n", argv[i]); usage(stderr); return CLI_USAGE; }
    }
    if (!tpath || !xpath) { usage(stderr); return CLI_USAGE; }
    if (threads < 1) threads = 1;
    if (runs < 1) runs = 1;
    char err[LJ_ERRLEN];
    lj_tokenizer *t;
    double t0 = lj_now();
    if (tok_load(tpath, &t, err, sizeof err)) { fprintf(stderr, "longjam bench tokenizer: %s\n", err); return CLI_FAILED; }
    double load_s = lj_now() - t0;
    size_t len;
    char *text = lj_read_file(xpath, &len, err, sizeof err);
    if (!text) { fprintf(stderr, "longjam bench tokenizer: %s\n", err); tok_free(t); return CLI_FAILED; }
    double best = 1e30;
    int32_t *ids = NULL; size_t n = 0;
    for (int r = 0; r < runs; r++) {
        free(ids);
        double s = lj_now();
        if (tok_encode_parallel(t, text, len, 1, threads, &ids, &n, err, sizeof err)) {
            fprintf(stderr, "longjam bench tokenizer: %s: %s\n", xpath, err);
            free(text); tok_free(t);
            return CLI_FAILED;
        }
        double d = lj_now() - s;
        if (d < best) best = d;
    }
    printf("tokenizer=%s load_seconds=%.3f\n", tpath, load_s);
    printf("text=%s bytes=%zu threads=%d runs=%d seconds=%.4f tokens=%zu MB_per_s=%.2f Mtokens_per_s=%.3f\n",
           xpath, len, threads, runs, best, n, len / best / 1e6, n / best / 1e6);
    if (hash) {
        uint64_t h = 0;
        for (size_t i = 0; i < n; i++) h = h * 1000003u + (uint64_t)ids[i] + 1;
        printf("hash=%016llx\n", (unsigned long long)h);
    }
    free(ids); free(text);
    tok_free(t);
    return CLI_OK;
}
