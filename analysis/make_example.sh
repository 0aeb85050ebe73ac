#!/usr/bin/env bash
# Regenerates the README's example figure: runs the baseline scenario (fixed seed, so the
# figure is reproducible), writes its figures and report, and copies the EU map to docs/images/.
#   bash analysis/make_example.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x build/csei ]] || bash scripts/build.sh
build/csei run scenarios/baseline_eu27.toml -o output/baseline_eu27.h5 --format json >/dev/null
analysis/csei-analysis plot output/baseline_eu27.h5 --step 60 -o output/baseline_eu27_plots >/dev/null 2>&1
analysis/csei-analysis report output/baseline_eu27.h5 --step 60 -o output/baseline_eu27_report.html >/dev/null 2>&1
mkdir -p docs/images
cp output/baseline_eu27_plots/adoption_map.png docs/images/baseline_eu27_map.png
echo "docs/images/baseline_eu27_map.png (report: output/baseline_eu27_report.html)"
