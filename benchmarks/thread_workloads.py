"""Workloads of ``test_threads.py``, each run in a fresh process (OpenMP reads its wait policy when torch
is first imported): ``python thread_workloads.py WORKLOAD REMEDY`` prints the seconds it took as JSON.

WORKLOAD: ``train`` (the confound model, default settings, from cached stems), ``slime`` (SLIME on 10
``vocals`` examples) or ``audiolime`` (audioLIME on 20 ``confound`` examples). REMEDY: ``none`` (torch's
defaults) or ``audiox`` (what the command line does: a short OpenMP spin count and one thread per
available core).
"""

import json
import sys
import time

workload, remedy = sys.argv[1], sys.argv[2]
if remedy == "audiox":
    from audiox_bench.core.threads import prepare_environment, set_threads

    prepare_environment()
    set_threads()
import torch  # noqa: E402 - after the environment is prepared

from audiox_bench.core.registry import explainers, tasks  # noqa: E402
from audiox_bench.models.training import TrainingConfig, fit_classifier  # noqa: E402
from audiox_bench.perturbation.prediction_cache import forget_predictions  # noqa: E402

if workload == "train":
    task = tasks.build("confound")
    audio, labels = task._audio_set("train", task.n_train)  # the training set, from the stem cache
    network, frontend = task._make_modules(0)
    start = time.perf_counter()
    fit_classifier(network, frontend, audio, labels, TrainingConfig(epochs=task.epochs, seed=0), progress=False)
else:
    name, spec, n = ("vocals", "slime", 10) if workload == "slime" else ("confound", "audiolime", 20)
    task = tasks.build(name)
    task.prepare(progress=False)
    examples, explainer, model = task.examples(n), explainers.build(spec), task.model
    forget_predictions(model)
    start = time.perf_counter()
    for example in examples:
        explainer.explain(model, example, explainer.factorize(model, example), 1 if name == "vocals" else 0, 0)
print(json.dumps({"seconds": time.perf_counter() - start, "threads": torch.get_num_threads()}))
