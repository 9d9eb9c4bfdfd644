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
    "pointing_game": "audiox_bench.metrics.localisation:PointingGame",
    "relevance_mass": "audiox_bench.metrics.localisation:RelevanceMass",
    "localisation_auc": "audiox_bench.metrics.localisation:LocalisationAUC",
    "segment_auc": "audiox_bench.metrics.localisation:SegmentAUC",
    "deletion": "audiox_bench.metrics.curves:Deletion",
    "insertion": "audiox_bench.metrics.curves:Insertion",
    "average_drop": "audiox_bench.metrics.curves:AverageDrop",
    "average_increase": "audiox_bench.metrics.curves:AverageIncrease",
    "average_gain": "audiox_bench.metrics.curves:AverageGain",
    "sparseness": "audiox_bench.metrics.complexity:Sparseness",
    "complexity": "audiox_bench.metrics.complexity:Complexity",
    "max_sensitivity": "audiox_bench.metrics.robustness:MaxSensitivity",
    "shapley_agreement": "audiox_bench.metrics.shapley:ShapleyAgreement",
}
