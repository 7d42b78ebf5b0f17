/* longjam bench: `bench tokenizer ...` times the tokenizer; anything else benchmarks the model
 * (cli/bench_model.c). Each half parses its own options and prints its own --help. */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

int bench_tokenizer_main(int argc, char **argv);   /* cli/bench_tokenizer.c */
int bench_model_main(int argc, char **argv);       /* cli/bench_model.c */
int bench_cuda_main(int argc, char **argv);        /* cli/bench_cuda.c: --device cuda (synthetic, --op) */

static int wants_cuda(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--device") && !strcmp(argv[i + 1], "cuda")) return 1;
    return 0;
}

int cmd_bench(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "tokenizer")) return bench_tokenizer_main(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: longjam bench tokenizer --tokenizer FILE --text FILE [--threads N]\n"
               "       longjam bench [--model DIR | --shape NAME|config.json --synthetic] [OPTIONS]\n\n"
               "Throughput benchmarks. `longjam bench tokenizer --help` and `longjam bench model --help`\n"
               "list each one's options.\n");
        return CLI_OK;
    }
    if (wants_cuda(argc, argv)) return bench_cuda_main(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "model")) return bench_model_main(argc - 1, argv + 1);
    return bench_model_main(argc, argv);
}
