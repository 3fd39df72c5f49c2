"""Sign-in, two-factor, sessions and passwords."""
