#!/bin/bash
# One-shot training on a lent GPU machine (run from the repo root, `.gpu` carried; see pack.py):
# three runs side by side, best weights published into $OUT as they improve.
# A run that fails on JAX early is started again on the PyTorch backend with the time left.
T0=$(date +%s); LOG=$OUT/train.log; BUDGET=${BUDGET:-360}; KILL_AT=${KILL_AT:-540}; PY=${PY:-python3}
exec > >(tee -a "$LOG") 2>&1
if [ -d .gpu/whl ] && [ -z "$NO_WHEELS" ]; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
mkdir -p /tmp/data && $PY scripts/gpu_train/unpack.py ${DATA:-.gpu/data} /tmp/data || exit 1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
KERAS_BACKEND=jax timeout 120 $PY -c "import jax, keras; print('jax', jax.__version__, jax.devices())"
elapsed() { echo $(( $(date +%s) - T0 )); }
run_one() { name=$1; shift
  [[ " ${RUNS:-A B C} " == *" $name "* ]] || return 0
  for backend in jax torch; do
    left=$(( BUDGET - $(elapsed) + 20 ))
    echo "[$name] start on $backend at $(elapsed) s, budget $left s"
    KERAS_BACKEND=$backend $PY scripts/gpu_train/shim.py --data /tmp/data --mixed-precision --time-budget $left --patience 80 \
      --epochs 400 --out /tmp/run$name --publish $OUT/$name $EXTRA "$@" 2>&1 | sed -u "s/^/[$name] /"
    rc=${PIPESTATUS[0]}; echo "[$name] exit $rc on $backend at $(elapsed) s"
    [ $rc -eq 0 ] && return 0
    # Only an early failure (an import or a backend problem) is retried; the watchdog's kill is not.
    { [ $rc -ge 128 ] || [ $(elapsed) -gt 150 ]; } && return 1
    rm -rf /tmp/run$name
  done
}
# cnn-20261126-gpu-ens2 came from: A = --resume <cnn-20261126-cpu3 weights> --widths 32,64,128,256
# --lr 6e-4 --warmup-epochs 2 --weight-decay 0.02, and B = --widths 48,96,192,384 --lr 1e-3
# --warmup-epochs 3 --weight-decay 0.05 --seed 2 from scratch (BUDGET=440). A next session resumes
# both members (warm restarts at a lower peak) and tries a wider third network.
W=app/inference/weights
run_one A --resume $W/emotiscan_cnn_m0.weights.npz --widths 32,64,128,256 --dense-units 256 --lr 4e-4 --warmup-epochs 2 --weight-decay 0.02 & pids+=($!)
run_one B --resume $W/emotiscan_cnn_m1.weights.npz --widths 48,96,192,384 --dense-units 256 --lr 4e-4 --warmup-epochs 2 --weight-decay 0.05 --seed 2 & pids+=($!)
run_one C --widths 64,128,256,512 --dense-units 256 --lr 1e-3 --warmup-epochs 3 --weight-decay 0.05 --seed 3 & pids+=($!)
while [ -n "$(jobs -r)" ] && [ $(elapsed) -lt $KILL_AT ]; do sleep 5; done
[ -n "$(jobs -r)" ] && { echo "watchdog: stopping runs at $(elapsed) s"; pkill -f scripts/gpu_train/shim.py; }
# Not a bare `wait`: it would also wait for the tee above, which ends only when this script does.
wait "${pids[@]}"; ls -la $OUT; echo "total $(elapsed) s"
