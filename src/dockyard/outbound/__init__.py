"""Outbound connections made on a user's behalf, under the egress policy (domain/egress.py): `guard`
resolves, checks and connects; `http` is an httpx2 transport over it (imported on first use, it
brings httpx2)."""
