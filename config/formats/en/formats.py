"""English: "2 December 2026, 14:30" (day before month, as the Indonesian pages have it; a 24-hour clock).

Times carry their zone ("14:30 WITA"): courses.dates adds it, since a format string cannot name WIB/WITA/WIT.
"""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j F Y"
SHORT_DATETIME_FORMAT = "j F Y, H:i"
