"""Models: front ends, networks, training, the model cache, and the published pretrained models, declared
by name here and imported when first built (``tags:model=NAME``)."""

PRETRAINED = {
    "musicnn_mtt": "audiox_bench.models.pretrained:musicnn_mtt",
    "vgg_mtt": "audiox_bench.models.pretrained:vgg_mtt",
}
