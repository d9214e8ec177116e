"""Pure rules with no I/O: models, names, checks, findings and errors."""
