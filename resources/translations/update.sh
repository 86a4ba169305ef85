#!/bin/sh
# Extract every marked text from the sources into the template, then merge it into each language's
# catalog (new texts arrive empty, changed ones fuzzy; the tests then say what is left to translate).
set -e
cd "$(dirname "$0")/../.."
uv run pybabel extract -F babel.cfg -k N_ -k pgettext:1c,2 -k npgettext:1c,2,3 --no-wrap --sort-by-file \
    --project=epay-desktop --copyright-holder="epay-desktop maintainers" --omit-header \
    -o resources/translations/epay_desktop.pot .
uv run pybabel update -D epay_desktop -i resources/translations/epay_desktop.pot \
    -d resources/translations --no-wrap --ignore-obsolete
