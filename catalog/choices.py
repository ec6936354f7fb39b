from django.db import models


class ItemCategory(models.TextChoices):
    RADIO = "radio", "Radios"
    ANTENNA = "antenna", "Antennas"
    CABLE = "cable", "Cables and jumpers"
    POWER = "power", "Power"
    MOUNTING = "mounting", "Mounting and steel"
    TRANSMISSION = "transmission", "Transmission"
    GROUNDING = "grounding", "Grounding"
    CONNECTOR = "connector", "Connectors"
    ENCLOSURE = "enclosure", "Cabinets and enclosures"


class Unit(models.TextChoices):
    EACH = "EA", "Each"
    METER = "M", "Meter"
    SET = "SET", "Set"
    KILOGRAM = "KG", "Kilogram"
    ROLL = "ROLL", "Roll"


class ItemLifecycle(models.TextChoices):
    ACTIVE = "active", "Active"
    DISCONTINUED = "discontinued", "Discontinued"
    REPLACED = "replaced", "Replaced"
