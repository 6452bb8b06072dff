"""Access policies: who may reach a resource's routes through the edge."""
