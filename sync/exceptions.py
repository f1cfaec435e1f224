"""Errors whose message is fit to show an accountant as it is."""


class UserFacingError(Exception):
    """A domain error; views show `str(error)` with messages.error()."""


class LinkError(UserFacingError):
    """A link, unlink or relink that cannot be done (already linked, not linked, ...)."""
