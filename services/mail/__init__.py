"""Mail and calendar records: importing files, storing synced or imported records, the noise
rules, and deriving interactions between the owner and people."""
