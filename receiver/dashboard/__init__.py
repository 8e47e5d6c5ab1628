"""The web dashboard served at `/ui`: tasks, events, deliveries, subscribers, callbacks."""
