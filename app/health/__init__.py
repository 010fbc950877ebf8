"""Liveness answer for load balancers and clients."""
