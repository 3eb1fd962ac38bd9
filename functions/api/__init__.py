"""The control plane's REST API: one Lambda function behind API Gateway, one router per resource.

:mod:`functions.api.app` is the handler; :mod:`functions.api.routes` holds the routes, the
original v1.1 contract (:mod:`functions.api.routes.seed`) beside the full API under ``/v1``.
"""
