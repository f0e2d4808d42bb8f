"""Phase and run states (contract 003's executor vocabulary) and the phase state machine.

A phase moves QUEUED -> EXECUTING -> (GATE | CI_RUNNING) -> COMPLETE, or to FAILED, from which the
executor may re-queue it for a retry; SKIPPED and COMPLETE are final. Reporting the state a phase is
already in is allowed (a metrics-only update). Anything else is an :class:`IllegalTransition` (409
naming both states). A run's state follows its phases (:func:`run_state_for`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

from ridgeline.platform.problems import EngineError

PhaseState = Literal["QUEUED", "EXECUTING", "GATE", "CI_RUNNING", "COMPLETE", "FAILED", "SKIPPED"]
RunState = Literal[
    "RUN_CREATED",
    "PHASE_EXECUTION",
    "DONE_SUCCESS",
    "DONE_FAILED_REQUIRES_HUMAN_REVIEW",
]
PHASE_STATES: tuple[str, ...] = get_args(PhaseState)
RUN_STATES: tuple[str, ...] = get_args(RunState)
FINAL_PHASE_STATES = frozenset({"COMPLETE", "SKIPPED"})
IN_PROGRESS_STATES = frozenset({"EXECUTING", "GATE", "CI_RUNNING"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "QUEUED": frozenset({"EXECUTING", "SKIPPED", "FAILED"}),
    "EXECUTING": frozenset({"GATE", "CI_RUNNING", "COMPLETE", "FAILED", "QUEUED"}),
    "GATE": frozenset({"EXECUTING", "CI_RUNNING", "COMPLETE", "FAILED"}),
    "CI_RUNNING": frozenset({"EXECUTING", "COMPLETE", "FAILED"}),
    "FAILED": frozenset({"QUEUED"}),
    "COMPLETE": frozenset(),
    "SKIPPED": frozenset(),
}


class IllegalTransition(EngineError):
    def __init__(self, phase_id: str, current: str, requested: str) -> None:
        allowed = sorted(TRANSITIONS.get(current, ()))
        super().__init__(
            409,
            "illegal_phase_transition",
            f"Phase {phase_id} cannot move from {current} to {requested}"
            f" (allowed from {current}: {', '.join(allowed) or 'none, it is final'}).",
            phase_id=phase_id,
            from_state=current,
            to_state=requested,
            allowed=allowed,
        )


def check_transition(phase_id: str, current: str, requested: str) -> None:
    if requested == current and current not in FINAL_PHASE_STATES:
        return
    if requested not in TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(phase_id, current, requested)


def run_state_for(phase_states: Iterable[str]) -> str:
    """RUN_CREATED while nothing started; DONE_SUCCESS when every phase is COMPLETE or SKIPPED;
    DONE_FAILED_REQUIRES_HUMAN_REVIEW when the rest are final and at least one FAILED; otherwise
    PHASE_EXECUTION."""
    states = list(phase_states)
    if not states or all(s == "QUEUED" for s in states):
        return "RUN_CREATED"
    if all(s in FINAL_PHASE_STATES for s in states):
        return "DONE_SUCCESS"
    if all(s in FINAL_PHASE_STATES or s == "FAILED" for s in states):
        return "DONE_FAILED_REQUIRES_HUMAN_REVIEW"
    return "PHASE_EXECUTION"
