"""The render side's state: the engine playing, the motion, crossfades, failover, counters."""
