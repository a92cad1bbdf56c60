#!/usr/bin/env python3
"""Writes a small MaxMind DB (.mmdb) country database, for the GeoIP tests.

  make_mmdb.py OUT.mmdb '{"81.2.69.0/24":"GB","2001:db8::/32":"DE","1.0.0.0/8":"US"}' [--ip-version 4|6] [--record-size 24|28|32]
  echo '{"81.2.69.0/24":"GB"}' | make_mmdb.py OUT.mmdb --ip-version 4

The mapping (the second argument, or stdin when it is absent or "-") goes from CIDR to an ISO 3166-1
alpha-2 code, or to {"country": CODE, "registered_country": CODE} with either left out. A network inside
another one must come after it; /0 is not possible (mmdb-writer cannot write it). Each network's record is
shaped like GeoLite2-Country's, {"country": {"geoname_id": ..., "iso_code": "GB", "names": {"en": ...}},
"registered_country": {...}}, a plain code standing for both. An IPv6 database (the default) holds IPv4
networks at ::/96, where readers look IPv4 addresses up. The record size is the smallest that fits unless
--record-size asks for a larger one. Needs the mmdb-writer module (requirements.txt, scripts/setup).
"""
import argparse
import json
import sys

try:
    import mmdb_writer
    from netaddr import AddrFormatError, IPSet
except ImportError:
    sys.exit("make_mmdb.py: the mmdb-writer module is missing; run scripts/setup (or .venv/bin/pip install -r requirements.txt) "
             "and use .venv/bin/python3")


def country(code):
    """A GeoLite2-Country style country map (geoname_id is made up from the code)."""
    return {"geoname_id": int.from_bytes(code.encode(), "big"), "iso_code": code, "names": {"en": f"Country {code}"}}


def record(value):
    """The data record of one network: a code is country and registered_country alike."""
    codes = {"country": value, "registered_country": value} if isinstance(value, str) else value
    unknown = set(codes) - {"country", "registered_country"}
    if unknown:
        sys.exit(f"make_mmdb.py: unknown keys {sorted(unknown)}: only country and registered_country")
    return {key: country(code) for key, code in codes.items()}


class FixedRecordSizeWriter(mmdb_writer.TreeWriter):
    """mmdb-writer's tree writer with the record size chosen by the caller (None: the smallest that fits).
    _adjust_record_size and MMDBWriter._build_meta are mmdb-writer internals: check them when its pin moves."""

    def __init__(self, record_size, *args):
        super().__init__(*args)
        self.wanted_record_size = record_size

    def _adjust_record_size(self):
        super()._adjust_record_size()
        if self.wanted_record_size:
            if self.wanted_record_size < self.record_size:
                sys.exit(f"make_mmdb.py: the database needs {self.record_size}-bit records, not {self.wanted_record_size}")
            self.record_size = self.wanted_record_size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the .mmdb file to write")
    parser.add_argument("networks", nargs="?", default="-", help='JSON {"CIDR": "CC", ...}; stdin when absent or -')
    parser.add_argument("--ip-version", type=int, choices=(4, 6), default=6)
    parser.add_argument("--record-size", type=int, choices=(24, 28, 32))
    parser.add_argument("--database-type", default="GeoLite2-Country")
    args = parser.parse_args()

    networks = json.loads(sys.stdin.read() if args.networks == "-" else args.networks)
    writer = mmdb_writer.MMDBWriter(ip_version=args.ip_version, database_type=args.database_type, languages=["en"],
                                    description="telemetryd test country database", ipv4_compatible=args.ip_version == 6)
    for cidr, value in networks.items():
        try:
            writer.insert_network(IPSet([cidr]), record(value))
        except (AddrFormatError, ValueError) as error:  # a malformed CIDR, an IPv6 network in an IPv4 database
            sys.exit(f"make_mmdb.py: {cidr}: {error}")
    FixedRecordSizeWriter(args.record_size, writer.tree, writer._build_meta(), writer.int_type, writer.float_type).write(args.out)


if __name__ == "__main__":
    main()
