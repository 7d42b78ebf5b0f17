/* longjam eval: long-context evaluation (RULER-style synthetic tasks, LongBench, rescoring). */
#include "cli/cli_engine.h"
#include "cli/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "eval/eval.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: longjam eval ruler --model DIR [--lengths 4096,16384,...] [--tasks a,b] [--samples N]\n"
        "                          [--haystack FILE] [--seed S] [--depths P,P] [-o results.json] [--plot ruler.png]\n"
        "       longjam eval longbench --model DIR --data FILE.jsonl [--datasets a,b] [--limit N]\n"
        "                          [-o results.json] [--plot longbench.png]\n"
        "       longjam eval score --pred FILE.jsonl [-o results.json] [--plot scores.png]\n"
        "  model options: [--max-context N] [--chunk N] [--threads N] [--device cpu|cuda]\n\n"
        "ruler: RULER's synthetic tasks (niah_single_1..3, niah_multikey_1..3, niah_multivalue,\n"
        "  niah_multiquery, vt, cwe, fwe) generated at each length in the model's own tokens (chat-templated\n"
        "  prompt + output budget <= length), decoded greedily, scored with RULER's string_match_all.\n"
        "  Defaults: --lengths 4096,16384,65536,131072,262144, all tasks, --samples 4, --seed 42, the\n"
        "  haystack samples/haystack/licenses.txt. --depths forces needle depths (percent).\n"
        "longbench: LongBench / LongBench-E JSONL (input, context, answers, length, dataset, all_classes, _id)\n"
        "  with each dataset's prompt, output length and metric; LongBench v2 JSONL (question, choice_A..D,\n"
        "  answer, difficulty, length) as multiple choice. Over-long prompts are cut in the middle.\n"
        "score: recomputes the metrics of existing predictions (lines with dataset or task, prediction or\n"
        "  pred, answers or outputs, optional all_classes and length).\n"
        "Prints a markdown table on stdout; -o writes every sample, its score and the settings (an\n"
        "interrupted run resumes from -o's .partial.jsonl); --plot writes a PNG of score against length.\n");
}

static int split_list(const char *s, char ***out, size_t *n) {
    *n = 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    *out = calloc(cap, sizeof **out);
    if (!*out) return -1;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l) (*out)[(*n)++] = strndup(p, l);
        p += l + (e ? 1 : 0);
    }
    return 0;
}

static void free_list(char **l, size_t n) {
    for (size_t i = 0; i < n; i++) free(l[i]);
    free(l);
}

int cmd_eval(int argc, char **argv) {
    if (cli_wants_help(argc, argv) || argc < 2) { usage(argc < 2 ? stderr : stdout); return argc < 2 ? CLI_USAGE : CLI_OK; }
    const char *sub = argv[1];
    if (strcmp(sub, "ruler") && strcmp(sub, "longbench") && strcmp(sub, "score")) {
        fprintf(stderr, "longjam eval: unknown subcommand '%s' (ruler, longbench, score)\n\n", sub);
        usage(stderr);
        return CLI_USAGE;
    }
    eval_model_opts m = {0};
    m.load.device = "cpu";
    const char *lengths_s = "4096,16384,65536,131072,262144", *tasks_s = NULL, *haystack = NULL, *output = NULL,
               *plot = NULL, *data = NULL, *datasets_s = NULL, *pred = NULL, *depths_s = NULL;
    size_t samples = 4, seed = 42, limit = 0, threads = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define STR(name, var) if (!strcmp(a, name) && v) { var = v; i++; continue; }
#define NUM(name, var) if (!strcmp(a, name)) { if (cli_parse_size(a, v, &var)) return CLI_USAGE; i++; continue; }
        STR("--model", m.model_dir) STR("--lengths", lengths_s) STR("--tasks", tasks_s) STR("--haystack", haystack)
        STR("-o", output) STR("--output", output) STR("--plot", plot) STR("--data", data) STR("--datasets", datasets_s)
        STR("--pred", pred) STR("--device", m.load.device) STR("--depths", depths_s)
        NUM("--samples", samples) NUM("--seed", seed) NUM("--limit", limit) NUM("--max-context", m.max_context)
        NUM("--chunk", m.chunk) NUM("--threads", threads)
#undef STR
#undef NUM
        fprintf(stderr, "longjam eval %s: unknown or incomplete option '%s'\n\n", sub, a);
        usage(stderr);
        return CLI_USAGE;
    }
    m.load.threads = (int)threads;
    char err[LJ_ERRLEN];
    int rc;
    if (!strcmp(sub, "score")) {
        if (!pred) { fprintf(stderr, "longjam eval score: --pred FILE.jsonl is required\n"); return CLI_USAGE; }
        rc = eval_score_run(pred, output, plot, stdout, err, sizeof err);
    } else if (!m.model_dir) {
        fprintf(stderr, "longjam eval %s: --model DIR is required\n", sub);
        return CLI_USAGE;
    } else if (!strcmp(sub, "ruler")) {
        char **ls = NULL, **ts = NULL, **ds = NULL;
        size_t nl = 0, nt = 0, nd = 0;
        split_list(lengths_s, &ls, &nl);
        if (tasks_s) split_list(tasks_s, &ts, &nt);
        if (depths_s) split_list(depths_s, &ds, &nd);
        size_t *lengths = calloc(nl + 1, sizeof *lengths);
        double *depths = calloc(nd + 1, sizeof *depths);
        int bad = !nl || !samples;
        for (size_t i = 0; i < nl && !bad; i++) {
            char *e;
            double v = strtod(ls[i], &e);
            if (*e == 'K' || *e == 'k') { v *= 1024; e++; }
            if (*e || v < 64) { fprintf(stderr, "longjam eval ruler: --lengths: bad length '%s'\n", ls[i]); bad = 1; }
            lengths[i] = (size_t)v;
        }
        for (size_t i = 0; i < nd && !bad; i++) {
            char *e;
            depths[i] = strtod(ds[i], &e);
            if (*e || depths[i] < 0 || depths[i] > 100) { fprintf(stderr, "longjam eval ruler: --depths: '%s' is not a percentage\n", ds[i]); bad = 1; }
        }
        if (!bad) {
            eval_ruler_opts o = {.m = m, .lengths = lengths, .n_lengths = nl, .tasks = (const char *const *)ts, .n_tasks = nt,
                                 .samples = samples, .haystack = haystack, .seed = seed, .depths = nd ? depths : NULL,
                                 .n_depths = nd, .output = output, .plot = plot};
            rc = eval_ruler_run(&o, stdout, err, sizeof err);
        }
        free_list(ls, nl); free_list(ts, nt); free_list(ds, nd);
        free(lengths); free(depths);
        if (bad) return CLI_USAGE;
    } else {
        if (!data) { fprintf(stderr, "longjam eval longbench: --data FILE.jsonl is required\n"); return CLI_USAGE; }
        char **ds = NULL;
        size_t nd = 0;
        if (datasets_s) split_list(datasets_s, &ds, &nd);
        eval_longbench_opts o = {.m = m, .data = data, .datasets = (const char *const *)ds, .n_datasets = nd, .limit = limit,
                                 .output = output, .plot = plot};
        rc = eval_longbench_run(&o, stdout, err, sizeof err);
        free_list(ds, nd);
    }
    if (rc) { fprintf(stderr, "longjam eval %s: %s\n", sub, err); return CLI_FAILED; }
    return CLI_OK;
}
