"""Steps shown as a script (--print) and the guards a printed script runs."""
