"""popcount64: set bits of a 64-bit word in one instruction, for the bit cylinders."""

from __future__ import annotations

from typing import Any

from numba import types
from numba.extending import intrinsic


def _popcount64(typingctx: Any, x: Any) -> Any:  # pragma: no cover - compiled
    """Number of set bits of a uint64 as an int64 (LLVM ctpop: one POPCNT on x86-64); int64,
    so sums stay integers (numba promotes int64 + uint64 to float64)."""
    sig = types.int64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return sig, codegen


popcount64: Any = intrinsic(_popcount64)
