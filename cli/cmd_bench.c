/* longjam bench: `bench tokenizer ...` times the tokenizer; anything else benchmarks the model
 * (cli/bench_model.c). Each half parses its own options and prints its own --help. */
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

int bench_tokenizer_main(int argc, char **argv);   /* cli/bench_tokenizer.c */
int bench_model_main(int argc, char **argv);       /* cli/bench_model.c */
int bench_cuda_main(int argc, char **argv);        /* cli/bench_cuda.c: synthetic GPU model, --op timings */

/* The synthetic-weight GPU benchmark (--synthetic / --shape / --op); a checkpoint (--model DIR) on
 * any device goes to the engine's model benchmark. */
static int wants_synthetic(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--synthetic") || !strcmp(argv[i], "--shape") || !strcmp(argv[i], "--op")) return 1;
    return 0;
}

int cmd_bench(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "tokenizer")) return bench_tokenizer_main(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: longjam bench tokenizer --tokenizer FILE --text FILE [--threads N]\n"
               "       longjam bench [model] --model DIR [--device cpu|cuda] [OPTIONS]\n"
               "       longjam bench --device cuda --shape NAME|config.json --synthetic [OPTIONS] | --op NAME\n\n"
               "Throughput benchmarks. `longjam bench tokenizer --help`, `longjam bench model --help` and\n"
               "`longjam bench --synthetic --help` list each one's options.\n");
        return CLI_OK;
    }
    if (wants_synthetic(argc, argv)) return bench_cuda_main(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "model")) return bench_model_main(argc - 1, argv + 1);
    return bench_model_main(argc, argv);
}
