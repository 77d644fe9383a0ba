#!/usr/bin/env python3
"""GiBleed insight for one member, as a Tusk per-datum command (any language works the same way).

Tusk runs this once per datum in a fresh directory:
  in/<TABLE>.csv   one file per table of the repo: a header line, then the member's rows
                   (in/<TABLE>.json, one JSON object per line, with `inputFormat: json`)
  out/             every file written here is the datum's output; one file: its bytes, the
                   content type from its extension (.json -> application/json)
Environment: TUSK_JOB_ID, TUSK_COMMIT_ID, TUSK_DATUM_HASH, TUSK_MEMBER, TUSK_PIPELINE,
TUSK_INPUT_DIR, TUSK_OUTPUT_DIR, plus the spec's `env`.
Exit status 0 is success; anything else (or a timeout, or invalid output) is a failed attempt.
Write logs to stderr: the end of it is kept with a failed datum.

The insight is the same as the Java demo transform's (io.tusk.processor.examples.GiBleedInsights),
byte for byte: did a gastrointestinal bleed follow an NSAID exposure?
"""
import csv
import datetime
import json
import os
import re
import sys
from operator import itemgetter

GI_BLEED = "192671"
NSAIDS = {"1118084": "celecoxib", "1124300": "diclofenac", "1115008": "naproxen",
          "1177480": "ibuprofen"}
CHRONIC_CONDITIONS = {"80180": "osteoarthritis", "80809": "rheumatoid-arthritis",
                      "4027663": "peptic-ulcer", "81893": "ulcerative-colitis",
                      "4266809": "diverticular-disease", "317576": "coronary-arteriosclerosis",
                      "313217": "atrial-fibrillation"}
EVENT_DATES = {"CONDITION_ERA": ["CONDITION_ERA_START_DATE", "CONDITION_ERA_END_DATE"],
               "DRUG_ERA": ["DRUG_ERA_START_DATE", "DRUG_ERA_END_DATE"],
               "PROCEDURE_OCCURRENCE": ["PROCEDURE_DATE"],
               "VISIT_OCCURRENCE": ["VISIT_START_DATE", "VISIT_END_DATE"],
               "OBSERVATION": ["OBSERVATION_DATE"]}
PERSON_COLUMNS = ["GENDER_CONCEPT_ID", "YEAR_OF_BIRTH", "MONTH_OF_BIRTH", "DAY_OF_BIRTH"]
UNKNOWN = "unknown"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Values already read as dates: members share most dates, and a dict lookup is far cheaper than
# parsing. Bounded, because a worker lives for many datums.
_KNOWN_DATES = {}
_KNOWN_DATES_MAX = 100_000


class Table:
    """One table of a member: a list of {column: value} rows, or the split layout a worker gets
    with `inputFormat: split`, {"columns": [...], "data": [[...], ...]}. Read by column, so each
    column of the split layout is one pass in C rather than a dict lookup per row."""

    __slots__ = ("rows", "_index")

    def __init__(self, table):
        if isinstance(table, dict):
            self.rows = table["data"]
            self._index = {c: i for i, c in enumerate(table["columns"])}
        else:
            self.rows = table or []
            self._index = None

    def index(self, name):
        """How to read a column from a row: its position, or its name for row objects (None:
        the table lacks it)."""
        if self._index is None:
            return name
        return self._index.get(name)

    def value(self, row, index):
        """The value at index (from index()) of one row; None when absent."""
        if index is None:
            return None
        return row.get(index) if self._index is None else row[index]

    def column(self, name):
        """The values of one column, row by row (None where absent)."""
        if self._index is None:
            return [row.get(name) for row in self.rows]
        i = self._index.get(name)
        if i is None:
            return [None] * len(self.rows)
        return list(map(itemgetter(i), self.rows))


def blank(value):
    return value is None or value.strip() == ""


def parse_date(value, table, column):
    """An ISO date (a datetime's date part is accepted); None when blank."""
    known = _KNOWN_DATES.get(value)
    if known is not None:
        return known
    if blank(value):
        return None
    text = value.strip()
    if len(text) > 10 and text[10] == "T":
        text = text[:10]
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(column)
        parsed = datetime.date.fromisoformat(text)
    except ValueError:
        # Never quote the value: it is health data.
        raise ValueError(f"{table}.{column} is not an ISO date") from None
    if len(_KNOWN_DATES) >= _KNOWN_DATES_MAX:
        _KNOWN_DATES.clear()
    _KNOWN_DATES[value] = parsed
    return parsed


def number(person, column, absent):
    value = person.get(column)
    if blank(value):
        return absent
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError(f"PERSON.{column} is not a whole number") from None


def age_band(person, at):
    if person is None or at is None or blank(person.get("YEAR_OF_BIRTH")):
        return UNKNOWN
    try:
        birth = datetime.date(number(person, "YEAR_OF_BIRTH", 0),
                              number(person, "MONTH_OF_BIRTH", 1), number(person, "DAY_OF_BIRTH", 1))
    except ValueError:
        raise ValueError("PERSON birth date parts do not form a date") from None
    age = whole_years(birth, at)
    if age < 0:
        return UNKNOWN
    low = age // 10 * 10
    return f"{low}-{low + 9}"


def whole_years(start, end):
    """Whole years from start to end, as java.time.Period counts them (truncated toward zero)."""
    months = (end.year * 12 + end.month) - (start.year * 12 + start.month)
    days = end.day - start.day
    if months > 0 and days < 0:
        months -= 1
    elif months < 0 and days > 0:
        months += 1
    return abs(months) // 12 * (1 if months >= 0 else -1)


def earliest(dates):
    present = [d for d in dates if d is not None]
    return min(present) if present else None


def latest_date(events):
    """The latest date of the member's events (None without any), each distinct value once."""
    latest = []
    for name, columns in EVENT_DATES.items():
        table = events[name]
        for column in columns:
            values = set(table.column(column))
            values.discard(None)
            values.discard("")
            # Builtins over whole columns run in C; a value never seen before (or a bad one) takes
            # the row-by-row path, which reports the first bad value in row order.
            if not all(map(_KNOWN_DATES.__contains__, values)):
                return latest_date_by_row(events)
            if values:
                latest.append(max(map(_KNOWN_DATES.__getitem__, values)))
    return max(latest) if latest else None


def latest_date_by_row(events):
    """latest_date reading every value in row order: the first bad one is the error."""
    latest = None
    for name, columns in EVENT_DATES.items():
        table = events[name]
        read = [(table.index(c), c) for c in columns]
        for row in table.rows:
            for i, column in read:
                d = parse_date(table.value(row, i), name, column)
                if d is not None and (latest is None or d > latest):
                    latest = d
    return latest


def gibleed_insight(member, tables):
    """The insight of one member from its tables by name (each as Table reads it)."""
    person_table = Table(tables.get("PERSON"))
    persons = [dict(zip(PERSON_COLUMNS, values))
               for values in zip(*(person_table.column(c) for c in PERSON_COLUMNS))]
    # Duplicate PERSON rows: the smallest by the columns read, so arrival order does not matter.
    person = min(persons, key=lambda r: [(r[c] is not None, r[c] or "") for c in
                                         PERSON_COLUMNS]) if persons else None
    gender = person.get("GENDER_CONCEPT_ID") if person else None
    sex = {"8532": "F", "8507": "M"}.get(gender, UNKNOWN)
    events = {name: Table(tables.get(name)) for name in EVENT_DATES}
    latest = latest_date(events)
    band = age_band(person, latest)

    drugs = events["DRUG_ERA"]
    exposures = {}
    for concept, start in zip(drugs.column("DRUG_CONCEPT_ID"), drugs.column("DRUG_ERA_START_DATE")):
        drug = NSAIDS.get(concept)
        if drug:
            e = exposures.setdefault(drug, {"conceptId": concept, "starts": []})
            e["starts"].append(parse_date(start, "DRUG_ERA", "DRUG_ERA_START_DATE"))
    first_exposure = earliest(earliest(e["starts"]) for e in exposures.values())

    conditions = events["CONDITION_ERA"]
    concepts = conditions.column("CONDITION_CONCEPT_ID")
    first_bleed = earliest(parse_date(start, "CONDITION_ERA", "CONDITION_ERA_START_DATE")
                           for concept, start in zip(concepts,
                                                     conditions.column("CONDITION_ERA_START_DATE"))
                           if concept == GI_BLEED)
    chronic = sorted({CHRONIC_CONDITIONS[c] for c in concepts if c in CHRONIC_CONDITIONS})

    out = {"member": member, "sex": sex, "ageBand": band, "nsaidExposures": []}
    for drug in sorted(exposures):
        first = earliest(exposures[drug]["starts"])
        out["nsaidExposures"].append({"drug": drug, "conceptId": exposures[drug]["conceptId"],
                                      "firstStart": first.isoformat() if first else None,
                                      "eras": len(exposures[drug]["starts"])})
    if first_bleed is None:
        out["giBleed"] = None
    else:
        after = first_exposure is not None and first_exposure < first_bleed
        out["giBleed"] = {"first": first_bleed.isoformat(), "afterNsaidExposure": after,
                          "daysAfterFirstExposure": (first_bleed - first_exposure).days
                          if after else None}
    out["chronicConditions"] = chronic
    out["cohortKey"] = f"{sex}|{band}|{'+'.join(chronic) if chronic else 'none'}"
    return out


def to_json(value):
    """Compact JSON, keys in insertion order: the same bytes as the Java transform writes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def read_tables(input_dir):
    """Every in/<TABLE>.csv (as the split layout) or in/<TABLE>.json (as row objects) file."""
    tables = {}
    for name in sorted(os.listdir(input_dir)):
        table, ext = os.path.splitext(name)
        path = os.path.join(input_dir, name)
        with open(path, newline="", encoding="utf-8") as f:
            if ext == ".csv":
                lines = csv.reader(f)
                columns = next(lines, [])
                # A row shorter than the header lacks its last values (as csv.DictReader reads it).
                data = [row + [None] * (len(columns) - len(row)) for row in lines]
                tables[table] = {"columns": columns, "data": data}
            elif ext == ".json":
                tables[table] = [json.loads(line) for line in f if line.strip()]
    return tables


def main():
    input_dir = os.environ.get("TUSK_INPUT_DIR", "in")
    output_dir = os.environ.get("TUSK_OUTPUT_DIR", "out")
    member = os.environ["TUSK_MEMBER"]
    insight = gibleed_insight(member, read_tables(input_dir))
    with open(os.path.join(output_dir, "insight.json"), "w", encoding="utf-8") as f:
        f.write(to_json(insight))
    # A log line for the datum's log: IDs and counts only, never row values.
    print(f"datum {os.environ.get('TUSK_DATUM_HASH', '?')[:12]}: "
          f"{len(insight['nsaidExposures'])} NSAID(s)", file=sys.stderr)


if __name__ == "__main__":
    main()
