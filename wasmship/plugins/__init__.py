"""wasip1 plugins: what a module imports and exports, the capabilities its target allows, and
the wazero runner that runs it with a memory cap, a deadline and only what it is granted."""
