"""`wasmship dev`: build with the fast profile into a private folder, serve it, rebuild on
every save and reload the open pages (docs/dev.md)."""
