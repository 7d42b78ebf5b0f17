/* Causal GQA attention over each sequence's KV cache, no positional encoding. The step's K/V
 * rows are appended to the caches, then each task takes one (sequence, head, block of up to 32
 * queries) and walks the keys in blocks of 256 with an online softmax (FlashAttention's
 * recurrence): S = Q·Kᵀ and O += P·V are small gemms, so long prefills run at gemm speed. Key
 * blocks start at absolute positions 0, 256, ..., so a query's arithmetic does not depend on how
 * the prompt was chunked. */
#include "kernels/cpu/cpu.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define QB 32    /* queries per task */
#define KB 256   /* keys per block */

typedef struct att_task { size_t seq, head, row0, nq, pos0; } att_task;   /* pos0 = position of row0 */

typedef struct att_job {
    const lj_attention_params *p;
    const att_task *tasks;
    atomic_int failed;   /* a task could not get its scratch */
} att_job;

LJ_CPU_VECTORIZE static void att_run(void *arg, size_t i0, size_t i1) {
    att_job *j = arg;
    const lj_attention_params *p = j->p;
    const size_t Dh = p->head_dim, group = p->n_heads / p->n_kv_heads, kvd = p->n_kv_heads * Dh;
    float *S = malloc((QB * KB + QB * Dh + 2 * QB) * sizeof *S);   // [QB, KB] | O [QB, Dh] | m, l [QB]
    if (!S) { atomic_store(&j->failed, 1); return; }
    float *O = S + QB * KB, *mrow = O + QB * Dh, *lrow = mrow + QB;
    for (size_t ti = i0; ti < i1; ti++) {
        const att_task *t = &j->tasks[ti];
        const size_t kvh = t->head / group, nq = t->nq, last = t->pos0 + nq - 1;   /* last query's position */
        const float *q = (const float *)p->q + t->row0 * p->ldq + t->head * Dh;    // [nq, Dh] stride ldq
        const float *K = (const float *)p->k_cache[t->seq] + kvh * Dh;            // [pos, Dh] stride kvd
        const float *V = (const float *)p->v_cache[t->seq] + kvh * Dh;
        for (size_t i = 0; i < nq; i++) { mrow[i] = -INFINITY; lrow[i] = 0.0f; }
        memset(O, 0, nq * Dh * sizeof *O);
        for (size_t kb = 0; kb <= last; kb += KB) {
            size_t nk = last + 1 - kb < KB ? last + 1 - kb : KB;
            // torch: scores = q @ k.T * scale                                    // S [nq, nk]
            cpu_gemm(1, nq, nk, Dh, q, p->ldq, K + kb * kvd, kvd, 0.0f, S, KB);
            for (size_t i = 0; i < nq; i++) {
                float *s = S + i * KB;
                size_t pos = t->pos0 + i;   /* keys after pos are masked (causal) */
                size_t vis = pos + 1 > kb ? (pos + 1 - kb < nk ? pos + 1 - kb : nk) : 0;
                float mx = mrow[i];
                for (size_t c = 0; c < vis; c++) {
                    s[c] *= p->scale;
                    mx = s[c] > mx ? s[c] : mx;
                }
                // online softmax: rescale what was summed so far to the new running max
                float corr = vis ? cpu_exp(mrow[i] - mx) : 1.0f, sum = 0.0f;
                for (size_t c = 0; c < vis; c++) {
                    s[c] = cpu_exp(s[c] - mx);
                    sum += s[c];
                }
                for (size_t c = vis; c < nk; c++) s[c] = 0.0f;
                if (vis) {
                    lrow[i] = lrow[i] * corr + sum;
                    mrow[i] = mx;
                    for (size_t e = 0; e < Dh; e++) O[i * Dh + e] *= corr;
                }
            }
            // torch: out += softmax(scores) @ v                                 // O [nq, Dh]
            cpu_gemm(0, nq, Dh, nk, S, KB, V + kb * kvd, kvd, 1.0f, O, Dh);
        }
        for (size_t i = 0; i < nq; i++) {
            float *o = (float *)p->out + (t->row0 + i) * p->ldo + t->head * Dh, inv = 1.0f / lrow[i];
            for (size_t e = 0; e < Dh; e++) o[e] = O[i * Dh + e] * inv;
        }
    }
    free(S);
}

int cpu_attention(lj_backend *b, const lj_attention_params *p) {
    const size_t Dh = p->head_dim, kvd = p->n_kv_heads * Dh, T = p->batch.n_tokens;
    if (p->n_kv_heads == 0 || p->n_heads % p->n_kv_heads)
        return cpu_fail(b, "cpu attention: %zu heads are not a multiple of %zu kv heads", p->n_heads, p->n_kv_heads);
    if (T == 0) return 0;
    size_t n_tasks = 0;
    for (size_t s = 0; s < p->batch.n_seqs; s++) n_tasks += p->n_heads * ((p->batch.seq_tokens[s] + QB - 1) / QB);
    att_task *tasks = malloc(n_tasks * sizeof *tasks);
    if (!tasks) return cpu_fail(b, "cpu attention: out of memory");
    size_t row = 0, k = 0;
    for (size_t s = 0; s < p->batch.n_seqs; s++) {
        const size_t n = p->batch.seq_tokens[s], pos = p->batch.seq_pos[s];
        float *kc = p->k_cache[s], *vc = p->v_cache[s];
        // torch: past_key_values.update(k, v) — rows pos .. pos+n-1
        for (size_t t = 0; t < n; t++) {
            memcpy(kc + (pos + t) * kvd, (const float *)p->k + (row + t) * p->ldk, kvd * sizeof(float));
            memcpy(vc + (pos + t) * kvd, (const float *)p->v + (row + t) * p->ldv, kvd * sizeof(float));
        }
        for (size_t h = 0; h < p->n_heads; h++)
            for (size_t i = 0; i < n; i += QB)
                tasks[k++] = (att_task){.seq = s, .head = h, .row0 = row + i, .nq = n - i < QB ? n - i : QB, .pos0 = pos + i};
        row += n;
    }
    att_job j = {.p = p, .tasks = tasks};
    atomic_init(&j.failed, 0);
    pool_for(cpu_pool_of(b), n_tasks, 1, att_run, &j);
    free(tasks);
    return atomic_load(&j.failed) ? cpu_fail(b, "cpu attention: out of memory for scratch") : 0;
}
