"""System: the installation's version and health."""
