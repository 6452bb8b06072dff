"""MCP hosting (/mcp-api): providers, custom servers and sessions."""
