"""The responsibility list (责任清单) as rows a city edits.

A rule says: cases of ``category`` (or any category below it) in ``region``'s subtree go
to ``unit`` (owner first), or to the government unit of the case's own street or
community (locality first). The most specific rule wins: the deepest category, then the
deepest region, then the lowest ``priority`` number.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core import refdata
from gongzhi.dispatch.choices import Principle
from gongzhi.territory.choices import RegionLevel


class RoutingRule(models.Model):
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Empty: every category."),
    )
    region = models.ForeignKey(
        "territory.Region",
        verbose_name=_("region"),
        on_delete=models.CASCADE,
        help_text=_("The rule applies to cases in this region's subtree."),
    )
    principle = models.CharField(_("principle"), max_length=20, choices=Principle.choices)
    unit = models.ForeignKey(
        "territory.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("For owner-first rules: the unit that answers."),
    )
    locality_level = models.PositiveSmallIntegerField(
        _("locality level"),
        choices=RegionLevel.choices,
        default=RegionLevel.STREET,
        help_text=_("For locality-first rules: whose government answers."),
    )
    priority = models.PositiveSmallIntegerField(_("priority"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(principle="locality") | models.Q(unit__isnull=False),
                name="dispatch_owner_rule_has_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.category or '*'} @ {self.region} > {self.unit or self.principle}"


# Reference data: ``dispatch.queries.route`` keeps the active rules in memory.
refdata.watch("dispatch.RoutingRule")
