"""Making keys, certificates and requests: one run loop and the jobs on it."""
