"""Projects: the top of the tree every environment and resource hangs from."""
