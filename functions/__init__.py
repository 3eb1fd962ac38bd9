"""Lambda handlers, one small module per step: parse the input, call ``maas``, return a dict.

Each handler module reads its environment at module scope (its cold start) and creates its
clients through :func:`maas.aws.client`. Shared code under ``functions.common`` reads no
environment at import, so that functions sharing a process (the local runtime) each see
their own.
"""
