"""Which sample each slot of a unit trains, and what became of every sample: the host's side of a unit.

A unit has `slots` slots of `num_seeds` lanes each. With no more samples than slots, sample i
trains in slot i and the slots past the last sample repeat it (padding, never recorded). With
more samples than slots (a pool, for early stopping), a slot whose sample finished or stopped
takes the next sample in order, which starts afresh with its own key, until every sample has
run; then the slot idles. A pool may take on further samples as it runs (`add`: a learning
sampler's asks, which come after the unit's own). Each slot counts the milestones its sample has
reached, so slots of a pool reach different milestones in the same step. A Pool is plain data (JSON in checkpoints).
"""

from __future__ import annotations

import dataclasses
from typing import Any

PENDING, RUNNING, FINISHED, STOPPED, DIVERGED = "pending", "running", "finished", "stopped", "diverged"
IDLE = -1


@dataclasses.dataclass
class Pool:
    occupant: list[int]  # per slot: the index (in the unit's samples) of the sample it trains, or IDLE
    progress: list[int]  # per slot: milestones its sample has reached
    fresh: list[bool]  # per slot: its sample starts at the next step
    status: list[str]  # per sample
    reached: list[int]  # per sample: milestones reached
    next_sample: int  # the next sample to start

    @classmethod
    def start(cls, num_samples: int, num_slots: int) -> Pool:
        started = min(num_samples, num_slots)
        return cls(
            occupant=[min(j, num_samples - 1) for j in range(num_slots)],
            progress=[0] * num_slots,
            fresh=[True] * num_slots,
            status=[RUNNING] * started + [PENDING] * (num_samples - started),
            reached=[0] * num_samples,
            next_sample=started,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Pool:
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def training(self, slot: int) -> bool:
        return self.occupant[slot] != IDLE and self.status[self.occupant[slot]] == RUNNING

    def primary(self, slot: int) -> bool:
        """Whether the slot records its sample (the first slot holding it; the others are padding)."""
        return self.training(slot) and self.occupant.index(self.occupant[slot]) == slot

    def busy(self) -> bool:
        return any(self.training(j) for j in range(len(self.occupant)))

    def add(self) -> None:
        """One more sample, started after the others."""
        self.status.append(PENDING)
        self.reached.append(0)

    def end(self, sample: int, status: str) -> None:
        """The sample finished, stopped or diverged: its slots take the next sample, or idle."""
        self.status[sample] = status
        for slot, held in enumerate(self.occupant):
            if held != sample:
                continue
            if self.next_sample < len(self.status):
                self.occupant[slot], self.progress[slot], self.fresh[slot] = self.next_sample, 0, True
                self.status[self.next_sample] = RUNNING
                self.next_sample += 1
            else:
                self.occupant[slot] = IDLE
