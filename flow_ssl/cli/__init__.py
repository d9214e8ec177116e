"""The typer face of flow-ssl, and the only code importing typer: app.py is the root."""
