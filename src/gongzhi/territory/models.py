"""Regions and units.

``Region.path`` is a materialised path: the codes of the region's ancestors and itself,
each followed by "/". A subtree is the range [path, path + "~"), which a B-tree index on
``path`` answers in one scan on SQLite and PostgreSQL alike, at any depth or size
(see ``core.scoping`` and ``bench/bench_subtree.py``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core import refdata
from gongzhi.core.fields import PathField
from gongzhi.territory.choices import RegionLevel, UnitKind


class Region(models.Model):
    code = models.CharField(_("administrative code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = PathField(_("path"), unique=True, editable=False)
    # GeoJSON geometry (Polygon or MultiPolygon, WGS-84 lon/lat) and a centre point.
    boundary = models.JSONField(_("boundary"), null=True, blank=True)
    centre_lat = models.FloatField(_("centre latitude"), null=True, blank=True)
    centre_lng = models.FloatField(_("centre longitude"), null=True, blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["path"]
        indexes = [models.Index(fields=["parent", "name"], name="territory_region_children")]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_paths(self) -> list[str]:
        """Paths of every ancestor, city first (derived from the path, no query)."""
        parts = self.path.rstrip("/").split("/")
        return ["".join(f"{p}/" for p in parts[:i]) for i in range(1, len(parts))]


class Unit(models.Model):
    """An organisation that acts: a department, a committee, a court, an NGO ..."""

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=UnitKind.choices)
    # The level of the command chain the unit belongs to (e.g. a district's bureau).
    region = models.ForeignKey(
        Region, verbose_name=_("home region"), on_delete=models.PROTECT, related_name="units"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Subtrees the unit serves; a district bureau covers its district.
    jurisdictions = models.ManyToManyField(
        Region, verbose_name=_("regions covered"), related_name="covering_units", blank=True
    )
    phone = models.CharField(_("public phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["region__path", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="territory_unit_name_in_region")
        ]

    def __str__(self) -> str:
        return self.name


# Reference data: kept in memory by ``territory.queries`` (the region tree) and others.
refdata.watch("territory.Region", "territory.Unit", "territory.Unit_jurisdictions")
