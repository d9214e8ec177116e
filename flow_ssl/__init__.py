"""flow-ssl: get a TLS certificate onto a Flow Enterprise Server, with openssl."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
