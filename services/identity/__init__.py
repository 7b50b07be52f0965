"""Who is who: addresses and names to people, the owner's own addresses, merges and splits."""
