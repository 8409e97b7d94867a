"""The names of the engines scomm ships a profile for (`profiles/data/<name>.json`)."""

from __future__ import annotations

# The demo's repositories: skeleton minutiae of synthetic prints, two-stage MCC search.
# (`scomm.config.DEFAULT_ENGINE` spells it too: config sits below biometrics.)
DEMO_ENGINE = "skeleton-mcc-v1"
# The correlation baseline, kept for comparison.
BASELINE_ENGINE = "correlation-baseline-v1"
# The engines of `scomm bench verify`: LEADER minutiae ("scomm"), MINDTCT ("scomm-fast").
LEADER_ENGINE = "scomm-leader-mcc-v1"
MINDTCT_ENGINE = "scomm-mindtct-mcc-v1"
