# The package ships a compiled library (cachier.so): its wheel is for this
# platform and Python, not "pure". Everything else is in pyproject.toml.
from setuptools import setup
from setuptools.dist import Distribution


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


setup(distclass=BinaryDistribution)
