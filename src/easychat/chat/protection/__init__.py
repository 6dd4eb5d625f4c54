"""Provides the core's defences: flood control, per-IP limits, throttles and K-lines, STS."""
