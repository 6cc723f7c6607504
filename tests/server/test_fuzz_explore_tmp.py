import logging, traceback, collections
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st
from tests.server import test_fuzz_api as F
from tests.server.test_fuzz_api import fuzzed

FOUND = collections.OrderedDict()
COUNT = [0]

class Grab(logging.Handler):
    def emit(self, record):
        if record.exc_info:
            tb = traceback.extract_tb(record.exc_info[2])
            ours = [fr for fr in tb if "/src/nightbridge/" in fr.filename] or tb[-1:]
            key = (record.exc_info[0].__name__, ours[-1].filename.split("/src/")[-1], ours[-1].lineno)
            self.last = key
        else:
            self.last = None

EXPLORE = settings(max_examples=1500, deadline=None, derandomize=False, database=None,
    suppress_health_check=list(HealthCheck))

def note(res, method, path, query, headers, body, grab):
    if res.status_code >= 500 or (res.status_code >= 400 and method != "HEAD" and not ok4(res, path)):
        key = getattr(grab, "last", None) or ("shape", res.status_code, path.split("/")[2:4].__repr__(), res.text[:80])
        if key not in FOUND:
            FOUND[key] = (method, path, query, headers, body[:200] if body else body, res.status_code, res.text[:200])
    grab.last = None

def ok4(res, path):
    try:
        F.assert_well_formed(res, "GET", path); return True
    except Exception:
        return False

@pytest.fixture
def grab():
    g = Grab(); g.last = None
    logging.getLogger().addHandler(g)
    yield g
    logging.getLogger().removeHandler(g)

@EXPLORE
@given(data=st.data())
async def test_explore(fuzzed, grab, data):
    COUNT[0] += 1
    kind = data.draw(st.integers(0, 2))
    path = data.draw(F.request_paths(fuzzed.paths))
    if kind == 0:
        method = data.draw(st.sampled_from(["GET", "GET", "DELETE", "HEAD"]))
        query = F.encode_query(data.draw(F.query_pairs()), data.draw(F.RAW_TAILS))
        headers = {**data.draw(st.sampled_from([dict(F.ADMIN), {}, {"authorization": f"Bearer {fuzzed.jwt}"}])), **data.draw(F.OTHER_HEADERS)}
        body = None
    elif kind == 1:
        method = data.draw(st.sampled_from(["POST", "PUT", "PATCH"]))
        query = ""
        headers = data.draw(st.sampled_from([dict(F.ADMIN), {"authorization": f"Bearer {fuzzed.jwt}"}, {}]))
        ct = data.draw(F.CONTENT_TYPES)
        if ct: headers = {**headers, "content-type": ct}
        body = data.draw(F.BODIES)
    else:
        method = data.draw(st.sampled_from(F.METHODS))
        query = F.encode_query(data.draw(st.lists(st.tuples(st.sampled_from(["secret", "token"]), F.SCALAR), max_size=2)), "")
        headers = {**data.draw(F.auth_headers(fuzzed)), **data.draw(F.OTHER_HEADERS)}
        body = data.draw(st.one_of(st.none(), F.JSON_VALUE.map(F._json_bytes))) if method in ("POST","PUT","PATCH") else None
    try:
        res = await F.send(fuzzed, method, path, query, headers, body)
    except Exception as exc:
        FOUND.setdefault(("client", type(exc).__name__, str(exc)[:80]), (method, path, query, headers, body))
        return
    note(res, method, path, query, headers, body, grab)

def test_zz_report():
    import pprint
    with open("/tmp/found.txt", "w") as fh:
        fh.write(f"count {COUNT}\n")
        for k, v in FOUND.items():
            fh.write(repr(k) + "\n    " + repr(v) + "\n")

async def test_probe(fuzzed, grab):
    res = await F.send(fuzzed, "GET", "/api/v1/devicestatus", "find[date][$gte]=" + "9"*40, dict(F.ADMIN), None)
    note(res, "GET", "/api/v1/devicestatus", "", {}, None, grab)
    print("PROBE", res.status_code, FOUND)
