"""A biometric model that stands in for image-level matching in large simulation runs.

In a run with `biometrics = "model"` a booking's CAR still goes through every hop, decoded
and searched by the same handlers, but its finger images are tiny tokens that name the
person and the capture (`model_images`), the extractor reads the token back
(`ModelExtractor`), and each repository's gallery decides a search by seeded draws from the
engine's measured error rates instead of comparing minutiae (`ModelGallery`):

- a probe whose person is enrolled finds the mate with probability 1 - FNIR(k), k the
  number of fingers searched; FNIR(k) is measured by `scomm bench search` with the engine's
  search on a synthetic gallery (`data/search-fnir.json`, which records the commands);
- otherwise (no mate, or the mate missed) the search returns a false candidate with
  probability FPIR(N, k) = 1 - (1 - FMR_k(t_k))^N, N the gallery's size, t_k the engine
  profile's threshold for k fingers and FMR_k its fitted impostor-score tail
  (`Calibration.modelled_fmr`, the profile's `fpir_model`);
- else no candidate reaches the threshold.

Draws are fixed by (run seed, repository, person, capture): a run is reproducible, and the
same probe searched twice is decided the same way. Where the measurement has no figure for
k fingers, FNIR is interpolated log-linearly in k between the measured ones (and held at the
ends). `BiometricModel.describe()` says all this in the run's output.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from scomm.biometrics.profiles import resolve_profile
from scomm.biometrics.protocols import Candidate, CandidateList, FailureToEnrol, Template
from scomm.config import DEFAULT_ENGINE
from scomm.nist.tenprint import FingerImage
from scomm.services.common import seeded_draw
from scomm.sim.errors import SimulatorError

MODEL_ENGINE = "biometric-model"
_MAGIC = b"SCMMODEL"
_TOKEN = struct.Struct(">8sQQ")  # magic, finger seed, capture: 24 bytes
_SIDE = 8  # a token image is 8x8 grey pixels (its first 24 bytes the token)
FNIR_DATA = "search-fnir.json"
MATE_MARGIN = 0.1  # how far above the threshold a found mate or a false hit scores


class ModelError(SimulatorError):
    """The model cannot be built (no FNIR measurement, an engine without an FPIR model)."""


def model_images(
    finger_seed: int, capture: int, positions: tuple[int, ...]
) -> tuple[FingerImage, ...]:
    """The finger images of a model-mode CAR: one token image per finger position."""
    token = _TOKEN.pack(_MAGIC, finger_seed, capture)
    pixels = np.zeros((_SIDE, _SIDE), np.uint8)
    pixels.reshape(-1)[: len(token)] = np.frombuffer(token, np.uint8)
    return tuple(FingerImage(p, pixels) for p in positions)


@dataclass(frozen=True)
class ModelTemplate:
    """A finger's "template" in the model: whose finger it is, and from which capture."""

    finger: int
    person: int  # the person's finger seed
    capture: int

    def to_bytes(self) -> bytes:
        return _TOKEN.pack(_MAGIC, self.person, self.capture)


class ModelExtractor:
    """Reads the token of a model image; anything else fails to enrol."""

    parallel = False  # nothing to gain from threads (`memo.extract_each`)

    def extract(self, image: np.ndarray, ppi: int, finger: int) -> Template:
        raw = np.ascontiguousarray(image).reshape(-1)[: _TOKEN.size].tobytes()
        if len(raw) < _TOKEN.size or not raw.startswith(_MAGIC):
            raise FailureToEnrol(f"finger {finger}: not a model image")
        _, person, capture = _TOKEN.unpack(raw)
        return ModelTemplate(finger, person, capture)


class ModelCodec:
    def decode(self, data: bytes, finger: int) -> Template:
        _, person, capture = _TOKEN.unpack(data)
        return ModelTemplate(finger, person, capture)


def enrolment_templates(
    finger_seed: int, capture: int, positions: tuple[int, ...]
) -> dict[int, Template]:
    """The templates a repository enrols a person with, in the model."""
    return {p: ModelTemplate(p, finger_seed, capture) for p in positions}


@dataclass(frozen=True)
class BiometricModel:
    """FNIR per number of fingers and FPIR per gallery size and number of fingers, of one
    engine (see the module's docstring)."""

    engine: str
    thresholds: Mapping[int, float]
    fmr: Mapping[int, float]  # per-comparison impostor rate at the threshold, per k
    fnir_measured: Mapping[int, float]
    fnir_source: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def for_engine(cls, profile: str) -> BiometricModel:
        """The model of engine profile `profile` (a shipped name or a file): its thresholds
        and FPIR model (the default engine's, said in `fnir_source.instead_of`, for an
        engine without one, such as the demo's), and the measured FNIR of the default
        engine's search."""
        loaded = resolve_profile(profile)
        stands_for = loaded.name
        if not loaded.fpir_model:  # e.g. the demo's engine: the default engine's rates
            loaded = resolve_profile(DEFAULT_ENGINE)
        if not loaded.fpir_model:
            raise ModelError(f"engine {loaded.name} has no FPIR model: the model needs one")
        thresholds = {k: c.threshold for k, c in loaded.fpir_model.items()}
        fmr = {k: c.modelled_fmr(c.threshold) for k, c in loaded.fpir_model.items()}
        measured = json.loads(resources.files(__package__).joinpath("data", FNIR_DATA).read_text())
        fnir = {int(k): float(v) for k, v in measured["fnir"].items()}
        source = {k: v for k, v in measured.items() if k != "fnir"}
        if stands_for != loaded.name:
            source["instead_of"] = (
                f"{stands_for}, the run's engine, has no FPIR model: the rates are {loaded.name}'s"
            )
        return cls(loaded.name, thresholds, fmr, fnir, source)

    def fnir(self, k: int) -> float:
        """The share of mated searches with k fingers that miss the mate."""
        known = sorted(self.fnir_measured)
        if not known:
            return 0.0
        if k <= known[0]:
            return self.fnir_measured[known[0]]
        if k >= known[-1]:
            return self.fnir_measured[known[-1]]
        low = max(x for x in known if x <= k)
        high = min(x for x in known if x >= k)
        if low == high:
            return self.fnir_measured[low]
        a, b = self.fnir_measured[low], self.fnir_measured[high]
        w = (k - low) / (high - low)
        if a > 0 and b > 0:
            return math.exp((1 - w) * math.log(a) + w * math.log(b))
        return (1 - w) * a + w * b

    def fpir(self, gallery_size: int, k: int) -> float:
        """The share of non-mated searches with k fingers, against `gallery_size`
        identities, that return a false candidate at the threshold."""
        fmr = self.fmr.get(k) or self.fmr[min(self.fmr, key=lambda x: abs(x - k))]
        return -math.expm1(gallery_size * math.log1p(-fmr)) if gallery_size > 0 else 0.0

    def threshold(self, k: int) -> float:
        return (
            self.thresholds.get(k)
            or self.thresholds[min(self.thresholds, key=lambda x: abs(x - k))]
        )

    def describe(self, gallery_sizes: Mapping[str, int] | None = None) -> dict[str, Any]:
        """What the run's output says of the model."""
        described: dict[str, Any] = {
            "mode": "model",
            "engine": self.engine,
            "what": "image-level matching replaced by seeded draws: a mated search finds its "
            "mate with probability 1 - FNIR(k fingers); otherwise a false candidate with "
            "probability FPIR(N identities, k) from the engine profile's FPIR model",
            "fnir": {str(k): self.fnir(k) for k in range(1, 11)},
            "fnir_measured": {str(k): v for k, v in sorted(self.fnir_measured.items())},
            "fnir_source": dict(self.fnir_source),
            "fmr_at_threshold": {str(k): v for k, v in sorted(self.fmr.items())},
        }
        if gallery_sizes:
            described["fpir_10_fingers"] = {
                name: self.fpir(size, 10) for name, size in gallery_sizes.items()
            }
            described["gallery_sizes"] = dict(gallery_sizes)
        return described


class ModelGallery:
    """A repository's gallery deciding searches by the model (see the module's docstring)."""

    def __init__(self, model: BiometricModel, name: str, seed: int) -> None:
        self.model = model
        self.name = name
        self.seed = seed
        self._person_of: dict[str, int] = {}
        self._identities_of: dict[int, list[str]] = {}
        self._order: list[str] = []  # enrolled identities, for drawing a false candidate
        self._index: dict[str, int] = {}
        self.searches = 0

    def enrol(self, identity_id: str, templates: Mapping[int, Template]) -> None:
        person = _person(templates)
        if identity_id in self._person_of:
            self.delete(identity_id)
        self._person_of[identity_id] = person
        self._identities_of.setdefault(person, []).append(identity_id)
        self._index[identity_id] = len(self._order)
        self._order.append(identity_id)

    def delete(self, identity_id: str) -> None:
        person = self._person_of.pop(identity_id, None)
        if person is None:
            return
        self._identities_of[person].remove(identity_id)
        index = self._index.pop(identity_id)
        last = self._order.pop()
        if last != identity_id:
            self._order[index] = last
            self._index[last] = index

    def search(self, probe: Mapping[int, Template], max_candidates: int = 10) -> CandidateList:
        self.searches += 1
        fingers = tuple(sorted(probe))
        k = len(fingers)
        threshold = self.model.threshold(k)
        person = _person(probe)
        capture = next(iter(probe.values())).capture if probe else 0  # type: ignore[attr-defined]
        mates = self._identities_of.get(person) or []
        found: str | None = None
        if mates and seeded_draw(self.seed, self.name, "mate", person, capture) >= self.model.fnir(
            k
        ):
            found = mates[0]
        elif self._order:
            others = len(self._order) - len(mates)
            draw = seeded_draw(self.seed, self.name, "false", person, capture)
            if others > 0 and draw < self.model.fpir(others, k):
                pick = int(
                    seeded_draw(self.seed, self.name, "which", person, capture) * len(self._order)
                )
                for step in range(len(self._order)):
                    candidate = self._order[(pick + step) % len(self._order)]
                    if self._person_of[candidate] != person:
                        found = candidate
                        break
        if found is None:
            return CandidateList((), threshold, fingers)
        score = threshold + MATE_MARGIN
        candidate = Candidate(found, score, dict.fromkeys(fingers, score), 1)
        return CandidateList((candidate,), threshold, fingers)

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, identity_id: object) -> bool:
        return identity_id in self._person_of


def _person(templates: Mapping[int, Template]) -> int:
    people = {getattr(t, "person", None) for t in templates.values()}
    if len(people) != 1 or None in people:
        raise FailureToEnrol("a model search needs the model templates of one person")
    person = people.pop()
    assert isinstance(person, int)
    return person
