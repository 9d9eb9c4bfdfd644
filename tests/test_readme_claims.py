"""Every order the README states is one the published tables' tests support: the verdicts are generated
from the published run directories, and no sentence outside them claims an order between explainers."""

import re
from pathlib import Path

from audiox_bench.results.claims import BLOCK, rewrite_blocks

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# Words that order explainers; outside a generated block they would be an order no test was asked about
# ("beat" alone is a musicnn tag).
ORDER_WORDS = re.compile(
    r"\b(ahead of|better than|worse than|outperform\w*|trails?|trailing|beats|beaten|ranks? first|ranked first|"
    r"most reliable|least reliable|leads?)\b",
    re.IGNORECASE,
)


def test_the_readme_verdicts_are_generated_from_the_published_tables():
    text = README.read_text(encoding="utf-8")
    runs = [match["run"] for match in BLOCK.finditer(text)]
    assert runs == ["leaderboard", "leaderboard/tags"]
    assert rewrite_blocks(text, ROOT) == text, "stale: python -m audiox_bench.results.claims README.md"


def test_no_order_is_claimed_outside_the_generated_verdicts():
    outside = BLOCK.sub("", README.read_text(encoding="utf-8"))
    claims = [line for line in outside.splitlines() if ORDER_WORDS.search(line)]
    assert claims == []
