"""People, their memberships (a person acting for a unit in a role) and API keys."""
