"""Resources: what is deployed, its profiles, runtime, health, variables and secrets."""
