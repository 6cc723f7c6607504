import itertools, json, logging, traceback, collections
import pytest
from tests.server import test_fuzz_api as F
from tests.server.test_fuzz_api import fuzzed
from tests.server.test_fuzz_explore_tmp import Grab, grab, ok4

VALUES = ["9"*40, str(2**63), str(-(2**63)-1), "1e400", "NaN", "(", "[z-a]", "/(/i", "", "é✓", "-1", "x", "2024-13-45", "'q'", "a|b"]
FIELDS = ["date", "sgv", "dateString", "type", "created_at", "_id", "identifier", "eventType", "notes", "insulin", "srvModified", "a.b", "", "a..b", ".a", "$where"]
OPS = ["", "$gte", "$in", "$regex", "$exists", "$foo", "x"]
V3OPS = ["", "$gte", "$in", "$re", "$ne", "$foo"]

def queries():
    for f, o, v in itertools.product(FIELDS, OPS, VALUES):
        yield f"find[{f}]" + (f"[{o}]" if o else "") + "=" + F.quote(v, safe="")
    for f, o, v in itertools.product(FIELDS, V3OPS, VALUES):
        yield F.quote(f + o, safe="$") + "=" + F.quote(v, safe="")
    for k, v in itertools.product(["count", "limit", "skip", "sort", "sort$desc", "fields", "permanent", "now"], VALUES):
        yield f"{k}={F.quote(v, safe='')}"

async def test_grid(fuzzed, grab):
    found = {}
    paths = []
    for t in fuzzed.paths:
        for fill in ["entries", "treatments", "0123456789abcdef01234567", "1717243200000"]:
            paths.append("/".join(fill if p.startswith("{") else p for p in t.split("/")))
    paths = sorted(set(paths))
    qs = list(queries())
    n = 0
    for path in paths:
        for q in qs:
            for method, hdr in (("GET", dict(F.ADMIN)), ("GET", {"authorization": f"Bearer {fuzzed.jwt}"}), ("DELETE", dict(F.ADMIN))):
                if method == "DELETE" and not (path.endswith("entries") or path.endswith("treatments")):
                    continue
                if "authorization" in hdr and not path.startswith("/api/v3"):
                    continue
                n += 1
                res = await F.send(fuzzed, method, path, q, hdr, None)
                bad = res.status_code >= 500 or (res.status_code >= 400 and not ok4(res, path))
                if bad:
                    key = grab.last or ("shape", res.status_code, res.text[:60])
                    found.setdefault(key, []).append((method, path, q, res.status_code, res.text[:120]))
                grab.last = None
    with open("/tmp/grid.txt", "a") as fh:
        fh.write(f"requests {n}\n")
        for k, v in found.items():
            fh.write(f"{k} x{len(v)}\n")
            for r in v[:4]:
                fh.write(f"    {r}\n")
