"""In-app notifications: reminders and decisions people should see next time they open the app."""
