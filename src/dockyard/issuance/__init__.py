"""Certificate issuance: an ACME client adapter, the attempts the worker runs, and the renewal scheduler."""
