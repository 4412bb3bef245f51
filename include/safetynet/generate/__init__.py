"""Demo-deployment generator: synthetic, dirty source deliveries plus expected cases.

``generate_deployment`` writes a complete deployment folder; ``reference`` holds
the independent evaluation of the ten rules over the generator's clean truth.
"""

from safetynet.generate.deployment import generate_deployment

__all__ = ["generate_deployment"]
