"""The actors of the flow, each a set of message handlers."""
