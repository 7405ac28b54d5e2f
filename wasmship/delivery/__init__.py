"""HTTP, in one place: how a dist's files are sent (negotiation), what a client asked the
preview server for (request), and the client `check` asks a site with (client)."""
