"""The layers: mappings that wrap another mapping and change one thing."""

from kvmap.layers.base import Layer
from kvmap.layers.missing import MissingKeyLayer
from kvmap.layers.prefix import PrefixLayer
from kvmap.layers.read_only import ReadOnlyLayer
from kvmap.layers.serializer import SerializerLayer
from kvmap.layers.ttl import TTLLayer

__all__ = [
    "Layer",
    "MissingKeyLayer",
    "PrefixLayer",
    "ReadOnlyLayer",
    "SerializerLayer",
    "TTLLayer",
]
