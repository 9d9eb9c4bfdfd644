import numpy as np

from audiox_bench.tasks.stems.synthesis import ROLE_STYLES, TARGET_RMS, render_role_bank


def test_same_seed_same_samples_and_different_seed_differs():
    a = render_role_bank("guitar", 3, seed=7, sr=16_000, duration=1.0)
    b = render_role_bank("guitar", 3, seed=7, sr=16_000, duration=1.0)
    c = render_role_bank("guitar", 3, seed=8, sr=16_000, duration=1.0)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_every_role_renders_normalised_audible_stems():
    for role in ROLE_STYLES:
        bank = render_role_bank(role, 2, seed=1, sr=16_000, duration=1.0)
        assert bank.shape == (2, 16_000) and bank.dtype == np.float32
        rms = np.sqrt(np.mean(bank.astype(np.float64) ** 2, axis=1))
        np.testing.assert_allclose(rms, TARGET_RMS, rtol=1e-3)
        assert not np.array_equal(bank[0], bank[1])
