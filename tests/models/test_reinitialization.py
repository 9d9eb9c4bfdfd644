"""Parameter randomization of networks: deterministic per seed, and the trained model is never touched."""

from pathlib import Path

import pytest
import torch


def test_randomization_is_deterministic_and_never_alters_the_model(tiny_confound):
    model = tiny_confound.model
    cached = Path(tiny_confound.model_card["cache_path"]) / "model.pt"
    before_file = cached.read_bytes()
    before = {k: v.clone() for k, v in model.network.state_dict().items()}
    top = model.randomized("cascading", layers=1, seed=3)
    full = model.randomized("cascading", seed=3)
    again = model.randomized("cascading", seed=3)
    for key, value in model.network.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert cached.read_bytes() == before_file
    changed = [k for k, v in top.network.state_dict().items() if not torch.equal(v, before[k])]
    assert changed and all(k.startswith("head.") for k in changed)  # only the output layer
    assert all(torch.equal(v, again.network.state_dict()[k]) for k, v in full.network.state_dict().items())
    weights = [k for k in before if k.endswith("weight")]
    assert all(not torch.equal(full.network.state_dict()[k], before[k]) for k in weights if "blocks.0" in k)
    independent = model.randomized("independent", layers=2, seed=3)
    changed = {
        k.split(".")[1]
        for k, v in independent.network.state_dict().items()
        if not torch.equal(v, before[k]) and k.startswith("blocks.")
    }
    assert changed == {"12", "13"}  # the last conv block's convolution and batch norm only
    with pytest.raises(ValueError, match="between 1 and 5"):
        model.randomized("cascading", layers=9)
