#include "cli/batch_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"
#include "kernels/backend_open.h"
#include "pipelines/keyset.h"

static const char *g_shard;
static size_t g_gpus, g_replicas;

const char *batch_opts_help =
    "  --model DIR            model directory (config.json, safetensors, tokenizer.json). `toy` is a\n"
    "                         weightless stand-in the tests use to exercise queueing, resume and\n"
    "                         sharding: its outputs mean nothing\n"
    "  -o, --output FILE      output JSONL (default: stdout). Reruns resume: lines already there are\n"
    "                         skipped, a torn last line is cut off\n"
    "  --errors-file FILE     write failed lines here instead of the output\n"
    "  --retry-errors         redo lines that failed in an earlier run\n"
    "  --overwrite            start afresh (truncate the output)\n"
    "  --ordered              write in input order (default: completion order)\n"
    "  --shard I/N | slurm    process a deterministic 1/N of the input (FNV-1a 64 of the key);\n"
    "                         slurm = SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT\n"
    "  --max-seqs N           sequences in flight (continuous batching; default 8)\n"
    "  --budget-tokens N      total state capacity in tokens of the sequences in flight\n"
    "                         (default: one full context)\n"
    "  --chunk N              prefill chunk in tokens (default 512)\n"
    "  --max-context N        cap on tokens per sequence (default: the model's context)\n"
    "  --max-tasks N          requests/documents in flight (default 4 x --max-seqs)\n"
    "  --workers N            tokenizer/validation threads (default 2)\n"
    "  --deadline SECONDS     expire what is unfinished after this long (default: none)\n"
    "  --device cpu|cuda      engine backend (default cpu)\n"
    "  --threads N            engine threads (default: all CPUs)\n"
    "  --experts auto|int8|bf16  MoE expert weights: int8 = ExpertsInt8 (per-channel scales),\n"
    "                         bf16 = float; auto (default) = int8 on cuda when float does not fit\n"
    "  --tp N                 split the model over N tensor-parallel ranks (--threads shared;\n"
    "                         GPU ranks exchange sums through host copies, or through NCCL with\n"
    "                         LONGJAM_COMM=nccl and one GPU per rank)\n"
    "  --gpus N               data parallel on GPUs 0..N-1 (--device cuda; default: every visible\n"
    "                         GPU): one model replica per GPU, requests dealt to whichever has room\n"
    "  --replicas N           data parallel with N model replicas on any device (cpu: --threads\n"
    "                         divided between them); the output is what one replica writes\n"
    "  --quiet                no progress on stderr\n";

void batch_opts_defaults(pl_common_opts *o) {
    memset(o, 0, sizeof *o);
    o->backend.device = "cpu";
    o->rt.max_seqs = 8;
    o->rt.chunk = 512;
    o->rt.workers = 2;
    g_shard = NULL;
    g_gpus = g_replicas = 0;
}

static int size_arg(const char *name, const char *v, size_t *out) {
    char *end;
    if (!v) { fprintf(stderr, "error: %s needs a value\n", name); return -1; }
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || !*v || v[0] == '-') { fprintf(stderr, "error: %s '%s': want a non-negative integer\n", name, v); return -1; }
    *out = (size_t)x;
    return 0;
}

int batch_opts_parse(pl_common_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
#define TAKE_STR(field) do { if (!v) { fprintf(stderr, "error: %s needs a value\n", a); return -1; } field = v; (*i)++; return 1; } while (0)
#define TAKE_SIZE(field) do { size_t x_; if (size_arg(a, v, &x_)) return -1; field = x_; (*i)++; return 1; } while (0)
    if (!strcmp(a, "--model")) TAKE_STR(o->model);
    if (!strcmp(a, "-o") || !strcmp(a, "--output")) TAKE_STR(o->rt.output);
    if (!strcmp(a, "--errors-file")) TAKE_STR(o->rt.errors_file);
    if (!strcmp(a, "--shard")) TAKE_STR(g_shard);
    if (!strcmp(a, "--device")) TAKE_STR(o->backend.device);
    if (!strcmp(a, "--experts")) {
        if (!v || (strcmp(v, "auto") && strcmp(v, "int8") && strcmp(v, "bf16"))) {
            fprintf(stderr, "error: --experts wants auto, int8 or bf16\n");
            return -1;
        }
        TAKE_STR(o->backend.experts);
    }
    if (!strcmp(a, "--max-seqs")) TAKE_SIZE(o->rt.max_seqs);
    if (!strcmp(a, "--budget-tokens")) TAKE_SIZE(o->rt.budget_tokens);
    if (!strcmp(a, "--chunk")) TAKE_SIZE(o->rt.chunk);
    if (!strcmp(a, "--max-context")) TAKE_SIZE(o->max_context);
    if (!strcmp(a, "--max-tasks")) TAKE_SIZE(o->rt.max_tasks);
    if (!strcmp(a, "--workers")) TAKE_SIZE(o->rt.workers);
    if (!strcmp(a, "--gpus")) { if (size_arg(a, v, &g_gpus)) return -1; (*i)++; return 1; }
    if (!strcmp(a, "--replicas")) { if (size_arg(a, v, &g_replicas)) return -1; (*i)++; return 1; }
    if (!strcmp(a, "--tp")) { size_t t; if (size_arg(a, v, &t)) return -1; o->backend.tp = (int)t; (*i)++; return 1; }
    if (!strcmp(a, "--threads")) { size_t t; if (size_arg(a, v, &t)) return -1; o->backend.threads = (int)t; (*i)++; return 1; }
    if (!strcmp(a, "--deadline")) {
        char *end;
        if (!v || (o->rt.deadline = strtod(v, &end), *end) || o->rt.deadline <= 0) {
            fprintf(stderr, "error: --deadline wants seconds > 0\n");
            return -1;
        }
        (*i)++;
        return 1;
    }
    if (!strcmp(a, "--ordered")) { o->rt.ordered = 1; return 1; }
    if (!strcmp(a, "--overwrite")) { o->rt.overwrite = 1; return 1; }
    if (!strcmp(a, "--retry-errors")) { o->rt.retry_errors = 1; return 1; }
    if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) { o->rt.quiet = 1; return 1; }
    return 0;
#undef TAKE_STR
#undef TAKE_SIZE
}

/* --gpus / --replicas: how many model replicas, and each one's share of the CPU threads. */
static int data_parallel(pl_common_opts *o) {
    const int cuda = o->backend.device && !strcmp(o->backend.device, "cuda");
    if (g_gpus && !cuda) { fprintf(stderr, "error: --gpus needs --device cuda (use --replicas on the CPU)\n"); return -1; }
    if (g_gpus && g_replicas && g_gpus != g_replicas) {
        fprintf(stderr, "error: --gpus %zu and --replicas %zu disagree (one replica per GPU)\n", g_gpus, g_replicas);
        return -1;
    }
    size_t n = g_gpus ? g_gpus : g_replicas;
    if (cuda && strcmp(o->model, "toy")) {
        char err[LJ_ERRLEN];
        int visible = lj_backend_device_count("cuda", err, sizeof err);
        if (visible > 0 && n > (size_t)visible) {
            fprintf(stderr, "error: %s %zu: only %d GPU%s visible (one replica per GPU)\n", g_gpus ? "--gpus" : "--replicas",
                    n, visible, visible == 1 ? " is" : "s are");
            return -1;
        }
        if (!n) n = visible > 0 ? (size_t)visible : 1;   /* default: every visible GPU (none: open says why) */
    }
    if (!n) n = 1;
    if (n > 1 && !cuda) {   /* CPU replicas share the machine's threads */
        size_t t = o->backend.threads > 0 ? (size_t)o->backend.threads : (size_t)lj_cpu_count();
        o->backend.threads = (int)(t / n > 0 ? t / n : 1);
    }
    o->rt.replicas = n;
    o->rt.model = o->model;
    o->rt.backend = o->backend;
    return 0;
}

int batch_opts_check(pl_common_opts *o) {
    if (!o->model) { fprintf(stderr, "error: --model is required\n"); return -1; }
    if (o->rt.max_seqs == 0) { fprintf(stderr, "error: --max-seqs must be at least 1\n"); return -1; }
    if (o->rt.overwrite && o->rt.retry_errors) { fprintf(stderr, "error: --overwrite and --retry-errors exclude each other\n"); return -1; }
    if (data_parallel(o)) return -1;
    o->shard_index = 0;
    o->shard_count = 1;
    if (g_shard) {
        char err[LJ_ERRLEN];
        if (pl_shard_parse(g_shard, &o->shard_index, &o->shard_count, err, sizeof err)) {
            fprintf(stderr, "error: %s\n", err);
            return -1;
        }
    }
    return 0;
}
