"""Organisation: departments, positions, people, stores and owners."""
