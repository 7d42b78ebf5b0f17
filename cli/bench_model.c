/* Placeholder until the model benchmark lands (owned by the engine work). */
#include "cli/commands.h"

#include <stdio.h>

int bench_model_main(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "longjam bench: the model benchmark is not built yet\n");
    return CLI_FAILED;
}
