#!/usr/bin/env python3
"""Direct-to-database seeding and small HTTP helpers for bench/run.sh (Python 3 stdlib only).

Rows are generated here, deterministically, and written straight into a database that
`channeldesk migrate` created: one transaction of executemany INSERTs on SQLite, COPY on Postgres
(through psql). Through the API a million partners would take hours. Every column channeldesk
reads is filled as the service would write it (name_key, JSON text of territories and industries,
one partner_territories row per territory, UUIDv7 ids whose time part orders them, microsecond
timestamps); bench/README.md describes the distributions.

  seed.py partners  --backend sqlite|postgres --db PATH|DBNAME --set base|rest|first:N [--status S]
  seed.py contracts --backend ... --db ... --contracts N --partners M    (partners first:M seeded)
  seed.py pairs     [--all]                       the filter pairs of the scaling phase, one a line
  seed.py pair-counts --backend ... --db ...      rows matching each pair (checked by run.sh)
  seed.py explain-sql A B [--after CURSOR] [--placeholder ?]   the pair's list query, for EXPLAIN
  seed.py walk      BASE KEY QUERY                walk a list's cursor to its last page
  seed.py risk-summary BASE KEY                   count GET /api/v1/risks by code (every page)
  seed.py performance-csv --backend ... --db ... --last YYYY-MM [--months 12] --out FILE
                                                  one performance row per partner and month, as import CSV
"""

import argparse
import datetime as dt
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse

# ---- the partner generator ---------------------------------------------------------------------
#
# Rows are numbered g = 0 .. 999,999. The 10,000-row table is the rows with g % 100 == 0 ("base");
# growing it to 1,000,000 adds the others ("rest"), interleaved in id order (a row's id carries the
# time T0 + g ms). The 1,000 rows with g % 1000 == 0 ("target rows", all in base) carry the target
# value of every filter at once, so each pair of filters below matches exactly those 1,000 rows at
# both sizes: 10 % of 10,000 rows, 0.1 % of 1,000,000. Every other row carries the target value of
# at most one filter (each filter's target value on about 12 % of them), so each filter alone stays
# common while the pair stays rare: a page of the pair at 1M must not cost more than at 10k.

T0_MS = 1_748_736_000_000  # 2025-06-01T00:00:00Z
TABLE_ROWS = 1_000_000

TARGET = {
    "status": "suspended",
    "tier": "strategic",
    "channel_type": "direct",
    "kind": "other",
    "region": "东北",
    "territory": "上海",
    "owner": "owner-07",
}
FILTERS = ["status", "tier", "channel_type", "kind", "region", "owner", "territory"]
# The pairs measured by default: they name every filter at least once.
DEFAULT_PAIRS = [
    ("status", "region"),
    ("tier", "channel_type"),
    ("kind", "owner"),
    ("region", "territory"),
    ("status", "owner"),
]

STATUSES = ["active"] * 6 + ["prospect", "prospect", "onboarding", "terminated"]
TIERS = ["key", "key"] + ["standard"] * 6 + ["probation", "probation"]
DIRECT_KINDS = ["sales_team", "telesales", "online_direct"]
INDIRECT_KINDS = ["agent", "distributor", "wholesaler", "reseller"]
REGIONS = {
    "华东": ["杭州", "南京", "苏州"],  # 上海, also in 华东, is the target territory
    "华北": ["北京", "天津", "石家庄"],
    "华南": ["广州", "深圳", "厦门"],
    "华中": ["武汉", "长沙", "郑州"],
    "西南": ["成都", "重庆", "昆明"],
    "西北": ["西安", "兰州"],
}
REGION_NAMES = list(REGIONS)
OWNERS = ["owner-%02d" % i for i in range(60) if i != 7]
INDUSTRIES = ['[]', '["制造业"]', '["零售"]', '["医疗","教育"]']

P = 1_000_003  # a prime: choices are (g * M + A) % P % n


def choice(g, m, a, n):
    return ((g * m + a) % P) % n


def uuid7(ms, g):
    rand_a = g % 4096
    variant = 8 + g % 4
    rand_b = (g * 2654435761 + 97) % (1 << 48)
    h = "%012x" % ms
    return "%s-%s-7%03x-%x%03x-%012x" % (h[:8], h[8:], rand_a, variant, (g * 31) % 4096, rand_b)


def timestamp(ms):
    t = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=ms)
    # How diesel writes a NaiveDateTime to SQLite ("%F %T%.f"); Postgres parses the same text.
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def partner_row(g, status_override=None):
    """(partner columns, territories) of row g."""
    ms = T0_MS + g
    target = g % 1000 == 0
    # Which filter carries its target value on a non-target row: 0-6, or 7+ for none.
    which = choice(g, 7919, 13, 100) // 12 if not target else -1
    has = (lambda f: True) if target else (lambda f: which == FILTERS.index(f))
    status = TARGET["status"] if has("status") else STATUSES[choice(g, 104729, 7, len(STATUSES))]
    tier = TARGET["tier"] if has("tier") else TIERS[choice(g, 15485863 % P, 3, len(TIERS))]
    channel_type = "direct" if has("channel_type") else "indirect"
    if has("kind"):
        kind = TARGET["kind"]
    elif channel_type == "direct":
        kind = DIRECT_KINDS[choice(g, 32452843 % P, 5, len(DIRECT_KINDS))]
    else:
        kind = INDIRECT_KINDS[choice(g, 32452843 % P, 5, len(INDIRECT_KINDS))]
    if target:
        region, territories = TARGET["region"], ["沈阳", TARGET["territory"]]
    else:
        region = TARGET["region"] if has("region") else REGION_NAMES[choice(g, 49979687 % P, 11, len(REGION_NAMES))]
        cities = REGIONS.get(region, ["沈阳", "哈尔滨", "长春"])
        first = choice(g, 67867967 % P, 17, len(cities))
        territories = [TARGET["territory"]] if has("territory") else [cities[first]]
        if choice(g, 86028121 % P, 19, 3) == 0:
            second = cities[(first + 1) % len(cities)]
            if second not in territories:
                territories.append(second)
    owner = TARGET["owner"] if has("owner") else OWNERS[choice(g, 982451653 % P, 23, len(OWNERS))]
    if status_override:
        status = status_override
    name = "scale-%07d" % g
    ts = timestamp(ms)
    row = (
        uuid7(ms, g),  # id
        name,
        name.lower(),  # name_key: trim + lowercase, as the service computes it
        channel_type,
        kind,
        tier,
        status,
        region,
        json.dumps(territories, ensure_ascii=False, separators=(",", ":")),
        INDUSTRIES[choice(g, 122949829 % P, 29, len(INDUSTRIES))],
        owner,
        None,  # next_review_at
        None,  # notes
        1,  # version
        ts,  # created_at
        ts,  # updated_at
        None,  # archived_at
    )
    return row, territories


PARTNER_COLUMNS = [
    "id", "name", "name_key", "channel_type", "kind", "tier", "status", "region", "territories",
    "industries", "owner", "next_review_at", "notes", "version", "created_at", "updated_at", "archived_at",
]


def rows_of_set(spec, upto=TABLE_ROWS):
    if spec == "base":
        return range(0, TABLE_ROWS, 100)
    if spec == "rest":
        # --upto < 1,000,000 only for a quick check of the script: a smaller large table.
        return (g for g in range(min(upto, TABLE_ROWS)) if g % 100 != 0)
    if spec.startswith("first:"):
        return range(int(spec.split(":", 1)[1]))
    raise SystemExit("unknown --set %r" % spec)


# ---- writing -----------------------------------------------------------------------------------


class Writer:
    """Bulk writes into one table per call: executemany on SQLite, COPY through psql on Postgres."""

    def __init__(self, backend, db):
        self.backend = backend
        self.db = db
        if backend == "sqlite":
            self.conn = sqlite3.connect(db, isolation_level=None)
            self.conn.execute("PRAGMA busy_timeout = 5000")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.psql_args = [
                "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", os.environ.get("PGHOST", "127.0.0.1"),
                "-p", os.environ.get("PGPORT", "5432"), "-U", os.environ.get("PGUSER", "postgres"), "-d", db,
            ]
            self.pending = []  # (table, columns, rows) sent in one psql session = one transaction

    def insert(self, table, columns, rows):
        if self.backend == "sqlite":
            sql = "INSERT INTO %s (%s) VALUES (%s)" % (table, ", ".join(columns), ", ".join("?" * len(columns)))
            self.conn.executemany(sql, rows)
        else:
            self.pending.append((table, columns, rows))

    def commit(self):
        if self.backend == "sqlite":
            self.conn.execute("COMMIT")
            self.conn.close()
            return
        proc = subprocess.Popen(self.psql_args + ["-1", "-f", "-"], stdin=subprocess.PIPE)
        out = proc.stdin
        for table, columns, rows in self.pending:
            out.write(("COPY %s (%s) FROM STDIN;\n" % (table, ", ".join(columns))).encode())
            buf = []
            for row in rows:
                buf.append("\t".join(copy_text(v) for v in row))
                if len(buf) >= 10000:
                    out.write(("\n".join(buf) + "\n").encode())
                    buf = []
            if buf:
                out.write(("\n".join(buf) + "\n").encode())
            out.write(b"\\.\n")
        out.close()
        if proc.wait() != 0:
            raise SystemExit("psql COPY failed")


def copy_text(v):
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    s = str(v)
    if any(c in s for c in "\\\t\n\r"):
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


def seed_partners(args):
    started = time.time()
    partners, territories = [], []
    for g in rows_of_set(args.set, args.upto):
        row, ts = partner_row(g, args.status)
        partners.append(row)
        territories.extend((row[0], t) for t in ts)
    w = Writer(args.backend, args.db)
    w.insert("partners", PARTNER_COLUMNS, partners)
    w.insert("partner_territories", ["partner_id", "territory"], territories)
    w.commit()
    print("seeded %d partners and %d territory rows (%s) in %.1fs" % (
        len(partners), len(territories), args.set, time.time() - started))


# ---- contracts for the risk phase ---------------------------------------------------------------
#
# N active contracts over the M partners of `--set first:M` (contract c belongs to partner c % M).
# Every contract has the four required terms and a payment term, except:
#   c % 25 == 5              lacks breach_liability and dispute_resolution -> missing_required_terms
#   c % 50 in (1, 3)         ends within 25 days (3: auto_renew)           -> expiring
#   c % 50 == 2              ended 1-20 days ago, still active             -> expired_but_active
#   c % 10 == 0              an exclusivity term on its own territory 城市<c/10> (no risk) ...
#   c % 500 == 0             ... also granted to contract c+7 (another partner) -> exclusivity_overlap
#   c % 10 == 3              a territory term on an unclaimed territory (no risk) ...
#   c % 200 == 13            ... but on 城市<c/10>, exclusive to contract c-3 -> territory_conflict


def contract_rows(n_contracts, n_partners, today):
    contracts, terms, expected = [], [], {}

    def expect(code, k=1):
        expected[code] = expected.get(code, 0) + k

    def term(cid, c, i, kind, title, params):
        ms = T0_MS + 50_000_000 + c * 10 + i
        ts = timestamp(ms)
        terms.append((uuid7(ms, c * 10 + i), cid, kind, title, "%s条款正文。" % title, "both",
                      json.dumps(params, ensure_ascii=False, separators=(",", ":")), 1, ts, ts))

    ids = [uuid7(T0_MS + 40_000_000 + c, c) for c in range(n_contracts)]
    for c in range(n_contracts):
        partner_g = c % n_partners
        partner_id = uuid7(T0_MS + partner_g, partner_g)
        auto_renew = False
        if c % 50 in (1, 3):
            to = today + dt.timedelta(days=1 + (c // 50) % 25)
            auto_renew = c % 50 == 3
            expect("expiring")
        elif c % 50 == 2:
            to = today - dt.timedelta(days=1 + (c // 50) % 20)
            expect("expired_but_active")
        else:
            to = today + dt.timedelta(days=400 + c % 300)
        ts = timestamp(T0_MS + 40_000_000 + c)
        number = "HT-2025-%05d" % c
        title = "渠道合作协议 %d" % c
        contracts.append((
            ids[c], partner_id, number, number.lower(), title, title.lower(),
            ["distribution", "agency", "reseller", "service", "framework"][c % 5], "active",
            "2024-12-20 10:00:00.000000", "2025-01-01", to.isoformat(), auto_renew, 30, c * 100_000, "CNY",
            "owner-%02d" % (c % 60), None, None, None, 2, ts, ts,
        ))
        cid = ids[c]
        term(cid, c, 0, "rights", "权利", {})
        term(cid, c, 1, "obligations", "义务", {})
        if c % 25 == 5:
            expect("missing_required_terms")
        else:
            term(cid, c, 2, "breach_liability", "违约责任", {})
            term(cid, c, 3, "dispute_resolution", "争议解决", {"method": "arbitration", "venue": "上海国际仲裁中心"})
        term(cid, c, 4, "payment", "付款", {"days": 60})
        if c % 10 == 0:
            term(cid, c, 5, "exclusivity", "独家", {"territories": ["城市%04d" % (c // 10)], "product_lines": ["产品线A"]})
        if c % 500 == 7:
            term(cid, c, 5, "exclusivity", "独家", {"territories": ["城市%04d" % ((c - 7) // 10)], "product_lines": ["产品线A"]})
            expect("exclusivity_overlap", 2)
        if c % 10 == 3:
            place = (c // 10) if c % 200 == 13 else 5000 + c // 10
            term(cid, c, 6, "territory", "区域", {"territories": ["城市%04d" % place], "product_lines": []})
            if c % 200 == 13:
                expect("territory_conflict", 2)
    return contracts, terms, expected


CONTRACT_COLUMNS = [
    "id", "partner_id", "number", "number_key", "title", "title_key", "kind", "status", "signed_at",
    "effective_from", "effective_to", "auto_renew", "renewal_notice_days", "total_value", "currency", "owner",
    "notes", "predecessor_id", "successor_id", "version", "created_at", "updated_at",
]
TERM_COLUMNS = [
    "id", "contract_id", "kind", "title", "text", "obligated_party", "params", "version", "created_at", "updated_at",
]


def business_today():
    # Contract dates are read in China Standard Time (UTC+8).
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=8)).date()


def seed_contracts(args):
    started = time.time()
    contracts, terms, expected = contract_rows(args.contracts, args.partners, business_today())
    w = Writer(args.backend, args.db)
    w.insert("contracts", CONTRACT_COLUMNS, contracts)
    w.insert("contract_terms", TERM_COLUMNS, terms)
    w.commit()
    print("seeded %d active contracts and %d terms in %.1fs" % (len(contracts), len(terms), time.time() - started),
          file=sys.stderr)
    # stdout: what the risk rules should find, and the contract to read risks of (contract 0: an
    # exclusivity overlap with contract 7).
    print(json.dumps({"expected": dict(sorted(expected.items())), "contract_id": contracts[0][0]}))


# ---- checks ------------------------------------------------------------------------------------


def pairs(all_pairs):
    if not all_pairs:
        return DEFAULT_PAIRS
    return [(a, b) for i, a in enumerate(FILTERS) for b in FILTERS[i + 1:]]


def pair_where(a, b, placeholder=None):
    """The WHERE of channeldesk's list query for the pair: values inlined, or as placeholders."""
    def value(f):
        return placeholder if placeholder else "'%s'" % TARGET[f]

    def cond(f):
        if f == "territory":
            return "id IN (SELECT partner_id FROM partner_territories WHERE territory = %s)" % value(f)
        return "%s = %s" % (f, value(f))
    return "archived_at IS NULL AND %s AND %s" % (cond(a), cond(b))


def explain_sql(args):
    """The list query of a pair as run.sh explains it: first page, or after the cursor's id."""
    where = pair_where(args.a, args.b, args.placeholder)
    if args.after:
        after = json.loads(__import__("base64").urlsafe_b64decode(args.after + "=" * (-len(args.after) % 4)))[0]
        where += " AND id < %s" % (args.placeholder or "'%s'" % after)
    limit = args.placeholder or "51"
    print("SELECT * FROM partners WHERE %s ORDER BY id DESC LIMIT %s" % (where, limit))


def query(backend, db, sql):
    if backend == "sqlite":
        conn = sqlite3.connect(db)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    out = subprocess.run(
        ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", os.environ.get("PGHOST", "127.0.0.1"),
         "-p", os.environ.get("PGPORT", "5432"), "-U", os.environ.get("PGUSER", "postgres"), "-d", db, "-c", sql],
        check=True, capture_output=True, text=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


def pair_counts(args):
    total = int(query(args.backend, args.db, "SELECT count(*) FROM partners")[0][0])
    for a, b in pairs(args.all):
        n = int(query(args.backend, args.db, "SELECT count(*) FROM partners WHERE " + pair_where(a, b))[0][0])
        single_a = int(query(args.backend, args.db, "SELECT count(*) FROM partners WHERE " + pair_where(a, a))[0][0])
        single_b = int(query(args.backend, args.db, "SELECT count(*) FROM partners WHERE " + pair_where(b, b))[0][0])
        print("%s+%s %d %d %d %d" % (a, b, n, total, single_a, single_b))


# ---- HTTP --------------------------------------------------------------------------------------


def pair_query(a, b, limit=50):
    return urllib.parse.urlencode([(a, TARGET[a]), (b, TARGET[b]), ("limit", str(limit))])


class Client:
    """One keep-alive connection to the server."""

    def __init__(self, base, key):
        u = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        self.headers = {"Authorization": "Bearer " + key} if key else {}

    def get_json(self, path):
        self.conn.request("GET", path, headers=self.headers)
        res = self.conn.getresponse()
        body = res.read()
        if res.status != 200:
            raise SystemExit("GET %s answered %d: %s" % (path, res.status, body[:300].decode(errors="replace")))
        return json.loads(body)


def walk(args):
    """Follows next_cursor from page 1; prints pages, rows, and the query of the last page."""
    c = Client(args.base, args.key)
    qs = args.query
    pages = rows = 0
    last_qs = qs
    while True:
        page = c.get_json("%s?%s" % (args.path, qs))
        pages += 1
        rows += len(page["items"])
        last_qs = qs
        cursor = page.get("next_cursor")
        if not cursor or pages >= args.max_pages:
            break
        qs = args.query + "&" + urllib.parse.urlencode([(args.cursor_param, cursor)])
    more = 1 if cursor else 0
    print("pages=%d rows=%d more=%d last=%s" % (pages, rows, more, last_qs))


def risk_summary(args):
    c = Client(args.base, args.key)
    counts = {}
    qs = "limit=200"
    for _ in range(200):
        page = c.get_json("/api/v1/risks?" + qs)
        for r in page["items"]:
            counts[r["code"]] = counts.get(r["code"], 0) + 1
        if not page.get("next_cursor"):
            break
        qs = "limit=200&" + urllib.parse.urlencode([("cursor", page["next_cursor"])])
    print(json.dumps(dict(sorted(counts.items()))))


# ---- performance records for the evaluation phase -------------------------------------------------
#
# One row per partner and month, in the import's CSV shape (revenue in fen): a partner's revenue is
# a base of 50,000-2,000,000 yuan that grows or shrinks 0-3 % a month (one partner in seven
# declines), with units, orders and new customers in proportion, satisfaction 60-99 and a share
# of 1-30 %. Partners are those in the database, in id order.


def month_list(last, n):
    y, m = map(int, last.split("-"))
    out = []
    for _ in range(n):
        out.append("%04d-%02d" % (y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def performance_csv(args):
    started = time.time()
    ids = [r[0] for r in query(args.backend, args.db, "SELECT id FROM partners ORDER BY id")]
    months = month_list(args.last, args.months)
    n = 0
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        f.write("partner_id,period,revenue_minor,units,orders,new_customers,customer_satisfaction,market_share_bp\n")
        for g, pid in enumerate(ids):
            base = 5_000_000 + choice(g, 7919, 13, 195) * 1_000_000
            step = choice(g, 104729, 7, 31) / 1000.0 * (-1 if g % 7 == 3 else 1)
            for i, period in enumerate(months):
                revenue = int(base * (1 + step) ** i)
                units = revenue // 25_000
                f.write("%s,%s,%d,%d,%d,%d,%d,%d\n" % (
                    pid, period, revenue, units, max(1, units // 8), units // 40,
                    60 + choice(g + i, 31, 5, 40), 100 + choice(g, 17, 3, 2900)))
                n += 1
    print("wrote %d performance rows (%d partners x %d months, %s..%s) to %s in %.1fs" % (
        n, len(ids), len(months), months[0], months[-1], args.out, time.time() - started))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    def db_args(p):
        p.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
        p.add_argument("--db", required=True, help="SQLite file path, or Postgres database name")

    p = sub.add_parser("partners")
    db_args(p)
    p.add_argument("--set", required=True)
    p.add_argument("--status")
    p.add_argument("--upto", type=int, default=TABLE_ROWS)
    p.set_defaults(func=seed_partners)

    p = sub.add_parser("contracts")
    db_args(p)
    p.add_argument("--contracts", type=int, required=True)
    p.add_argument("--partners", type=int, required=True)
    p.set_defaults(func=seed_contracts)

    p = sub.add_parser("pairs")
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=lambda a: [print("%s %s %s" % (x, y, pair_query(x, y))) for x, y in pairs(a.all)])

    p = sub.add_parser("pair-counts")
    db_args(p)
    p.add_argument("--all", action="store_true")
    p.set_defaults(func=pair_counts)

    p = sub.add_parser("explain-sql")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--after", help="a cursor of the list: the page after it")
    p.add_argument("--placeholder", help="e.g. ? : parameters instead of values")
    p.set_defaults(func=explain_sql)

    p = sub.add_parser("walk")
    p.add_argument("base")
    p.add_argument("key")
    p.add_argument("query")
    p.add_argument("--path", default="/api/v1/partners")
    p.add_argument("--cursor-param", default="cursor")
    p.add_argument("--max-pages", type=int, default=100)
    p.set_defaults(func=walk)

    p = sub.add_parser("risk-summary")
    p.add_argument("base")
    p.add_argument("key")
    p.set_defaults(func=risk_summary)

    p = sub.add_parser("performance-csv")
    db_args(p)
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--last", required=True, help="the last month, YYYY-MM")
    p.add_argument("--out", required=True)
    p.set_defaults(func=performance_csv)

    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
