"""What the simulator's loaders and timeline need of a running flow: `scomm.system.System`
(on a database) and `scomm.sim.fast_flow.MemorySystem` (in memory) both are one."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.config import Settings
from scomm.domain.clock import Clock
from scomm.domain.messages import DispositionOutcome
from scomm.domain.records import Booking
from scomm.domain.switches import SwitchSetting
from scomm.services.context import ServiceContext
from scomm.services.lea import Booked


class FlowSystem(Protocol):
    settings: Settings
    clock: Clock
    ctx: ServiceContext

    def unit_of_work(self, cause: str = "") -> AbstractContextManager[AbstractUnitOfWork]: ...

    def book(
        self, booking: Booking, transaction: bytes, submitted_by: str | None = None
    ) -> Booked: ...

    def record_disposition(
        self, tcn: str, outcome: DispositionOutcome, decided_at: datetime
    ) -> None: ...

    def set_switch(self, setting: SwitchSetting) -> None: ...

    def run_until(self, moment: datetime | None = None) -> int: ...
