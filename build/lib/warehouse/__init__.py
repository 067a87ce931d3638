"""rxstaff: warehouse."""
