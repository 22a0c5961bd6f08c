"""Password hashing with argon2id at OWASP ASVS 5 level 2 parameters (t=2, m=19 MiB, p=1).

Werkzeug's default scrypt/pbkdf2 settings fall below that bar (DESIGN.md, "Known traps").
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Verified against when the e-mail is unknown, so that "no such user" takes as long as "wrong password"
# and response times do not reveal which e-mail addresses have accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
