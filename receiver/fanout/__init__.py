"""Fan-out: durable delivery of events to webhooks, Slack, Discord and message brokers."""
