"""maas: the domain library of the Model-as-a-Service control plane.

Subpackages: ``endpoints`` (deployment planning, the endpoint registry, compensation),
``events`` (publishing on the bus), ``local`` (the embedded AWS runtime) and ``cli``.
Nothing here outside ``maas.local`` and ``maas.cli`` imports CDK or moto.
"""

__version__ = "0.1.0"
