#!/bin/sh
# sanitize.sh SANITIZER TEST: runs a gpu_ test under compute-sanitizer (memcheck, racecheck) when a
# CUDA device answers; exit 77 (ctest: skipped) without one.
san=$1
test=$2
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu_sanitizer: no CUDA device: skipped"
    exit 77
fi
for tool in memcheck racecheck; do
    "$san" --tool "$tool" --error-exitcode 1 "$test" || exit 1
done
