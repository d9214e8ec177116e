"""Reading what openssl reads: framing, PKCS#12, and the DER of certificates and requests."""
