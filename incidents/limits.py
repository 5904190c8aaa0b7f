"""Every bound on input, in one place (API.md "HTTP behaviour", "Filters" and "What is recorded").

The models, services, parsers and filters all read these, so the API, the admin, the import and the
commands refuse the same things with the same numbers, and no input reaches the database (or Python's
recursion, or an integer column) outside a range it can hold.
"""

import datetime

# Lists on one incident.
MAX_WEAPONS = 200
MAX_CITATIONS = 50
MAX_ACTORS = 50
MAX_TAGS = 30
MAX_SERIALS = 200  # per weapon item (API.md "Tracing"); likewise serial ranges and lots per transfer
SERIAL_MAX_LENGTH = 100
# The trailing digits of a serial that make its number: 18 fit a 64-bit integer on every database.
SERIAL_NUMBER_DIGITS = 18

# Values.
SUMMARY_MAX_LENGTH = 10_000
MAX_QUANTITY = 1_000_000  # so that 200 weapons of it still fit a 32-bit `weapons_total`
MAX_ID = 2**63 - 1  # ids are 64-bit: a larger number cannot name a row (and SQLite cannot even bind it)
EARLIEST_DATE = datetime.date(1900, 1, 1)  # dates of events and publications
# `updated_since` and `since`: years 1900..9998 once converted to UTC, so that neither database overflows.
EARLIEST_DATETIME = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)
LATEST_DATETIME = datetime.datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC)

# Request bodies.
MAX_JSON_DEPTH = 32
MAX_IMPORT_ROWS = 5000  # per API request; the import command takes more


def too_many_items(limit: int, given: int) -> str:
    return f"At most {limit} items are allowed; {given} were given."


# Queries.
MAX_PAGE_SIZE = 1000
MAX_OFFSET = 10**9  # far past any result; keeps offset + limit within every database's integers
MAX_Q_LENGTH = 200
MAX_Q_TERMS = 8
MAX_RADIUS_KM = 20000
MAX_LIST_ITEMS = 100  # items of one comma-separated filter (`country=FI,SE,…`, `actor=1,2,…`)
