"""rxstaff: expectations."""
