/* longjam run: an OpenAI batch file through the model (thin layer over pipelines/run.c). */
#include <stdio.h>
#include <string.h>

#include "cli/batch_opts.h"
#include "cli/commands.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: longjam run --model DIR REQUESTS.jsonl [-o RESULTS.jsonl] [OPTIONS]\n\n"
            "Runs an OpenAI batch file (the Batch API / `vllm run-batch` format): one request per line,\n"
            "{\"custom_id\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\" | \"/v1/completions\", \"body\"}.\n"
            "Body parameters honoured per line: messages / prompt, max_tokens (max_completion_tokens),\n"
            "temperature, top_p, top_k, seed, stop, n, logprobs / top_logprobs; stream: true is refused.\n"
            "A missing max_tokens means up to the end of the context (or generation_config's\n"
            "max_new_tokens). One result line per request, in completion order unless --ordered;\n"
            "duplicate custom_ids get an error line each (the first one runs). REQUESTS may be - (stdin).\n\n"
            "Exit status: 0 all succeeded, 3 some lines failed, 4 interrupted (SIGINT/SIGTERM: the first\n"
            "stops admitting and finishes what is in flight, a second aborts it), 1 failure.\n\n"
            "options:\n%s", batch_opts_help);
}

int cmd_run(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    pl_common_opts o;
    batch_opts_defaults(&o);
    const char *input = NULL;
    for (int i = 1; i < argc; i++) {
        int r = batch_opts_parse(&o, argc, argv, &i);
        if (r < 0) return CLI_USAGE;
        if (r > 0) continue;
        if (argv[i][0] == '-' && strcmp(argv[i], "-")) { fprintf(stderr, "error: unknown option %s\n\n", argv[i]); usage(stderr); return CLI_USAGE; }
        if (input) { fprintf(stderr, "error: one requests file only (got %s and %s)\n", input, argv[i]); return CLI_USAGE; }
        input = argv[i];
    }
    if (!input) { fprintf(stderr, "error: no requests file\n\n"); usage(stderr); return CLI_USAGE; }
    if (batch_opts_check(&o)) return CLI_USAGE;
    return pl_run(&o, input);
}
