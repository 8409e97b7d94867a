"""Review of issue 15's merge: defects shown by failing tests."""

from __future__ import annotations

from api_world import START, Served, allow_callbacks, car
from sqlalchemy import select

from scomm.api.callbacks import CallbackSender
from scomm.api.server import DispatcherThread
from scomm.domain.messages import Actor, DeliveryStatus
from scomm.services import callbacks
from scomm.store.models import OutboxRow

NIST = {"Content-Type": "application/x-ansi-nist"}


def _deliver_all(served: Served, thread: DispatcherThread) -> None:
    system = served.system
    for _ in range(200):
        with system.db.sessions() as session:
            row = session.execute(
                select(OutboxRow.available_at)
                .where(OutboxRow.status == DeliveryStatus.PENDING.value)
                .order_by(OutboxRow.available_at)
            ).first()
        if row is None:
            return
        system.clock.advance_to(row.available_at)  # type: ignore[attr-defined]
        thread.deliver_due()


def test_the_callback_http_post_is_not_made_under_the_write_lock(served: Served) -> None:
    """`scomm serve`'s dispatcher thread holds Service.writer around each delivery; the
    callback sender resolves and POSTs inside it (TIMEOUT 5 s per address, and a receiver
    that drips its answer holds it far longer): every request that writes, and every read
    (its audit entry takes the lock), waits on a stranger's web server."""
    held: list[bool] = []

    def resolver(host: str, _: int) -> list[str]:
        held.append(served.service.writer.locked())
        return ["127.0.0.1"]

    served.system.add_handler(Actor.CALLBACK, CallbackSender(served.system, resolver=resolver))
    callbacks.set_callback(
        served.system.db, START, "jail-a", hosts=(), private_hosts=("hooks.example",),
        url="http://hooks.example:9/cb",
    )  # fmt: skip
    raw, _, _ = car(0)
    headers = served.headers("jail-a")
    assert served.client.post("/v1/transactions", content=raw,
                              headers={**headers, **NIST}).status_code == 202
    _deliver_all(served, DispatcherThread(served.system, served.service.writer))
    assert held, "no callback was attempted"
    assert not any(held), f"the callback went out with the write lock held: {held}"
