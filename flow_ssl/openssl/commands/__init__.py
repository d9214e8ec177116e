"""The only code that builds openssl argv: base (Command, rendering), subject, make, ca, read."""
