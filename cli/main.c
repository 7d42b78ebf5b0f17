/* longjam: long-context document processing with Jamba-family models. */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

#define X(name) int cmd_##name(int argc, char **argv);
#include "cli/command_list.h"
#undef X

static const cli_command commands[] = {
#define X(name) {#name, NULL, cmd_##name},
#include "cli/command_list.h"
#undef X
};

/* One-line summaries, kept beside the table so `longjam --help` lists every command. */
static const char *summary_of(const char *name) {
    static const struct { const char *name, *text; } s[] = {
        {"info", "print a model's config, layer plan, parameter and memory counts"},
        {"logits", "run a prompt (ids in safetensors) and write logits/hidden states"},
        {"generate", "greedy/sampled continuation of a prompt"},
        {"tokenize", "encode/decode JSON lines with a tokenizer.json"},
        {"extract", "print the cleaned text of one document (PDF, XML, HTML, text)"},
        {"ingest", "extract and tokenize documents into token windows (windows.jsonl)"},
        {"summarize", "summarize documents (map-reduce over windows) to JSONL"},
        {"qa", "answer questions about documents to JSONL"},
        {"run", "run an OpenAI batch file (/v1/chat/completions, /v1/completions)"},
        {"merge", "join shard outputs, drop duplicates, list what is missing"},
        {"eval", "long-context evaluation: RULER, LongBench, scoring"},
        {"bench", "throughput and memory benchmarks"},
        {"version", "print the version"},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        if (!strcmp(s[i].name, name)) return s[i].text;
    return "";
}

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    }
    return 0;
}

int cmd_version(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        printf("usage: longjam version\n\nPrints the longjam version.\n");
        return CLI_OK;
    }
    printf("longjam 0.1.0\n");
    return CLI_OK;
}

static void usage(FILE *f) {
    fprintf(f, "usage: longjam COMMAND [OPTIONS]\n\n"
               "Long-context document processing with Jamba-family (Transformer-Mamba-MoE) models.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, summary_of(commands[i].name));
    fprintf(f, "\n`longjam COMMAND --help` describes each command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return CLI_USAGE; }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) return cmd_version(1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, argv[1])) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "longjam: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
