#!/usr/bin/env bash
# Regenerates the engine's generality fixtures under tests/fixtures/ from the spec.json beside
# each, with ../shared/tools/make-jamba-fixture (needs python3 with torch CPU, transformers,
# safetensors). Newer transformers return a tuple from the MoE router; the shared tool's router
# hook expects a tensor, so it is run through a one-line patch applied on the fly.
# Then derives: g-f16 (g-periods with weights stored as F16, exact) and g-fused (g-odd-gqa with
# transformers-v5 fused expert tensors).
# usage: tools/make-engine-fixtures.sh [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
TOOL=../shared/tools/make-jamba-fixture
PATCHED=$(mktemp --suffix=.py); trap 'rm -f "$PATCHED"' EXIT
sed 's/top = torch.topk(out.double()/top = torch.topk((out[0] if isinstance(out, tuple) else out).double()/' "$TOOL" > "$PATCHED"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(g-periods g-tied-bias g-odd-gqa g-dt-auto g-all-attention g-hd128)
for n in "${names[@]}"; do
  python3 "$PATCHED" tests/fixtures "$n" "tests/fixtures/$n/spec.json"
done
python3 tools/derive-engine-fixtures.py tests/fixtures
