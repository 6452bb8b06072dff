"""Variables shared by environments and resources: their models and their (sealed) store."""
