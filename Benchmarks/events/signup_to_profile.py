"""Time from a signup's response to the new user's profile being readable.

Signs users up through auth one after another; after each 201 it polls the profile
service's GET /getProfile with the new access token until it answers 200, and records
the time from the signup's response to that 200. Prints p50, p90, p99 and max.

Usage: signup_to_profile.py AUTH_PORT PROFILE_PORT [COUNT]
"""
import http.client
import json
import sys
import time
import uuid


def main():
    auth_port, profile_port = int(sys.argv[1]), int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    auth = http.client.HTTPConnection("127.0.0.1", auth_port)
    profile = http.client.HTTPConnection("127.0.0.1", profile_port)
    run = uuid.uuid4().hex[:8]
    samples, polls = [], 0
    for i in range(count + 5):  # the first 5 warm up connections and the JWKS cache
        body = json.dumps({"firstName": "Bench", "lastName": str(i), "emailId": f"lat-{run}-{i}@example.com", "password": "correct horse 1"})
        auth.request("POST", "/signup", body, {"Content-Type": "application/json"})
        response = auth.getresponse()
        payload = response.read()
        if response.status != 201:
            sys.exit(f"signup answered {response.status}: {payload[:200]!r}")
        signed_up = time.perf_counter()
        token = json.loads(payload)["access_token"]
        while True:
            profile.request("GET", "/getProfile", headers={"Authorization": f"Bearer {token}"})
            reply = profile.getresponse()
            reply.read()
            polls += 1
            if reply.status == 200:
                break
            if reply.status != 404:
                sys.exit(f"getProfile answered {reply.status}")
            if time.perf_counter() - signed_up > 30:
                sys.exit("profile not readable after 30 s")
        if i >= 5:
            samples.append((time.perf_counter() - signed_up) * 1000)
    samples.sort()

    def pct(p):
        return samples[min(len(samples) - 1, int(len(samples) * p / 100))]

    print(f"signup response -> profile readable, {len(samples)} signups, {polls} polls: "
          f"p50 {pct(50):.1f} ms, p90 {pct(90):.1f} ms, p99 {pct(99):.1f} ms, max {samples[-1]:.1f} ms")


if __name__ == "__main__":
    main()
