"""Text formats of tables: CSV (byte-identical for identical tables) and GitHub-flavoured Markdown."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def to_csv(table: pd.DataFrame) -> str:
    """CSV text with fixed float formatting (byte-identical for identical tables)."""
    return table.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def to_markdown(table: pd.DataFrame, digits: int = 4) -> str:
    """A GitHub-flavoured Markdown table."""

    def cell(value: Any) -> str:
        if isinstance(value, float | np.floating):
            return "" if np.isnan(value) else f"{value:.{digits}g}"
        if value is pd.NA or value is None:
            return ""
        return str(value)

    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"
