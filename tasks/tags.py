"""The tags task: a real, published tagger (musicnn by default) explains one of its tags on a mix of stems.

A clip is a 3 s mix of 3-5 stems (piano, guitar, drums, bass, strings, the formant singer; or the stems
of a local multitrack dataset, ``stems=DIR``). The tag explained is the one, among those a present
source stands for (:data:`TAG_SOURCES`), that the model gives the highest probability. Ground truth is
that source (``piano``), and for sources x time the segments where it sounds (``piano@tK``).

A real model's reasons are not known by design, so each clip is verified behaviourally before it is
used, and only clips that pass are served:

- **present**: the model gives the tag on the mix: its probability exceeds the tag's **level**, the value
  that only ``false_positive`` (5%) of the validity mixes *without* the tag's source reach (measured per
  tag in ``prepare``: a tagger's probabilities are calibrated to its training tags' frequencies, and
  musicnn reaches 0.32 for ``piano`` on mixes without a piano but 0.07 for ``drums`` without drums, so
  one fixed level would mean different things per tag; ``present=P`` sets one level for all);
- **necessary**: removing the truth source takes at least ``necessity`` (half, by default) of the tag's
  probability away;
- **sufficient**: the truth source alone still exceeds the tag's level.

Stronger rules, each a parameter (:mod:`audiox_bench.tasks.tag_verification`): **dominance** (``dominance=D``:
in at least a share D of the coalitions of the other sources, adding the truth source raises the tag more
than adding any other), **timbre** (``timbre=true``: the truth stem swapped for another of its role at equal
RMS keeps the tag; swapped for another role's, it takes the necessity share away). They are off by default
(2^n and 2 more model inputs per candidate). Every kept test clip is also verified **per segment**: the
truth source silenced in one of 10 time segments of the model input at a time; the segments whose removal
alone takes ``segment_share`` of what removing it everywhere takes are the temporal truth ``tK`` (undefined
where none or more than half qualify), so explainers over segments (SLIME, gradient and layer methods) are
scored on tags too. That rule favours explainers that switch single segments off (occlusion over SLIME's
segments), as the necessity test favours those that switch single sources off.

``validity.json`` reports each tag's level, clips kept / made, and per rule how many clips it was applied
to and how many passed. A tag whose candidates pass less often
than ``min_kept`` (10%) is not served (the model does not use that source as the tag says, or not
measurably): its clips are skipped, its truth never given; the task is valid when at least
``MIN_TAGS_SERVED`` tags are served. Explainers that switch single sources off (occlusion, audioLIME over
sources) are close to the necessity test and are favoured by it.

Length: the task's verification rules (levels, necessity, sufficiency, per-tag thresholds and their reasons) are
read together; stems and model live elsewhere.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np

from audiox_bench.core.classifier import Classifier, FeatureClassifier
from audiox_bench.core.components import Factorization, segment_edges
from audiox_bench.core.data import Example, GroundTruth, TruthSpans
from audiox_bench.core.documents import Selection, ValidityCheck
from audiox_bench.core.registry import models
from audiox_bench.core.task import Task
from audiox_bench.tasks.stems.banks import db_gain
from audiox_bench.tasks.stems.multitrack import open_stem_source
from audiox_bench.tasks.tag_verification import at_rms, dominance_share, segment_drops, swapped, verified_segments

# Tags explained, and the source each stands for (MagnaTagATune tag names; a registered model's labels
# with these names are explained too).
TAG_SOURCES = {
    "piano": "piano",
    "drums": "drums",
    "beat": "drums",
    "guitar": "guitar",
    "strings": "strings",
    "violin": "strings",
    "vocal": "vocals",
    "male vocal": "vocals",
    "singing": "vocals",
}
ROLES = ("piano", "guitar", "drums", "bass", "strings", "vocals")
NON_TAG_ROLES = ("other",)  # a dataset's sources no tag stands for (MUSDB18-HQ's other): mixed in, never explained
GAINS_DB = {
    "piano": (-3, 3),
    "guitar": (-3, 3),
    "drums": (-2, 3),
    "bass": (-4, 3),
    "strings": (-5, 3),
    "vocals": (0, 3),
}
SPLIT_CODES = {"validity": 1, "test": 2}
DURATION = 3.0
AUDIBLE_DB = -20.0  # a segment where the truth source is within 20 dB of its loudest segment "sounds"
MIN_CANDIDATES = 10  # a tag is served only once it was the candidate of this many validity clips
MIN_TAGS_SERVED = 2
MAX_CANDIDATES_PER_EXAMPLE = 20
N_SEGMENTS = 10  # the temporal truth is verified over SLIME's default 10 segments of the model input
STANDARD_RULES = ("present", "necessary", "sufficient")


def audible_segments(stem: np.ndarray, n_segments: int) -> set[int]:
    """Segments (of ``n_segments`` equal ones) where ``stem`` is within ``AUDIBLE_DB`` of its loudest."""
    edges = segment_edges(len(stem), n_segments)
    rms = np.array(
        [
            np.sqrt(np.mean(np.square(stem[a:b], dtype=np.float64))) if b > a else 0.0
            for a, b in itertools.pairwise(edges)
        ]
    )
    return {k for k, value in enumerate(rms) if rms.max() > 0 and value >= rms.max() * 10 ** (AUDIBLE_DB / 20)}


class TagsTask(Task):
    """A published audio tagger explains a tag whose source is in a mix of stems; truth: that source,
    kept only where the model behaves as if it were (necessity and sufficiency checked per clip).

    Parameters
    ----------
    model : str
        Registered model: ``musicnn_mtt`` (default), ``vgg_mtt``, or a plugin's (its labels are
        explained where they name a source, see ``TAG_SOURCES``).
    stems : str, optional
        A local multitrack dataset (Slakh2100 or MUSDB18-HQ layout) to cut clips from, instead of
        synthesised stems.
    seed : int
        Seed of the stems and of every clip.
    n_stems : int
        Stems per role in the (synthesised) test bank.
    min_sources, max_sources : int
        Sources per mix, at most all the stems' roles but one (so each source is missing from some mixes
        and a tag's level can be measured: a MUSDB18-HQ tree's 4 roles give mixes of 3).
    false_positive : float
        Share of validity mixes without a tag's source whose probability may exceed the tag's level.
    present : float, optional
        One fixed level for every tag instead of the measured ones.
    necessity : float
        Share of the tag's probability that removing the truth source must take away.
    min_kept : float
        Least share of a tag's validity candidates (at least ``MIN_CANDIDATES``) that must pass for the
        tag to be served; 0 serves every tag.
    n_validity : int
        Candidate clips the kept shares are measured on.
    dominance : float
        Least share of coalitions of the other sources in which the truth source must add the most to the
        tag (0, the default: not checked; 1: in every coalition).
    timbre : bool
        Check the timbre control (another stem of the truth's role keeps the tag, another role's does not).
    segment_share : float
        Share of the whole source's drop a segment's removal must take to be in the temporal truth.
    device : str
        Torch device of the model.
    """

    reference = (
        "Pons and Serra. musicnn: Pre-trained convolutional neural networks for music audio tagging. ISMIR 2019 LBD"
    )
    baseline = "zero"
    baseline_reason = (
        "musicnn's input is log10(10000 x + 1) of the mel power, so 0 is exactly silence: a switched-off "
        "segment is silent, as a removed source is"
    )

    def __init__(
        self,
        model: str = "musicnn_mtt",
        stems: str | None = None,
        seed: int = 0,
        n_stems: int = 60,
        min_sources: int = 3,
        max_sources: int = 5,
        false_positive: float = 0.05,
        present: float | None = None,
        necessity: float = 0.5,
        min_kept: float = 0.1,
        n_validity: int = 200,
        dominance: float = 0.0,
        timbre: bool = False,
        segment_share: float = 0.1,
        device: str = "cpu",
    ) -> None:
        super().__init__()
        if not 2 <= min_sources <= max_sources <= len(ROLES):
            raise ValueError(f"need 2 <= min_sources <= max_sources <= {len(ROLES)}")
        if not 0 < false_positive < 1 or not 0 < necessity < 1 or not 0 <= min_kept < 1:
            raise ValueError("false_positive and necessity must be in (0, 1), min_kept in [0, 1)")
        if present is not None and not 0 < present < 1:
            raise ValueError("present must be in (0, 1)")
        if n_validity < MIN_CANDIDATES or n_stems < 2:
            raise ValueError(f"n_validity >= {MIN_CANDIDATES} and n_stems >= 2 are needed")
        if not 0 <= dominance <= 1 or not 0 < segment_share < 1:
            raise ValueError("dominance must be in [0, 1] and segment_share in (0, 1)")
        self.dominance, self.timbre, self.segment_share = float(dominance), bool(timbre), float(segment_share)
        self.model_name, self.stems_path, self.seed, self.device = model, stems, int(seed), device
        self.min_sources, self.max_sources = int(min_sources), int(max_sources)
        self.false_positive, self.present = false_positive, present
        self.necessity, self.min_kept, self.n_validity = necessity, min_kept, int(n_validity)
        self.levels: dict[str, float] = {}  # per tag, measured in prepare
        self.served: tuple[str, ...] = ()
        self.n_stems = int(n_stems)
        models.get(model)  # an unknown model fails now, with a hint
        self.source = None

    # -- data ------------------------------------------------------------------------------------
    def _stems(self, split: str, index: int) -> dict[str, np.ndarray]:
        """The stems of candidate clip ``index`` of ``split``, at the model's rate, gains applied."""
        rng = np.random.default_rng([self.seed, SPLIT_CODES[split], index])
        roles = self.source.roles
        # At most all roles but one: every source is absent from some mixes, so each tag's level (its
        # probability without its source) can be measured, whatever roles the stems have.
        most = min(self.max_sources, len(roles) - 1)
        count = int(rng.integers(min(self.min_sources, most), most + 1))
        chosen = sorted(rng.choice(len(roles), count, replace=False))
        bank = self.source.split("val" if split == "validity" else "test")
        stems = {}
        for i in chosen:  # role order fixed: a reproducible float32 sum
            role = roles[i]
            gain = np.float32(db_gain(rng, *GAINS_DB.get(role, (-3, 3))))
            stems[role] = bank[role][int(rng.integers(len(bank[role])))] * gain
        return stems

    def _mixes(self, split: str, start: int, count: int) -> tuple[list[dict[str, np.ndarray]], np.ndarray]:
        """The stems and mixes of clips ``start .. start + count - 1`` of ``split``."""
        clips = [self._stems(split, start + i) for i in range(count)]
        return clips, np.stack([np.sum(np.stack(list(s.values())), axis=0, dtype=np.float32) for s in clips])

    def _candidates(
        self, split: str, start: int, count: int, tags: tuple[str, ...], absent: dict[str, list[float]] | None = None
    ) -> list[tuple[Example, dict[str, float]]]:
        """Clips ``start .. start + count - 1`` of ``split`` with their chosen tag (of ``tags``) and the
        three probabilities the verification reads (mix, without the source, source alone). ``absent``
        collects, per tag, its probability on the mixes without its source."""
        model = self.model
        explained = {tag: model.classes.index(tag) for tag in tags}
        clips, mixes = self._mixes(split, start, count)
        on_mix = model.predict_proba(mixes)
        for stems, probabilities in zip(clips, on_mix) if absent is not None else ():
            for tag, index in explained.items():
                if TAG_SOURCES[tag] not in stems:
                    absent[tag].append(float(probabilities[index]))
        chosen, probes = [], []
        for stems, probabilities in zip(clips, on_mix):
            tags = [t for t in explained if TAG_SOURCES[t] in stems]
            tag = max(tags, key=lambda t: probabilities[explained[t]]) if tags else None
            chosen.append(tag)
            if tag is not None:
                source = TAG_SOURCES[tag]
                probes.append(np.sum(np.stack([a for r, a in stems.items() if r != source]), axis=0, dtype=np.float32))
                probes.append(stems[source])
        probed = model.predict_proba(np.stack(probes)) if probes else np.zeros((0, len(model.classes)))
        out, j = [], 0
        for i, (stems, tag) in enumerate(zip(clips, chosen)):
            if tag is None:
                continue
            index = explained[tag]
            scores = {
                "mix": float(on_mix[i, index]),
                "without": float(probed[j, index]),
                "alone": float(probed[j + 1, index]),
            }
            j += 2
            meta = {
                "tag": tag,
                "truth_source": TAG_SOURCES[tag],
                "sources": list(stems),
                "index": start + i,
                "scores": scores,
                "target": index,
            }
            out.append((Example(f"{split}-{start + i:04d}", mixes[i], model.sr, None, stems, meta), scores))
        return out

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules a clip must pass, in the order they are applied."""
        return (*STANDARD_RULES, *(("dominant",) if self.dominance > 0 else ()), *(("timbre",) if self.timbre else ()))

    @property
    def truth_rule(self) -> str:
        """The verification behind the truth, and the explainers it favours (shown on the leaderboard page)."""
        rules = ", ".join(
            {"dominant": f"dominant in >= {self.dominance:g} of coalitions", "timbre": "timbre control"}.get(r, r)
            for r in self.rules
        )
        return (
            f"sources: {rules} (favours explainers that switch single sources off: occlusion, audioLIME); "
            f"segments (tK): the source silenced in one segment at a time takes >= {self.segment_share:g} of its "
            "whole drop (favours explainers that switch single segments off: occlusion over SLIME's segments)"
        )

    def _verify(self, example: Example, scores: dict[str, float], split: str) -> dict[str, bool]:
        """Each rule's verdict on a candidate; the stronger ones only once the standard ones pass (their
        results and the probabilities they read go into ``example.meta``)."""
        tag = example.meta["tag"]
        level = self.levels[tag]
        verdict = {
            "present": scores["mix"] > level,
            "necessary": scores["without"] <= (1 - self.necessity) * scores["mix"],
            "sufficient": scores["alone"] > level,
        }
        if not all(verdict.values()):
            return verdict
        stems, truth, index = example.stems, example.meta["truth_source"], example.meta["target"]
        if self.dominance > 0:
            share = dominance_share(self.model.predict_proba, stems, truth, index)
            example.meta["dominance"] = share
            verdict["dominant"] = share >= self.dominance
        if self.timbre:
            same, other = self._timbre_scores(stems, truth, index, split, int(example.meta["index"]))
            example.meta["timbre"] = {"same_role": same, "other_role": other}
            verdict["timbre"] = same > level and other <= (1 - self.necessity) * scores["mix"]
        return verdict

    def _timbre_scores(
        self, stems: dict[str, np.ndarray], truth: str, index: int, split: str, clip: int
    ) -> tuple[float, float]:
        """The tag's probability with the truth stem swapped, at equal RMS, for another stem of its role and
        for a stem of a role the clip does not have."""
        rng = np.random.default_rng([self.seed, SPLIT_CODES[split], clip, 3])
        bank = self.source.split("val" if split == "validity" else "test")
        # another stem of the role: the clip's own stem is in the bank at another gain, so compare at equal RMS
        same = [s for s in bank[truth] if not np.allclose(at_rms(s, stems[truth]), stems[truth], atol=1e-6)]
        same = same or list(bank[truth])
        absent = [r for r in self.source.roles if r not in stems and r in bank]
        other_role = absent[int(rng.integers(len(absent)))]
        replacements = [same[int(rng.integers(len(same)))], bank[other_role][int(rng.integers(len(bank[other_role])))]]
        probabilities = self.model.predict_proba(np.stack([swapped(stems, truth, r) for r in replacements]))
        return float(probabilities[0, index]), float(probabilities[1, index])

    def _segment_truth(self, example: Example) -> None:
        """Verify where in time the truth source drives the tag (``verified_segments`` in the meta)."""
        model = self.model
        if not isinstance(model, FeatureClassifier):  # no input segments to verify: no temporal truth
            example.meta["verified_segments"] = []
            return
        n_frames = model.features(example.audio[None]).shape[-1]
        bounds = model.segment_sample_bounds(n_frames, N_SEGMENTS, example.audio.size)
        index = example.meta["target"]
        drops = segment_drops(model.predict_proba, example.stems, example.meta["truth_source"], bounds, index)
        whole = example.meta["scores"]["mix"] - example.meta["scores"]["without"]
        example.meta["segment_drops"] = [round(float(d), 6) for d in drops]
        example.meta["verified_segments"] = verified_segments(drops, whole, self.segment_share)
        example.meta["segment_bounds"] = [int(b) for b in bounds]

    def examples(self, n: int) -> list[Example]:
        """The first ``n`` verified clips of the test split, in index order."""
        return list(self.select(n).examples)

    def select(self, n: int) -> Selection:
        """The first ``n`` verified clips of the test split, with the candidates made and kept per tag."""
        kept, made, made_per_tag, kept_per_tag = [], 0, Counter(), Counter()
        applied, passed = Counter(), Counter()
        limit = MAX_CANDIDATES_PER_EXAMPLE * n
        while len(kept) < n and made < limit:
            for example, scores in self._candidates("test", made, min(32, limit - made), self.served):
                if len(kept) == n:
                    break
                made_per_tag[example.meta["tag"]] += 1
                verdict = self._verify(example, scores, "test")
                applied.update(list(verdict))
                passed.update(rule for rule, ok in verdict.items() if ok)
                if len(verdict) == len(self.rules) and all(verdict.values()):
                    self._segment_truth(example)
                    kept.append(example)
                    kept_per_tag[example.meta["tag"]] += 1
            made += min(32, limit - made)
        facts = {
            "kept_per_tag": dict(sorted(kept_per_tag.items())),
            "made_per_tag": dict(sorted(made_per_tag.items())),
            "kept": len(kept),
            "made": sum(made_per_tag.values()),
            "rules": {rule: {"applied": applied[rule], "passed": passed[rule]} for rule in self.rules},
            "truth_rule": self.truth_rule,
            "segment_truth": {
                "kept": sum(bool(e.meta["verified_segments"]) for e in kept),
                "of": len(kept),
                "segment_share": self.segment_share,
            },
        }
        shortfall = (
            f"the verification kept {len(kept)} of the {facts['made']} candidate clips made (at most "
            f"{MAX_CANDIDATES_PER_EXAMPLE} per example asked for; per tag kept / made: "
            + ", ".join(f"{t} {kept_per_tag[t]}/{made_per_tag[t]}" for t in sorted(made_per_tag))
            + ")"
            if len(kept) < n
            else ""
        )
        return Selection(tuple(kept), facts, shortfall)

    def target_for(self, example: Example) -> int | None:
        return int(example.meta["target"])

    # -- model and validity ----------------------------------------------------------------------
    def load_model(self, progress: bool = False) -> Classifier:
        """The tagger alone (no stems, no verification): its weights come with it."""
        return self._model if self._model is not None else models.build(self.model_name, device=self.device)

    def prepare(self, progress: bool = True) -> None:
        if self._model is not None:
            return
        self._model = models.build(self.model_name, device=self.device)
        roles = ROLES if self.stems_path is None else (*ROLES, *NON_TAG_ROLES)
        self.source = open_stem_source(
            self.stems_path, roles, self.n_stems, self.seed, self._model.sr, DURATION, progress
        )
        explainable = tuple(tag for tag in TAG_SOURCES if tag in self._model.classes)
        absent: dict[str, list[float]] = {tag: [] for tag in explainable}
        candidates = [
            candidate
            for start in range(0, self.n_validity, 32)
            for candidate in self._candidates("validity", start, min(32, self.n_validity - start), explainable, absent)
        ]
        self.levels = self._levels(absent)
        made, kept, applied, passed = Counter(), Counter(), Counter(), Counter()
        for example, scores in candidates:
            made[example.meta["tag"]] += 1
            verdict = self._verify(example, scores, "validity")
            applied.update(list(verdict))
            passed.update(rule for rule, ok in verdict.items() if ok)
            kept[example.meta["tag"]] += len(verdict) == len(self.rules) and all(verdict.values())
        self.served = tuple(
            tag
            for tag in explainable
            if self.min_kept == 0 or (made[tag] >= MIN_CANDIDATES and kept[tag] / made[tag] >= self.min_kept)
        )
        checks = [
            ValidityCheck("tags_served", len(self.served), MIN_TAGS_SERVED, ">=", self._why_not_served(made, kept))
        ]
        card = {
            "model": self.model_name,
            "classes": len(self._model.classes),
            "sr": self._model.sr,
            "stems": self.source.describe(),
            "levels": {tag: round(level, 4) for tag, level in self.levels.items()},
            "validity_made_per_tag": dict(sorted(made.items())),
            "validity_kept_per_tag": {t: kept[t] for t in sorted(made)},
            "served_tags": list(self.served),
            "validity_rules": {rule: {"applied": applied[rule], "passed": passed[rule]} for rule in self.rules},
            "not_served": {tag: f"kept {kept[tag]} of {made[tag]}" for tag in sorted(made) if tag not in self.served},
            "thresholds": {
                "false_positive": self.false_positive,
                "present": self.present,
                "necessity": self.necessity,
                "min_kept": self.min_kept,
                "min_candidates": MIN_CANDIDATES,
                "dominance": self.dominance,
                "timbre": self.timbre,
                "segment_share": self.segment_share,
            },
        }
        self._set_prepared(self._model, checks, card)

    def _why_not_served(self, made: Counter, kept: Counter) -> str:
        """Per tag not served, why: too few candidates, too few kept, or a level of 1 (its source is in
        every mix, so the model's false positives cannot be measured)."""
        reasons = []
        for tag in sorted(set(made) | set(self.levels)):
            if tag in self.served:
                continue
            if self.levels.get(tag, 0.0) >= 1.0:
                reasons.append(f"{tag}: its source is in every validity mix, so its level is 1 (no mix to measure it)")
            elif made[tag] < MIN_CANDIDATES:
                reasons.append(f"{tag}: the candidate of {made[tag]} validity clips (needs {MIN_CANDIDATES})")
            else:
                reasons.append(f"{tag}: kept {kept[tag]} of {made[tag]} (needs {self.min_kept:.0%})")
        served = f"served: {', '.join(self.served)}" if self.served else "none served"
        return "; ".join([served, *reasons])

    def _levels(self, absent: dict[str, list[float]]) -> dict[str, float]:
        """Per tag, the probability that only ``false_positive`` of the mixes without its source
        (``absent``) exceed, or the fixed ``present``. A tag whose source is in every mix has no
        measured level and cannot be served (level 1)."""
        if self.present is not None:
            return dict.fromkeys(absent, float(self.present))
        return {
            tag: float(np.quantile(values, 1 - self.false_positive)) if values else 1.0
            for tag, values in absent.items()
        }

    # -- truth -----------------------------------------------------------------------------------
    def spans_for(self, example: Example) -> TruthSpans | None:
        """The verified segments in seconds (where the clip has a temporal truth)."""
        verified, bounds = example.meta.get("verified_segments"), example.meta.get("segment_bounds")
        if not verified or not bounds:
            return None
        spans = tuple((bounds[k] / example.sr, bounds[k + 1] / example.sr) for k in verified)
        described = f"the segments where the {example.meta['truth_source']} drives the tag"
        return TruthSpans(spans, described, int(example.meta["target"]))

    def truth_for(self, example: Example, factorization: Factorization) -> GroundTruth | None:
        """The truth source, for source factorizations (and, x time, the segments where it sounds); the
        verified segments, for temporal segmentations into 10."""
        source = example.meta.get("truth_source")
        layout = factorization.layout
        if source is not None and layout.kind == "temporal" and layout.n_time == N_SEGMENTS:
            verified = set(example.meta.get("verified_segments") or ())
            names = factorization.names_where(lambda c: c.time in verified)
            target = int(example.meta["target"])
            return (
                GroundTruth(names, f"the segments where removing the {source} takes the tag", target) if names else None
            )
        if source is None or layout.kind != "sources" or not example.stems:
            return None
        n_time = factorization.layout.n_time
        sounding = audible_segments(example.stems[source], n_time) if n_time > 1 else {None}
        names = factorization.names_where(lambda c: c.source == source and (n_time == 1 or c.time in sounding))
        return GroundTruth(names, f"the {source}", int(example.meta["target"])) if names else None
