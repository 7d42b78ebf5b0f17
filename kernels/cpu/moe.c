/* Sparse MoE: router matmul, fp32 softmax over all experts, top-k without renormalisation, then
 * per expert the tokens routed to it are gathered, run through its SwiGLU and added back in
 * expert order (as transformers' index_add_ loop does). */
#include "kernels/cpu/cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cpu_moe(lj_backend *b, const lj_moe_params *p) {
    const size_t T = p->n_tokens, E = p->n_experts, H = p->hidden, I = p->inter, k = p->top_k;
    if (k == 0 || k > E) return cpu_fail(b, "cpu moe: top_k %zu with %zu experts", k, E);
    float *out = p->out;
    for (size_t t = 0; t < T; t++) memset(out + t * p->ldo, 0, H * sizeof(float));
    if (T == 0) return 0;
    /* scratch: logits [T, E] | xg [T, H] | g [T, I] | u [T, I] | yo [T, H] */
    float *sc = cpu_scratch(b, T * E + 2 * T * H + 2 * T * I);
    size_t *sel = malloc(T * k * sizeof *sel);     /* [T, k] expert ids */
    float *selw = malloc(T * k * sizeof *selw);    /* [T, k] weights */
    size_t *rows = malloc(T * sizeof *rows);
    float *roww = malloc(T * sizeof *roww);
    if (!sc || !sel || !selw || !rows || !roww) {
        free(sel); free(selw); free(rows); free(roww);
        return cpu_fail(b, "cpu moe: out of memory");
    }
    float *logits = sc, *xg = logits + T * E, *g = xg + T * H, *u = g + T * I, *yo = u + T * I;
    // torch: router_logits = F.linear(x, router.weight)                       // [T, E]
    lj_matmul_params mp = {.x = p->x, .ldx = p->ldx, .w = p->router, .y = logits, .ldy = E, .m = T};
    int rc = cpu_matmul(b, &mp);
    for (size_t t = 0; t < T && !rc; t++) {
        // torch: routing_weights = softmax(router_logits, dim=-1, dtype=float); topk(.., k)
        float *lg = logits + t * E;
        float mx = lg[0];
        for (size_t e = 1; e < E; e++) mx = lg[e] > mx ? lg[e] : mx;
        double sum = 0;
        for (size_t e = 0; e < E; e++) sum += exp((double)(lg[e] - mx));
        for (size_t j = 0; j < k; j++) {   /* j-th largest, lower index first on ties */
            size_t best = E;
            for (size_t e = 0; e < E; e++) {
                int taken = 0;
                for (size_t q = 0; q < j; q++) taken |= sel[t * k + q] == e;
                if (!taken && (best == E || lg[e] > lg[best])) best = e;
            }
            sel[t * k + j] = best;
            selw[t * k + j] = (float)(exp((double)(lg[best] - mx)) / sum);
        }
    }
    for (size_t e = 0; e < E && !rc; e++) {
        size_t n = 0;
        for (size_t t = 0; t < T; t++)
            for (size_t j = 0; j < k; j++)
                if (sel[t * k + j] == e) { rows[n] = t; roww[n] = selw[t * k + j]; n++; }
        if (!n || !p->gate[e].data) continue;   /* no tokens, or an expert another rank holds */
        for (size_t i = 0; i < n; i++) memcpy(xg + i * H, (const float *)p->x + rows[i] * p->ldx, H * sizeof(float));
        // torch: down(silu(gate(x)) * up(x)) * weight                           // [n, H]
        lj_matmul_params gp = {.x = xg, .ldx = H, .w = p->gate[e], .y = g, .ldy = I, .m = n};
        lj_matmul_params upp = {.x = xg, .ldx = H, .w = p->up[e], .y = u, .ldy = I, .m = n};
        lj_matmul_params dp = {.x = g, .ldx = I, .w = p->down[e], .y = yo, .ldy = H, .m = n};
        lj_silu_mul_params sm = {.a = g, .lda = I, .b = u, .ldb = I, .out = g, .ldo = I, .rows = n, .n = I};
        rc = cpu_matmul(b, &gp);
        if (!rc) rc = cpu_matmul(b, &upp);
        if (!rc) rc = cpu_silu_mul(b, &sm);
        if (!rc) rc = cpu_matmul(b, &dp);
        for (size_t i = 0; i < n && !rc; i++) {
            float *o = out + rows[i] * p->ldo;
            for (size_t h = 0; h < H; h++) o[h] += yo[i * H + h] * roww[i];
        }
    }
    free(sel); free(selw); free(rows); free(roww);
    return rc;
}
