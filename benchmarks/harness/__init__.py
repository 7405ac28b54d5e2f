"""The benchmark's parts: the programs, the commands it times, the scenarios and the tables."""
