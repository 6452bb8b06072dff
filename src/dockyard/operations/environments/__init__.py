"""Environments of a project and their shared variables."""
