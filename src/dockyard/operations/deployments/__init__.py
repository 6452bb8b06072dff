"""Deployments: create, plan, follow, roll back and recover a resource's releases."""
