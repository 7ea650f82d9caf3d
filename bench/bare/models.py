from __future__ import annotations

from django.db import models


class Row(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField()
    latitude = models.FloatField(null=True)
    longitude = models.FloatField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "bare"
        db_table = "bench_bare_row"

    def __str__(self) -> str:
        return self.title
