/* Unit tests of the pipelines' pieces: sampler (against hand-computed values), shard parsing,
 * the key set, the bounded queue, and the scheduler on the toy backend: continuous batching gives
 * the same greedy tokens as one sequence at a time, admission keeps to the budget, forks continue
 * exactly like the original. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "pipelines/backend.h"
#include "pipelines/keyset.h"
#include "pipelines/queue.h"
#include "tests/test_util.h"

/* The pipelines' sampler helpers (sampling itself is tested in tests/engine_sampler.c). */
static void test_sampler(void) {
    float l[5] = {1.0f, 3.0f, 3.0f, -2.0f, 0.5f};
    CHECK(lj_argmax(l, 5) == 1);   // ties: lowest id
    // log softmax by hand: log(e^3 / (e^1 + 2e^3 + e^-2 + e^0.5))
    double z = exp(1.0) + 2 * exp(3.0) + exp(-2.0) + exp(0.5);
    CHECKF(fabs(lj_logprob(l, 5, 1) - (3.0 - log(z))) < 1e-5, "%g", lj_logprob(l, 5, 1));
    int32_t ids[3];
    float lps[3];
    lj_top_logprobs(l, 5, 3, ids, lps);
    CHECK(ids[0] == 1 && ids[1] == 2 && ids[2] == 0);
    CHECK(fabs(lps[2] - (1.0 - log(z))) < 1e-5);
    // stop strings
    const char *stops[] = {"END", "\n\n"};
    const char *t = "abc\n\nxyzEND";
    CHECK(lj_stop_find(t, strlen(t), 0, stops, 2) == 3);
    CHECK(lj_stop_find(t, strlen(t), 8, stops, 2) == 8);    // only matches ending at or after byte 8
    CHECK(lj_stop_find(t, strlen(t), 10, stops, 2) == 8);   // "END" ends in byte 10, the first new one
    CHECK(lj_stop_find(t, strlen(t), 11, stops, 2) == 11);  // no new bytes: nothing to find
    CHECK(lj_stop_find("abc", 3, 0, stops, 2) == 3);
}

static void test_shards(void) {
    char err[256];
    int i, n;
    CHECK(pl_shard_parse("2/3", &i, &n, err, sizeof err) == 0 && i == 2 && n == 3);
    CHECK(pl_shard_parse("3/3", &i, &n, err, sizeof err) == -1 && test_contains(err, "out of range"));
    CHECK(pl_shard_parse("-1/3", &i, &n, err, sizeof err) == -1);
    CHECK(pl_shard_parse("a/b", &i, &n, err, sizeof err) == -1);
    CHECK(pl_shard_parse("1", &i, &n, err, sizeof err) == -1);
    CHECK(pl_shard_parse("0/0", &i, &n, err, sizeof err) == -1);
    CHECK(pl_shard_parse("", &i, &n, err, sizeof err) == -1);
    unsetenv("SLURM_ARRAY_TASK_ID");
    CHECK(pl_shard_parse("slurm", &i, &n, err, sizeof err) == -1 && test_contains(err, "SLURM_ARRAY_TASK_ID"));
    setenv("SLURM_ARRAY_TASK_ID", "5", 1);
    setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
    setenv("SLURM_ARRAY_TASK_MIN", "3", 1);
    CHECK(pl_shard_parse("slurm", &i, &n, err, sizeof err) == 0 && i == 2 && n == 4);
    setenv("SLURM_ARRAY_TASK_MIN", "0", 1);
    CHECK(pl_shard_parse("slurm", &i, &n, err, sizeof err) == -1);   // 5 of 4
    // FNV-1a 64 reference values (the published test vectors)
    CHECK(pl_fnv1a64("", 0) == 0xcbf29ce484222325ULL);
    CHECK(pl_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cULL);
    // every key lands in exactly one shard
    int ok = 1;
    for (int k = 0; k < 200; k++) {
        char key[16];
        snprintf(key, sizeof key, "req-%d", k);
        int hits = 0;
        for (int s = 0; s < 3; s++) hits += pl_shard_mine(key, strlen(key), s, 3);
        ok &= hits == 1;
    }
    CHECK(ok);
}

static void test_keyset_queue(void) {
    pl_keyset *k = pl_keyset_new();
    for (int i = 0; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        *pl_keyset_slot(k, key) += i;
    }
    CHECK(pl_keyset_count(k) == 1000);
    CHECK(pl_keyset_get(k, "k777") == 777 && pl_keyset_get(k, "nope") == -1);
    pl_keyset_free(k);
    pl_queue *q = pl_queue_new(2);
    int a = 1, b = 2;
    CHECK(pl_queue_push(q, &a) == 0 && pl_queue_push(q, &b) == 0);
    CHECK(pl_queue_trypop(q, NULL) == &a);
    pl_queue_close(q);
    CHECK(pl_queue_push(q, &a) == -1);
    CHECK(pl_queue_pop(q) == &b && pl_queue_pop(q) == NULL);
    pl_queue_free(q);
}

/* ---- scheduler ---- */

typedef struct gen { lj_seq q; int32_t prompt[40]; int32_t out[64]; size_t n_out; int done; } gen;

static int on_tok(lj_seq *q, int32_t t, int is_eos, const float *logits) {
    gen *g = q->user;
    if (g->n_out < 64) g->out[g->n_out++] = t;
    return 0;
}
static void on_done(lj_seq *q) { ((gen *)q->user)->done = 1; }

static void make_gens(gen *g, int n, const pl_backend *b) {
    for (int i = 0; i < n; i++) {
        memset(&g[i], 0, sizeof g[i]);
        size_t np = 5 + (size_t)(i * 7) % 30;
        for (size_t t = 0; t < np; t++) g[i].prompt[t] = 3 + (int32_t)((i * 31 + t * 17) % 250);
        g[i].q = (lj_seq){.prompt = g[i].prompt, .n_prompt = np, .capacity = np + 40, .max_new = 40,
                          .eos = b->eos, .n_eos = b->n_eos, .on_token = on_tok, .on_done = on_done, .user = &g[i]};
        lj_sampler_defaults(NULL, &g[i].q.sampling);
    }
}

static size_t run_all(lj_sched *s, gen *g, int n) {
    int next = 0;
    size_t max_active = 0;
    for (;;) {
        while (next < n && lj_sched_can_admit(s, g[next].q.capacity)) lj_sched_submit(s, &g[next++].q);
        if (lj_sched_active(s) > max_active) max_active = lj_sched_active(s);
        if (lj_sched_active(s) == 0 && next == n) break;
        CHECK(lj_sched_step(s) >= 0);
    }
    return max_active;
}

static void test_scheduler(void) {
    char err[256];
    pl_backend *b;
    CHECK(pl_backend_open("toy", NULL, &b, err, sizeof err) == 0);
    enum { N = 12 };
    static gen one[N], many[N];
    make_gens(one, N, b);
    make_gens(many, N, b);
    lj_sched *s1, *s8;
    lj_sched_opts o1 = {1, 0, 7}, o8 = {8, 8 * 80, 7};
    CHECK(lj_sched_new(&b->model, &o1, &s1, err, sizeof err) == 0);
    CHECK(lj_sched_new(&b->model, &o8, &s8, err, sizeof err) == 0);
    CHECK(run_all(s1, one, N) == 1);
    size_t act = run_all(s8, many, N);
    CHECKF(act > 1 && act <= 8, "max in flight %zu", act);
    lj_sched_stats st = lj_sched_get_stats(s8);
    CHECKF(st.max_active > 2, "largest step had %zu sequences", st.max_active);   // decodes batched beside a prefill chunk
    int same = 1, ended_by_eos = 0;
    for (int i = 0; i < N; i++) {
        same &= one[i].done && many[i].done && one[i].n_out == many[i].n_out &&
                !memcmp(one[i].out, many[i].out, one[i].n_out * sizeof(int32_t)) && one[i].q.finish == many[i].q.finish;
        ended_by_eos += one[i].q.finish == LJ_FINISH_STOP;
    }
    CHECK(same);
    CHECKF(ended_by_eos > 0 && ended_by_eos < N, "%d of %d ended by eos", ended_by_eos, N);
    // budget: capacity 45..74 each, budget 100 -> never more than 2 in flight
    gen g[N];
    make_gens(g, N, b);
    lj_sched *sb;
    lj_sched_opts ob = {8, 100, 16};
    CHECK(lj_sched_new(&b->model, &ob, &sb, err, sizeof err) == 0);
    act = run_all(sb, g, N);
    CHECKF(act <= 2, "%zu in flight under a budget of 100 tokens", act);
    // a sequence over the budget fails alone
    gen big;
    make_gens(&big, 1, b);
    big.q.capacity = 1000;
    lj_sched_submit(sb, &big.q);
    CHECK(big.done && big.q.finish == LJ_FINISH_ERROR && test_contains(big.q.err, "budget"));
    // fork: prefill, keep the state, fork it and continue; equals a fresh sequence over prefix + suffix
    gen pre, fk, whole;
    make_gens(&pre, 1, b);
    pre.q.max_new = 0;
    pre.q.keep_state = 1;
    lj_sched_submit(s8, &pre.q);
    while (lj_sched_active(s8)) lj_sched_step(s8);
    CHECK(pre.done && pre.q.finish == LJ_FINISH_PREFILL && pre.q.state);
    make_gens(&fk, 1, b);
    int32_t suffix[3] = {50, 60, 70};
    fk.q.prompt = suffix;
    fk.q.n_prompt = 3;
    fk.q.fork_from = pre.q.state;
    fk.q.base_len = pre.q.n_prompt;
    fk.q.capacity = pre.q.capacity;
    make_gens(&whole, 1, b);
    memcpy(whole.prompt + whole.q.n_prompt, suffix, sizeof suffix);
    whole.q.n_prompt += 3;
    whole.q.capacity += 3;
    lj_sched_submit(s8, &fk.q);
    lj_sched_submit(s8, &whole.q);
    while (lj_sched_active(s8)) lj_sched_step(s8);
    CHECK(fk.done && whole.done && fk.n_out == whole.n_out && !memcmp(fk.out, whole.out, fk.n_out * sizeof(int32_t)));
    b->model.state_free(b->model.ctx, pre.q.state);
    lj_sched_release(s8, pre.q.capacity);
    // a kept state stays charged until released: budget 100, 60 held, one of 30 running -> no second 30
    gen keep, run1;
    make_gens(&keep, 1, b);
    keep.q.max_new = 0;
    keep.q.keep_state = 1;
    keep.q.capacity = 60;
    lj_sched_submit(sb, &keep.q);
    while (lj_sched_active(sb)) lj_sched_step(sb);
    CHECK(keep.done && keep.q.state);
    make_gens(&run1, 1, b);
    run1.q.n_prompt = 10;
    run1.q.max_new = 20;
    run1.q.capacity = 30;
    lj_sched_submit(sb, &run1.q);
    CHECK(lj_sched_active(sb) == 1 && !lj_sched_can_admit(sb, 30));
    b->model.state_free(b->model.ctx, keep.q.state);
    lj_sched_release(sb, 60);
    CHECK(lj_sched_can_admit(sb, 30));
    while (lj_sched_active(sb)) lj_sched_step(sb);
    lj_sched_free(s1);
    lj_sched_free(s8);
    lj_sched_free(sb);
    pl_backend_close(b);
}

int main(void) {
    test_sampler();
    test_shards();
    test_keyset_queue();
    test_scheduler();
    return test_finish("pipelines_unit");
}
