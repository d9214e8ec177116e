"""Is it ready to install? check (and its --print plan), bundle and probe."""
