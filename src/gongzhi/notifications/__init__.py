"""Notices to people and units: a case was dispatched to you, supervised, overdue, answered."""
