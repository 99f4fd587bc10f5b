"""The demo town: a fictional, deterministic integrated plan around Ede (Gelderland).

``kip demo load`` calls :func:`load_demo`. What the demo holds:

- the organisations: Ede's departments (sewer, roads, green, lighting, traffic,
  neighbourhood management) and fictional partners (a grid operator for electricity and gas,
  a water company, a telecom company, a district-heating company, a housing corporation);
- a street network of a plausible town over about 4 × 4 km (:mod:`kip.demo.town`);
- some 650 works over 2026-2032 in every discipline, phase and geometry type, laid along
  the streets, with street reconstruction programmes where several parties dig the same
  street within two years (:mod:`kip.demo.programmes`) and closures next door in the same
  weeks, plus everyday works (:mod:`kip.demo.catalogue`);
- dig bans on streets repaved in 2026, and works that dig inside them (:mod:`kip.demo.bans`).

The plan is drawn from a fixed seed in RD New (:func:`kip.demo.plan.build_plan`, pure and
repeatable) and loaded by :func:`kip.demo.load.load_demo`, which matches every row on its
natural key, so loading twice changes nothing.
"""

from .load import DemoReport, Tally, load_demo
from .plan import DemoPlan, build_plan

__all__ = ["DemoPlan", "DemoReport", "Tally", "build_plan", "load_demo"]
