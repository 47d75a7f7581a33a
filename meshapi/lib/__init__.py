"""Hand-written helpers on top of the resources: stream accumulators and final-result getters."""
