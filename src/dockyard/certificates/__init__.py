"""Certificates: issuance by ACME (the client adapter, the attempts the worker runs) and the renewal
scheduler. The API operations on certificates live in dockyard.operations.certificates."""
