#!/bin/sh
# bench/ops_vs_torch.py on saved H100 outputs (bench/results/scan-floor: our `--op all` and
# torch_ops.py from one call): each ratio as computed by hand from those files.
#   attention 16K 689.3 / 651.4 = 1.058; 32K 633.3 / 596.4 = 1.062; 4K 540.2 / 488.4 = 1.106 (no target)
#   decode 32K b1 2238 / 3027 = 0.739 (< 0.80); scan 787 / 3027 = 0.260; conv 2483 / 3027 = 0.820
#   scan floor 787 x 0.683 / 0.265 = 2028.4 GB/s = 0.670; MoE 668.1 / 627.5 = 1.065
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(python3 "$root/bench/ops_vs_torch.py" --ours "$root/bench/results/scan-floor/op-all.txt" \
      --peer "$root/bench/results/scan-floor/torch-ops.txt")
echo "$out"
expect() { echo "$out" | grep -E "$1" >/dev/null || { echo "FAIL: no line matching: $1"; exit 1; }; }
expect '^attention prefill T=16384 .* 106%  >= 85%: met$'
expect '^attention prefill T=32768 .* 106%  >= 85%: met$'
expect '^attention prefill T=4096 .* 111%  $'
expect '^decode attention ctx=32768 batch 1 .* 74%  >= 80%: NOT met$'
expect '^selective scan .* 26%  >= 70%: NOT met$'
expect '^conv1d\+SiLU .* 82%  >= 70%: met$'
expect "^  scan's arithmetic alone .* 2028\.4 GB/s .* 67%  $"
expect '^MoE block .* 106%  >= 85%: met$'
expect '^7 of 9 targets met$'
# garbage in: a clear error, not a table
if python3 "$root/bench/ops_vs_torch.py" --ours /dev/null --peer /dev/null 2>/dev/null; then
  echo "FAIL: empty outputs gave a table"; exit 1
fi
echo "bench ratios: ok"
