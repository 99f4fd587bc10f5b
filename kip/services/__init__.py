"""Use cases: ``f(session, actor, ...) -> result``. They flush, never commit, and raise KipError."""
