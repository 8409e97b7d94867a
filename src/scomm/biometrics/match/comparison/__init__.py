"""Comparing two prepared templates: MCC-B local similarities, LSS-R, consolidation.

Cappelli, Ferrara, Maltoni, "Minutia Cylinder-Code", IEEE TPAMI 32(12), 2010, sec. 4, then a
geometric consolidation.  One stage a module, run in this order by `pipeline.compare_core`:
`local_similarity` -> `pair_selection` -> `relaxation` -> `lssr_score` -> `consolidation`.
`inputs` names what the stages read, `workspace` the buffers they share.
"""
