/* Engine-level companion of bench/pipelines_throughput.sh: decode steps of n sequences as one
 * lj_forward call (n = 1, 4, 8, 16, 32; each state prefilled with 40 tokens), printing ms per step
 * and tokens/s. Shows what continuous batching can gain on a model before the pipeline's overhead.
 * Build from the repository root after `cmake --build build`:
 *   gcc -O2 -I. bench/decode_batch.c -o build/decode_batch build/engine/liblj_engine.a \
 *     build/kernels/liblj_kernels.a build/common/liblj_common.a \
 *     $(pkg-config --libs jansson openblas libpcre2-8) -lutf8proc -lm -lpthread
 *   build/decode_batch ../shared/fixtures/models/tiny-chat [THREADS] */
#include <stdio.h>
#include <stdlib.h>
#include "engine/model.h"
#include "common/util.h"
int main(int argc, char **argv) {
    char err[1024]; lj_model *m; lj_load_opts o = {.device = "cpu", .threads = argc > 2 ? atoi(argv[2]) : 1};
    if (argc < 2) { fprintf(stderr, "usage: decode_batch MODEL_DIR [THREADS]\n"); return 2; }
    if (lj_model_load(argv[1], &o, &m, err, sizeof err)) { puts(err); return 1; }
    size_t V = lj_model_config(m)->vocab_size;
    int ns[] = {1, 4, 8, 16, 32};
    for (int k = 0; k < 5; k++) {
        int n = ns[k];
        lj_state *st[32]; lj_seq_step steps[32]; int32_t toks[32][64];
        float *logits = malloc(sizeof(float) * V * 32);
        for (int i = 0; i < n; i++) {
            lj_state_new(m, 512, &st[i], err, sizeof err);
            for (int t = 0; t < 40; t++) toks[i][t] = 10 + (i * 7 + t * 13) % 4000;
            lj_prefill(m, st[i], toks[i], 40, 0, 0, NULL, err, sizeof err);
        }
        int steps_n = 64;
        double t0 = lj_now();
        for (int s = 0; s < steps_n; s++) {
            for (int i = 0; i < n; i++) steps[i] = (lj_seq_step){st[i], &toks[i][s % 40], 1, 0};
            if (lj_forward(m, steps, n, logits, NULL, err, sizeof err)) { puts(err); return 1; }
        }
        double dt = lj_now() - t0;
        printf("n=%2d: %.3f ms/step, %.0f tok/s\n", n, 1e3 * dt / steps_n, n * steps_n / dt);
        for (int i = 0; i < n; i++) lj_state_free(st[i]);
        free(logits);
    }
    lj_model_free(m);
}
