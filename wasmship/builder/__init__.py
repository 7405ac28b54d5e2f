"""The build: settings, the Go toolchain, the pipeline of steps over one context, the
compression cache, budgets and server configs. It writes a dist through wasmship.distformat."""
