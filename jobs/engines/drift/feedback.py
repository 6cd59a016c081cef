"""Analysts' verdicts on past events, indexed by event signature.

An exact match (same kind, src, dst, port, protocol) counts fully; a coarse match (same kind,
dst and port from another source) counts half. The net count (true - false positives) moves the
risk of a new event with that pattern up or down; see `score`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from jobs.engines.drift.records import Detection, Verdict, coarse_signature, event_signature

COARSE_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class FeedbackMatch:
    """Verdicts matching one event: exact counts and coarse-only counts."""

    exact_tp: int = 0
    exact_fp: int = 0
    coarse_tp: int = 0
    coarse_fp: int = 0

    @property
    def net(self) -> float:
        """True minus false positives, coarse matches at `COARSE_WEIGHT`."""
        exact = self.exact_tp - self.exact_fp
        return exact + COARSE_WEIGHT * (self.coarse_tp - self.coarse_fp)

    @property
    def total(self) -> int:
        return self.exact_tp + self.exact_fp + self.coarse_tp + self.coarse_fp


@dataclass(frozen=True, slots=True)
class FeedbackIndex:
    """Verdict counts per exact and per coarse signature."""

    exact: Counter[tuple[str, str]] = field(default_factory=Counter)
    coarse: Counter[tuple[str, str]] = field(default_factory=Counter)

    @classmethod
    def of(cls, verdicts: Iterable[Verdict]) -> FeedbackIndex:
        """Index a list of verdicts (any order; repeated verdicts each count)."""
        exact: Counter[tuple[str, str]] = Counter()
        coarse: Counter[tuple[str, str]] = Counter()
        for verdict in verdicts:
            exact[(verdict.signature, verdict.verdict)] += 1
            coarse[(verdict.coarse_signature, verdict.verdict)] += 1
        return cls(exact, coarse)

    def match(self, detection: Detection) -> FeedbackMatch:
        """The verdicts on events with the same pattern as `detection`."""
        d = detection
        sig = event_signature(d.kind, d.src, d.dst, d.dst_port, d.protocol)
        coarse = coarse_signature(d.kind, d.dst, d.dst_port)
        exact_tp = self.exact[(sig, "true_positive")]
        exact_fp = self.exact[(sig, "false_positive")]
        # coarse counts include the exact ones; keep only those from other sources
        coarse_tp = self.coarse[(coarse, "true_positive")] - exact_tp
        coarse_fp = self.coarse[(coarse, "false_positive")] - exact_fp
        return FeedbackMatch(exact_tp, exact_fp, coarse_tp, coarse_fp)
