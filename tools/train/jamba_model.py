"""A JambaForCausalLM written for training speed, with parameters named as on the Hugging Face hub.

state_dict() keys are exactly the hub's tensor names (per-expert
model.layers.N.feed_forward.experts.E.{gate,up,down}_proj.weight, feed_forward.router.weight,
mamba.*, self_attn.*), so export is save_file(state_dict) and transformers' JambaForCausalLM loads
the result unchanged. The forward follows transformers' modeling_jamba.py term by term; the
selective scan runs in a Triton kernel (selective_scan.py) or, with scan="ref", in plain PyTorch.
The MoE computes every expert densely and weights the top-k by their (unrenormalised) softmax
probabilities: the same function as sparse routing, simpler and fast for 4 small experts.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import selective_scan


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


class Mamba(nn.Module):
    def __init__(self, c, scan):
        super().__init__()
        H, self.Di, self.N, self.R = c["hidden_size"], c["mamba_expand"] * c["hidden_size"], c["mamba_d_state"], c["mamba_dt_rank"]
        self.K = c["mamba_d_conv"]
        pb = c["mamba_proj_bias"]
        self.in_proj = nn.Linear(H, 2 * self.Di, bias=pb)
        self.conv1d = nn.Conv1d(self.Di, self.Di, self.K, groups=self.Di, padding=self.K - 1, bias=c["mamba_conv_bias"])
        self.x_proj = nn.Linear(self.Di, self.R + 2 * self.N, bias=False)
        self.dt_proj = nn.Linear(self.R, self.Di, bias=True)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, self.N + 1, dtype=torch.float32)).repeat(self.Di, 1))
        self.D = nn.Parameter(torch.ones(self.Di))
        self.out_proj = nn.Linear(self.Di, H, bias=pb)
        eps = c["rms_norm_eps"]
        self.dt_layernorm = RMSNorm(self.R, eps)
        self.b_layernorm = RMSNorm(self.N, eps)
        self.c_layernorm = RMSNorm(self.N, eps)
        self.scan = scan

    def forward(self, x):                                   # x: [B, T, H]
        T = x.shape[1]
        xz = self.in_proj(x)                                 # [B, T, 2Di]
        u, z = xz.chunk(2, dim=-1)
        u = self.conv1d(u.transpose(1, 2))[..., :T].transpose(1, 2)
        u = F.silu(u)                                        # [B, T, Di]
        dbc = self.x_proj(u)
        dt, Bm, Cm = torch.split(dbc, [self.R, self.N, self.N], dim=-1)
        dt = self.dt_layernorm(dt)
        Bm = self.b_layernorm(Bm)
        Cm = self.c_layernorm(Cm)
        dt = F.linear(dt, self.dt_proj.weight).float() + self.dt_proj.bias.float()
        dt = F.softplus(dt)                                  # [B, T, Di] fp32
        A = -torch.exp(self.A_log.float())                   # [Di, N]
        uf = u.float()
        if self.scan == "ref":
            y = selective_scan.scan_reference(uf, dt, A, Bm.float(), Cm.float())
        else:
            y = selective_scan.scan(uf, dt, A, Bm.float(), Cm.float())
        y = y + uf * self.D.float()
        y = y * F.silu(z.float())
        return self.out_proj(y.to(x.dtype))


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        H = c["hidden_size"]
        self.nh, self.nkv = c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = H // self.nh
        self.q_proj = nn.Linear(H, self.nh * self.hd, bias=False)
        self.k_proj = nn.Linear(H, self.nkv * self.hd, bias=False)
        self.v_proj = nn.Linear(H, self.nkv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.nh * self.hd, H, bias=False)

    def forward(self, x):                                   # x: [B, T, H]; no positional encoding
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.nh, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.nkv, self.hd).transpose(1, 2)
        rep = self.nh // self.nkv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=self.hd ** -0.5)
        return self.o_proj(o.transpose(1, 2).reshape(B, T, -1))


class MLP(nn.Module):
    def __init__(self, H, I):
        super().__init__()
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Router(nn.Module):
    def __init__(self, H, E):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(E, H))


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, I, self.E, self.k = c["hidden_size"], c["intermediate_size"], c["num_experts"], c["num_experts_per_tok"]
        self.router = Router(H, self.E)
        self.experts = nn.ModuleList([MLP(H, I) for _ in range(self.E)])

    def forward(self, x):                                   # x: [B, T, H]
        logits = F.linear(x, self.router.weight)             # [B, T, E]
        p = torch.softmax(logits.float(), dim=-1)
        top, idx = torch.topk(p, self.k, dim=-1)
        w = torch.zeros_like(p).scatter(-1, idx, top).to(x.dtype)   # [B, T, E], zero off the top-k
        out = 0
        for e, ex in enumerate(self.experts):
            out = out + ex(x) * w[..., e:e + 1]
        # load-balancing statistics (Switch-style): fraction routed and mean probability per expert
        frac = F.one_hot(idx, self.E).float().sum(-2).mean((0, 1)) / self.k
        self.aux = self.E * (frac * p.mean((0, 1))).sum()
        return out


class Layer(nn.Module):
    def __init__(self, c, i, scan):
        super().__init__()
        eps = c["rms_norm_eps"]
        self.is_attn = i % c["attn_layer_period"] == c["attn_layer_offset"]
        if self.is_attn:
            self.self_attn = Attention(c)
        else:
            self.mamba = Mamba(c, scan)
        is_moe = c["num_experts"] > 1 and i % c["expert_layer_period"] == c["expert_layer_offset"]
        self.feed_forward = MoE(c) if is_moe else MLP(c["hidden_size"], c["intermediate_size"])
        self.input_layernorm = RMSNorm(c["hidden_size"], eps)
        self.pre_ff_layernorm = RMSNorm(c["hidden_size"], eps)

    def forward(self, x):
        h = self.input_layernorm(x)
        h = self.self_attn(h) if self.is_attn else self.mamba(h)
        x = x + h
        return x + self.feed_forward(self.pre_ff_layernorm(x))


class Inner(nn.Module):
    def __init__(self, c, scan):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([Layer(c, i, scan) for i in range(c["num_hidden_layers"])])
        self.final_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class JambaLM(nn.Module):
    def __init__(self, c, scan="triton", checkpoint=False):
        super().__init__()
        self.config = c
        self.model = Inner(c, scan)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        self.checkpoint = checkpoint

    def hidden(self, ids):                                  # ids: [B, T] -> [B, T, H] after final norm
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            if self.checkpoint and self.training:
                x = torch.utils.checkpoint.checkpoint(layer, x, use_reentrant=False)
            else:
                x = layer(x)
        return self.model.final_layernorm(x)

    def forward(self, ids):                                 # -> logits [B, T, V]
        return self.lm_head(self.hidden(ids))

    def aux_loss(self):
        aux = [l.feed_forward.aux for l in self.model.layers if isinstance(l.feed_forward, MoE)]
        return sum(aux) / max(1, len(aux))

    @torch.no_grad()
    def init_weights(self, seed=0):
        g = torch.Generator().manual_seed(seed)
        c = self.config
        std = 0.02
        nl = c["num_hidden_layers"]
        for name, p in self.named_parameters():
            if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
                p.fill_(1.0)
            elif name.endswith("A_log"):
                p.copy_(torch.log(torch.arange(1, p.shape[1] + 1, dtype=torch.float32)).repeat(p.shape[0], 1))
            elif name.endswith(".D"):
                p.fill_(1.0)
            elif name.endswith("dt_proj.bias"):
                # Mamba's time-step init: dt log-uniform in [1e-3, 1e-1], stored as inverse softplus
                dt = torch.exp(torch.rand(p.shape, generator=g) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
                p.copy_(dt + torch.log(-torch.expm1(-dt)))
            elif name.endswith("dt_proj.weight"):
                r = p.shape[1] ** -0.5
                p.copy_(torch.rand(p.shape, generator=g) * 2 * r - r)
            elif name.endswith("conv1d.weight"):
                r = p.shape[-1] ** -0.5
                p.copy_(torch.rand(p.shape, generator=g) * 2 * r - r)
            elif name.endswith("bias"):
                p.zero_()
            elif name.endswith("out_proj.weight") or name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                p.copy_(torch.randn(p.shape, generator=g) * std / math.sqrt(2 * nl))
            else:
                p.copy_(torch.randn(p.shape, generator=g) * std)


def hf_config(c):
    """config.json for transformers' JambaConfig (what our C engine reads too)."""
    out = {
        "architectures": ["JambaForCausalLM"], "model_type": "jamba",
        "attention_dropout": 0.0, "hidden_act": "silu", "initializer_range": 0.02,
        "max_position_embeddings": 262144, "num_logits_to_keep": 1, "output_router_logits": False,
        "router_aux_loss_coef": 0.001, "sliding_window": None, "tie_word_embeddings": False,
        "use_cache": True, "dtype": "bfloat16",
        "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2,
    }
    out.update(c)
    return out
