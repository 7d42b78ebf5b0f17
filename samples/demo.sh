#!/usr/bin/env bash
# The README's main job: runs longjam on the bundled sample model and documents.
set -euo pipefail
cd "$(dirname "$0")/.."
LJ=${LONGJAM:-build/cli/longjam}
"$LJ" --help
