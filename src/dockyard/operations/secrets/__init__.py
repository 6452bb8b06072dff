"""Secret keys: the keyring that seals stored secrets."""
