"""Demo-deployment generator: synthetic, dirty source deliveries plus expected cases.

``generate_deployment`` writes a complete deployment folder; ``reference`` holds
the independent evaluation of the twelve rules over the generator's clean truth
(R11 and R12 only where the optional vehicle and market-registry sources are given),
``reference_warnings`` that of the hardship warnings H01–H04 (H01 only with the
medical settlements, H02 only with the vehicle and market registries).
"""

from safetynet.generate.deployment import generate_deployment

__all__ = ["generate_deployment"]
