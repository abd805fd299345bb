"""Everything that talks to the outside: each module knows one system and only its base URL or DSN."""
