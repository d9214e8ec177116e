"""
The key types flow-ssl makes: the ones openssl generates and the admin console accepts.

Apart from the models, so the command line can list them without loading pydantic.
"""

from __future__ import annotations

from typing import Literal

KeyName = Literal["rsa:2048", "rsa:3072", "rsa:4096", "ec:P-256", "ec:P-384"]
KEY_NAMES: tuple[KeyName, ...] = ("rsa:2048", "rsa:3072", "rsa:4096", "ec:P-256", "ec:P-384")
