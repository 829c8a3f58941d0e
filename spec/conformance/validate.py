#!/usr/bin/python3
"""Validates recorded API responses against the official v2 OpenAPI schema.

Input (stdin): a JSON array of {"method", "path", "status", "body"} where path is the request
path under /api/v1/public or /api/v2 (query string allowed) and body the raw response text.
Output (stdout): one JSON object per input, in order: {"ok": bool, "operation": "...",
"errors": ["..."]}. Exits 0 when every response validates, 1 otherwise, 2 on bad input.
"""
import json
import os
import re
import sys

from jsonschema import Draft202012Validator, RefResolver

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "cleanlist-api-v2.openapi.json")
PREFIXES = ("/api/v1/public", "/api/v2")


def load_operations(doc):
    ops = []
    for template, methods in doc["paths"].items():
        sub = template[len("/api/v2"):]
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(sub)) + "$"
        for method, op in methods.items():
            ops.append((method.upper(), re.compile(pattern), template, op))
    return ops


def response_schema(op, status):
    responses = op.get("responses", {})
    candidates = [str(status)]
    if 200 <= status < 300:  # 200 and 201 carry the same model (e.g. list create vs reuse)
        candidates += [s for s in ("200", "201") if s not in candidates]
    for s in candidates:
        content = responses.get(s, {}).get("content", {}).get("application/json")
        if content and "schema" in content:
            return s, content["schema"]
    return None, None


def main():
    with open(SPEC, encoding="utf-8") as f:
        doc = json.load(f)
    resolver = RefResolver.from_schema(doc)
    ops = load_operations(doc)
    try:
        records = json.load(sys.stdin)
    except ValueError as e:
        print(json.dumps({"ok": False, "errors": ["bad input: %s" % e]}))
        return 2
    all_ok = True
    for rec in records:
        path = rec["path"].split("?", 1)[0]
        for prefix in PREFIXES:
            if path.startswith(prefix):
                path = path[len(prefix):]
                break
        match = [o for o in ops if o[0] == rec["method"] and o[1].match(path)]
        out = {"ok": False, "operation": "%s %s" % (rec["method"], path), "errors": []}
        if not match:
            out["errors"].append("no operation of the v2 schema matches")
        else:
            _, _, template, op = match[0]
            out["operation"] = "%s %s" % (rec["method"], template)
            status_key, schema = response_schema(op, rec["status"])
            if schema is None:
                out["errors"].append("the schema declares no JSON body for status %s" % rec["status"])
            else:
                try:
                    body = json.loads(rec["body"])
                except ValueError as e:
                    out["errors"].append("body is not JSON: %s" % e)
                else:
                    v = Draft202012Validator(schema, resolver=resolver)
                    for err in sorted(v.iter_errors(body), key=lambda e: list(e.path)):
                        where = "/".join(str(p) for p in err.path) or "(root)"
                        out["errors"].append("%s: %s" % (where, err.message))
                    out["ok"] = not out["errors"]
                    out["status_schema"] = status_key
        all_ok = all_ok and out["ok"]
        print(json.dumps(out))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
