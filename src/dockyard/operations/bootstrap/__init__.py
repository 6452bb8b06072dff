"""Bootstrap: the first organization and user of a fresh installation."""
