"""Fuzzes the GraphQL API with schemathesis (issue 19, section 6).

Every operation of the served schema (each Query and each Mutation field) gets documents that
schemathesis generates from the schema, with a fixed seed and a bounded number of examples. Each
document is sent as several users of `partnerhub demo` (staff, two rival partners, a customer, a
distributor and the public), and every answer is checked:

- no HTTP 5xx and no `INTERNAL`;
- every error carries an `extensions.code` from the documented set;
- no answer to one tenant holds the ID of an object that belongs only to other tenants.

Which object belongs to whom is read from the demo world as staff before the run (deals, rebate
claims, invoices, grants, subscriptions, ledger entries), and IDs are generated
from those same objects half of the time, so `node(id:)`, `deal(id:)` and every mutation taking an
ID are tried on real objects of other tenants, not only on noise.

Usage: graphql.py BASE_URL DEMO_OUTPUT (the table `partnerhub demo` prints, with the tokens).
Settings: PARTNERHUB_FUZZ_EXAMPLES (per operation, default 12), PARTNERHUB_FUZZ_SEED (default 19).
"""

import collections
import json
import os
import sys
import time

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# README, "The API": the closed set of `extensions.code`.
DOCUMENTED = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "RATE_LIMITED",
    "INTERNAL",
    "TIMEOUT",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "PERSISTED_QUERY_NOT_FOUND",
}

# Who the documents are sent as: e-mail in the demo's table, or None for the public.
USERS = [
    "vera.admin@northwind.example",
    "anna@alpinevoice.example",
    "bruno@balticcloud.example",
    "erika@edelweiss-dental.example",
    "dora@danube-distribution.example",
    None,
]


def demo_tokens(path):
    tokens = {}
    with open(path, encoding="utf-8") as table:
        for line in table:
            fields = line.split()
            emails = [f for f in fields if "@" in f and "." in f]
            if emails and fields[-1].startswith("phk_"):
                tokens[emails[0]] = fields[-1]
    return tokens


class Api:
    def __init__(self, base):
        self.url = base.rstrip("/") + "/graphql"
        self.http = requests.Session()

    def send(self, token, query):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.post(self.url, json={"query": query}, headers=headers, timeout=60)

    def data(self, token, query, variables=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"query": query, "variables": variables or {}}
        answer = self.http.post(self.url, json=body, headers=headers, timeout=60).json()
        if answer.get("errors"):
            raise SystemExit(f"reading the demo world failed: {answer['errors']}")
        return answer["data"]

    def every(self, token, field, selection, arguments=""):
        """Every node of a top-level connection, page by page."""
        out, after = [], None
        while True:
            query = (
                "query($after: String) { "
                f"{field}({arguments} first: 100, after: $after) "
                f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} }} }}"
            )
            page = self.data(token, query, {"after": after})[field]
            out += page["nodes"]
            if not page["pageInfo"]["hasNextPage"]:
                return out
            after = page["pageInfo"]["endCursor"]


def ownership(api, staff):
    """Each private object's ID and the organisations that may see it (staff aside)."""
    orgs = api.every(staff, "organizations", "id name kind")
    kinds = {o["id"]: o["kind"] for o in orgs}
    by_name = {o["name"]: o["id"] for o in orgs}
    customers = [o for o, kind in kinds.items() if kind == "CUSTOMER"]
    owners = {}
    # Partners with a live grant to a customer, whatever its rights: lenient, so a finer rule
    # (rights, scope) never reads as a leak here; the API tests hold those.
    granted = collections.defaultdict(set)
    for c in customers:
        node = api.data(
            staff,
            "query($id: ID!) { node(id: $id) { ... on Organization { "
            "grants(first: 100) { nodes { id status partner { id } } } "
            "subscriptions(first: 100) { nodes { id managingPartnerName } } } } }",
            {"id": c},
        )["node"]
        for g in node["grants"]["nodes"]:
            owners[g["id"]] = {c, g["partner"]["id"]}
            if g["status"] == "ACTIVE":
                granted[c].add(g["partner"]["id"])
        for s in node["subscriptions"]["nodes"]:
            # The partner that manages (and may pay for) a subscription keeps reading it.
            owners[s["id"]] = {c} | ({by_name[s["managingPartnerName"]]} if s["managingPartnerName"] else set())
    for object_id, who in list(owners.items()):
        for c in list(who):
            if kinds.get(c) == "CUSTOMER":
                owners[object_id] = who | granted[c]
    for d in api.every(staff, "deals", "id partner { id } distributor { id } customer { id }"):
        owners[d["id"]] = {x["id"] for x in (d["partner"], d["distributor"], d["customer"]) if x}
    for r in api.every(staff, "rebateClaims", "id partner { id } distributor { id }"):
        owners[r["id"]] = {x["id"] for x in (r["partner"], r["distributor"]) if x}
    for i in api.every(staff, "invoices", "id billTo { id kind }"):
        bill_to = i["billTo"]["id"]
        if i["billTo"]["kind"] == "CUSTOMER":
            owners[i["id"]] = {bill_to} | granted[bill_to]
        else:
            # Billed to a partner for one of its customers: which customer is not said here,
            # so no customer counts as a stranger to it.
            owners[i["id"]] = {bill_to, *customers}
    for p, kind in kinds.items():
        if kind != "PARTNER":
            continue
        entries = api.every(staff, "partnerLedger", "id", arguments=f'partnerId: "{p}",')
        for e in entries:
            owners[e["id"]] = {p}
    return owners, kinds


def main():
    base, demo_output = sys.argv[1], sys.argv[2]
    examples = int(os.environ.get("PARTNERHUB_FUZZ_EXAMPLES", "12"))
    fixed_seed = int(os.environ.get("PARTNERHUB_FUZZ_SEED", "19"))
    tokens = demo_tokens(demo_output)
    missing = [u for u in USERS if u and u not in tokens]
    if missing:
        raise SystemExit(f"no token in {demo_output} for {missing}")
    api = Api(base)
    staff = tokens[USERS[0]]
    owners, _ = ownership(api, staff)
    acting = {}
    for user in USERS:
        if user is None:
            acting[user] = None
        else:
            viewer = api.data(tokens[user], "{ viewer { actingAs { organization { id kind } } } }")
            acting[user] = viewer["viewer"]["actingAs"]["organization"]
    # What each user must never see: objects none of whose organisations is the user's own.
    # Staff may see everything; the public nothing private.
    forbidden = {}
    for user, org in acting.items():
        if org is not None and org["kind"] == "VENDOR":
            forbidden[user] = set()
        else:
            mine = org["id"] if org else None
            forbidden[user] = {i for i, who in owners.items() if mine not in who}
    if not all(forbidden[u] for u in USERS[1:]):
        raise SystemExit("the demo world gave a user nothing it must not see: the check would be empty")

    known_ids = sorted(owners) + sorted({o["id"] for o in acting.values() if o})
    schemathesis.graphql.scalar("ID", st.one_of(st.sampled_from(known_ids), st.text(max_size=12)).map(nodes.String))
    schemathesis.graphql.scalar("DateTime", st.one_of(
        st.datetimes().map(lambda d: d.isoformat() + "Z"), st.text(max_size=8)).map(nodes.String))
    schemathesis.graphql.scalar("NaiveDate", st.one_of(
        st.dates().map(lambda d: d.isoformat()), st.text(max_size=8)).map(nodes.String))
    schemathesis.graphql.scalar("Decimal", st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str), st.text(max_size=8)).map(nodes.String))
    schemathesis.graphql.scalar("JSON", st.text(max_size=12).map(nodes.String))
    schemathesis.graphql.scalar("Upload", st.text(max_size=12).map(nodes.String))

    schema = schemathesis.graphql.from_url(api.url)
    operations = [o.ok() for o in schema.get_all_operations()]
    failures = []
    codes = collections.Counter()
    requests_sent = 0
    started = time.monotonic()

    for operation in operations:
        # The generated documents are judged here and never raise: nothing to shrink, and every
        # failure of every operation is reported, not only the first.
        @seed(fixed_seed)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(operation.as_strategy())
        def run(case):
            nonlocal requests_sent
            query = case.body if isinstance(case.body, str) else case.body["query"]
            for user in USERS:
                response = api.send(tokens.get(user), query)
                requests_sent += 1
                who = user or "the public"
                if response.status_code >= 500:
                    failures.append(f"{operation.label} as {who}: HTTP {response.status_code}\n{query}")
                    continue
                text = response.text
                try:
                    answer = json.loads(text)
                except ValueError:
                    failures.append(f"{operation.label} as {who}: not JSON ({response.status_code})\n{query}")
                    continue
                for error in answer.get("errors") or []:
                    code = (error.get("extensions") or {}).get("code")
                    codes[code] += 1
                    if code not in DOCUMENTED or code == "INTERNAL":
                        failures.append(f"{operation.label} as {who}: {json.dumps(error)}\n{query}")
                leaked = [i for i in forbidden[user] if i in text]
                if leaked:
                    failures.append(f"{operation.label} as {who}: IDs of other tenants {leaked[:3]}\n{query}\n{text[:2000]}")
                if not answer.get("errors"):
                    codes["OK"] += 1

        run()

    took = time.monotonic() - started
    print(f"schemathesis {schemathesis.SCHEMATHESIS_VERSION}: {len(operations)} operations, "
          f"{examples} examples each (seed {fixed_seed}), {requests_sent} requests as {len(USERS)} users "
          f"in {took:.0f} s; {sum(len(f) for f in forbidden.values())} (user, foreign ID) pairs watched")
    print("answers: " + ", ".join(f"{code or 'no code'} {n}" for code, n in codes.most_common()))
    if failures:
        unique = list(dict.fromkeys(failures))
        print(f"{len(unique)} failures:")
        for f in unique[:40]:
            print("---\n" + f)
        sys.exit(1)


if __name__ == "__main__":
    main()
