"""The one place that knows openssl: its commands, the runner, its text, its versions."""
