"""The tier ladder across rule sets: each firm's highest rung and programmes, and what it still lacks."""
