"""What flow-ssl shows: human text (text.py) and JSON shapes (json_data.py), built here."""
