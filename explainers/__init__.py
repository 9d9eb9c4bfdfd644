"""The built-in explainers (this folder is ``audiox_bench.explainers``). Each is declared here by name and
imported only when it is built, so listing them imports nothing heavy; a new explainer is a module and a
line here."""

BUILTINS = {
    "audiolime": "audiox_bench.explainers.audiolime:AudioLIME",
    "slime": "audiox_bench.explainers.slime:SLIME",
    "random": "audiox_bench.explainers.baselines:RandomExplainer",
    "occlusion": "audiox_bench.explainers.baselines:OcclusionExplainer",
    "energy": "audiox_bench.explainers.baselines:EnergyExplainer",
    "shuffled": "audiox_bench.explainers.baselines:ShuffledExplainer",
    "kernelshap": "audiox_bench.explainers.baselines:KernelShapExplainer",
    "gradient": "audiox_bench.explainers.baselines:GradientExplainer",
    "captum": "audiox_bench.explainers.captum_methods:CaptumExplainer",
}

# Where the default benchmark leaves configurations out. On tags (musicnn, 46-48 inputs/s on 2 cores) what
# samples SLIME's 2^10 segment subsets costs about 1,000 passes per clip and the randomization check 3 times
# that (SLIME measured 26 s + 78 s per clip: 35 minutes per configuration for 20 clips), with no truth to
# score segments by there (the truth is a source).
SKIP_ON_TAGS = ("tags",)
