"""Secrets: encryption at rest (keyring) and masking of secret values in everything people read."""
