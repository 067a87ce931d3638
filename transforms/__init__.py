"""rxstaff: transforms."""
