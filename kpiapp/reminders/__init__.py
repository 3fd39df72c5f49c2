"""Reminders on a schedule (docs/reminders.md): rules.py decides, services.py sends and logs."""
