#!/usr/bin/env python3
"""How far a bf16-activation pipeline lands from a fixture's float64 reference, measured with
transformers' own JambaForCausalLM (float32) by rounding chosen tensors to bf16 with forward hooks.
Usage: python3 bench/bf16_floor.py FIXTURE_DIR   (CPU is enough)"""
import torch, sys
from safetensors.torch import load_file
from transformers import JambaForCausalLM
fx = sys.argv[1]
ref = load_file(f'{fx}/reference.safetensors')
ids = ref['input_ids'][None]
m = JambaForCausalLM.from_pretrained(fx, torch_dtype=torch.float32).eval()
def rb(t): return t.to(torch.bfloat16).to(t.dtype)
def run(hooks):
    hs = []
    for name, mod in m.named_modules():
        for pat in hooks:
            if pat(name, mod):
                hs.append(mod.register_forward_hook(lambda mod, i, o: rb(o) if torch.is_tensor(o) else ((rb(o[0]),)+tuple(o[1:]))))
                break
    with torch.no_grad():
        lg = m(ids, use_cache=False).logits[0].float()
    for h in hs: h.remove()
    r = ref['logits']
    return ((lg - r).abs().max() / r.abs().max()).item()
L = torch.nn.Linear
cases = {
 'none': [],
 'residual (layer outputs)': [lambda n, mod: n.endswith('layers.' + n.split('.')[-1]) and n.split('.')[-1].isdigit()],
 'dt_proj out': [lambda n, mod: n.endswith('dt_proj')],
 'x_proj out': [lambda n, mod: n.endswith('x_proj')],
 'in_proj out': [lambda n, mod: n.endswith('in_proj')],
 'all linear except dt_proj': [lambda n, mod: isinstance(mod, L) and not n.endswith('dt_proj')],
 'all linear': [lambda n, mod: isinstance(mod, L)],
 'all linear + residual': [lambda n, mod: isinstance(mod, L), lambda n, mod: n.split('.')[-1].isdigit() and 'layers' in n],
 'all linear except dt_proj + residual': [lambda n, mod: isinstance(mod, L) and not n.endswith('dt_proj'), lambda n, mod: n.split('.')[-1].isdigit() and 'layers' in n],
}
for k, v in cases.items():
    print(f'{k:40s} {run(v):.4f}')
def run_pre(pred):
    hs = []
    for name, mod in m.named_modules():
        if pred(name, mod):
            hs.append(mod.register_forward_pre_hook(lambda mod, args: tuple(rb(a) if torch.is_tensor(a) and a.is_floating_point() else a for a in args)))
    with torch.no_grad():
        lg = m(ids, use_cache=False).logits[0].float()
    for h in hs: h.remove()
    r = ref['logits']
    return ((lg - r).abs().max() / r.abs().max()).item()
print('inputs of all linear (fp32 act, bf16 GEMM operands):', '%.4f' % run_pre(lambda n, mod: isinstance(mod, L)))
print('inputs of all linear + experts:', '%.4f' % run_pre(lambda n, mod: isinstance(mod, L) or n.endswith('experts')))
# weights to bf16 too
for p in m.parameters(): p.data = rb(p.data)
print('bf16 weights only:', '%.4f' % run([]))
print('bf16 weights + inputs of all linear + experts:', '%.4f' % run_pre(lambda n, mod: isinstance(mod, L) or n.endswith('experts')))
