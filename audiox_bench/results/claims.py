"""The verdicts of a run in words, generated from its tables, so that every order the README or the page
states is one a test supports: the best explainer of each task and kind of component, the explainers no
test separates from it, and how many it is separated from.

The README holds such a block per published run between ``<!-- verdict: RUN_DIR -->`` and
``<!-- /verdict -->``; ``python -m audiox_bench.results.claims README.md`` rewrites the blocks from the
published tables, and a test fails if a block differs from them.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from audiox_bench.results.ranking import ALL_TASKS, Comparison, is_control
from audiox_bench.results.tables import FAMILY_NAMES, Tables

BLOCK = re.compile(r"(<!-- verdict: (?P<run>\S+) -->\n)(?P<body>.*?)(<!-- /verdict -->)", re.DOTALL)


MAX_LISTED = 6  # explainers not separated from the best are named up to this many, else counted


def describe_test(verdict: Comparison) -> str:
    """The test behind a comparison, in words."""
    if verdict.test == "wilcoxon-holm":
        return "pairwise Wilcoxon, Holm"
    if verdict.test == "friedman+nemenyi":
        return f"Friedman p = {verdict.p_value:.2g}, Nemenyi CD = {verdict.critical_difference:.2f}"
    if verdict.test == "friedman":
        return f"Friedman p = {verdict.p_value:.2g}: no difference shown"
    if verdict.test == "wilcoxon":
        return f"Wilcoxon p = {verdict.p_value:.2g}"
    return "too few blocks or explainers for a test"


@dataclass(frozen=True)
class VerdictSummary:
    """What a verdict says: its best explainer, those no test separates from it, and how many it beats."""

    where: str
    kind: str
    n_explainers: int
    blocks: str
    best: str
    best_value: str
    tied: tuple[str, ...]
    n_behind: int
    test: str
    controls_tied: tuple[str, ...] = ()

    @staticmethod
    def of(verdict: Comparison) -> VerdictSummary:
        best = verdict.explainers[0]
        row = verdict.row_of(best)
        across = verdict.task == ALL_TASKS
        tied = tuple(e for e in verdict.tied_with_best() if e != best)
        return VerdictSummary(
            where="across tasks" if across else verdict.task,
            kind=FAMILY_NAMES.get(verdict.family, verdict.family),
            n_explainers=len(verdict.explainers),
            blocks=f"{verdict.n_blocks} tasks" if across else f"{verdict.n_blocks} instances",
            best=best,
            best_value=(
                f"mean rank {row['mean_rank']:.2f}"
                if across
                else f"mean scaled rank {row['mean_rank']:.2f} [{row['rank_low']:.2f}, {row['rank_high']:.2f}]"
            ),
            tied=tied,
            n_behind=len(verdict.explainers) - 1 - len(tied),
            test=describe_test(verdict),
            controls_tied=tuple(e for e in verdict.tied_with_best() if is_control(e)),
        )

    def caveat(self, capital: bool = False) -> str:
        """Empty, or why the verdict does not decide: a control no test separates from the best."""
        if not self.controls_tied:
            return ""
        text = self._caveat()
        return text[0].upper() + text[1:] if capital else text

    def _caveat(self) -> str:
        if self.best in self.controls_tied:
            return (
                f"not decisive: the best is a control ({self.best}; these scores cannot tell an explainer from a "
                "control here)"
            )
        which = ", ".join(self.controls_tied)
        verb = "is" if len(self.controls_tied) == 1 else "are"
        return (
            f"not decisive: the control{'s' if len(self.controls_tied) > 1 else ''} {which} {verb} not separated "
            "from the best (these scores cannot tell an explainer from a control here)"
        )

    def tied_words(self, quote: str = "`") -> str:
        """The explainers not separated from the best: named up to :data:`MAX_LISTED`, else counted."""
        if not self.tied:
            return "none"
        if len(self.tied) > MAX_LISTED:
            return f"{len(self.tied)} others"
        return ", ".join(f"{quote}{e}{quote}" for e in self.tied)

    def markdown(self) -> str:
        where = "across tasks" if self.where == "across tasks" else f"on **{self.where}**"
        return (
            f"- {where}, {self.kind} ({self.n_explainers} explainers, {self.blocks}): best `{self.best}` "
            f"({self.best_value}); not separated from it ({self.test}): {self.tied_words()}; separated from it: "
            f"{self.n_behind} {'other' if self.n_behind == 1 else 'others'}."
            + (f" **{self.caveat(capital=True)}**." if self.controls_tied else "")
        )


def verdict_line(verdict: Comparison) -> str:
    """One markdown line: the best explainer, those no test separates from it, how many it beats."""
    return VerdictSummary.of(verdict).markdown()


def verdict_block(tables: Tables) -> str:
    """The verdicts of a run as markdown lines: across tasks first, then per task."""
    ordered = sorted(tables.verdicts.items(), key=lambda item: (item[0][0] != ALL_TASKS, item[0]))
    return "".join(verdict_line(verdict) + "\n" for _, verdict in ordered if verdict.explainers)


def rewrite_blocks(text: str, root: Path) -> str:
    """``text`` with every verdict block regenerated from the run directory it names (relative to
    ``root``)."""
    from audiox_bench.results.publish import tables_of

    def generated(match: re.Match[str]) -> str:
        body = verdict_block(tables_of(root / match["run"]).tables)
        return f"{match.group(1)}{body}{match.group(4)}"

    return BLOCK.sub(generated, text)


def main(argv: list[str]) -> int:
    """Rewrite the verdict blocks of the markdown files given."""
    for name in argv:
        path = Path(name)
        path.write_text(rewrite_blocks(path.read_text(encoding="utf-8"), path.resolve().parent), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
