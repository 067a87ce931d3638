"""rxstaff: rxstaff."""
