/* Causal GQA attention over each sequence's KV cache, no positional encoding: append this step's
 * K/V rows to the caches, then one (token, head) pair per task with an online softmax. */
#include "kernels/cpu/cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct att_job {
    const lj_attention_params *p;
    size_t *seq_of_row;   /* [T] sequence index of each row */
    size_t *pos_of_row;   /* [T] absolute position of each row */
} att_job;

static void att_tasks(void *arg, size_t i0, size_t i1) {
    const att_job *j = arg;
    const lj_attention_params *p = j->p;
    const size_t Dh = p->head_dim, group = p->n_heads / p->n_kv_heads, kvd = p->n_kv_heads * Dh;
    float acc[1024];
    for (size_t i = i0; i < i1; i++) {
        size_t r = i / p->n_heads, h = i % p->n_heads, kvh = h / group;
        size_t s = j->seq_of_row[r], pos = j->pos_of_row[r];
        const float *q = (const float *)p->q + r * p->ldq + h * Dh;           // [Dh]
        const float *K = (const float *)p->k_cache[s] + kvh * Dh;            // [cap, kvd]
        const float *V = (const float *)p->v_cache[s] + kvh * Dh;
        // torch: softmax(q @ k.T * scale, causal) @ v, as a running max/sum
        float m = -INFINITY, l = 0.0f;
        for (size_t e = 0; e < Dh; e++) acc[e] = 0.0f;
        for (size_t t = 0; t <= pos; t++) {
            const float *kt = K + t * kvd, *vt = V + t * kvd;
            float sc = 0.0f;
            for (size_t e = 0; e < Dh; e++) sc += q[e] * kt[e];
            sc *= p->scale;
            if (sc > m) {
                float c = expf(m - sc);   /* m = -inf on the first key: c = 0 */
                l *= c;
                for (size_t e = 0; e < Dh; e++) acc[e] *= c;
                m = sc;
            }
            float w = expf(sc - m);
            l += w;
            for (size_t e = 0; e < Dh; e++) acc[e] += w * vt[e];
        }
        float *o = (float *)p->out + r * p->ldo + h * Dh;
        for (size_t e = 0; e < Dh; e++) o[e] = acc[e] / l;
    }
}

int cpu_attention(lj_backend *b, const lj_attention_params *p) {
    const size_t Dh = p->head_dim, kvd = p->n_kv_heads * Dh, T = p->batch.n_tokens;
    if (Dh > 1024) return cpu_fail(b, "cpu attention: head_dim %zu > 1024 is not supported", Dh);
    if (p->n_kv_heads == 0 || p->n_heads % p->n_kv_heads)
        return cpu_fail(b, "cpu attention: %zu heads are not a multiple of %zu kv heads", p->n_heads, p->n_kv_heads);
    if (T == 0) return 0;
    size_t *map = malloc(2 * T * sizeof *map);
    if (!map) return cpu_fail(b, "cpu attention: out of memory");
    att_job j = {p, map, map + T};
    size_t row = 0;
    for (size_t s = 0; s < p->batch.n_seqs; s++) {
        const size_t n = p->batch.seq_tokens[s], pos = p->batch.seq_pos[s];
        float *kc = p->k_cache[s], *vc = p->v_cache[s];
        // torch: past_key_values.update(k, v) — rows pos .. pos+n-1
        for (size_t t = 0; t < n; t++) {
            memcpy(kc + (pos + t) * kvd, (const float *)p->k + (row + t) * p->ldk, kvd * sizeof(float));
            memcpy(vc + (pos + t) * kvd, (const float *)p->v + (row + t) * p->ldv, kvd * sizeof(float));
            map[row + t] = s;
            map[T + row + t] = pos + t;
        }
        row += n;
    }
    size_t tasks = T * p->n_heads;
    size_t grain = tasks / (size_t)(4 * b->threads) + 1;
    pool_for(cpu_pool_of(b), tasks, grain, att_tasks, &j);
    free(map);
    return 0;
}
