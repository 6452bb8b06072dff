"""Hints a model field gives the generated interfaces (in `json_schema_extra`), kept import-free so the
CLI's fast path can read them."""

CLI_FILE = "x-cli-file"  # the CLI takes a path and sends the file's text (long or secret values)
