"""The names of the engines scomm ships a profile for (`profiles/data/<name>.json`)."""

from __future__ import annotations

# The default engine (flow, `scomm bench verify`, `scomm bench search`): minutiae of real
# prints, two-stage MCC search, thresholds calibrated on FVC2002's impostor scores.
# (`scomm.config.DEFAULT_ENGINE` spells it too: config sits below biometrics.)
REAL_PRINT_ENGINE = "scomm-mcc-v2"
# The synthetic-only option: skeleton minutiae of clean synthetic prints, two-stage search.
DEMO_ENGINE = "skeleton-mcc-v1"
# The correlation baseline, kept for comparison.
BASELINE_ENGINE = "correlation-baseline-v1"
# The engines of `scomm bench verify`: LEADER minutiae ("scomm"), MINDTCT ("scomm-fast").
LEADER_ENGINE = "scomm-leader-mcc-v1"
MINDTCT_ENGINE = "scomm-mindtct-mcc-v1"
# scomm's own small minutiae network (tools/minunet): fast, not accurate on real prints.
MINUNET_ENGINE = "scomm-minunet-mcc-v1"
