/* A loaded model's memory plan: what its live states and workspace hold against the plan's
 * memory, so that lj_state_new and lj_forward refuse (before touching anything) what would not
 * fit, and the scheduler can admit sequences by memory. */
#include "engine/model_internal.h"

#include "common/error.h"

#include <stdint.h>


/* A tensor-parallel group answers for its rank 0 (every rank holds the same share of a state) and
 * admits what every rank has room for. */
const lj_plan *lj_model_plan(const lj_model *m) { return m->ranks ? &m->ranks[0]->plan : &m->plan; }

size_t lj_plan_state_bytes_of(const lj_model *m, size_t max_tokens) {
    if (m->ranks) return lj_plan_state_bytes_of(m->ranks[0], max_tokens);
    return lj_plan_state_bytes(&m->cfg, &m->plan.dev, max_tokens);
}

/* Held now: weights, runtime reserve, the larger of the planned and the current workspace, live states. */
static size_t held(const lj_model *m) {
    size_t ws = m->ws_bytes > m->plan.workspace ? m->ws_bytes : m->plan.workspace;
    return m->weight_bytes + m->plan.dev.reserve + ws + m->state_bytes_live;
}

size_t lj_plan_free_bytes(const lj_model *m) {
    if (m->ranks) {
        size_t least = SIZE_MAX;
        for (int r = 0; r < m->tp.world; r++) {
            size_t f = lj_plan_free_bytes(m->ranks[r]);
            least = f < least ? f : least;
        }
        return least;
    }
    if (!m->plan.req.memory) return SIZE_MAX;
    size_t h = held(m);
    return h >= m->plan.req.memory ? 0 : m->plan.req.memory - h;
}

bool lj_plan_admits(const lj_model *m, size_t max_tokens) {
    return lj_plan_state_bytes_of(m, max_tokens) <= lj_plan_free_bytes(m);
}

int plan_model_reserve(const lj_model *m, size_t bytes, const char *what, char *err, size_t errlen) {
    size_t free_b = lj_plan_free_bytes(m);
    if (bytes <= free_b) return 0;
    const lj_plan *p = &m->plan;
    char b0[32], b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
    return lj_errf(err, errlen,
                   "%s needs %s but the memory plan has %s left of %s on %s (weights %s, states in use %s, workspace "
                   "%s, reserve %s): free other sequences, use a shorter context or smaller chunks%s, or load with a "
                   "larger memory budget",
                   what, lj_plan_human(bytes, b0), lj_plan_human(free_b, b1), lj_plan_human(p->req.memory, b2),
                   p->dev.name, lj_plan_human(m->weight_bytes, b3), lj_plan_human(m->state_bytes_live, b4),
                   lj_plan_human(m->ws_bytes > p->workspace ? m->ws_bytes : p->workspace, b5),
                   lj_plan_human(p->dev.reserve, b6), p->experts_int8 || m->cfg.num_experts <= 1 ? "" : ", int8 experts");
}
