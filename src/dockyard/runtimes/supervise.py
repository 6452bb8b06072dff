"""The supervisor process's entry: `python -m dockyard.runtimes.supervise ROOT` (see supervisor.py).

The supervisor never speaks TLS nor hashes through OpenSSL, yet asyncio imports `ssl` whenever it
can, and `hashlib` loads OpenSSL's libcrypto: with those stubbed out first (asyncio and hashlib
fall back to what Python has built in) the process holds 5 MB resident less.
"""

import sys

sys.modules.update(dict.fromkeys(("ssl", "_ssl", "_hashlib")))  # type: ignore[arg-type]

from dockyard.runtimes.supervisor import run  # noqa: E402  (after the stubs, on purpose)

if __name__ == "__main__":
    run(sys.argv[1])
