"""Every enum of the public contract, defined once and shared by models, filters and serializers."""

from django.db import models


class IncidentType(models.TextChoices):
    SEIZURE = "seizure", "Seizure"
    RECOVERY = "recovery", "Recovery"
    THEFT = "theft", "Theft"
    TRAFFICKING = "trafficking", "Trafficking"
    CLAIM = "claim", "Claim"


class DatePrecision(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


class GeoPrecision(models.TextChoices):
    EXACT = "exact", "Exact"
    LOCALITY = "locality", "Locality"
    REGION = "region", "Region"
    COUNTRY = "country", "Country"


class Verification(models.TextChoices):
    REPORTED = "reported", "Reported"
    CORROBORATED = "corroborated", "Corroborated"
    CONFIRMED = "confirmed", "Confirmed"
    DISPUTED = "disputed", "Disputed"
    RETRACTED = "retracted", "Retracted"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class WeaponCategory(models.TextChoices):
    PISTOL = "pistol", "Pistol"
    REVOLVER = "revolver", "Revolver"
    RIFLE = "rifle", "Rifle"
    ASSAULT_RIFLE = "assault_rifle", "Assault rifle"
    SUBMACHINE_GUN = "submachine_gun", "Submachine gun"
    MACHINE_GUN = "machine_gun", "Machine gun"
    SHOTGUN = "shotgun", "Shotgun"
    SNIPER_RIFLE = "sniper_rifle", "Sniper rifle"
    GRENADE_LAUNCHER = "grenade_launcher", "Grenade launcher"
    ROCKET_LAUNCHER = "rocket_launcher", "Rocket launcher"
    ANTI_TANK_WEAPON = "anti_tank_weapon", "Anti-tank weapon"
    MANPADS = "manpads", "MANPADS"
    GRENADE = "grenade", "Grenade"
    MINE = "mine", "Mine"
    EXPLOSIVE = "explosive", "Explosive"
    AMMUNITION = "ammunition", "Ammunition"
    OTHER = "other", "Other"


class QuantityPrecision(models.TextChoices):
    """How exact a weapon's `quantity` is, as its sources give it."""

    EXACT = "exact", "Exact"
    APPROXIMATE = "approximate", "Approximate (about N)"
    AT_LEAST = "at_least", "At least (N+)"


class ActorKind(models.TextChoices):
    CRIMINAL_NETWORK = "criminal_network", "Criminal network"
    MOTORCYCLE_GANG = "motorcycle_gang", "Motorcycle gang"
    EXTREMIST_GROUP = "extremist_group", "Extremist group"
    STATE_ACTOR = "state_actor", "State actor"
    INDIVIDUAL = "individual", "Individual"
    UNKNOWN = "unknown", "Unknown"


class SourceType(models.TextChoices):
    NEWS = "news", "News"
    OFFICIAL = "official", "Official"
    NGO = "ngo", "NGO"
    COURT = "court", "Court"
    SOCIAL_MEDIA = "social_media", "Social media"
    OTHER = "other", "Other"


class Stance(models.TextChoices):
    SUPPORTS = "supports", "Supports"
    DISPUTES = "disputes", "Disputes"


class Reliability(models.TextChoices):
    """Admiralty (NATO) source-reliability grades."""

    A = "A", "A: completely reliable"
    B = "B", "B: usually reliable"
    C = "C", "C: fairly reliable"
    D = "D", "D: not usually reliable"
    E = "E", "E: unreliable"
    F = "F", "F: reliability cannot be judged"


class Credibility(models.IntegerChoices):
    """Admiralty (NATO) information-credibility grades of one citation."""

    CONFIRMED = 1, "1: confirmed by other sources"
    PROBABLY_TRUE = 2, "2: probably true"
    POSSIBLY_TRUE = 3, "3: possibly true"
    DOUBTFUL = 4, "4: doubtful"
    IMPROBABLE = 5, "5: improbable"
    CANNOT_BE_JUDGED = 6, "6: truth cannot be judged"


class RemovalReason(models.TextChoices):
    """Why an incident left a caller's view (the `deleted/` sync feed)."""

    DELETED = "deleted", "Deleted"
    MERGED = "merged", "Merged into another incident"
    UNPUBLISHED = "unpublished", "No longer published"
