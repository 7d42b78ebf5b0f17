/* Placeholder until the tokenizer benchmark lands (owned by the tokenizer work). */
#include "cli/commands.h"

#include <stdio.h>

int bench_tokenizer_main(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "longjam bench: the tokenizer benchmark is not built yet\n");
    return CLI_FAILED;
}
