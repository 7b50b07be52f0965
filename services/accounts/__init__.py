"""Connected provider accounts: users, grants, syncing them through the provider-neutral
seam, and purging what an account brought."""
