"""The measuring instruments the benchmarks share, one per module.

* :mod:`.timing`: wall-clock timing of a call with the device drained, and
  the summary of a list of times;
* :mod:`.memory`: peak resident memory (sampled) or peak CUDA memory;
* :mod:`.proc`: ``/proc`` readers: minor page faults of this process, CPU
  seconds of the data-loader workers;
* :mod:`.roofline`: FLOPs of a training step, the measured peak GFLOP/s of
  the device and the fraction of it a step achieves;
* :mod:`.syncs`: host-device synchronisations of a block of code.
"""
