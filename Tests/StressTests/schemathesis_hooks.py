"""Schemathesis hooks for the stress run: every request comes from a client address of its
own (the stack's gateway believes X-Forwarded-For from loopback), as from many users — so
the gateway's per-address rate limits, which the load section tests, stay out of the way
of what this checks: that every answer is what openapi.json says."""
import random

import schemathesis


@schemathesis.hook
def before_call(context, case, **kwargs):
    if case.headers is None:
        case.headers = {}
    case.headers["X-Forwarded-For"] = "10.{}.{}.{}".format(*(random.randint(0, 255) for _ in range(3)))
