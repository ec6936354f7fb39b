"""The project shell: the top of the stack. The root URLs, the dashboard and its trends,
the demo data and the commands that load it. It may import every app; nothing imports
it."""
