"""ACME (RFC 8555) with HTTP-01, through the `acme` package (the client Certbot is built on).

The account key lives in `<data_dir>/acme/accounts/<directory hash>/` (0600; one account per
directory URL), registered on first use. Each certificate gets a fresh EC P-256 key. Loaded only by
the worker when an attempt runs: `dockyard serve` does not import `acme` while idle.
"""

import datetime
import hashlib
import json
import os
from pathlib import Path

import josepy as jose
import requests
from acme import challenges, client, crypto_util, errors, messages
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from dockyard.certificates.authority import IssuanceFailed, Issued, Publish

ORDER_DEADLINE_S = 90
USER_AGENT = "dockyard"
NOT_RETRIABLE = {"rejectedIdentifier", "malformed", "unsupportedIdentifier", "caa", "externalAccountRequired"}


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _problem(exc: messages.Error, phase: str) -> IssuanceFailed:
    kind = (exc.typ or "").rsplit(":", 1)[-1] or "error"
    code = "acme_" + "".join("_" + c.lower() if c.isupper() else c for c in kind)
    detail = exc.detail or exc.title or kind
    return IssuanceFailed(
        code, phase, f"The ACME server refused: {detail}", retriable=kind not in NOT_RETRIABLE
    )


class AcmeAuthority:
    provider_key = "acme"

    def __init__(
        self, directory_url: str, state_dir: Path, email: str | None = None, ca_bundle: str | None = None
    ):
        self.directory_url, self.email = directory_url, email
        self.verify: bool | str = ca_bundle or True  # a CA bundle path for a private ACME server
        digest = hashlib.sha256(directory_url.encode()).hexdigest()[:16]
        self.account_dir = Path(state_dir) / "accounts" / digest

    # -- account --------------------------------------------------------------------------------------

    def _account_key(self) -> jose.JWKEC:
        path = self.account_dir / "key.pem"
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            _write_private(path, _pem_key(key))
        return jose.JWKEC(key=key)

    def _client(self) -> client.ClientV2:
        key = self._account_key()
        net = client.ClientNetwork(key, alg=jose.ES256, verify_ssl=self.verify, user_agent=USER_AGENT)  # type: ignore[arg-type]
        try:
            directory = client.ClientV2.get_directory(self.directory_url, net)
        except requests.RequestException as exc:
            raise IssuanceFailed(
                "acme_directory_unreachable",
                "account",
                f"The ACME directory {self.directory_url} did not answer ({type(exc).__name__}).",
                retriable=True,
            ) from None
        acme = client.ClientV2(directory, net=net)
        saved = self.account_dir / "account.json"
        if saved.exists():
            net.account = messages.RegistrationResource(
                uri=json.loads(saved.read_text())["uri"], body=messages.Registration()
            )
            return acme
        contact = (f"mailto:{self.email}",) if self.email else ()
        try:
            regr = acme.new_account(messages.NewRegistration(contact=contact, terms_of_service_agreed=True))
        except errors.ConflictError as exc:  # registered before with this key: reuse it
            regr = messages.RegistrationResource(uri=exc.location, body=messages.Registration())
            net.account = regr
        _write_private(saved, json.dumps({"uri": regr.uri}).encode())
        return acme

    # -- issuance -------------------------------------------------------------------------------------

    def issue(self, domain: str, publish: Publish) -> Issued:
        phase = "account"
        published = False
        try:
            acme = self._client()
            phase = "order"
            key = ec.generate_private_key(ec.SECP256R1())
            order = acme.new_order(crypto_util.make_csr(_pem_key(key), [domain]))
            phase = "challenge"
            pending = []
            for authz in order.authorizations:
                if authz.body.status == messages.STATUS_VALID:  # proven recently: the CA reuses it
                    continue
                body = next(
                    (c for c in authz.body.challenges if isinstance(c.chall, challenges.HTTP01)), None
                )
                if body is None:
                    raise IssuanceFailed(
                        "acme_no_http01",
                        phase,
                        "The ACME server offers no HTTP-01 challenge for this domain.",
                        retriable=False,
                    )
                response, validation = body.response_and_validation(acme.net.key)
                pending.append((body, response, body.chall.encode("token"), validation))
            if pending:
                publish({token: validation for _, _, token, validation in pending})
                published = True
            for body, response, _, _ in pending:
                acme.answer_challenge(body, response)
            deadline = datetime.datetime.now() + datetime.timedelta(seconds=ORDER_DEADLINE_S)
            phase = "finalize"
            done = acme.poll_and_finalize(order, deadline)
            return Issued(chain_pem=done.fullchain_pem, key_pem=_pem_key(key).decode())
        except errors.ValidationError as exc:
            reasons = [
                c.error.detail or str(c.error)
                for a in exc.failed_authzrs
                for c in a.body.challenges
                if c.error is not None
            ]
            raise IssuanceFailed(
                "acme_challenge_failed",
                "challenge",
                f"The ACME server could not fetch the HTTP-01 token for {domain}: "
                + ("; ".join(reasons) or "no reason given")
                + ". The domain must resolve to this server and port 80 must reach its edge proxy.",
                retriable=True,
            ) from None
        except errors.TimeoutError:
            raise IssuanceFailed(
                "acme_timeout",
                phase,
                f"The ACME server did not finish within {ORDER_DEADLINE_S} s.",
                retriable=True,
            ) from None
        except messages.Error as exc:
            raise _problem(exc, phase) from None
        except requests.RequestException as exc:
            raise IssuanceFailed(
                "acme_unreachable",
                phase,
                f"The ACME server did not answer ({type(exc).__name__}).",
                retriable=True,
            ) from None
        finally:
            if published:
                publish({})

    def revoke(self, chain_pem: str) -> None:
        leaf = x509.load_pem_x509_certificates(chain_pem.encode())[0]
        try:
            self._client().revoke(leaf, 0)
        except messages.Error as exc:
            if (exc.typ or "").endswith(":alreadyRevoked"):
                return
            raise _problem(exc, "revoke") from None
        except requests.RequestException as exc:
            raise IssuanceFailed(
                "acme_unreachable",
                "revoke",
                f"The ACME server did not answer ({type(exc).__name__}).",
                retriable=True,
            ) from None
