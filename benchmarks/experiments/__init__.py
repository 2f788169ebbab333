"""Speed switches that the benchmarks can measure but no config uses.

``ConvBackwardAsForwardHook`` (with its layer ``Conv2dBackwardAsForward``)
computes the gradients of chosen stages' stride-1 convolutions as forward
convolutions; ``benchmarks/speed.py --backward-as-forward STAGE`` applies
it and ``benchmarks/layouts.py`` times it per stage. The figures are in
``benchmarks/RESULTS.md``.
"""
