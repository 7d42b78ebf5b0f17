/* The memory plan (see plan.h): sizes from the config and the device's dtypes, the fit check
 * with what to change, the largest context, the printed budget, and named shapes. */
#include "engine/plan.h"

#include "common/error.h"

#include <stdint.h>
#include <string.h>

#define GiB ((double)(1ull << 30))

int lj_plan_device_of(const char *name, lj_plan_device *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!name || !strcmp(name, "cpu")) {
        *out = (lj_plan_device){.name = "cpu", .weight = LJ_F32, .act = LJ_F32, .kv = LJ_F32, .state = LJ_F32};
        return 0;
    }
    if (!strcmp(name, "cuda") || !strcmp(name, "cuda-fp32")) {
        /* CUDA context + cuBLAS workspace + the ops' own scratch (scan chunks, attention
         * partials): measured well under 1 GiB on an H100; this is the margin we keep.
         * cuda-fp32 (LONGJAM_CUDA_PRECISION=fp32) is the same device: a loaded model's plan takes
         * the dtypes from its backend. */
        *out = (lj_plan_device){.name = "cuda", .weight = LJ_BF16, .act = LJ_BF16, .kv = LJ_BF16, .state = LJ_F32,
                                .reserve = (size_t)1 << 30};
        return 0;
    }
    return lj_errf(err, errlen, "unknown device \"%s\" (expected cpu or cuda)", name);
}

size_t lj_plan_state_bytes(const lj_config *c, const lj_plan_device *dev, size_t context) {
    const size_t KVD = c->num_key_value_heads * c->head_dim, D = c->mamba_d_inner;
    size_t kv = 0, mamba = 0;
    for (size_t l = 0; l < c->num_hidden_layers; l++) {
        if (config_layer_is_attention(c, l)) kv += 2 * KVD * lj_dtype_size(dev->kv);
        else mamba += ((c->mamba_d_conv - 1) * D + D * c->mamba_d_state) * lj_dtype_size(dev->state);
    }
    return kv * context + mamba;
}

/* The engine's per-step activations (model_load.c model_workspace allocates exactly these). */
static size_t activation_bytes(const lj_config *c, size_t a, size_t T) {
    const size_t H = c->hidden_size, D = c->mamba_d_inner, I = c->intermediate_size;
    const size_t QD = c->num_attention_heads * c->head_dim, KVD = c->num_key_value_heads * c->head_dim;
    const size_t XP = c->mamba_dt_rank + 2 * c->mamba_d_state;
    // ids [T] i32 | x, xn, mo [T, H] | q, att [T, QD] | k, v [T, KVD] | xz [T, 2D] | xc, dt, y [T, D]
    // | dbc [T, R+2N] | g, u [T, I]
    return T * 4 + a * T * (3 * H + 2 * QD + 2 * KVD + 2 * D + 3 * D + XP + 2 * I);
}

static size_t align256(size_t v) { return (v + 255) & ~(size_t)255; }

/* The MoE op's grouped buffers for T tokens (what each backend's moe op takes as scratch). */
static size_t moe_bytes(const lj_config *c, const lj_plan_device *dev, size_t T) {
    if (c->num_experts <= 1) return 0;
    const size_t E = c->num_experts, K = c->num_experts_per_tok, H = c->hidden_size, I = c->intermediate_size;
    const size_t TK = T * K, a = lj_dtype_size(dev->act);
    if (!strcmp(dev->name, "cuda")) {
        // router logits [T, E] f32 | top-k ids, weights, perm, slots [TK] | counts, offsets, cursor [E]
        // | tokens by expert [TK, H] | gate|up [TK, 2I] | down [TK, H] | GEMM pointer tables
        return align256(T * E * 4) + 4 * align256(TK * 4) + 3 * align256(E * 4) + align256(TK * H * a) +
               align256(TK * 2 * I * a) + align256(TK * H * a) + align256(2 * 3 * 2 * E * sizeof(void *));
    }
    // cpu: logits [T, E] | gathered x [T, H] | g, u [T, I] | expert out [T, H] (fp32), then the
    // per-token selection arrays
    return (T * E + 2 * T * H + 2 * T * I) * 4 + TK * (sizeof(size_t) + 4) + T * (sizeof(size_t) + 4);
}

size_t lj_plan_workspace_bytes(const lj_config *c, const lj_plan_device *dev, size_t tokens, size_t logit_rows) {
    const size_t a = lj_dtype_size(dev->act);
    return activation_bytes(c, a, tokens) + moe_bytes(c, dev, tokens) + logit_rows * c->vocab_size * a;
}

static void plan_fill(const lj_config *c, const lj_plan_device *dev, const lj_plan_request *r, bool int8, lj_plan *p) {
    memset(p, 0, sizeof *p);
    p->dev = *dev;
    p->req = *r;
    p->experts_int8 = int8;
    const size_t w = lj_dtype_size(dev->weight), f = 4;
    const size_t H = c->hidden_size, V = c->vocab_size, I = c->intermediate_size, D = c->mamba_d_inner;
    const size_t N = c->mamba_d_state, R = c->mamba_dt_rank, K = c->mamba_d_conv, E = c->num_experts;
    const size_t QD = c->num_attention_heads * c->head_dim, KVD = c->num_key_value_heads * c->head_dim;
    p->w_embed = V * H * w;
    p->w_lm_head = c->tie_word_embeddings ? 0 : V * H * w;
    p->w_norms = H * f;   /* final norm; per layer two more below */
    for (size_t l = 0; l < c->num_hidden_layers; l++) {
        p->w_norms += 2 * H * f;
        if (config_layer_is_attention(c, l)) {
            p->w_attention += (2 * QD * H + 2 * KVD * H) * w;
        } else {
            // matrices: in_proj [2D, H], x_proj [R+2N, D], dt_proj [D, R], out_proj [H, D]
            p->w_mamba += (2 * D * H + (R + 2 * N) * D + D * R + H * D) * w;
            // fp32 vectors: conv [D, K], dt bias, A_log [D, N], D, dt/B/C norms (+ biases)
            p->w_mamba += (D * K + D + D * N + D + R + 2 * N) * f;
            if (c->mamba_conv_bias) p->w_mamba += D * f;
            if (c->mamba_proj_bias) p->w_mamba += (2 * D + H) * f;
        }
        if (config_layer_is_moe(c, l)) {
            p->w_router += E * H * w;
            if (int8) {
                p->w_experts += E * 3 * I * H;             // int8 gate|up [2I, H], down [H, I]
                p->w_expert_scales += E * (2 * I + H) * f; // one fp32 scale per output row
            } else {
                p->w_experts += E * 3 * I * H * w;
            }
        } else {
            p->w_dense_ffn += 3 * I * H * w;
        }
    }
    p->weights = p->w_embed + p->w_lm_head + p->w_norms + p->w_attention + p->w_mamba + p->w_router + p->w_dense_ffn +
                 p->w_experts + p->w_expert_scales;
    p->kv_per_token = lj_plan_state_bytes(c, dev, 1) - lj_plan_state_bytes(c, dev, 0);
    p->mamba_per_seq = lj_plan_state_bytes(c, dev, 0);
    p->kv_per_seq = p->kv_per_token * r->context;
    p->state_per_seq = p->kv_per_seq + p->mamba_per_seq;
    p->states = p->state_per_seq * r->seqs;
    const size_t rows = r->logit_rows ? r->logit_rows : r->seqs;
    const size_t a = lj_dtype_size(dev->act);
    p->ws_activations = r->chunk ? activation_bytes(c, a, r->chunk) : 0;
    p->ws_moe = r->chunk ? moe_bytes(c, dev, r->chunk) : 0;
    p->ws_logits = rows * V * a;
    p->workspace = p->ws_activations + p->ws_moe + p->ws_logits;
    p->total = p->weights + p->states + p->workspace + dev->reserve;
    p->fits = r->memory == 0 || p->total <= r->memory;
}

int lj_plan_compute(const lj_config *c, const lj_plan_device *dev, const lj_plan_request *r, lj_plan *out,
                    char *err, size_t errlen) {
    const char *e = r->experts ? r->experts : "auto";
    bool is_cuda = !strcmp(dev->name, "cuda");
    if (strcmp(e, "auto") && strcmp(e, "bf16") && strcmp(e, "int8"))
        return lj_errf(err, errlen, "experts \"%s\": expected auto, bf16 or int8", e);
    /* Overflow guard: a context or chunk this large is nonsense for any device. */
    if (r->context > ((size_t)1 << 40) || r->chunk > ((size_t)1 << 32) || r->seqs > ((size_t)1 << 20) ||
        r->logit_rows > ((size_t)1 << 32))
        return lj_errf(err, errlen, "plan: context %zu, chunk %zu, %zu sequences: sizes too large", r->context, r->chunk,
                       r->seqs);
    if (!strcmp(e, "int8")) { plan_fill(c, dev, r, c->num_experts > 1, out); return 0; }
    plan_fill(c, dev, r, false, out);
    if (!strcmp(e, "auto") && is_cuda && !out->fits && c->num_experts > 1) plan_fill(c, dev, r, true, out);
    return 0;
}

static bool fits_with(const lj_config *c, const lj_plan *p, bool int8, size_t context, size_t chunk, size_t seqs) {
    lj_plan_request r = p->req;
    r.context = context;
    r.chunk = chunk;
    r.seqs = seqs;
    lj_plan q;
    plan_fill(c, &p->dev, &r, int8, &q);
    return q.fits;
}

/* Largest v in [lo, hi] with ok(v) (ok monotone decreasing in v); lo - 1 when none. */
#define LARGEST(lo, hi, ok_expr, out) do { \
    size_t lo_ = (lo), hi_ = (hi), v; \
    if (lo_ > hi_) { out = lo_ - 1; break; } \
    v = lo_; if (!(ok_expr)) { out = lo_ - 1; break; } \
    while (lo_ < hi_) { size_t mid_ = lo_ + (hi_ - lo_ + 1) / 2; v = mid_; if (ok_expr) lo_ = mid_; else hi_ = mid_ - 1; } \
    out = lo_; } while (0)

size_t lj_plan_max_context(const lj_config *c, const lj_plan_device *dev, const lj_plan_request *r) {
    lj_plan p;
    if (r->memory == 0) return 0;
    plan_fill(c, dev, r, false, &p);
    bool int8 = r->experts && !strcmp(r->experts, "int8") && c->num_experts > 1;
    if (!r->experts || !strcmp(r->experts, "auto")) {
        lj_plan q;
        if (lj_plan_compute(c, dev, r, &q, NULL, 0)) return 0;
        int8 = q.experts_int8;
    }
    size_t best;
    LARGEST(1, (size_t)1 << 40, fits_with(c, &p, int8, v, r->chunk, r->seqs), best);
    return best;
}

static double gib(size_t b) { return (double)b / GiB; }

const char *lj_plan_human(size_t bytes, char buf[32]) {
    if (bytes >= (1ull << 30)) snprintf(buf, 32, "%.2f GiB", (double)bytes / GiB);
    else if (bytes >= (1ull << 20)) snprintf(buf, 32, "%.2f MiB", (double)bytes / (1 << 20));
    else if (bytes >= (1ull << 10)) snprintf(buf, 32, "%.2f KiB", (double)bytes / (1 << 10));
    else snprintf(buf, 32, "%zu B", bytes);
    return buf;
}

int lj_plan_check(const lj_config *c, const lj_plan *p, char *err, size_t errlen) {
    if (p->fits) return 0;
    const lj_plan_request *r = &p->req;
    char hint[768], hb[32];
    size_t n = 0;
    hint[0] = '\0';
#define HINT(...) do { if (n < sizeof hint) n += (size_t)snprintf(hint + n, sizeof hint - n, __VA_ARGS__); } while (0)
    bool int8 = p->experts_int8;
    if (!int8 && c->num_experts > 1) {
        lj_plan q;
        plan_fill(c, &p->dev, r, true, &q);
        if (q.fits) HINT("; or int8 experts (--experts int8: %s in all)", lj_plan_human(q.total, hb));
        else if (q.weights + p->dev.reserve <= r->memory)
            HINT("; or int8 experts (--experts int8: weights %s) with the changes below", lj_plan_human(q.weights, hb));
    }
    size_t best;
    if (r->chunk > 1) {
        LARGEST(1, r->chunk - 1, fits_with(c, p, int8, r->context, v, r->seqs), best);
        if (best >= 1) HINT("; or a smaller chunk (--chunk %zu or less)", best);
    }
    if (r->seqs > 1) {
        LARGEST(1, r->seqs - 1, fits_with(c, p, int8, r->context, r->chunk, v), best);
        if (best >= 1) HINT("; or fewer sequences (--seqs %zu or less)", best);
    }
    if (r->context > 0) {
        LARGEST(1, r->context - 1, fits_with(c, p, int8, v, r->chunk, r->seqs), best);
        if (best >= 1) HINT("; or a shorter context (--context %zu or less)", best);
    }
    const char *lead = "To fit, use ";
    if (!n) {
        lead = "";
        HINT("; or Nothing fits on this device: the weights alone take %s%s; use a larger device", lj_plan_human(p->weights, hb),
             int8 || c->num_experts <= 1 ? "" : " (int8 experts do not fit either)");
    }
#undef HINT
    char b0[32], b1[32], b2[32], b3[32], b4[32], b5[32];
    return lj_errf(err, errlen,
                   "memory plan does not fit: needs %s of %s on %s (weights %s with %s experts, states %s = %zu x %zu "
                   "tokens, workspace %s for chunks of %zu tokens, reserve %s). %s%s",
                   lj_plan_human(p->total, b0), lj_plan_human(r->memory, b1), p->dev.name, lj_plan_human(p->weights, b2),
                   int8 ? "int8" : lj_dtype_size(p->dev.weight) == 4 ? "fp32" : "bf16", lj_plan_human(p->states, b3),
                   r->seqs, r->context, lj_plan_human(p->workspace, b4), r->chunk, lj_plan_human(p->dev.reserve, b5), lead,
                   hint + 5);
}

static void row(FILE *f, const char *what, size_t bytes, const char *note) {
    fprintf(f, "  %-34s %16zu  %10.3f GiB  %s\n", what, bytes, gib(bytes), note ? note : "");
}

void lj_plan_print(const lj_plan *p, FILE *f) {
    const lj_plan_request *r = &p->req;
    const char *wd = lj_dtype_size(p->dev.weight) == 4 ? "fp32" : "bf16";
    char note[128];
    fprintf(f, "memory plan on %s: context %zu tokens x %zu sequence%s, chunks of %zu tokens, experts %s\n", p->dev.name,
            r->context, r->seqs, r->seqs == 1 ? "" : "s", r->chunk, p->experts_int8 ? "int8 (per-channel scales)" : wd);
    fprintf(f, "  %-34s %16s  %14s\n", "item", "bytes", "size");
    snprintf(note, sizeof note, "%s", wd);
    row(f, "weights: embedding", p->w_embed, note);
    if (p->w_lm_head) row(f, "weights: lm_head", p->w_lm_head, note);
    row(f, "weights: attention", p->w_attention, note);
    row(f, "weights: mamba", p->w_mamba, "matrices + fp32 vectors");
    row(f, "weights: dense FFN", p->w_dense_ffn, note);
    row(f, "weights: MoE routers", p->w_router, note);
    row(f, "weights: experts", p->w_experts, p->experts_int8 ? "int8" : wd);
    if (p->experts_int8) row(f, "weights: expert scales", p->w_expert_scales, "fp32, one per output channel");
    row(f, "weights: norms", p->w_norms, "fp32");
    row(f, "weights (total)", p->weights, NULL);
    snprintf(note, sizeof note, "%zu B/token x %zu tokens", p->kv_per_token, r->context);
    row(f, "KV cache per sequence", p->kv_per_seq, note);
    row(f, "Mamba conv + SSM state per sequence", p->mamba_per_seq, "fp32");
    snprintf(note, sizeof note, "%zu sequence%s", r->seqs, r->seqs == 1 ? "" : "s");
    row(f, "states (total)", p->states, note);
    snprintf(note, sizeof note, "one layer, %zu tokens", r->chunk);
    row(f, "workspace: activations", p->ws_activations, note);
    row(f, "workspace: MoE grouped buffers", p->ws_moe, note);
    snprintf(note, sizeof note, "%zu rows", r->logit_rows ? r->logit_rows : r->seqs);
    row(f, "workspace: logits", p->ws_logits, note);
    row(f, "runtime reserve", p->dev.reserve, p->dev.reserve ? "CUDA context, cuBLAS, op scratch" : NULL);
    row(f, "total", p->total, NULL);
    if (r->memory) {
        snprintf(note, sizeof note, "%s", p->fits ? "fits" : "DOES NOT FIT");
        row(f, "device memory", r->memory, note);
        if (p->fits) row(f, "headroom", r->memory - p->total, NULL);
    }
}

/* ---- named shapes ---- */

static void jamba_defaults(lj_config *c) {
    memset(c, 0, sizeof *c);
    c->vocab_size = 65536;
    c->num_key_value_heads = 8;
    c->attn_layer_period = 8;
    c->attn_layer_offset = 4;
    c->expert_layer_period = 2;
    c->expert_layer_offset = 1;
    c->num_experts = 16;
    c->num_experts_per_tok = 2;
    c->mamba_d_state = 16;
    c->mamba_d_conv = 4;
    c->mamba_expand = 2;
    c->mamba_conv_bias = true;
    c->mamba_proj_bias = false;
    c->rms_norm_eps = 1e-6;
    c->tie_word_embeddings = false;
    c->max_position_embeddings = 262144;
    c->pad_token_id = 0;
    c->bos_token_id = 1;
    c->n_eos = 1;
    c->eos_token_id[0] = 2;
    c->initializer_range = 0.02;
    c->router_aux_loss_coef = 0.001;
}

int lj_config_named(const char *name, lj_config *c, char *err, size_t errlen) {
    jamba_defaults(c);
    if (!strcmp(name, "jamba-1.5-mini") || !strcmp(name, "jamba-v0.1")) {
        c->hidden_size = 4096;
        c->intermediate_size = 14336;
        c->num_hidden_layers = 32;
        c->num_attention_heads = 32;
    } else if (!strcmp(name, "jamba-1.5-large")) {
        c->hidden_size = 8192;
        c->intermediate_size = 24576;
        c->num_hidden_layers = 72;
        c->num_attention_heads = 64;
    } else {
        return lj_errf(err, errlen, "unknown shape \"%s\" (known: jamba-1.5-mini, jamba-1.5-large, jamba-v0.1)", name);
    }
    c->head_dim = c->hidden_size / c->num_attention_heads;
    c->mamba_dt_rank = (c->hidden_size + 15) / 16;   /* "auto": 256 for Mini, 512 for Large */
    c->mamba_d_inner = c->mamba_expand * c->hidden_size;
    return 0;
}
