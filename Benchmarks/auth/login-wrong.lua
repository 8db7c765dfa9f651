-- wrk: POST /login with a wrong password for the account scripts/bench-auth created.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"emailId":"bench@example.com","password":"wrong horse 1"}'
