"""Admin screens: users, sessions, the audit log."""
