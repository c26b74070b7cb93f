"""Services: the only functions that change state. Keyword-only arguments, atomic."""
