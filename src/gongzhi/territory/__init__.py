"""The command chain: regions (city > district > street > community > grid) and units."""
