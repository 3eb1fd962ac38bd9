"""The CDK stacks of the control plane, built from :data:`maas.manifest.MANIFEST`.

``foundation`` holds what is kept (key, artifacts bucket, endpoint registry, event bus and
its archive, event log); ``lifecycle`` what runs (functions, state machines, service roles,
rules). :func:`stacks.control_plane.build` puts one stage of both in an app.
"""
