"""Defaults of a run, in one place (the CLI, the Python API and the run spec read them here)."""

N_EXAMPLES = 200  # examples per task of a run
QUICK_N_EXAMPLES = 20  # examples per task with --quick
REPEATS = 1
SEED = 0
DEVICE = "cpu"
TASKS = ("confound",)
EXPLAINERS = ("audiolime",)
METRICS = ("topk_overlap",)
# Inputs per forward pass of the built-in models: on 2 CPU cores the best choice across the main thread
# and worker threads (benchmarks/test_throughput.py); a GPU wants more (--batch-size).
BATCH_SIZE = 64
