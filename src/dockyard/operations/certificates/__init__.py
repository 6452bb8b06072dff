"""TLS certificates: uploaded or issued for a verified domain binding."""
