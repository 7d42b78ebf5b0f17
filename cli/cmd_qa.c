/* longjam qa: questions over documents, one prefill per document (thin layer over pipelines/qa.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/batch_opts.h"
#include "cli/commands.h"

#define DEFAULT_INSTRUCTION "\n\nAnswer the question about the text above.\nQuestion: "

static void usage(FILE *f) {
    fprintf(f,
            "usage: longjam qa --model DIR --docs PATHS... --questions Q.jsonl [-o OUT.jsonl] [OPTIONS]\n\n"
            "Answers questions {\"id\", \"doc\", \"question\"} (doc: a document's id = file name without\n"
            "extension, its path, or its file name). Each document is prefilled once (chat prefix +\n"
            "document) and its state forked for each question. One line per question:\n"
            "{\"id\", \"doc\", \"question\", \"answer\"}.\n\n"
            "options:\n"
            "  --docs PATHS...         documents (every argument up to the next option)\n"
            "  --questions FILE        questions JSONL\n"
            "  --max-answer-tokens N   tokens per answer (default 128)\n"
            "  --instruction TEXT      between the document and the question (default: a blank line,\n"
            "                          then \"Answer the question about the text above.\\nQuestion: \")\n"
            "%s\nExit status: 0 ok, 3 some questions failed, 4 interrupted, 1 failure.\n", batch_opts_help);
}

int cmd_qa(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) { usage(stdout); return CLI_OK; }
    pl_common_opts o;
    batch_opts_defaults(&o);
    pl_qa_opts qo = {128, DEFAULT_INSTRUCTION};
    const char *questions = NULL;
    char **docs = calloc((size_t)argc + 1, sizeof *docs);
    size_t n = 0;
    if (!docs) return CLI_FAILED;
    int in_docs = 0;
    for (int i = 1; i < argc; i++) {
        int r = batch_opts_parse(&o, argc, argv, &i);
        if (r < 0) { free(docs); return CLI_USAGE; }
        if (r > 0) { in_docs = 0; continue; }
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--docs")) { in_docs = 1; continue; }
        if (!strcmp(a, "--questions")) {
            if (!v) { fprintf(stderr, "error: --questions needs a file\n"); free(docs); return CLI_USAGE; }
            questions = v; i++; in_docs = 0;
        } else if (!strcmp(a, "--max-answer-tokens")) {
            char *end;
            if (!v || !*v || v[0] == '-' || (qo.max_answer_tokens = strtoull(v, &end, 10), *end) || !qo.max_answer_tokens) {
                fprintf(stderr, "error: --max-answer-tokens wants a number >= 1\n");
                free(docs);
                return CLI_USAGE;
            }
            i++; in_docs = 0;
        } else if (!strcmp(a, "--instruction")) {
            if (!v) { fprintf(stderr, "error: --instruction needs text\n"); free(docs); return CLI_USAGE; }
            qo.instruction = v; i++; in_docs = 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "error: unknown option %s\n\n", a);
            usage(stderr);
            free(docs);
            return CLI_USAGE;
        } else if (in_docs) {
            docs[n++] = argv[i];
        } else {
            fprintf(stderr, "error: stray argument %s (documents follow --docs)\n", a);
            free(docs);
            return CLI_USAGE;
        }
    }
    if (!n || !questions) { fprintf(stderr, "error: --docs and --questions are required\n\n"); usage(stderr); free(docs); return CLI_USAGE; }
    if (batch_opts_check(&o)) { free(docs); return CLI_USAGE; }
    int rc = pl_qa(&o, &qo, docs, n, questions);
    free(docs);
    return rc;
}
