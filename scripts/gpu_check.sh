#!/usr/bin/env bash
# The GPU paths in one command, on a machine with one NVIDIA GPU (about 5 to 8 minutes):
# installs the extras, runs the GPU tests (parity of each backend with eager fp32), benches the
# cuda and tensorrt backends, trains 200 steps in CUDA bf16 and checks that a run stopped at
# step 100 and resumed ends where an uninterrupted run ends. Prints one table at the end;
# each step's full output stays in the work folder it names.
#
#   scripts/gpu_check.sh [WORK_DIR]
#   NO_INSTALL=1 scripts/gpu_check.sh     # again, with the extras already installed
#
# Exit status: 0 when every step passed, 1 otherwise.
set -u
cd "$(dirname "$0")/.."
WORK=${1:-$(mktemp -d "${TMPDIR:-/tmp}/livegan-gpu-check.XXXXXX")}
mkdir -p "$WORK"
export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy LIVEGAN_CACHE="$WORK/cache"
PY=${PYTHON:-python3}
ROWS=()
FAILED=0
START=$SECONDS

row() {  # step, verdict, figures, seconds
    ROWS+=("$(printf '%-28s %-5s %5ss  %s' "$1" "$2" "$4" "$3")")
    [ "$2" = PASS ] || FAILED=1
    echo "== $1: $2 $3" >&2
}

run() {  # name, timeout (s), command...: output to $WORK/name.log; sets RC and TOOK
    local name=$1 limit=$2 t0=$SECONDS
    shift 2
    timeout "$limit" "$@" >"$WORK/$name.log" 2>&1
    RC=$?
    TOOK=$((SECONDS - t0))
    [ $RC -eq 124 ] && echo "(timed out after ${limit} s)" >>"$WORK/$name.log"
}

json_field() {  # file, python expression over `r` (the bench's JSON object)
    $PY - "$1" "$2" <<'EOF'
import json, sys
try:
    r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
    print(eval(sys.argv[2], {"r": r}))
except Exception as exc:
    print(f"unreadable ({type(exc).__name__})")
EOF
}

# 1. the extras: tests, recording, openvino, and torch-tensorrt matching the installed torch
TORCH=$($PY -c 'import torch; print(torch.__version__)')
echo "torch==$TORCH" >"$WORK/constraints.txt"
if [ "${NO_INSTALL:-0}" = 1 ]; then
    row "install extras" PASS "skipped (NO_INSTALL=1)" 0
else
run install 300 $PY -m pip install -c "$WORK/constraints.txt" -e '.[test,record,openvino]'
if [ $RC -eq 0 ]; then row "install extras" PASS "torch $TORCH" $TOOK
else row "install extras" FAIL "see $WORK/install.log" $TOOK; fi
TRT_MINOR=$(echo "$TORCH" | cut -d+ -f1 | cut -d. -f1,2)
run install_tensorrt 300 $PY -m pip install -c "$WORK/constraints.txt" \
    "torch-tensorrt~=$TRT_MINOR.0"
if [ $RC -eq 0 ]; then
    row "install torch-tensorrt" PASS "$($PY -c 'import torch_tensorrt as t; print(t.__version__)' 2>&1 | tail -1)" $TOOK
else row "install torch-tensorrt" FAIL "none for torch $TORCH? see $WORK/install_tensorrt.log" $TOOK; fi
fi
GPU=$($PY -c 'import torch; print(torch.cuda.get_device_name() if torch.cuda.is_available() else "no CUDA GPU")' 2>&1 | tail -1)

# 2. the GPU tests: parity with eager fp32, the naive loop beside a GPU engine
run pytest_gpu 300 $PY -m pytest -q -m gpu tests/
SUMMARY=$(tail -1 "$WORK/pytest_gpu.log")
if [ $RC -eq 0 ] && ! grep -q "skipped" <<<"$SUMMARY"; then row "pytest -m gpu" PASS "$SUMMARY" $TOOK
elif [ $RC -eq 0 ]; then row "pytest -m gpu" SKIP "$SUMMARY (see log: what skipped)" $TOOK
else row "pytest -m gpu" FAIL "$SUMMARY" $TOOK; fi

# 3. the cuda backend against the naive loop
run bench_cuda 240 livegan bench --backend cuda --frames 300 --json
FIG=$(json_field "$WORK/bench_cuda.log" '"%s: e2e %s fps, generator %s, naive %s, speedup %sx, osc p99 %s ms" % (r["backend"], r["end_to_end_fps"], r["generator_fps"], r["baseline_fps"], r["speedup"], r["osc_latency_ms"]["p99"])')
if [ $RC -eq 0 ] && [ "${FIG%%:*}" = cuda ]; then row "bench cuda" PASS "$FIG" $TOOK
else row "bench cuda" FAIL "${FIG} (rc $RC)" $TOOK; fi

# 4. tensorrt at three sizes (engines built at first run: about a minute each)
run bench_tensorrt 420 livegan bench --backend tensorrt --res 256,512,1024 --frames 200 --json
FIG=$(json_field "$WORK/bench_tensorrt.log" '"%s: e2e %s fps; generator " % (r["backend"], r["end_to_end_fps"]) + ", ".join("%s: %s fps" % (x["resolution"], x["generator_fps"]) for x in r["resolutions"]) + ("" if all("TensorRT" in x["device"] for x in r["resolutions"]) else " (some sizes fell back)")')
if [ $RC -eq 0 ] && [ "${FIG%%:*}" = tensorrt ] && ! grep -q "fell back" <<<"$FIG"; then
    row "bench tensorrt 256/512/1024" PASS "$FIG" $TOOK
else row "bench tensorrt 256/512/1024" FAIL "${FIG} (rc $RC)" $TOOK; fi

# 4b. imported models: the StyleGAN2 and StyleGAN3 generators on cuda and tensorrt (fp16),
#     random weights in NVIDIA's configurations (speed does not depend on what was learned),
#     and a committed StyleGAN2-ADA pickle imported end to end
run make_style 300 $PY - "$WORK" <<'EOF'
import sys, torch
from livegan.modelfile import save_model
from livegan.nets import build_generator, generator_config
torch.manual_seed(0)
for arch, res, base in (("stylegan2", 512, 32768), ("stylegan2", 1024, 32768),
                        ("stylegan3", 512, 32768)):
    cfg = generator_config(arch, resolution=res, channel_base=base, channel_max=512)
    save_model(f"{sys.argv[1]}/{arch}_{res}.safetensors", build_generator(arch, cfg), arch,
               cfg, f"{arch}-{res}")
EOF
for m in stylegan2_512 stylegan2_1024 stylegan3_512; do
    for b in cuda tensorrt; do
        run "bench_${m}_$b" 420 livegan bench --model "$WORK/$m.safetensors" --backend $b \
            --frames 200 --json
        FIG=$(json_field "$WORK/bench_${m}_$b.log" '"%s: e2e %s fps, generator %s, naive %s" % (r["backend"], r["end_to_end_fps"], r["generator_fps"], r["baseline_fps"])')
        if [ $RC -eq 0 ] && [ "${FIG%%:*}" = $b ]; then row "bench $m $b" PASS "$FIG" $TOOK
        else row "bench $m $b" FAIL "${FIG} (rc $RC)" $TOOK; fi
    done
done
run bench_maxres 300 livegan bench --model "$WORK/stylegan2_1024.safetensors" --backend cuda \
    --max-res 256 --frames 200 --json
FIG=$(json_field "$WORK/bench_maxres.log" '"1024 at --max-res 256: e2e %s fps, generator %s" % (r["end_to_end_fps"], r["generator_fps"])')
if [ $RC -eq 0 ]; then row "bench max-res 256 cuda" PASS "$FIG" $TOOK
else row "bench max-res 256 cuda" FAIL "${FIG} (rc $RC)" $TOOK; fi
run import_pkl 120 livegan import tests/fixtures/foreign/sg2ada_skip32.pkl \
    --out "$WORK/imported.safetensors"
if [ $RC -eq 0 ]; then row "import a StyleGAN2-ADA pkl" PASS "$WORK/imported.safetensors" $TOOK
else row "import a StyleGAN2-ADA pkl" FAIL "see $WORK/import_pkl.log" $TOOK; fi

# 5. CUDA bf16 training: 200 steps straight; and the same run killed (kill -9) once its
#    step-100 checkpoint is written, then resumed to 200: both must end with the same weights
STEPS=${TRAIN_STEPS:-200}
HALF=$((STEPS / 2))
TRAIN=(--steps "$STEPS" --res 64 --batch 16 --no-quality --no-progress --sample-every 100000
       --checkpoint-every "$HALF")
train_check() {
    livegan data synth "$WORK/data" --count 256 --res 64 || return 1
    livegan train "$WORK/data" --out "$WORK/straight" "${TRAIN[@]}" || return 1
    livegan train "$WORK/data" --out "$WORK/killed" "${TRAIN[@]}" &
    local pid=$! half
    half=$(printf 'ckpt_%08d.pt' "$HALF")
    until [ -n "$(find "$WORK/killed" -name "$half" 2>/dev/null)" ]; do
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    # resume from step HALF even if the kill came late
    find "$WORK/killed" -name 'ckpt_*.pt' ! -name "$half" -delete
    echo "killed at or after step $HALF; resuming"
    livegan train "$WORK/data" --out "$WORK/killed" "${TRAIN[@]}" --resume
}
t0=$SECONDS
train_check >"$WORK/train.log" 2>&1
RC=$?
TOOK=$((SECONDS - t0))
if [ $RC -eq 0 ]; then
    FIG=$($PY - "$WORK" "$STEPS" <<'EOF'
import sys
from pathlib import Path
import torch

def last(run):
    found = sorted(Path(sys.argv[1], run).rglob(f"ckpt_{int(sys.argv[2]):08d}.pt"))
    return torch.load(found[-1], map_location="cpu", weights_only=True) if found else None

a, b = last("straight"), last("killed")
if a is None or b is None:
    print("FAIL no final checkpoint in both runs")
    sys.exit()
worst = 0.0
for part in ("g", "d", "g_ema"):
    for name, t in a[part].items():
        if t.is_floating_point():
            worst = max(worst, float((t.float() - b[part][name].float()).abs().max()))
verdict = "PASS" if worst <= 1e-3 else "FAIL"
print(f"{verdict} amp={a.get('amp', '?')}; weights resumed vs straight: max diff "
      f"{worst:.2e}{' (identical)' if worst == 0 else ''}")
EOF
)
    row "train bf16 + kill + resume" "${FIG%% *}" "${FIG#* }" $TOOK
else row "train bf16 + kill + resume" FAIL "rc $RC, see $WORK/train.log" $TOOK; fi

echo
echo "livegan GPU check on $GPU, torch $TORCH, $((SECONDS - START)) s; logs in $WORK"
printf '%-28s %-5s %6s  %s\n' step verdict time figures
for r in "${ROWS[@]}"; do echo "$r"; done
exit $FAILED
