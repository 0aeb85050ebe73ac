#!/usr/bin/env python3
"""Derive scenarios/data/nuts2_eu27.csv: the NUTS-2 region table with an se_employment column.

Input: the NUTS-2 table (code, name, country, population 2019, lat, lon, area_km2,
unemployment_rate, neighbours; see scenarios/data/SOURCES.md) and the country table
scenarios/data/eu27.csv (se_employment, CIRIEC/EESC 2014-15). Each region gets its country's
social-economy jobs in proportion to its share of the country's 2019 population:

    se_employment[region] = se_employment[country] * population[region] / sum(population[regions of the country])

(an assumption: the same social-economy employment share of the population in every region of a
country). Values are rounded to whole jobs by the largest-remainder method within each country,
so each country's regions add up exactly to the country table. The 2023 country populations of
eu27.csv are not used. Deterministic: the same inputs give the same bytes.

    python3 scripts/derive_nuts2_table.py REGIONS.csv scenarios/data/eu27.csv -o scenarios/data/nuts2_eu27.csv
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections import defaultdict


def derive(regions_csv: str, countries_csv: str) -> str:
    with open(regions_csv, newline="", encoding="utf-8") as f:
        regions = list(csv.DictReader(f))
    with open(countries_csv, newline="", encoding="utf-8") as f:
        countries = {row["code"]: row for row in csv.DictReader(f)}
    by_country = defaultdict(list)
    for i, row in enumerate(regions):
        if row["country"] not in countries:
            raise SystemExit(f"{regions_csv}: region {row['code']}: country {row['country']} "
                             f"is not in {countries_csv}")
        by_country[row["country"]].append(i)
    jobs = [0] * len(regions)
    for country, members in by_country.items():
        total = int(countries[country]["se_employment"])
        pop = sum(int(regions[i]["population"]) for i in members)
        exact = [total * int(regions[i]["population"]) / pop for i in members]
        floors = [math.floor(x) for x in exact]
        left = total - sum(floors)
        # Largest remainder first; ties to the earlier region.
        order = sorted(range(len(members)), key=lambda k: (-(exact[k] - floors[k]), k))
        for k in order[:left]:
            floors[k] += 1
        for k, i in enumerate(members):
            jobs[i] = floors[k]
    columns = ["code", "name", "country", "population", "lat", "lon", "area_km2",
               "unemployment_rate", "se_employment", "neighbours"]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row, n in zip(regions, jobs):
        writer.writerow({**{c: row[c] for c in columns if c != "se_employment"},
                         "se_employment": n})
    return out.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("regions")
    parser.add_argument("countries")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args(argv)
    text = derive(args.regions, args.countries)
    with open(args.output, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
