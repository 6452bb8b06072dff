"""MCP hosting: launching servers, discovery, the gateway, server runs. Loads the `mcp` SDK, so only
the worker's deploy job and the gateway import this package (lazily)."""
