"""The built-in tasks (this folder is ``audiox_bench.tasks``). Each is declared here by name and imported
only when it is built, so listing them imports nothing heavy; a new task is a module and a line here."""

BUILTINS = {
    "confound": "audiox_bench.tasks.confound:ConfoundTask",
    "vocals": "audiox_bench.tasks.vocals:VocalInjectionTask",
    "adversarial": "audiox_bench.tasks.adversarial:AdversarialRegionsTask",
    "tags": "audiox_bench.tasks.tags:TagsTask",
}
