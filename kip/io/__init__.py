"""Readers and writers of files: GIS files in (through GDAL), works out.

- :mod:`.readers` reads GeoJSON, GeoPackage, zipped Shapefile, KML and CSV into columns;
- :mod:`.containers` looks inside a zip or a GeoPackage before GDAL reads it;
- :mod:`.columns` recognises column names and value words, and reads mapping files;
- :mod:`.values` and :mod:`.rows` turn cells into the fields of works;
- :mod:`.geometry` is KIP's one geometry intake: it checks geometries and brings them
  into the project CRS, for the import (vectorised), the API and the forms;
- :mod:`.writers` writes GeoJSON, GeoPackage, CSV and XLSX;
- :mod:`.formulas` keeps text that a spreadsheet would run as a formula text (CSV, XLSX).
"""
