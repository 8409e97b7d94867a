"""Small random but realistic statistics releases for the disclosure tests (and bench).

The measures follow ICE's monthly layout and the counts ICE never published (DESIGN17 §2):
totals that are sums of per-level measures, nested counts (citizens matched >= detained >=
transferred), and measures that share no atoms (independent families).
"""

from __future__ import annotations

import numpy as np

from scomm.reports.cells import BaseKey, Layout, Measure, months_between

M = Measure
MEASURES = (
    M("submissions", "Submissions", ("submission",), "ice_monthly"),
    M("ident_matches", "IDENT matches", ("m_l1", "m_l2", "m_l3", "m_unl"), "ice_monthly"),
    M("ident_matches_l1", "IDENT matches, level 1", ("m_l1",), "ice_monthly"),
    M("ident_matches_l2", "IDENT matches, level 2", ("m_l2",), "ice_monthly"),
    M("ident_matches_l3", "IDENT matches, level 3", ("m_l3",), "ice_monthly"),
    M("arrests", "ICE arrests", ("a_l1", "a_l2", "a_l3", "a_nc"), "ice_monthly"),
    M("arrests_l1", "ICE arrests, level 1", ("a_l1",), "ice_monthly"),
    M("arrests_l2", "ICE arrests, level 2", ("a_l2",), "ice_monthly"),
    M("arrests_l3", "ICE arrests, level 3", ("a_l3",), "ice_monthly"),
    M("arrests_nc", "ICE arrests, non-criminal", ("a_nc",), "ice_monthly"),
    M("removals", "Removals and returns", ("r_l1", "r_l2", "r_l3", "r_nc"), "ice_monthly"),
    M("removals_l1", "Removals, level 1", ("r_l1",), "ice_monthly"),
    M("removals_l2", "Removals, level 2", ("r_l2",), "ice_monthly"),
    M("removals_l3", "Removals, level 3", ("r_l3",), "ice_monthly"),
    M("removals_nc", "Removals, non-criminal", ("r_nc",), "ice_monthly"),
    M("detainers", "Detainers lodged", ("d_hon", "d_dec", "d_exp", "d_wd"), "never_published"),
    M("detainers_honoured", "Detainers honoured", ("d_hon",), "never_published"),
    M("detainers_declined", "Detainers declined", ("d_dec",), "never_published"),
    M("detainers_expired", "Detainers expired", ("d_exp",), "never_published"),
    M("detainers_withdrawn", "Detainers withdrawn", ("d_wd",), "never_published"),
    M("holds_past_end", "Holds past their legal end", ("hold_past",), "never_published"),
    M("citizens_matched", "US citizens matched", ("c_rel", "c_det", "c_tr"), "never_published"),
    M("citizens_detained", "US citizens detained", ("c_det", "c_tr"), "never_published"),
    M("citizens_transferred", "US citizens transferred", ("c_tr",), "never_published"),
    M("dismissed", "Detainers on charges later dismissed", ("dismissed",), "never_published"),
)

STATES = ("AZ", "CA", "FL", "GA", "IL", "MA", "MD", "NC", "NJ", "NM", "NV", "NY", "OK", "PA",
          "SC", "TN", "TX", "UT", "VA", "WA")  # fmt: skip


def world(
    oris: int, states: int, months: int, *, seed: int, volume: float = 40.0
) -> tuple[Layout, dict[BaseKey, int]]:
    """A release window and its base counts: `oris` jurisdictions over `states` states,
    `months` months from October 2008; submissions per ORI-month are Poisson with a
    log-normal mean around `volume` (most ORI-months small, a few large counties)."""
    rng = np.random.default_rng(seed)
    jurisdictions = {f"{STATES[i % states]}{i:04d}000": STATES[i % states] for i in range(oris)}
    window = months_between("2008-10", "2030-12")[:months]
    layout = Layout(MEASURES, jurisdictions, window)
    base: dict[BaseKey, int] = {}

    def put(atom: str, ori: str, month: str, n: int) -> None:
        if n:
            base[atom, ori, month] = int(n)

    means = rng.lognormal(np.log(volume), 1.0, size=oris)
    for (ori, _), mean in zip(sorted(jurisdictions.items()), means, strict=True):
        for month in window:
            sub = rng.poisson(mean)
            matches = rng.binomial(sub, 0.12)
            levels = rng.multinomial(matches, [0.2, 0.25, 0.45, 0.1])
            arrests = rng.multinomial(rng.binomial(matches, 0.5), [0.2, 0.2, 0.35, 0.25])
            removals = rng.multinomial(
                rng.binomial(int(arrests.sum()), 0.6), [0.25, 0.2, 0.3, 0.25]
            )
            detainers = rng.multinomial(rng.binomial(matches, 0.45), [0.7, 0.1, 0.15, 0.05])
            cit = rng.binomial(matches, 0.02)
            cit_det = rng.binomial(cit, 0.5)
            cit_tr = rng.binomial(cit_det, 0.5)
            put("submission", ori, month, sub)
            for atom, n in zip(("m_l1", "m_l2", "m_l3", "m_unl"), levels, strict=True):
                put(atom, ori, month, n)
            for atom, n in zip(("a_l1", "a_l2", "a_l3", "a_nc"), arrests, strict=True):
                put(atom, ori, month, n)
            for atom, n in zip(("r_l1", "r_l2", "r_l3", "r_nc"), removals, strict=True):
                put(atom, ori, month, n)
            for atom, n in zip(("d_hon", "d_dec", "d_exp", "d_wd"), detainers, strict=True):
                put(atom, ori, month, n)
            put("hold_past", ori, month, rng.binomial(int(detainers[0]), 0.05))
            put("c_rel", ori, month, cit - cit_det)
            put("c_det", ori, month, cit_det - cit_tr)
            put("c_tr", ori, month, cit_tr)
            put("dismissed", ori, month, rng.binomial(int(detainers.sum()), 0.08))
    return layout, base
