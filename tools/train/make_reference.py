#!/usr/bin/env python3
"""reference.safetensors for an exported model directory, in the fixture format of
../shared/fixtures/README.md, computed by transformers' JambaForCausalLM in float64 on the CPU.

  make_reference.py MODEL_DIR OUT.safetensors [--doc FILE --question TEXT] [--T 256] [--N 16]

The prompt is one user turn of the Jamba chat template (document, blank line, question), cut to
the last T tokens of the document so the prompt stays short; without --doc it is random ids.
Tensors: input_ids I64 [T], logits F32 [T, V], hidden_states F32 [L+1, T, H], greedy_ids I64 [N],
min_route_gap F32 [1].
"""
import argparse, os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import JambaForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--doc")
    ap.add_argument("--question", default="What is the title of this document?")
    ap.add_argument("--T", type=int, default=256)
    ap.add_argument("--N", type=int, default=16)
    a = ap.parse_args()
    tok = Tokenizer.from_file(os.path.join(a.model, "tokenizer.json"))
    if a.doc:
        text = open(a.doc).read()
        head = "<|startoftext|><|bom|><|system|> <|eom|><|bom|><|user|> "
        tail = f"\n\nQuestion: {a.question}<|eom|><|bom|><|assistant|>"
        hid = tok.encode(head, add_special_tokens=False).ids
        tid = tok.encode(tail, add_special_tokens=False).ids
        did = tok.encode(text, add_special_tokens=False).ids[: max(1, a.T - len(hid) - len(tid))]
        ids = torch.tensor([hid + did + tid])
    else:
        ids = torch.randint(9, tok.get_vocab_size(), (1, a.T), generator=torch.Generator().manual_seed(1))
    model = JambaForCausalLM.from_pretrained(a.model, dtype=torch.float32, attn_implementation="eager")
    model.config._experts_implementation = "eager"
    model = model.to(torch.float64).eval()
    cfg = model.config
    gaps = []

    def hook(mod, inp, out):
        top = torch.topk(out[0].double(), cfg.num_experts_per_tok + 1, dim=-1).values   # router logits
        gaps.append((top[..., -2] - top[..., -1]).min().item())
    for m in model.modules():
        if m.__class__.__name__ == "JambaTopKRouter":
            m.register_forward_hook(hook)
    captured = []
    cap = lambda mod, inp, out: captured.append((out[0] if isinstance(out, tuple) else out)[0].detach())
    handles = [model.model.embed_tokens.register_forward_hook(cap)]
    handles += [layer.register_forward_hook(cap) for layer in model.model.layers]
    T = ids.shape[1]
    with torch.no_grad():
        logits = model(ids, use_cache=False).logits[0].float()
        hs = torch.stack(captured).float()
        for h in handles:
            h.remove()
        gen = model.generate(ids, max_new_tokens=a.N, min_new_tokens=a.N, do_sample=False,
                             eos_token_id=None, pad_token_id=0)[0, T:]
    ref = {"input_ids": ids[0].to(torch.int64).contiguous(), "logits": logits.contiguous(),
           "hidden_states": hs.contiguous(), "greedy_ids": gen.to(torch.int64).contiguous(),
           "min_route_gap": torch.tensor([min(gaps)], dtype=torch.float32)}
    save_file(ref, a.out)
    print(f"{a.out}: T={T} V={logits.shape[1]} hidden_states={tuple(hs.shape)} min_route_gap={min(gaps):.2e} "
          f"greedy={tok.decode(gen.tolist(), skip_special_tokens=False)!r}")


if __name__ == "__main__":
    main()
