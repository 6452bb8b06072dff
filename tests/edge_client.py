"""Asking an edge proxy on loopback for a domain as a browser would: the Host header over HTTP, SNI
and Host over TLS (what `curl --resolve domain:port:127.0.0.1` does; *.example names resolve nowhere)."""

import hashlib
import http.client
import socket
import ssl


def fingerprint(der: bytes) -> str:
    """SHA-256 of a certificate, as Dockyard shows it (`AA:BB:…`)."""
    return hashlib.sha256(der).digest().hex(":").upper()


def https_get_with_certificate(port: int, domain: str, trusted_pem: str | None) -> tuple[int, str, str]:
    """GET / over TLS from 127.0.0.1:<port> with SNI and Host = domain: status, body and the fingerprint
    of the certificate presented. Trusts only `trusted_pem`, or (None) takes any certificate."""
    if trusted_pem is None:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cadata=trusted_pem)
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    conn.sock = context.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname=domain
    )
    try:
        der = conn.sock.getpeercert(binary_form=True) or b""
        conn.request("GET", "/", headers={"Host": domain})
        resp = conn.getresponse()
        return resp.status, resp.read().decode(), fingerprint(der)
    finally:
        conn.close()


def https_get(port: int, domain: str, trusted_pem: str) -> tuple[int, str]:
    status, body, _ = https_get_with_certificate(port, domain, trusted_pem)
    return status, body


def presented(port: int, domain: str) -> str | None:
    """The fingerprint of the certificate served for `domain`, or None when no TLS is served for it
    (the handshake is refused, or nothing listens)."""
    try:
        return https_get_with_certificate(port, domain, None)[2]
    except OSError:  # ssl.SSLError and ConnectionRefusedError alike
        return None
