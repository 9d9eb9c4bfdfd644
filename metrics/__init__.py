"""The built-in metrics (this folder is ``audiox_bench.metrics``). Each is declared here by name and
imported only when it is built, so listing them imports nothing heavy; a new metric is a module and a line
here."""

BUILTINS = {
    "topk_overlap": "audiox_bench.metrics.topk:TopKOverlap",
    "faithfulness_correlation": "audiox_bench.metrics.faithfulness:FaithfulnessCorrelation",
    "surrogate_fidelity": "audiox_bench.metrics.faithfulness:SurrogateFidelity",
    "randomization_divergence": "audiox_bench.metrics.randomization:RandomizationDivergence",
    "label_flip": "audiox_bench.metrics.label_flip:LabelFlip",
    "stability": "audiox_bench.metrics.stability:Stability",
    "content_agreement": "audiox_bench.metrics.stability:ContentAgreement",
}
