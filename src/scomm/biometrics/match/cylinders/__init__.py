"""Preparing a template: MCC-B bit cylinders and the geometry the comparison needs.

Cappelli, Ferrara, Maltoni, "Minutia Cylinder-Code", IEEE TPAMI 32(12), 2010, sec. 3.  One
stage a module, run in this order by `MatcherTemplate.build` (one set, through the helpers
of `prepare`) and by `batch` (many sets at once): `primitives.hull` -> `pair_geometry` ->
`bit_cylinders` (with `contributions`, and the `tables` built once per parameter set) ->
`strongest` -> `summaries`.
"""
