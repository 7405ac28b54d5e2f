"""The benchmark's parts: the programs, the commands it times, the scenarios, the tables, and
where a run works and writes (output.py)."""
