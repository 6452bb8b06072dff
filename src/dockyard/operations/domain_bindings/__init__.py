"""Custom domains bound to a resource, and their verification."""
