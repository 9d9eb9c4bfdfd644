"""Workloads of ``test_threads.py``, each run in a fresh process (OpenMP reads its wait policy when torch
is first imported): ``python thread_workloads.py WORKLOAD REMEDY`` prints the seconds it took as JSON.

WORKLOAD: ``train`` (the confound model, default settings, from cached stems), ``slime`` (SLIME on 10
``vocals`` examples) or ``audiolime`` (audioLIME on 20 ``confound`` examples, 20 cold passes: one pass
takes about 0.1 s, too little to time alone). REMEDY: ``none`` (torch's
defaults), ``audiox`` (what the command line does: a passive OpenMP wait policy if the machine is
busy at start, else OpenMP's default; one thread per available core) or ``passive`` (always
``OMP_WAIT_POLICY=PASSIVE``: no spinning at all).
"""

import json
import sys
import time

workload, remedy = sys.argv[1], sys.argv[2]
if remedy != "none":
    import os

    from audiox_bench.core.threads import prepare_environment, set_threads

    if remedy == "passive":  # the alternative: no spinning at all
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
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
    explainer_and_passes = (explainers.build(spec), 1 if workload == "slime" else 20)
    task = tasks.build(name)
    task.prepare(progress=False)
    examples, explainer, model = task.examples(n), explainer_and_passes[0], task.model
    start = time.perf_counter()
    for _ in range(explainer_and_passes[1]):  # cold passes over the examples: enough work to time
        forget_predictions(model)
        for example in examples:
            explainer.explain(model, example, explainer.factorize(model, example), 1 if name == "vocals" else 0, 0)
print(json.dumps({"seconds": time.perf_counter() - start, "threads": torch.get_num_threads()}))
