"""Pathfinding swarm demo: a cave world built in chunks and A* paths, all on worker processes."""
