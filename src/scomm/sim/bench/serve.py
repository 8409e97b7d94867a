"""``scomm bench serve``: jails submitting CARs to `scomm serve` over loopback HTTP at once.

The bench starts `scomm serve --no-delays` as a process of its own on a free loopback port
(a temporary SQLite database, or the PostgreSQL database `database` names), with N jail
agencies (N jurisdictions, each its own ORI, each a client with its token), and offers
CARs at a total rate for a while, spread over the jails, from a pool of threads (an open
loop: a CAR is sent at its scheduled moment whether or not earlier ones were answered).

The CARs come from a pool of `cars` synthetic booking transactions (`scomm synth tenprint`'s,
cached under `cache`); each submission is a pool CAR with the jail's ORI (1.008, 2.073) and
SIB (1.007) and a TCN of its own written over the original's bytes (the same lengths,
so the records stay valid), so a pool CAR sent again is a repeat arrest of the same
person. The pool is sent in order over the whole run (phase after phase), so no CAR is sent
twice until the run has sent them all; one sent again has the same images, which the
service finds decoded and extracted already (its extraction memo): it costs the engine
nothing, so a phase with repeats does not show what the engine sustains. Each phase reports
its `repeated_cars`, and `sustained_rate` counts only phases without any (`distinct`: a
pool as large as the run's submissions, so that none repeats). `enrol` of the pool's
people are first enrolled in IDENT's immigration repository, so that their CARs match there
and LESC answers an IAR. Their extraction in the bench's
own process, before the service starts, is the engine's own time (`engine_ms`: decode and
extraction of a CAR's ten prints; `search_ms`: one 1:N search of the immigration gallery).

Figures, per offered rate:
- accepted_per_s: 202 answers over the offering period; submitted, accepted, refused;
- acceptance_ms p50/p99/max: POST /v1/transactions to its 202, as the client sees it;
- sre_s p50/p99: from the POST to the moment the SRE (or ERRT) was delivered to the jail
  (its outbox row's delivery time; COMPLETED from then on); iar_s likewise to the moment
  LESC's IAR was written, for the CARs of enrolled people; completed: CARs with their
  response before the bench stopped waiting (`drain` seconds after the last POST), each
  checked over HTTP (GET /v1/transactions/{tcn} answers COMPLETED);
- queue: pending outbox rows sampled every `sample_every` seconds; its growth in rows per
  second (least squares over the offering period) and whether it grows (by that slope,
  more than 5 rows over the offer and more than half the queue's mean length).
The highest offered rate whose queue did not grow, all its CARs distinct, is
`sustained_rate`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
from sqlalchemy import func, select

from scomm.config import Settings
from scomm.domain.agencies import AgencyKind
from scomm.domain.clock import SystemClock
from scomm.domain.immigration import RecordedStatus
from scomm.domain.messages import Actor
from scomm.domain.records import Encounter, EncounterKind, Repository, Subject
from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting
from scomm.nist.car import decode_tenprint
from scomm.nist.peek import read_header
from scomm.services import agencies
from scomm.services.fingerprints import tenprint_templates
from scomm.sim.errors import SimulatorError
from scomm.store.db import Database
from scomm.store.models import OutboxRow
from scomm.system import System

NIST = "application/x-ansi-nist"
STATES = ("TX", "CA", "AZ", "NM", "FL", "NY", "IL", "GA", "NC", "VA", "WA", "NV")
RESPONSES = ("SRE", "ERRT")  # what the jail gets back for a CAR
START_TIMEOUT_S = 120.0
STARTED = "Application startup complete."  # what uvicorn logs once per serving process
NOT_SENT = "not sent: the service was still answering earlier CARs at the end of --drain"
STATUS = RecordedStatus.ENTERED_WITHOUT_INSPECTION  # the enrolled people's: removable


class BenchServeError(SimulatorError):
    """The service could not be started or answered what the bench cannot measure."""


@dataclass(frozen=True)
class ServeBenchConfig:
    jails: int = 4
    rates: tuple[float, ...] = (50.0,)
    duration: float = 30.0
    cars: int = 64
    enrol: int = 2
    seed: int = 1
    database: str | None = None  # a PostgreSQL URL; None: a temporary SQLite file
    engine: str | None = None  # None: the service's default engine
    acceptors: int = 1  # `scomm serve --acceptors`: processes that answer the jails
    cache: Path | None = Path(".scomm-cache")
    drain: float = 60.0
    sample_every: float = 0.5
    senders: int = 32  # client threads (the most CARs in flight at once)
    distinct: bool = False  # a pool of at least as many CARs as the run submits

    def submissions(self) -> int:
        """How many CARs the run offers, over all its phases."""
        return sum(max(1, round(rate * self.duration)) for rate in self.rates)

    def pool_size(self) -> int:
        return max(self.cars, self.submissions()) if self.distinct else self.cars


@dataclass
class Jail:
    ori: str
    client_id: str
    secret: str
    token: str = ""


@dataclass
class Submission:
    tcn: str
    jail: int
    card: int
    sent_at: float = 0.0  # time.time() of the POST
    acceptance_s: float | None = None
    status: int = 0
    enrolled: bool = False


@dataclass
class PhaseReport:
    rate: float
    duration_s: float
    submitted: int
    accepted: int
    refused: int
    accepted_per_s: float
    acceptance_ms: dict[str, float]
    completed: int
    completed_over_http: int
    sre_s: dict[str, float]
    iar_expected: int
    iar_received: int
    iar_s: dict[str, float] | str
    queue: list[tuple[float, int]]
    queue_growth_per_s: float
    queue_grows: bool
    errors: dict[str, int] = field(default_factory=dict)
    # submissions whose pool CAR the run had sent before: extraction memo hits in the
    # service, no engine time (a phase with any does not count for `sustained_rate`)
    repeated_cars: int = 0


@dataclass
class ServeBenchReport:
    jails: int
    cars: int
    enrolled: int
    engine: str
    database: str
    cpus: int
    engine_ms: dict[str, float]
    search_ms: dict[str, float]
    phases: list[PhaseReport]
    sustained_rate: float | None
    acceptors: int = 1
    lock_note: str = (
        "the dispatcher takes the write lock per delivery; extraction runs outside it, in "
        "child processes"
    )
    sustained_note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def percentiles(values: Sequence[float], scale: float = 1.0) -> dict[str, float]:
    """p50, p99 and max of `values` times `scale` (empty: an empty mapping)."""
    if not values:
        return {}
    data = np.asarray(values, dtype=np.float64) * scale
    return {
        "p50": round(float(np.percentile(data, 50)), 3),
        "p99": round(float(np.percentile(data, 99)), 3),
        "max": round(float(data.max()), 3),
        "n": float(len(data)),
    }


def jail_oris(count: int) -> list[str]:
    """`count` distinct 9-character jail ORIs: a state, a county number, "00S0"."""
    return [f"{STATES[i % len(STATES)]}{100 + i // len(STATES):03d}00S0" for i in range(count)]


def pool_cars(
    count: int, seed: int, cache: Path | None, progress: Callable[[int, int], None]
) -> list[bytes]:
    """`count` synthetic booking transactions (WSQ), made once and kept under `cache`."""
    from scomm.sim.synth.booking_transactions import booking_transaction

    folder = None if cache is None else cache / "serve-cars" / f"seed-{seed}"
    made: list[bytes] = []
    for number in range(count):
        path = None if folder is None else folder / f"car-{number:06d}.an2"
        if path is not None and path.is_file():
            made.append(path.read_bytes())
        else:
            raw = booking_transaction(seed, number)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(raw)
            made.append(raw)
        progress(number + 1, count)
    return made


class CarWriter:
    """A pool CAR made a jail's: its TCN, ORI and SIB overwritten in place."""

    def __init__(self, raw: bytes) -> None:
        header = read_header(raw)
        self.raw = raw
        self.tcn = header.tcn
        self.ori = header.ori
        self.dai = header.dai
        if len(self.tcn) != 25 or len(self.ori) != 9 or self.tcn not in raw.decode("latin-1"):
            raise BenchServeError(f"pool CAR {self.tcn!r} is not a 25-character TCN and 9 ORI")

    def write(self, ori: str, tcn: str) -> bytes:
        out = self.raw.replace(self.tcn.encode(), tcn.encode())
        out = out.replace(self.ori.encode(), ori.encode())
        return out.replace(self.dai.encode(), f"{ori[:2]}SIB0000".encode())


# ---------------------------------------------------------------- the world and the service


@dataclass
class World:
    url: str
    jails: list[Jail]
    engine_ms: list[float]
    search_ms: list[float]
    enrolled_cards: set[int]


def build_world(
    config: ServeBenchConfig, url: str, cars: Sequence[bytes], run: str, settings: Settings
) -> World:
    """Jails with their jurisdictions and secrets; the first `enrol` pool people enrolled in
    IDENT (timing their extraction and a search: the engine's own time)."""
    system = System(settings, SystemClock())
    try:
        now = system.clock.now()
        jails = []
        for ori in jail_oris(config.jails):
            client_id = f"bench-{ori.lower()}-{run}"
            made = agencies.add_agency(
                system.db, now, client_id=client_id, kind=AgencyKind.JAIL,
                name=f"bench jail {ori}", scope_value=ori, serve=True,
            )  # fmt: skip
            jails.append(Jail(ori, client_id, made.secret))
            # activated: CJIS forwards the prints to IDENT (switch B, the federal side's)
            system.set_switch(
                SwitchSetting(ori=ori, switch=Switch.B_FORWARD_TO_IDENT, enabled=True,
                              effective_from=now, changed_by=SwitchOwner.FEDERAL,
                              reason="scomm bench serve: an activated jurisdiction")
            )  # fmt: skip
        engine_ms: list[float] = []
        search_ms: list[float] = []
        enrolled: set[int] = set()
        for card in range(min(config.enrol, len(cars))):
            started = time.perf_counter()
            submission = decode_tenprint(cars[card], system.ctx.decoded_images)
            templates = tenprint_templates(system.ctx, submission)
            engine_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            system.ctx.immigration_gallery.search(templates)
            search_ms.append((time.perf_counter() - started) * 1000)
            _enrol(system, f"BENCH-{run}-{card}", submission, templates)
            enrolled.add(card)
        return World(url, jails, engine_ms, search_ms, enrolled)
    finally:
        system.close()


def _enrol(system: System, ident_id: str, submission: Any, templates: Any) -> None:
    subject = Subject(
        repository=Repository.IMMIGRATION, identity_id=ident_id, name=submission.name,
        dob=submission.dob, sex=submission.sex, pob=submission.pob,
        enrolled_at=system.clock.now(), a_number=f"A{zlib.crc32(ident_id.encode()) % 10**8:08d}",
        recorded_status=STATUS,
    )  # fmt: skip
    gallery = system.ctx.immigration_gallery
    with system.unit_of_work() as uow:
        uow.identities(Repository.IMMIGRATION).enrol(subject, templates, system.ctx.engine_name)
        uow.identities(Repository.IMMIGRATION).add_encounter(
            Encounter(Repository.IMMIGRATION, ident_id, system.clock.now(),
                      EncounterKind.IMMIGRATION_ENCOUNTER, STATUS.value)
        )  # fmt: skip
        uow.after_commit(lambda: gallery.enrol(ident_id, templates))
        uow.commit()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_token_key(path: Path) -> Path:
    """An Ed25519 PEM key for the service's tokens (SCOMM_API_KEY), mode 0600."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return path


@contextlib.contextmanager
def running_service(
    url: str, folder: Path, engine: str | None, acceptors: int = 1
) -> Iterator[int]:
    """`scomm serve --no-delays --acceptors N` on a free loopback port until the block ends;
    its port (once each of its acceptors has started)."""
    port = free_port()
    env = dict(os.environ, SCOMM_API_KEY=str(write_token_key(folder / "api-key.pem")))
    if engine:
        env["SCOMM_ENGINE"] = engine
    log = (folder / "serve.log").open("wb")
    command = [sys.executable, "-c", "from scomm.cli import app; app()", "serve",
               "--host", "127.0.0.1", "--port", str(port), "--no-delays", "-d", url,
               "--acceptors", str(acceptors)]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    # a bench that is told to stop (SIGTERM, as `timeout` does) stops its service too
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _stop)
    try:
        _wait_ready(process, port, folder / "serve.log", acceptors)
        yield port
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path, acceptors: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise BenchServeError(f"scomm serve stopped at its start: {' | '.join(tail)}")
        if log.read_text(errors="replace").count(STARTED) < acceptors:
            time.sleep(0.2)  # not every acceptor serves yet: the first would take them all
            continue
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/openapi.json")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchServeError(f"scomm serve did not answer within {START_TIMEOUT_S:.0f} s")


# ---------------------------------------------------------------- the client side


class Client:
    """One keep-alive HTTP connection per thread to the service."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.local = threading.local()

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a kept-alive connection the server closed: once more
            connection: http.client.HTTPConnection | None = getattr(self.local, "c", None)
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.local.c = connection
            try:
                connection.request(method, path, body=body, headers=headers)
                answer = connection.getresponse()
                return answer.status, answer.read()
            except (http.client.HTTPException, ConnectionError):
                connection.close()
                self.local.c = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def token(self, jail: Jail) -> str:
        form = urlencode({"grant_type": "client_credentials", "client_id": jail.client_id,
                          "client_secret": jail.secret}).encode()  # fmt: skip
        status, body = self.request(
            "POST", "/v1/oauth/token", form,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        if status != 200:
            raise BenchServeError(f"no token for {jail.client_id}: HTTP {status}")
        return str(json.loads(body)["access_token"])


def _queue_length(db: Database) -> int:
    """Messages due now and not delivered yet (not those scheduled later: a release due)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with db.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.status == "pending", OutboxRow.available_at <= now)
            )
            or 0
        )


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.replace(tzinfo=UTC).timestamp()


def _answers(db: Database, tcns: Sequence[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Per TCN: when its SRE/ERRT was delivered to the jail, and when LESC wrote its IAR."""
    sre: dict[str, float] = {}
    iar: dict[str, float] = {}
    with db.sessions() as session:
        for start in range(0, len(tcns), 500):
            chunk = list(tcns[start : start + 500])
            rows = session.execute(
                select(OutboxRow.tcn, OutboxRow.type, OutboxRow.delivered_at,
                       OutboxRow.created_at, OutboxRow.recipient)
                .where(OutboxRow.tcn.in_(chunk), OutboxRow.type.in_((*RESPONSES, "IAR")))
            ).all()  # fmt: skip
            for tcn, kind, delivered, created, recipient in rows:
                if kind in RESPONSES and recipient == Actor.LEA.value:
                    at = _epoch(delivered)
                    if at is not None:
                        sre[tcn] = min(at, sre.get(tcn, at))
                elif kind == "IAR":
                    at = _epoch(created)
                    if at is not None:
                        iar[tcn] = min(at, iar.get(tcn, at))
    return sre, iar


def _grows(samples: Sequence[tuple[float, int]], growth: float) -> bool:
    """Whether the queue grew over the offer: by its fitted slope, more than 5 rows over
    the offer and more than half its mean length (a queue that only wavers does not)."""
    if len(samples) < 2:
        return False
    gained = growth * (samples[-1][0] - samples[0][0])
    return gained > max(5.0, 0.5 * float(np.mean([n for _, n in samples])))


def _growth(samples: Sequence[tuple[float, int]]) -> float:
    if len(samples) < 2:
        return 0.0
    t = np.asarray([s[0] for s in samples])
    q = np.asarray([s[1] for s in samples], dtype=np.float64)
    if float(np.ptp(t)) == 0.0:
        return 0.0
    return float(np.polyfit(t, q, 1)[0])


def run_phase(
    rate: float,
    config: ServeBenchConfig,
    world: World,
    client: Client,
    writers: Sequence[CarWriter],
    db: Database,
    first: int,
    base: int,
) -> PhaseReport:
    """Offer `rate` CARs/s for `config.duration` seconds; wait up to `config.drain` seconds
    for their responses."""
    for each in world.jails:  # tokens last 15 minutes: a fresh one per phase
        each.token = client.token(each)
    total = max(1, round(rate * config.duration))
    plan = []
    for k in range(first, first + total):
        jail, card = k % len(world.jails), k % len(writers)
        ori = world.jails[jail].ori
        tcn = f"{ori}{writers[card].tcn[9:17]}{(base + k) % 10**8:08d}"
        plan.append(Submission(tcn, jail, card, enrolled=card in world.enrolled_cards))
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def send(item: Submission) -> None:
        if time.monotonic() > give_up_at:  # a service that fell far behind: stop offering
            with lock:
                errors[NOT_SENT] = errors.get(NOT_SENT, 0) + 1
            return
        jail = world.jails[item.jail]
        body = writers[item.card].write(jail.ori, item.tcn)
        headers = {"Authorization": f"Bearer {jail.token}", "Content-Type": NIST}
        item.sent_at = time.time()
        started = time.perf_counter()
        try:
            item.status, answer = client.request("POST", "/v1/transactions", body, headers)
        except OSError as error:
            with lock:
                errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
            return
        item.acceptance_s = time.perf_counter() - started
        if item.status != 202:
            key = f"HTTP {item.status}: {answer[:120].decode(errors='replace')}"
            with lock:
                errors[key] = errors.get(key, 0) + 1

    samples: list[tuple[float, int]] = []
    stop_sampling = threading.Event()

    def sample() -> None:
        while not stop_sampling.is_set():
            samples.append((time.time(), _queue_length(db)))
            stop_sampling.wait(config.sample_every)

    sampler = threading.Thread(target=sample, name="bench-queue", daemon=True)
    sampler.start()
    start = time.monotonic()
    give_up_at = start + config.duration + config.drain
    with ThreadPoolExecutor(config.senders, thread_name_prefix="bench-jail") as pool:
        for index, item in enumerate(plan):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, item)
    offered_s = time.monotonic() - start
    offered_until = time.time()
    accepted = [s for s in plan if s.status == 202]
    tcns = [s.tcn for s in accepted]
    deadline = time.monotonic() + config.drain
    sre: dict[str, float] = {}
    iar: dict[str, float] = {}
    want_iar = {s.tcn for s in accepted if s.enrolled}
    while True:
        sre, iar = _answers(db, tcns)
        if len(sre) == len(tcns) and want_iar <= iar.keys():
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    stop_sampling.set()
    sampler.join()
    loaded = [(t - samples[0][0], n) for t, n in samples if t <= offered_until] if samples else []
    growth = _growth(loaded)
    completed_http = _completed_over_http(client, world, accepted, sre.keys())
    sent = {s.tcn: s.sent_at for s in accepted}
    iar_s: dict[str, float] | str
    if not want_iar:
        iar_s = "n/a: no CAR of an enrolled person was accepted (give --enrol 1 or more)"
    else:
        iar_s = percentiles([iar[t] - sent[t] for t in want_iar if t in iar])
    return PhaseReport(
        rate=rate,
        duration_s=round(offered_s, 3),
        submitted=len(plan),
        accepted=len(accepted),
        refused=sum(1 for s in plan if s.status not in (0, 202)),
        accepted_per_s=round(len(accepted) / offered_s, 3) if offered_s else 0.0,
        acceptance_ms=percentiles(
            [s.acceptance_s for s in plan if s.acceptance_s is not None], 1000.0
        ),
        completed=len(sre),
        completed_over_http=completed_http,
        sre_s=percentiles([sre[t] - sent[t] for t in sre]),
        iar_expected=len(want_iar),
        iar_received=len(want_iar & iar.keys()),
        iar_s=iar_s,
        queue=[(round(t, 2), n) for t, n in loaded],
        queue_growth_per_s=round(growth, 3),
        queue_grows=_grows(loaded, growth),
        errors=errors,
        repeated_cars=sum(1 for k in range(first, first + total) if k >= len(writers)),
    )


def _completed_over_http(
    client: Client, world: World, accepted: Sequence[Submission], done: Any
) -> int:
    """How many of the CARs answered by the database's reckoning GET says COMPLETED."""
    count = 0
    for item in accepted:
        if item.tcn not in done:
            continue
        jail = world.jails[item.jail]
        status, body = client.request(
            "GET", f"/v1/transactions/{item.tcn}", None,
            {"Authorization": f"Bearer {jail.token}"},
        )  # fmt: skip
        if status == 200 and json.loads(body).get("status") == "COMPLETED":
            count += 1
    return count


def run_serve_bench(
    config: ServeBenchConfig,
    progress: Callable[[str, int, int], None] = lambda stage, done, total: None,
    cars: Sequence[bytes] | None = None,
) -> ServeBenchReport:
    """The whole benchmark (`cars`: the pool to use instead of the synthetic one)."""
    pool = list(cars) if cars is not None else pool_cars(
        config.pool_size(), config.seed, config.cache, lambda d, t: progress("CARs", d, t)
    )  # fmt: skip
    writers = [CarWriter(raw) for raw in pool]
    folder = Path(tempfile.mkdtemp(prefix="scomm-bench-serve-"))
    run = f"{random.randrange(16**6):06x}"
    try:
        url = config.database or f"sqlite:///{folder / 'scomm.db'}"
        settings = Settings(database_url=url, seed=config.seed)
        if config.engine:
            settings = Settings(database_url=url, seed=config.seed, engine=config.engine)
        progress("world", 0, 1)
        world = build_world(config, url, pool, run, settings)
        progress("world", 1, 1)
        db = Database(url)
        try:
            with running_service(url, folder, config.engine, config.acceptors) as port:
                client = Client(port)
                phases = []
                first = 0
                base = random.randrange(10**8)
                for index, rate in enumerate(config.rates):
                    phases.append(run_phase(rate, config, world, client, writers, db, first, base))
                    first += phases[-1].submitted
                    progress("rates", index + 1, len(config.rates))
        finally:
            db.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    steady = [p.rate for p in phases if not p.queue_grows and p.accepted == p.submitted]
    honest = [p.rate for p in phases if p.rate in steady and not p.repeated_cars]
    note = ""
    if len(honest) < len(steady):
        note = (
            "phases that sent a CAR again (its extraction memoised in the service) are left "
            "out: --distinct, or --cars at least the run's submissions, to count them"
        )
    return ServeBenchReport(
        jails=config.jails,
        cars=len(pool),
        enrolled=len(world.enrolled_cards),
        engine=settings.engine,
        database="sqlite (temporary)" if config.database is None else "postgresql",
        cpus=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0,
        acceptors=config.acceptors,
        engine_ms=percentiles(world.engine_ms),
        search_ms=percentiles(world.search_ms),
        phases=phases,
        sustained_rate=max(honest) if honest else None,
        sustained_note=note,
    )


def serve_table(report: ServeBenchReport) -> Any:
    """A Rich table: one column per offered rate."""
    from rich.table import Table

    table = Table(
        title=f"scomm serve on loopback: {report.jails} jails, engine {report.engine}, "
        f"{report.database}, {report.cpus} CPUs, {report.acceptors} accepting "
        + ("process" if report.acceptors == 1 else "processes")
    )
    table.add_column("figure")
    for phase in report.phases:
        table.add_column(f"{phase.rate:g} CARs/s", justify="right")

    def row(name: str, cell: Callable[[PhaseReport], str]) -> None:
        table.add_row(name, *(cell(p) for p in report.phases))

    def ms(values: dict[str, float], key: str, scale: float = 1.0, unit: str = "") -> str:
        return f"{values[key] * scale:.1f}{unit}" if key in values else "n/a"

    row("submitted / accepted", lambda p: f"{p.submitted} / {p.accepted}")
    row("CARs sent again (memoised)", lambda p: str(p.repeated_cars))
    row("accepted CARs/s", lambda p: f"{p.accepted_per_s:.1f}")
    row("acceptance p50 (ms)", lambda p: ms(p.acceptance_ms, "p50"))
    row("acceptance p99 (ms)", lambda p: ms(p.acceptance_ms, "p99"))
    row("acceptance max (ms)", lambda p: ms(p.acceptance_ms, "max"))
    row("SRE received", lambda p: f"{p.completed} ({p.completed_over_http} by GET)")
    row("time to SRE p50 (s)", lambda p: ms(p.sre_s, "p50"))
    row("time to SRE p99 (s)", lambda p: ms(p.sre_s, "p99"))
    row("IAR received / expected", lambda p: f"{p.iar_received} / {p.iar_expected}")
    row("time to IAR p50 (s)", lambda p: ms(p.iar_s, "p50") if isinstance(p.iar_s, dict) else "n/a")
    row("queue at end of offer", lambda p: str(p.queue[-1][1]) if p.queue else "n/a")
    row("queue growth (rows/s)", lambda p: f"{p.queue_growth_per_s:+.2f}")
    row("queue grows", lambda p: "yes" if p.queue_grows else "no")
    engine = (
        f"p50 {report.engine_ms['p50']:.0f} ms; one IDENT search p50 "
        f"{report.search_ms['p50']:.1f} ms"
        if report.engine_ms
        else "n/a (no person enrolled: --enrol 0)"
    )
    table.caption = (
        f"engine's own time per CAR (decode + extraction, in the bench process): {engine}; "
        f"highest rate without queue growth, all CARs distinct: "
        f"{report.sustained_rate or 'none offered'}"
        + (f" ({report.sustained_note})" if report.sustained_note else "")
    )
    return table
