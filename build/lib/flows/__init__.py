"""rxstaff: flows."""
