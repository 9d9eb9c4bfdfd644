"""Factorizations: how an example is cut into components (sources, segments) and composed from masks;
the built-in separators and occlusion contents, declared by name and imported when first built."""

SEPARATORS = {
    "oracle": "audiox_bench.factorizations.separators:OracleSeparator",
    "hpss": "audiox_bench.factorizations.separators:HPSSSeparator",
    "nmf": "audiox_bench.factorizations.separators:NMFSeparator",
}
CONTENTS = {
    "zero": "audiox_bench.factorizations.contents:Zero",
    "min_data": "audiox_bench.factorizations.contents:MinData",
    "min_inp": "audiox_bench.factorizations.contents:MinInput",
    "mean_inp": "audiox_bench.factorizations.contents:MeanInput",
    "noise_norm": "audiox_bench.factorizations.contents:BandNoise",
    "noisy_linear": "audiox_bench.factorizations.contents:NoisyLinear",
}
