"""Servers a resource deploys to, and the edge proxy each one runs."""
