"""A company CA: its folder (lock, serial, records), init, sign, issue and trust."""
