"""The emulator's state and memory: its clock, its one lock, the tables kept on disk
(--state), what it forgets (retention), the C allocator's share, and its counters."""
