"""The Django app: documents, fields, review, models in use; services change state, selectors read."""
