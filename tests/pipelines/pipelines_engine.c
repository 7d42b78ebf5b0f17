/* The scheduler on the real engine (tiny-chat): continuous batching (several sequences in flight,
 * decode steps beside prefill chunks) gives exactly the greedy tokens of one sequence at a time;
 * a forked document state answers each question exactly as prefilling document + question afresh. */
#include <stdlib.h>
#include <string.h>

#include "engine/scheduler.h"
#include "pipelines/backend.h"
#include "tests/test_util.h"

#define MAXP 160
#define NEW 12

typedef struct gen { lj_seq q; int32_t prompt[MAXP]; int32_t out[NEW + 1]; size_t n_out; int done; } gen;

static int on_tok(lj_seq *q, int32_t t, int is_eos, const float *logits) {
    gen *g = q->user;
    if (g->n_out <= NEW) g->out[g->n_out++] = t;
    return 0;
}
static void on_done(lj_seq *q) { ((gen *)q->user)->done = 1; }

static void init_gen(gen *g, const pl_backend *b, const int32_t *p, size_t n) {
    memset(g, 0, sizeof *g);
    memcpy(g->prompt, p, n * sizeof *p);
    g->q = (lj_seq){.prompt = g->prompt, .n_prompt = n, .capacity = n + NEW, .max_new = NEW, .eos = b->eos,
                    .n_eos = b->n_eos, .on_token = on_tok, .on_done = on_done, .user = g};
    lj_sampler_defaults(NULL, &g->q.sampling);
}

static void drain(lj_sched *s, gen *g, int n) {
    int next = 0;
    while (next < n || lj_sched_active(s)) {
        while (next < n && lj_sched_can_admit(s, g[next].q.capacity)) lj_sched_submit(s, &g[next++].q);
        if (lj_sched_step(s) < 0) { CHECK(!"forward failed"); break; }
    }
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : test_fixture("models/tiny-chat");
    if (!pl_backend_engine_available()) { fprintf(stderr, "skip: engine/tokenizer not in this build\n"); return TEST_SKIP; }
    char err[1024], path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "skip: no fixture %s\n", dir); return TEST_SKIP; }
    fclose(f);
    pl_backend *b;
    pl_backend_opts bo = {.device = "cpu", .threads = 2};
    if (pl_backend_open(dir, &bo, &b, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    // prompts: tokenized sentences of varied lengths
    enum { N = 6 };
    static const char *texts[N] = {
        "The quick brown fox jumps over the lazy dog.",
        "Mamba layers carry a recurrent state from chunk to chunk.",
        "Attention",
        "A batch job keeps the accelerator busy and survives being killed, leaving one line per result.",
        "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
        "Continuous batching interleaves prefill chunks with decode steps of running sequences.",
    };
    static gen one[N], many[N];
    for (int i = 0; i < N; i++) {
        int32_t *ids;
        size_t n;
        CHECK(b->encode(b, texts[i], strlen(texts[i]), 1, &ids, &n, err, sizeof err) == 0);
        if (n > MAXP) n = MAXP;
        init_gen(&one[i], b, ids, n);
        init_gen(&many[i], b, ids, n);
        free(ids);
    }
    lj_sched *s1, *sn;
    lj_sched_opts o1 = {1, 0, 512}, on = {N, 0, 5};   // small chunks: prefills interleave with decodes
    CHECK(lj_sched_new(&b->model, &o1, &s1, err, sizeof err) == 0);
    CHECK(lj_sched_new(&b->model, &on, &sn, err, sizeof err) == 0);
    drain(s1, one, N);
    drain(sn, many, N);
    CHECKF(lj_sched_get_stats(sn).max_active >= 3, "max sequences in one step: %zu", lj_sched_get_stats(sn).max_active);
    for (int i = 0; i < N; i++) {
        CHECKF(one[i].done && many[i].done && one[i].n_out == many[i].n_out && one[i].n_out > 0 &&
               !memcmp(one[i].out, many[i].out, one[i].n_out * sizeof(int32_t)),
               "sequence %d: batched greedy tokens differ from one at a time", i);
    }
    // fork: document prefix prefilled once, three questions forked from it
    const char *doc = "<|startoftext|><|bom|><|user|> Jamba interleaves attention and Mamba layers, with mixture-of-experts "
                      "feed-forward blocks on every other layer.\n\nQuestion: ";
    const char *qs[3] = {"What interleaves?<|eom|><|bom|><|assistant|>", "Which layers?<|eom|><|bom|><|assistant|>",
                         "How often are experts used?<|eom|><|bom|><|assistant|>"};
    int32_t *dids;
    size_t nd;
    CHECK(b->encode(b, doc, strlen(doc), 0, &dids, &nd, err, sizeof err) == 0);
    static gen pre, fk[3], fresh[3];
    init_gen(&pre, b, dids, nd);
    pre.q.max_new = 0;
    pre.q.keep_state = 1;
    pre.q.capacity = nd + 40 + NEW;
    lj_sched_submit(sn, &pre.q);
    while (lj_sched_active(sn)) lj_sched_step(sn);
    CHECK(pre.q.finish == LJ_FINISH_PREFILL && pre.q.state);
    for (int i = 0; i < 3; i++) {
        int32_t *qids;
        size_t nq;
        CHECK(b->encode(b, qs[i], strlen(qs[i]), 0, &qids, &nq, err, sizeof err) == 0);
        init_gen(&fk[i], b, qids, nq);
        fk[i].q.fork_from = pre.q.state;
        fk[i].q.base_len = nd;
        fk[i].q.capacity = pre.q.capacity;
        int32_t all[MAXP];
        memcpy(all, dids, nd * sizeof *all);
        memcpy(all + nd, qids, nq * sizeof *all);
        init_gen(&fresh[i], b, all, nd + nq);
        free(qids);
    }
    drain(sn, fk, 3);
    drain(s1, fresh, 3);
    for (int i = 0; i < 3; i++)
        CHECKF(fk[i].done && fk[i].n_out == fresh[i].n_out && fk[i].n_out > 0 &&
               !memcmp(fk[i].out, fresh[i].out, fk[i].n_out * sizeof(int32_t)),
               "question %d: forked answer differs from a fresh prefill", i);
    b->model.state_free(b->model.ctx, pre.q.state);
    free(dids);
    lj_sched_free(s1);
    lj_sched_free(sn);
    pl_backend_close(b);
    return test_finish("pipelines_engine");
}
